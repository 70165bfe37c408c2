#!/bin/sh
# Issue 9 item 8: the clear tunnel cannot lower encryption: DISABLE_DTTE on
# it does not close the encrypted tunnel (only that tunnel releases
# itself).  A resume is proven by a one-time resume secret, not by the
# TSID: the TSID alone, a guessed secret and a replayed (used) secret are
# refused; the owner resumes, twice.
. "$TSCF_TOP/selftests/lib.sh"
tscfd_topology downgrade DTTE
for tr in tcp udp; do
	out=$(ip netns exec "$UE" $TSCF_CLIENT downgrade --transport $tr --addr 10.10.0.2 \
		--port 4000 --ca "$TMPD/ca.pem") || fail "downgrade over $tr: $(tail -5 "$TMPD/tscfd.log")"
	log "$tr: $out"
done
expect_eq "DISABLE_DTTE refusals" "$(tscfd_stat refused_disable_dtte)" 2
expect_eq "refused resumes" "$(tscfd_stat refused_resume)" 6
expect_eq "resumed" "$(tscfd_stat resumed)" 4
grep -q 'closed: DTTE disabled by the client' "$TMPD/tscfd.log" &&
	fail "the clear tunnel closed the encrypted one"
wait_for 3 tscfd_stat_is sessions 0 || fail "sessions left"
echo ok
