#!/bin/sh
# The encrypted transport's words: "encrypted tls|dtls|auto" is the same
# choice as "enc tls|dtls|auto" (on the command line and in a -c FILE),
# while "encrypted" followed by anything else is up's encrypted-only
# mode, as before.  Without a choice, a UDP clear tunnel's helper tries
# DTLS first (auto), a TCP one's TLS.  No module needed: the helper logs its settings at
# debug level (the choice, and "mode encrypted" for the mode) before it
# looks for the device.
. "$TSCF_TOP/selftests/lib.sh"
CTL="$TSCF_TOP/tools/tscfctl"
[ -x "$CTL" ] || fail "tools/tscfctl not built"
TMPD=$(mktemp -d)
at_exit "rm -rf $TMPD"
export TSCF_RUNDIR="$TMPD/run"
dev=tscfc56
srv="server 127.0.0.1 port 4000"

run() {
	rc=0
	"$CTL" "$@" > "$TMPD/out" 2> "$TMPD/err" || rc=$?
}

# settings WHY EXPECTED ARGS...: "up" with ARGS reaches the device lookup
# and its settings line ends with EXPECTED.
settings() {
	why=$1 want=$2
	shift 2
	run -v up $dev "$@"
	expect_eq "$why: exit status (no such device)" "$rc" 1
	line=$(grep "$dev: settings:" "$TMPD/err")
	case "$line" in
	*"$want") ;;
	*) check "$why: settings '$line' do not end with '$want': $(cat "$TMPD/err")" ;;
	esac
	grep -q "$dev: no such device" "$TMPD/err" || check "$why: $(cat "$TMPD/err")"
}

for t in tls dtls auto; do
	settings "encrypted $t" ", enc $t" $srv encrypted $t
	settings "enc $t" ", enc $t" $srv enc $t
	settings "encrypted $t before the server" ", enc $t" encrypted $t $srv
done
# The default: auto over UDP (DTLS first), TLS over TCP and for the mode
# (which does not know the clear tunnel's transport).
settings "no choice over UDP" ", enc auto" $srv
settings "no choice over TCP" ", enc tls" $srv transport tcp
settings "auto over TCP" ", enc auto" $srv transport tcp enc auto
settings "the mode" ", enc tls, mode encrypted" encrypted $srv
settings "the mode, then the choice" ", enc dtls, mode encrypted" encrypted encrypted dtls $srv
settings "the mode after the choice" ", enc dtls, mode encrypted" $srv encrypted dtls encrypted
settings "the last choice wins" ", enc tls" $srv encrypted dtls enc tls

printf 'server 127.0.0.1\nport 4000\nencrypted dtls\n' > "$TMPD/c.conf"
settings "encrypted dtls in a file" ", enc dtls" -c "$TMPD/c.conf"
settings "the command line overrides the file" ", enc auto" -c "$TMPD/c.conf" encrypted auto
printf 'server 127.0.0.1\nencrypted\n' > "$TMPD/bad.conf"
run up $dev -c "$TMPD/bad.conf"
expect_eq "bare encrypted in a file: exit status" "$rc" 1
grep -qF "$TMPD/bad.conf:2: unknown setting 'encrypted'" "$TMPD/err" ||
	check "bare encrypted in a file: $(cat "$TMPD/err")"
printf 'server 127.0.0.1\nencrypted dtls tls\n' > "$TMPD/bad.conf"
run up $dev -c "$TMPD/bad.conf"
expect_eq "encrypted with two words in a file: exit status" "$rc" 1
grep -qF "$TMPD/bad.conf:2: extra word 'tls' after 'encrypted'" "$TMPD/err" ||
	check "encrypted with two words in a file: $(cat "$TMPD/err")"

# Anything else after "encrypted" is the mode's next word, checked as such.
run up $dev $srv encrypted quic
expect_eq "encrypted quic: exit status" "$rc" 2
grep -q "unknown setting 'quic'" "$TMPD/err" || check "encrypted quic: $(cat "$TMPD/err")"
run up $dev $srv enc quic
expect_eq "enc quic: exit status" "$rc" 2
grep -q "enc: 'quic' is not tls or dtls or auto" "$TMPD/err" || check "enc quic: $(cat "$TMPD/err")"
# probe has no auto (it tries one transport) and no mode.
run probe $srv transport udp encrypted auto
expect_eq "probe encrypted auto: exit status" "$rc" 2
grep -q "enc: 'auto' is not tls or dtls" "$TMPD/err" || check "probe encrypted auto: $(cat "$TMPD/err")"
run probe $srv transport udp encrypted
expect_eq "probe encrypted: exit status" "$rc" 2
grep -q "unknown setting 'encrypted'" "$TMPD/err" || check "probe encrypted: $(cat "$TMPD/err")"
[ -d "$TMPD/run" ] && [ -n "$(ls "$TMPD/run")" ] && check "left files in the run directory: $(ls "$TMPD/run")"
checks_done
echo ok
