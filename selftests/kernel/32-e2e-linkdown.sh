#!/bin/sh
# The link goes down under a UDP tunnel: keepalives go unanswered, tscfctl
# declares the tunnel dead, detaches it, and re-establishes it with backoff
# once the link is back.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
CTL="$TSCF_TOP/tools/tscfctl"
TSCFD_KEEPALIVE=1 tscfd_topology linkdown DTTE
ip -n "$UE" link add tscf0 type tscf
ip netns exec "$UE" "$CTL" up tscf0 server 10.10.0.2 port 4000 transport udp ca "$TMPD/ca.pem" \
	> "$TMPD/ctl.log" 2>&1 &
ctl=$!
at_exit "kill $ctl 2>/dev/null"
wait_for 20 grep -q 'clear tunnel up' "$TMPD/ctl.log" || fail "up: $(cat "$TMPD/ctl.log")"

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
wait $ctl || fail "helper exit"
echo ok
