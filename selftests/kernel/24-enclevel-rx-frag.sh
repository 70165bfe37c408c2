#!/bin/sh
# The clear tunnel's receive side and fragments:
# - an inner packet whose destination is not the session's internal
#   address is dropped (here: UE's outer address, where an unmarked
#   socket listens);
# - an encrypted-preferred socket riding the encrypted tunnel takes
#   nothing from the clear one;
# - a marked socket's 4,000-byte datagrams (IPv4 fragments) announce
#   their flow once, with the socket's ports, not payload bytes.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
ue_srv_topology rxfrag
tmp=$(mktemp -d)
at_exit "rm -rf $tmp"

inject=$(python3 -c "
import sys; sys.path.insert(0, '$TSCF_TOP/selftests/lib')
import tunnel_peer as p
print(p.udp4_packet('10.100.0.1', '10.10.0.1', 7000, 6003, b'canary-wrongdst').hex(),
      p.udp4_packet('10.100.0.1', '10.100.0.2', 7000, 6002, b'canary-pref').hex())")

ip netns exec "$SRV" $TSCF_PEER server --transport udp --addr 10.10.0.2 --port 4300 \
	--inject $inject > "$tmp/clear" 2>&1 &
at_exit "kill $! 2>/dev/null"
ip netns exec "$SRV" $TSCF_PEER server --transport ktls --addr 10.10.0.2 --port 4301 \
	> "$tmp/enc" 2>&1 &
at_exit "kill $! 2>/dev/null"
wait_for 5 grep -q listening "$tmp/clear" || fail "clear server"
wait_for 5 grep -q listening "$tmp/enc" || fail "encrypted server"
ip netns exec "$UE" $TSCF_PEER client tscf0 --transport udp --addr 10.10.0.2 --port 4300 \
	--tsid 0x10 --internal 10.100.0.2 || fail "attach clear"
ip netns exec "$UE" $TSCF_PEER client tscf0s --transport ktls --addr 10.10.0.2 --port 4301 \
	--tsid 0x20 || fail "attach encrypted"

# An unmarked socket on the outer address, and a preferred one that
# moves to the encrypted tunnel before the clear server injects.
ip netns exec "$UE" $APP --proto udp --dst 10.100.0.1 --port 7000 --lport 6003 \
	wait:"$tmp/injected" recv > "$tmp/plain" 2>&1 &
plain=$!
ip netns exec "$UE" $APP --proto udp --dst 10.100.0.1 --port 7000 --lport 6002 \
	level:2 echo:pref-1 path wait:"$tmp/injected" recv > "$tmp/pref" 2>&1 &
pref=$!
wait_for 15 grep -q '"path"' "$tmp/pref" || fail "pref app: $(cat "$tmp/pref")"
grep -q '"recv": "echo:pref-1", "ok": true' "$tmp/pref" || fail "pref-1 not echoed"
# The first clear frame from UE makes the clear server inject.
udp_echo "$UE" 10.100.0.1 7000 trigger > "$tmp/trigger" || fail "clear echo"
sleep 0.5
touch "$tmp/injected"
wait $plain || fail "plain app"
wait $pref || fail "pref app"
log "plain: $(cat "$tmp/plain")"
log "pref: $(cat "$tmp/pref")"
grep -q '"recv": null' "$tmp/plain" || check "a packet for another address was delivered from the clear tunnel"
tail -n 1 "$tmp/pref" | grep -q '"recv": null' ||
	check "the preferred socket took a packet injected on the clear tunnel while riding the encrypted one"
blocked=$(tunnel_stat "$UE" tscf0 rx_blocked)
log "rx_blocked: $blocked"
[ "$blocked" -ge 2 ] || check "drops not counted ($blocked)"

# Fragments: three 4,000-byte datagrams of an encrypted-preferred socket
# through the encrypted tunnel, payload bytes that look like ports.
ip netns exec "$UE" python3 -c '
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 6010))
s.setsockopt(0, 0x5453, struct.pack("=i", 2))
for i in range(3):
    s.sendto(bytes([0x20 + i]) * 4000, ("10.100.0.1", 7000))' || fail "fragment sender"
wait_for 5 sh -c "[ \$(grep -c '\"len\"' $tmp/enc) -ge 9 ]" || true
binds=$(grep '"type": 9' "$tmp/enc" | wc -l)
log "encrypted tunnel frames: $(grep -c '"len"' "$tmp/enc"), FLOW_BINDs: $binds"
# pref-1 (port 6002) and the fragment sender (port 6010): one each.
[ "$binds" -eq 2 ] || check "fragments announced bogus flows ($binds FLOW_BINDs)"
checks_done
echo ok
