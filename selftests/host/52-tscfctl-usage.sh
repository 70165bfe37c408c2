#!/bin/sh
# tscfctl's command line as an operator used to wg/ip expects it: --help
# on stdout with exit 0, --version names the program, the module and the
# netlink family, a usage error goes to stderr with exit 2, and every
# number is range-checked with a message naming it.
. "$TSCF_TOP/selftests/lib.sh"
CTL="$TSCF_TOP/tools/tscfctl"
[ -x "$CTL" ] || fail "tools/tscfctl not built"
TMPD=$(mktemp -d)
at_exit "rm -rf $TMPD"

# run ARGS...: stdout in $TMPD/out, stderr in $TMPD/err, status in $rc.
run() {
	rc=0
	"$CTL" "$@" > "$TMPD/out" 2> "$TMPD/err" || rc=$?
}

for h in --help -h; do
	run $h
	expect_eq "$h exit status" "$rc" 0
	grep -q '^usage: tscfctl' "$TMPD/out" || check "$h: no usage on stdout"
	[ -s "$TMPD/err" ] && check "$h: wrote to stderr: $(cat "$TMPD/err")"
done
run show --help
expect_eq "show --help exit status" "$rc" 0

run --version
expect_eq "--version exit status" "$rc" 0
grep -q '^tscfctl [0-9][0-9.]*' "$TMPD/out" || check "--version: no program version: $(cat "$TMPD/out")"
if [ -r /sys/module/tscf/version ]; then
	grep -q "^module tscf: $(cat /sys/module/tscf/version)\$" "$TMPD/out" || check "--version: module version"
else
	grep -q '^module tscf: not loaded$' "$TMPD/out" || check "--version: module line: $(cat "$TMPD/out")"
fi
grep -q '^netlink family tscf: .*tscfctl speaks 1)$' "$TMPD/out" || check "--version: family line: $(cat "$TMPD/out")"

# usage_error WHY EXPECTED-MESSAGE ARGS...: exit 2, the message on stderr, nothing on stdout.
usage_error() {
	why=$1 msg=$2
	shift 2
	run "$@"
	expect_eq "$why: exit status" "$rc" 2
	grep -qF -- "$msg" "$TMPD/err" || check "$why: message: $(cat "$TMPD/err")"
	[ -s "$TMPD/out" ] && check "$why: wrote to stdout: $(cat "$TMPD/out")"
	return 0
}
usage_error "no command" "usage: tscfctl" 
usage_error "unknown command" "unknown command 'bogus'" bogus
usage_error "unknown option" "unknown option '--bogus'" --bogus show
usage_error "port too big" "port: 70000 is out of range (1 to 65535)" up tscf0 server 127.0.0.1 port 70000
usage_error "port 0" "port: 0 is out of range (1 to 65535)" up tscf0 server 127.0.0.1 port 0
usage_error "port not a number" "port: '44x' is not a number" up tscf0 server 127.0.0.1 port 44x
usage_error "negative port" "port: '-1' is not a number" probe server 127.0.0.1 port -1 transport udp
usage_error "probe port" "port: 65536 is out of range" probe server 127.0.0.1 port 65536
usage_error "key lifetime too short" "key-lifetime: 9 is out of range (10 to 604800)" up tscf0 server 127.0.0.1 port 1 key-lifetime 9
usage_error "key lifetime too long" "key-lifetime: 604801 is out of range (10 to 604800)" up tscf0 server 127.0.0.1 port 1 key-lifetime 604801
usage_error "key lifetime not a number" "key-lifetime: '1h' is not a number" up tscf0 server 127.0.0.1 port 1 key-lifetime 1h
usage_error "key lifetime on probe" "unknown setting 'key-lifetime'" probe server 127.0.0.1 port 1 transport udp key-lifetime 60
usage_error "linger too big" "linger: 4294967296 is out of range (0 to 4294967295)" set tscf0 linger 4294967296
usage_error "linger not a number" "linger: '5s' is not a number" set tscf0 linger 5s
usage_error "transport" "transport: 'sctp' is neither udp nor tcp" up tscf0 server 127.0.0.1 port 1 transport sctp
usage_error "missing value" "'ca' needs a value" up tscf0 server 127.0.0.1 port 1 ca
usage_error "unknown word" "unknown setting 'bogus'" up tscf0 server 127.0.0.1 port 1 bogus
usage_error "no server" "up needs 'server ADDR'" up tscf0 port 1
usage_error "no port" "up needs 'port N'" up tscf0 server 127.0.0.1
usage_error "log level" "--log-level: 'loud' is not one of" --log-level loud show
usage_error "log-level word" "log-level: 'loud' is not one of" up tscf0 server 127.0.0.1 port 1 log-level loud
usage_error "two devices" "show takes at most one device name" show a b
usage_error "down without a device" "down needs a device name" down
usage_error "monitor argument" "monitor takes no argument but -j" monitor x
usage_error "device name too long" "is not a device name" up tscf0123456789abcdef server 127.0.0.1 port 1
checks_done
echo ok
