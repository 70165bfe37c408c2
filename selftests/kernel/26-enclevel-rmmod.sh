#!/bin/sh
# The module cannot be unloaded while a socket is marked: otherwise an
# encrypted-only socket would send in the clear from then on.  Once the
# socket is closed (and collected), rmmod works again.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
ko="${TSCF_KO:-$TSCF_TOP/kmod/tscf.ko}"
# Whatever happens, leave the module loaded for the next test.
at_exit "[ -d /sys/module/tscf ] || insmod $ko"
ns=$(tscf_netns rmmod)
tmp=$(mktemp -d)
at_exit "rm -rf $tmp"

ip netns exec "$ns" python3 - > "$tmp/app" 2>&1 <<PY &
import errno, os, socket, struct, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(0, 0x5453, struct.pack('=i', 1))
print("marked", flush=True)
while not os.path.exists("$tmp/tried"):
    time.sleep(0.05)
try:
    level = struct.unpack('=i', s.getsockopt(0, 0x5453, 4))[0]
except OSError as e:
    level = errno.errorcode[e.errno]
print("level after rmmod attempt:", level, flush=True)
PY
app=$!
wait_for 10 grep -q marked "$tmp/app" || fail "app did not mark its socket"
refs=$(cat /sys/module/tscf/refcnt)
log "tscf refcnt with one marked socket: $refs"
if rmmod tscf 2> "$tmp/rmmod"; then
	touch "$tmp/tried"
	wait $app
	log "$(cat "$tmp/app")"
	fail "rmmod succeeded with a marked socket open"
fi
log "rmmod refused: $(cat "$tmp/rmmod")"
[ -d /sys/module/tscf ] || fail "module gone"
touch "$tmp/tried"
wait $app || fail "app"
log "$(cat "$tmp/app")"
grep -q 'level after rmmod attempt: 1' "$tmp/app" || fail "the socket lost its level"

# Closed: the entry goes within a few seconds and rmmod succeeds.
wait_for 10 sh -c '[ "$(cat /sys/module/tscf/refcnt)" = 0 ]' ||
	fail "module still referenced after the socket closed: $(cat /sys/module/tscf/refcnt)"
rmmod tscf || fail "rmmod after the socket closed"
insmod "$ko" || fail "insmod"
echo ok
