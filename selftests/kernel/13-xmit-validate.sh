#!/bin/sh
# Only well-formed IPv4/IPv6 packets enter a tunnel.  A local process with
# CAP_NET_RAW writing to tscf0/tscf0s through AF_PACKET (a forged control
# frame, a truncated or over-long IP header, a protocol that does not match
# the first nibble) reaches neither the UDP nor the kTLS tunnel: the server
# sees none of it, each is counted in tx_malformed and the link's
# tx_errors, and the tunnels carry a well-formed packet sent the same way.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
ue_srv_topology xv
tmp=$(mktemp -d)
at_exit "rm -rf $tmp"

for spec in "udp 4400" "ktls 4401"; do
	set -- $spec
	ip netns exec "$SRV" $TSCF_PEER server --transport "$1" --addr 10.10.0.2 \
		--port "$2" > "$tmp/s$2" 2>&1 &
	at_exit "kill $! 2>/dev/null"
	wait_for 5 grep -q listening "$tmp/s$2" || fail "server $1"
done
ip netns exec "$UE" $TSCF_PEER client tscf0 --transport udp --addr 10.10.0.2 --port 4400 ||
	fail "attach udp"
ip netns exec "$UE" $TSCF_PEER client tscf0s --transport ktls --addr 10.10.0.2 --port 4401 ||
	fail "attach ktls"

# The servers answer the good packets to port 5000: take the answers, so
# that no ICMP error goes back into the tunnels to confuse the count.
ip netns exec "$UE" python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 5000))
time.sleep(600)' &
at_exit "kill $! 2>/dev/null"
# Bound before the first answer comes back (python starts slowly in the VM).
wait_for 20 sh -c "ip netns exec $UE ss -Hlun sport = :5000 | grep -q ." ||
	fail "the port 5000 sink did not start"

# inject DEV: four bad writes, then one good IPv4 UDP packet ("good-DEV").
inject() {
	ip netns exec "$UE" python3 - "$1" <<'EOF'
import socket, struct, sys
sys.path.insert(0, __import__('os').environ['TSCF_TOP'] + '/selftests/lib')
from tunnel_peer import udp4_packet
dev = sys.argv[1]
ETH_P_IP, ETH_P_IPV6 = 0x0800, 0x86dd
s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM)
keepalive = bytes([0x10, 5, 0, 0]) + struct.pack('!QI', 0x4242, 7)
good = udp4_packet('10.100.0.2', '10.100.0.1', 5000, 7000, b'good-' + dev.encode())
bad = [
    (keepalive, ETH_P_IP),                  # a forged control frame
    (good[:12], ETH_P_IP),                  # a truncated IPv4 header
    (good[:2] + b'\x05\xdc' + good[4:], ETH_P_IP),  # claims 1500 bytes
    (good, ETH_P_IPV6),                     # nibble 4 sent as IPv6
]
for pkt, proto in bad + [(good, ETH_P_IP)]:
    s.sendto(pkt, (dev, proto))
EOF
}
inject tscf0
inject tscf0s

for port in 4400 4401; do
	wait_for 5 grep -q '"payload": "good-' "$tmp/s$port" ||
		fail "the well-formed packet did not reach server $port: $(cat "$tmp/s$port")"
done
sleep 1
for port in 4400 4401; do
	log "server $port saw: $(tr '\n' ' ' < "$tmp/s$port")"
	grep -q '"kind": "ctrl"' "$tmp/s$port" && fail "a forged control frame reached server $port"
	grep -q '"kind": "bad"\|unparsable' "$tmp/s$port" && fail "garbage reached server $port"
	expect_eq "frames at server $port" "$(grep -c '"kind"' "$tmp/s$port")" 1
done
has_tunnel "$UE" tscf0s || fail "the kTLS tunnel did not survive the injection"

dev_stat() {	# dev field
	ip netns exec "$UE" $TSCF_NL dev "$1" |
		python3 -c "import json,sys; print(json.load(sys.stdin)['stats'].get('$2'))"
}
for d in tscf0 tscf0s; do
	expect_eq "$d tx_malformed" "$(dev_stat $d tx_malformed)" 4
	expect_eq "$d tx_errors" "$(link_stat "$UE" $d tx_errors)" 4
done
ip netns exec "$UE" "$TSCF_TOP/tools/tscfctl" show tscf0 | grep -q "tx_malformed: 4" ||
	fail "tscfctl show lacks tx_malformed: $(ip netns exec "$UE" "$TSCF_TOP/tools/tscfctl" show tscf0)"
echo ok
