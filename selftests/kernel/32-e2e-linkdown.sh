#!/bin/sh
# The link goes down under a UDP tunnel: keepalives go unanswered, tscfctl
# declares the tunnel dead, detaches it, and re-establishes it with backoff
# once the link is back.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
TSCFD_KEEPALIVE=1 tscfd_topology linkdown DTTE
ue_tscf0
tscfctl_up udp

ip -n "$UE" link set veth-ue down
wait_for 20 grep -q 'clear tunnel down: no keepalive answer' "$TMPD/ctl.log" ||
	fail "dead tunnel not noticed: $(cat "$TMPD/ctl.log")"
has_tunnel "$UE" tscf0 && fail "dead tunnel still attached"
ip -n "$UE" link set veth-ue up
wait_for 40 sh -c "[ \$(grep -c 'clear tunnel up' $TMPD/ctl.log) -ge 2 ]" ||
	fail "not re-established: $(cat "$TMPD/ctl.log")"
ip netns exec "$UE" ping -c 2 -i 0.2 -W 2 10.100.0.1 > /dev/null || fail "ping after the link came back"
log "$(cat "$TMPD/ctl.log")"
ip netns exec "$UE" "$CTL" down tscf0
wait $CTL_PID || fail "helper exit"
echo ok
