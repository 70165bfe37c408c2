#!/bin/sh
# tscfctl up DEV -c FILE: the words of "up", one setting per line, '#'
# comments; errors are FILE:LINE: message with exit 1 (unknown keys,
# extra words, numbers out of range); words after -c on the command line
# override the file's.  No module needed: the settings are logged at
# debug level before the helper looks for the device.
. "$TSCF_TOP/selftests/lib.sh"
CTL="$TSCF_TOP/tools/tscfctl"
[ -x "$CTL" ] || fail "tools/tscfctl not built"
TMPD=$(mktemp -d)
at_exit "rm -rf $TMPD"
export TSCF_RUNDIR="$TMPD/run"
dev=tscfc53

run() {
	rc=0
	"$CTL" "$@" > "$TMPD/out" 2> "$TMPD/err" || rc=$?
}

cat > "$TMPD/good.conf" <<'CONF'
# the lab client
server 127.0.0.1
   port 4000     # the server's port

transport tcp
ca /etc/tscf/ca.pem
server-name tscf.example
allow-redirect
CONF
run -v up $dev -c "$TMPD/good.conf"
expect_eq "good config: exit status (no such device)" "$rc" 1
grep -q "$dev: settings: server 127.0.0.1 port 4000 transport tcp, ca /etc/tscf/ca.pem, server-name tscf.example, allow-redirect" "$TMPD/err" ||
	check "good config not applied: $(cat "$TMPD/err")"
grep -q "$dev: no such device" "$TMPD/err" || check "good config: $(cat "$TMPD/err")"
run -v up $dev -c "$TMPD/good.conf" port 4100 transport udp
grep -q "$dev: settings: server 127.0.0.1 port 4100 transport udp," "$TMPD/err" ||
	check "command-line words do not override the file: $(cat "$TMPD/err")"
run -v up $dev port 4100 -c "$TMPD/good.conf"
grep -q "$dev: settings: server 127.0.0.1 port 4000 transport tcp," "$TMPD/err" ||
	check "the file does not override earlier words: $(cat "$TMPD/err")"

# bad_conf WHY LINE-CONTENT MESSAGE: one bad line 3 after two good ones.
bad_conf() {
	printf 'server 127.0.0.1\n# comment\n%s\n' "$2" > "$TMPD/bad.conf"
	run up $dev -c "$TMPD/bad.conf"
	expect_eq "$1: exit status" "$rc" 1
	grep -qF "$TMPD/bad.conf:3: $3" "$TMPD/err" || check "$1: message: $(cat "$TMPD/err")"
	[ -e "$TMPD/run/$dev.pid" ] && check "$1: left a pidfile"
	return 0
}
bad_conf "unknown key" "bogus 1" "unknown setting 'bogus'"
bad_conf "extra word" "port 4000 4001" "extra word '4001' after 'port'"
bad_conf "extra word after a flag" "system-ca yes" "extra word 'yes' after 'system-ca'"
bad_conf "port range" "port 70000" "port: 70000 is out of range (1 to 65535)"
bad_conf "port text" "port http" "port: 'http' is not a number"
bad_conf "missing value" "ca" "'ca' needs a value"
bad_conf "transport" "transport quic" "transport: 'quic' is neither udp nor tcp"
bad_conf "an option" "--daemon" "unknown setting '--daemon' (options belong on the command line)"
bad_conf "encrypted" "encrypted" "unknown setting 'encrypted'"
bad_conf "key lifetime" "key-lifetime 0" "key-lifetime: 0 is out of range (10 to 604800)"
bad_conf "log level" "log-level chatty" "log-level: 'chatty' is not one of"

run up $dev -c "$TMPD/nonexistent.conf"
expect_eq "missing file: exit status" "$rc" 1
grep -qF "$TMPD/nonexistent.conf: No such file or directory" "$TMPD/err" || check "missing file: $(cat "$TMPD/err")"
run up $dev -c
expect_eq "-c without a file: exit status" "$rc" 2
checks_done
echo ok
