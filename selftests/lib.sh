# Shared helpers for tscf selftests (host and VM).  Source it:
#   . "$TSCF_TOP/selftests/lib.sh"
# Every test creates its own namespaces with tscf_netns and they are
# deleted on exit whatever happens.
set -eu
: "${TSCF_TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
TSCF_NETNS_LIST=""
TSCF_CLEANUP_CMDS=""

tscf_cleanup() {
	rc=$?
	set +e
	eval "$TSCF_CLEANUP_CMDS"
	for ns in $TSCF_NETNS_LIST; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	exit $rc
}
trap tscf_cleanup EXIT INT TERM

# Run a command at exit (before namespaces are removed).
at_exit() { TSCF_CLEANUP_CMDS="$TSCF_CLEANUP_CMDS
$*"; }

# tscf_netns NAME: a fresh namespace (unique per test run) with lo up;
# prints its real name.
tscf_netns() {
	ns="tscf-$1-$$"
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	TSCF_NETNS_LIST="$TSCF_NETNS_LIST $ns"
	echo "$ns"
}

fail() { echo "FAIL: $*" >&2; exit 1; }
log() { echo "# $*"; }

# expect_eq WHAT GOT WANT
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

# expect_fail WHAT CMD...: CMD must exit non-zero.
expect_fail() {
	what=$1
	shift
	if "$@" >/dev/null 2>&1; then fail "$what: succeeded, expected failure"; fi
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
	n=$(($1 * 10))
	shift
	while [ $n -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# link_stat NS DEV FIELD: a counter from /sys/class/net/DEV/statistics.
link_stat() {
	ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3"
}

# link_exists NS DEV
link_exists() {
	ip -n "$1" link show dev "$2" >/dev/null 2>&1
}

# require_module NAME: the test needs this kernel module (VM tests).
require_module() {
	[ -d "/sys/module/$1" ] || fail "module $1 is not loaded"
}
