#!/bin/sh
# tscfd frees late: one epoll batch holds an event that closes another
# tunnel (a resume, DISABLE_DTTE, the timer) and that tunnel's own event.
# tscfd is stopped while both queue, so they come in one batch.  Freed at
# once, the second event read freed memory (a heap-use-after-free under
# make check-host-asan); now the closed tunnel is marked dead, skipped, and
# freed after the batch.
. "$TSCF_TOP/selftests/lib.sh"
tscfd_topology lifetime DTTE
STRESS="python3 $TSCF_TOP/selftests/lib/tscfd_stress.py"

out=$(ip netns exec "$UE" $STRESS batch --addr 10.10.0.2 --port 4000 --pid "$TSCFD_PID" \
	--ca "$TMPD/ca.pem") || fail "batch: $out $(tail -30 "$TMPD/tscfd.log")"
log "$out"
kill -0 "$TSCFD_PID" 2>/dev/null || fail "tscfd died: $(tail -30 "$TMPD/tscfd.log")"
! grep -q 'ERROR: AddressSanitizer' "$TMPD/tscfd.log" || fail "$(grep -A20 AddressSanitizer "$TMPD/tscfd.log")"
grep -q 'closed: resumed on a new transport' "$TMPD/tscfd.log" || fail "no resume"
grep -q 'closed: no configuration request in time' "$TMPD/tscfd.log" || fail "no timer close"
expect_eq "resumed" "$(tscfd_stat resumed)" 1
echo ok
