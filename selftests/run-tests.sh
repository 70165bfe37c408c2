#!/bin/sh
# Run every test script in a directory (or the scripts named) and tally.
#   run-tests.sh DIR | TEST...
# A test is an executable *.sh: exit 0 = pass, anything else = fail.
# Prints "PASS: name" / "FAIL: name" per test (with the failing test's
# output) and ends with "N passed, M failed".  Exit status 1 on any failure.
# TSCF_TEST_FILTER=glob runs only matching test names.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
export TSCF_TOP="$top"
if [ $# -eq 1 ] && [ -d "$1" ]; then
	set -- "$1"/*.sh
fi
pass=0
fail=0
for t in "$@"; do
	name=$(basename "$t" .sh)
	case "$name" in ${TSCF_TEST_FILTER:-*}) ;; *) continue ;; esac
	if [ ! -f "$t" ]; then
		# A test named but not found fails: a typo must not pass.
		fail=$((fail + 1))
		echo "FAIL: $name (no such test: $t)"
		continue
	fi
	log=$(mktemp)
	start=$(date +%s)
	if sh "$t" >"$log" 2>&1; then
		pass=$((pass + 1))
		echo "PASS: $name ($(( $(date +%s) - start ))s)"
		[ -n "${TSCF_VERBOSE:-}" ] && sed 's/^/    /' "$log"
	else
		rc=$?
		fail=$((fail + 1))
		echo "FAIL: $name (exit $rc, $(( $(date +%s) - start ))s)"
		sed 's/^/    /' "$log" | tail -n 60
	fi
	rm -f "$log"
done
if [ $((pass + fail)) -eq 0 ]; then
	echo "FAIL: no test ran ($*)"
	fail=1
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
