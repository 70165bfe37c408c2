#!/bin/sh
# The server goes away: the kernel reports the tunnel down (peer closed),
# tscfctl re-establishes it with backoff once the server is back, and
# traffic flows again; no kernel warning on the way.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
CTL="$TSCF_TOP/tools/tscfctl"
tscfd_topology restart DTTE
ip -n "$UE" link add tscf0 type tscf
ip netns exec "$UE" "$CTL" up tscf0 server 10.10.0.2 port 4000 transport tcp ca "$TMPD/ca.pem" \
	> "$TMPD/ctl.log" 2>&1 &
ctl=$!
at_exit "kill $ctl 2>/dev/null"
wait_for 20 grep -q 'clear tunnel up' "$TMPD/ctl.log" || fail "up: $(cat "$TMPD/ctl.log")"
ip netns exec "$UE" ping -c 2 -i 0.2 -W 2 10.100.0.1 > /dev/null || fail "ping before"

start_listener "$UE" "$TMPD/events" 8
kill "$TSCFD_PID"
wait "$TSCFD_PID" 2>/dev/null || true
wait_for 8 grep -q 'clear tunnel down' "$TMPD/ctl.log" || fail "helper did not see the tunnel go: $(cat "$TMPD/ctl.log")"
wait $LISTENER
grep '"cmd": "TUNNEL_EVENT"' "$TMPD/events" | grep -q '"reason": 2' ||
	fail "no peer-closed event: $(cat "$TMPD/events")"

tscfd_start
wait_for 40 sh -c "[ \$(grep -c 'clear tunnel up' $TMPD/ctl.log) -ge 2 ]" ||
	fail "tunnel not re-established: $(cat "$TMPD/ctl.log")"
ip netns exec "$UE" ping -c 2 -i 0.2 -W 2 10.100.0.1 > /dev/null || fail "ping after the restart"
log "$(cat "$TMPD/ctl.log")"
ip netns exec "$UE" "$CTL" down tscf0
wait $ctl || fail "helper exit"
echo ok
