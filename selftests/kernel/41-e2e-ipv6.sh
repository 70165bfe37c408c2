#!/bin/sh
# Inner IPv6: from a server with an IPv6 pool, tscfctl puts the session's
# IPv6 address on tscf0 and gives it to the kernel with the tunnel; ping6
# goes through the clear tunnel; an encrypted-only IPv6 UDP socket brings
# the encrypted tunnel up on demand and its echo comes back through it;
# its payload never shows on the wire, the clear socket's does.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
TSCFD_POOL6=fd00:100::/64
tscfd_topology v6in DTTE
ip -n "$UE" link add tscf0 type tscf
tscfctl_up udp
# The encrypted tunnel is checked after the application exits: keep it up
# that long whatever the load.
ip netns exec "$UE" "$CTL" set tscf0 linger 60000 || fail "set linger"
wait_for 10 sh -c "ip -n $UE -6 addr show dev tscf0 | grep -q 'inet6 fd00:100::2/64'" ||
	fail "no internal IPv6 address: $(ip -n "$UE" addr show dev tscf0; cat "$TMPD/ctl.log")"
ip netns exec "$UE" $TSCF_NL dev tscf0 | grep -q '"internal_ipv6": "fd00:100::2"' ||
	fail "the kernel was not given the IPv6 address: $(ip netns exec "$UE" $TSCF_NL dev tscf0)"
ip netns exec "$UE" ping -6 -c 3 -i 0.2 -W 2 fd00:100::1 > "$TMPD/ping" ||
	fail "ping6 through tscf0: $(cat "$TMPD/ping")"

ip netns exec "$SRV" python3 -c '
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("fd00:100::1", 7006))
while True:
    data, peer = s.recvfrom(65536)
    s.sendto(b"echo:" + data, peer)' &
at_exit "kill $! 2>/dev/null"
capture_start "$SRV" veth-srv "$TMPD/wire.pcapng"
wire=$CAPTURE
ip netns exec "$UE" $APP --proto udp --dst fd00:100::1 --port 7006 echo:PLAIN6-1 \
	> "$TMPD/plain" 2>&1
grep -qF '{"recv": "echo:PLAIN6-1", "ok": true}' "$TMPD/plain" || fail "clear v6: $(cat "$TMPD/plain")"
ip netns exec "$UE" $APP --proto udp --dst fd00:100::1 --port 7006 level:1 send:CANARY6-0 \
	waitpath:encrypted echo:CANARY6-1 path > "$TMPD/only" 2>&1
grep -qF '{"send": "CANARY6-0", "errno": "ENETUNREACH"}' "$TMPD/only" ||
	fail "v6 encrypted-only sent before its tunnel: $(cat "$TMPD/only")"
grep -qF '{"recv": "echo:CANARY6-1", "ok": true}' "$TMPD/only" ||
	fail "v6 encrypted-only: $(cat "$TMPD/only" "$TMPD/ctl.log")"
grep -qF '"path": "encrypted"' "$TMPD/only" || fail "v6 path: $(cat "$TMPD/only")"
ip netns exec "$UE" $TSCF_NL dev tscf0s | grep -q '"internal_ipv6": "fd00:100::2"' ||
	fail "the encrypted tunnel lacks the session's IPv6 address"
capture_stop $wire
plain=$(capture_count "$TMPD/wire.pcapng" 'frame contains "PLAIN6"')
canary=$(capture_count "$TMPD/wire.pcapng" 'frame contains "CANARY6"')
log "UE-server link: $plain clear frames with the plain v6 payload, $canary with the canary"
[ "$plain" -ge 2 ] || fail "the clear v6 payload is not on the wire"
expect_eq "v6 encrypted-only payload on the wire" "$canary" 0
ip netns exec "$UE" "$CTL" down tscf0
wait $CTL_PID || fail "helper exit $?: $(tail -5 "$CTL_LOG")"
ip -n "$UE" -6 addr show dev tscf0 | grep -q 'fd00:100::2' && fail "IPv6 address left after down"
echo ok
