#!/bin/sh
# make check: the host suite (plain, then against ASAN+UBSan builds of
# tscfd, tscfctl and the library), then the kernel suite in one VM boot on
# Debian's kernel.  With TSCF_DEBUG_LANE=1 the same kernel suite then runs
# again on the debug kernel (KASAN, lockdep, PROVE_RCU, kmemleak, UBSAN;
# built once and cached, see selftests/vm/debug-kernel.sh); `make
# check-debug` runs that lane alone.  It is not in the default run yet: on
# these 2 cores under TCG it adds about 45 minutes to a cold run, beyond
# what CI allows beside the other lanes.  Ends with "N passed, M failed"
# over the lanes run; exits non-zero on any failure.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

tally() {
	# Sum the per-suite result line of one run; a suite that died before
	# printing it counts as one failure.
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		echo "FAIL: $1 (the suite did not complete)"
		fail=$((fail + 1))
		return
	fi
	pass=$((pass + $(echo "$line" | cut -d' ' -f1)))
	fail=$((fail + $(echo "$line" | cut -d' ' -f3)))
	if [ "$2" != 0 ] && [ "$(echo "$line" | cut -d' ' -f3)" = 0 ]; then
		# All tests passed but the run failed: a kernel or sanitizer
		# report, a leak, or a VM failure.
		echo "FAIL: $1 (a report, leak or VM failure, see above)"
		fail=$((fail + 1))
	fi
}

pass=0
fail=0
start=$(date +%s)

echo "== host tests"
sh selftests/run-tests.sh selftests/host 2>&1 | tee "$log"
tally host 0

echo "== host tests (ASAN+UBSan builds of tscfd, tscfctl and the library)"
{
	make -s check-host-asan
	echo $? > "$log.rc"
} 2>&1 | tee "$log"
tally host-asan "$(cat "$log.rc")"
rm -f "$log.rc"

echo "== kernel tests (VM, kernel ${KVER:-default})"
{
	VM_TIMEOUT=${VM_TIMEOUT:-2700} \
		sh selftests/vm/vm-run.sh sh selftests/run-tests.sh selftests/kernel
	echo $? > "$log.rc"
} 2>&1 | tee "$log"
tally kernel "$(cat "$log.rc")"
rm -f "$log.rc"

if [ "${TSCF_DEBUG_LANE:-0}" != 1 ]; then
	echo "== debug-kernel lane not run (TSCF_DEBUG_LANE=1 make check, or make check-debug)"
else
	echo "== kernel tests (VM, debug kernel)"
	lane_start=$(date +%s)
	{
		sh selftests/vm/debug-lane.sh
		echo $? > "$log.rc"
	} 2>&1 | tee "$log"
	tally debug-kernel "$(cat "$log.rc")"
	rm -f "$log.rc"
	echo "== debug lane: $(( $(date +%s) - lane_start ))s"
fi

echo "== $(( $(date +%s) - start ))s"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
