#!/bin/sh
# The helper registry (/run/tscf/DEV.pid) without the kernel module, with
# fake helpers: "down" signals a registered helper only if it really is
# DEV's tscfctl helper holding that file (a stale file whose PID now
# belongs to an unrelated process gets nobody signalled); a second "up"
# for a registered DEV refuses up front, naming the helper; an "up" that
# fails leaves no pidfile behind (neither the registry nor --pidfile).
. "$TSCF_TOP/selftests/lib.sh"
CTL="$TSCF_TOP/tools/tscfctl"
[ -x "$CTL" ] || fail "tools/tscfctl not built"
TMPD=$(mktemp -d)
at_exit "rm -rf $TMPD"
dev=tscfp54
reg=/run/tscf/$dev.pid
mkdir -p /run/tscf
rm -f "$reg"
at_exit "rm -f $reg"

# fake_helper NAME DEV: a process whose command line is "tscfctl -c SCRIPT
# up DEV" that registers in $reg and holds it locked, as the helper does.
fake_helper() {
	rm -f "$TMPD/ready"
	python3 -c '
import os, sys
script = """echo $$ > "$REG"; exec 3<"$REG"; flock -n 3 || exit 9; : > "$READY"
trap "exit 0" TERM
while :; do sleep 0.1 3<&-; done"""
os.execvp("sh", [sys.argv[1], "-c", script, "up", sys.argv[2]])' "$1" "$2" &
	FAKE=$!
	at_exit "kill $FAKE 2>/dev/null"
	wait_for 10 test -e "$TMPD/ready" || fail "the fake helper did not start"
}
export REG="$reg" READY="$TMPD/ready"

# 1. A stale registration whose PID is an unrelated process.
sleep 600 &
victim=$!
at_exit "kill $victim 2>/dev/null"
echo "$victim" > "$reg"
rc=0
"$CTL" down $dev > "$TMPD/down1" 2>&1 || rc=$?
sleep 0.3
kill -0 "$victim" 2>/dev/null || check "down signalled an unrelated process from a stale pidfile"
expect_eq "down of a missing device: exit status" "$rc" 1
grep -q "Device \"$dev\" does not exist" "$TMPD/down1" || check "down message: $(cat "$TMPD/down1")"

# 2. A process that calls itself tscfctl up DEV but does not hold the file.
fake_helper tscfctl other54
echo "$FAKE" > "$reg"
"$CTL" down $dev > /dev/null 2>&1 || true
sleep 0.3
kill -0 "$FAKE" 2>/dev/null || check "down signalled a tscfctl that is not DEV's helper"
kill "$FAKE"; wait "$FAKE" 2>/dev/null

# 3. DEV's helper (by its command line, holding the registry): a second
#    up refuses at once and changes nothing; down stops it.
fake_helper tscfctl $dev
rc=0
"$CTL" up $dev server 127.0.0.1 port 4000 transport tcp > "$TMPD/up2" 2>&1 || rc=$?
expect_eq "second up: exit status" "$rc" 1
grep -q "$dev: already up: its helper is pid $FAKE (tscfctl down $dev first)" "$TMPD/up2" ||
	check "second up message: $(cat "$TMPD/up2")"
expect_eq "registered pid after the refused up" "$(cat "$reg")" "$FAKE"
kill -0 "$FAKE" 2>/dev/null || check "the refused up hurt the running helper"
"$CTL" -v down $dev > "$TMPD/down3" 2>&1 || true
wait_for 5 sh -c "! kill -0 $FAKE 2>/dev/null" || check "down did not stop DEV's helper: $(cat "$TMPD/down3")"
grep -q "$dev: stopping its helper, pid $FAKE" "$TMPD/down3" || check "down did not say what it stopped: $(cat "$TMPD/down3")"

# 4. A failing up (no such device) leaves no pidfile, registry or --pidfile.
rm -f "$reg"
rc=0
"$CTL" up $dev server 127.0.0.1 port 4000 --pidfile "$TMPD/user.pid" > "$TMPD/up4" 2>&1 || rc=$?
expect_eq "up of a missing device: exit status" "$rc" 1
[ -e "$reg" ] && check "a failed up left $reg"
[ -e "$TMPD/user.pid" ] && check "a failed up left its --pidfile"

# 5. --pidfile held by another live process: refused, and not taken over.
sh -c 'exec 3<>"$1"; flock -n 3; echo $$ >&3; exec sleep 600' lockholder "$TMPD/held.pid" &
holder=$!
at_exit "kill $holder 2>/dev/null"
wait_for 5 test -s "$TMPD/held.pid" || fail "lock holder"
rc=0
"$CTL" up $dev server 127.0.0.1 port 4000 --pidfile "$TMPD/held.pid" > "$TMPD/up5" 2>&1 || rc=$?
expect_eq "up with a held --pidfile: exit status" "$rc" 1
grep -q "held by another running process" "$TMPD/up5" || check "held --pidfile message: $(cat "$TMPD/up5")"
[ -e "$TMPD/held.pid" ] || check "the refused up removed another process's pidfile"
[ -e "$reg" ] && check "the refused up left $reg"
checks_done
echo ok
