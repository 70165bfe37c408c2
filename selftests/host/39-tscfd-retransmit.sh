#!/bin/sh
# Issue 9 item 5: a retransmitted UDP CONFIG_REQ (same Sequence) gets the
# same answer again and does not end the tunnel; wrong-TSID datagrams from
# the client's address (anyone can send them) are dropped and counted,
# never fatal.
. "$TSCF_TOP/selftests/lib.sh"
tscfd_topology retransmit DTTE
out=$(ip netns exec "$UE" $TSCF_CLIENT retransmit --addr 10.10.0.2 --port 4000) ||
	fail "retransmit: $(tail -5 "$TMPD/tscfd.log")"
log "$out"
[ "$(tscfd_stat config_resent)" -ge 2 ] || fail "retransmissions not counted"
[ "$(tscfd_stat drop_wrong_tsid)" -ge 4 ] || fail "wrong-TSID datagrams not counted"
grep -q 'closed: control message with a wrong TSID' "$TMPD/tscfd.log" &&
	fail "a UDP tunnel was closed by a wrong TSID"
wait_for 3 tscfd_stat_is sessions 0 || fail "session left after release"
echo ok
