#!/bin/sh
# Issue 10: tscfd's command line.  --version and -V print "tscfd VERSION"
# and exit 0; --help and -h print the usage on stdout and exit 0; an
# unknown option or a stray argument prints it on stderr and exits 2;
# commands that exclude each other are refused; -j and --format go with
# --stats or --sessions; without a server the queries fail with a message.
. "$TSCF_TOP/selftests/lib.sh"
[ -x "$TSCFD" ] || fail "server/tscfd not built"
CHECKS_FAILED=0
TMPD=$(mktemp -d)
at_exit "rm -rf $TMPD"

for opt in --version -V; do
	out=$("$TSCFD" $opt 2>"$TMPD/err") || check "$opt: exit $?"
	echo "$out" | grep -Eq '^tscfd [0-9A-Za-z][0-9A-Za-z.+~_-]*$' || check "$opt: '$out'"
	[ -s "$TMPD/err" ] && check "$opt wrote to stderr: $(cat "$TMPD/err")"
done
for opt in --help -h; do
	out=$("$TSCFD" $opt 2>"$TMPD/err") || check "$opt: exit $?"
	for word in '-c FILE' '-t -c FILE' '--stats' '--sessions' '--disconnect TSID' '--version' openmetrics; do
		echo "$out" | grep -q -- "$word" || check "$opt: usage does not mention '$word'"
	done
	[ -s "$TMPD/err" ] && check "$opt wrote to stderr: $(cat "$TMPD/err")"
done

# expect_rc WANT ARGS...: exit status WANT, a message on stderr, nothing on stdout.
expect_rc() {
	want=$1; shift
	rc=0
	"$TSCFD" "$@" > "$TMPD/out" 2> "$TMPD/err" || rc=$?
	[ "$rc" -eq "$want" ] || check "tscfd $*: exit $rc, want $want"
	[ -s "$TMPD/err" ] || check "tscfd $*: no message"
	[ -s "$TMPD/out" ] && check "tscfd $*: wrote to stdout: $(cat "$TMPD/out")"
	return 0
}
expect_rc 2 --bogus
expect_rc 2 -c /dev/null extra
expect_rc 2
expect_rc 2 --stats --sessions
expect_rc 2 --stats -t -c /dev/null
expect_rc 2 --sessions --format openmetrics
expect_rc 2 --stats --format yaml
expect_rc 2 -j -c /dev/null
expect_rc 2 --disconnect nothex
expect_rc 1 --stats -s "$TMPD/none.sock"
expect_rc 1 --sessions -s "$TMPD/none.sock"
expect_rc 1 --disconnect 0123456789abcdef -s "$TMPD/none.sock"
grep -q "cannot reach the server at $TMPD/none.sock" "$TMPD/err" || check "query error: $(cat "$TMPD/err")"
checks_done
echo ok
