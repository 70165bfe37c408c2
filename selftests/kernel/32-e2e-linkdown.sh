#!/bin/sh
# The link goes down under a UDP tunnel: keepalives go unanswered, tscfctl
# declares the tunnel dead, detaches it, and once the link is back resumes
# the session on a new transport (same TSID, same internal address), so a
# TCP connection opened through the tunnel before the outage goes on.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
TSCFD_KEEPALIVE=1 tscfd_topology linkdown DTTE
ue_tscf0
tscfctl_up udp
ip netns exec "$SRV" python3 -c '
import socket, threading
l = socket.create_server(("10.100.0.1", 7001))
def echo(c):
    while (d := c.recv(65536)):
        c.sendall(b"echo:" + d)
while True:
    threading.Thread(target=echo, args=(l.accept()[0],), daemon=True).start()' &
at_exit "kill $! 2>/dev/null"
wait_for 10 sh -c "ip netns exec $SRV ss -tln 'sport = :7001' | grep -q LISTEN" ||
	fail "no TCP echo service"
addr_before=$(ip -n "$UE" -4 -o addr show dev tscf0 | awk '{ print $4 }')
ip netns exec "$UE" $APP --proto tcp --dst 10.100.0.1 --port 7001 echo:BEFORE \
	wait:"$TMPD/back" echo:AFTER > "$TMPD/tcp" 2>&1 &
tcp_app=$!
at_exit "kill $tcp_app 2>/dev/null"
wait_for 10 grep -qF '{"recv": "echo:BEFORE", "ok": true}' "$TMPD/tcp" || fail "tcp before: $(cat "$TMPD/tcp")"

ip -n "$UE" link set veth-ue down
wait_for 20 grep -q 'clear tunnel down: no keepalive answer' "$TMPD/ctl.log" ||
	fail "dead tunnel not noticed: $(cat "$TMPD/ctl.log")"
has_tunnel "$UE" tscf0 && fail "dead tunnel still attached"
ip -n "$UE" link set veth-ue up
wait_for 40 sh -c "[ \$(grep -c 'clear tunnel up' $TMPD/ctl.log) -ge 2 ]" ||
	fail "not re-established: $(cat "$TMPD/ctl.log")"
ip netns exec "$UE" ping -c 2 -i 0.2 -W 2 10.100.0.1 > /dev/null || fail "ping after the link came back"
grep -q 'clear tunnel up (resumed)' "$TMPD/ctl.log" || fail "not resumed: $(cat "$TMPD/ctl.log")"
expect_eq "internal address after the outage" \
	"$(ip -n "$UE" -4 -o addr show dev tscf0 | awk '{ print $4 }')" "$addr_before"
touch "$TMPD/back"
wait $tcp_app
grep -qF '{"recv": "echo:AFTER", "ok": true}' "$TMPD/tcp" ||
	fail "the TCP connection did not survive: $(cat "$TMPD/tcp")"
expect_eq "resumed on the server" "$(tscfd_stat resumed)" 1
log "$(cat "$TMPD/ctl.log")"
ip netns exec "$UE" "$CTL" down tscf0
wait $CTL_PID || fail "helper exit"
echo ok
