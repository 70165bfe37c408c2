#!/bin/sh
# tscfd: a client whose transport broke resumes its clear tunnel on a new
# one by naming the TSID (TCP to UDP and back): same TSID and address, the
# old transport is closed, traffic flows; an unknown TSID is refused.
. "$TSCF_TOP/selftests/lib.sh"
tscfd_topology resume DTTE
for tr in tcp udp; do
	out=$(ip netns exec "$UE" $TSCF_CLIENT resume --transport $tr --addr 10.10.0.2 --port 4000) ||
		fail "resume from $tr"
	log "$tr: $out"
done
expect_eq "resumed" "$(tscfd_stat resumed)" 2
expect_eq "refused resumes" "$(tscfd_stat refused_resume)" 2
grep -q 'closed: resumed on a new transport' "$TMPD/tscfd.log" || fail "no log line for the move"
grep -q 'up: clear (resumed), internal 10.100.0.2' "$TMPD/tscfd.log" || fail "no resumed-up log line"
wait_for 3 tscfd_stat_is sessions 0 ||
	fail "sessions left after release"
echo ok
