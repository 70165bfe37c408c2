#!/bin/sh
# The server goes away: the kernel reports the tunnel down (peer closed),
# tscfctl re-establishes it with backoff once the server is back (the new
# server process does not know the old TSID, so a resume falls back to a
# new session), and traffic flows again; no kernel warning on the way.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
tscfd_topology restart DTTE
ue_tscf0
tscfctl_up tcp
ip netns exec "$UE" ping -c 2 -i 0.2 -W 2 10.100.0.1 > /dev/null || fail "ping before"

start_listener "$UE" "$TMPD/events" 60 '"reason": 2'
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
# The new server process never saw the old tunnel: a new session.
grep -q 'the server no longer holds tunnel [0-9a-f]*: new session' "$TMPD/ctl.log" ||
	fail "no fallback from resume to a new session: $(cat "$TMPD/ctl.log")"
log "$(cat "$TMPD/ctl.log")"
ip netns exec "$UE" "$CTL" down tscf0
wait $CTL_PID || fail "helper exit"
echo ok
