#!/bin/sh
# A device that is down receives nothing from its tunnel: inner packets
# the server sends meanwhile are dropped and counted (rx_dropped), none
# reaches a socket, and once the device is up again they flow (GRO cells).
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
ue_srv_topology rd
tmp=$(mktemp -d)
at_exit "rm -rf $tmp"

# The UE end: a UDP tunnel to 10.10.0.2:4800, where a plain socket of the
# test plays the server.
ip netns exec "$UE" $TSCF_PEER client tscf0 --transport udp --addr 10.10.0.2 --port 4800 ||
	fail "attach"
uport=$(ip netns exec "$UE" ss -Hun state established dst 10.10.0.2:4800 |
	awk '{ split($3, a, ":"); print a[2] }')
[ -n "$uport" ] || fail "tunnel socket not found"

ip netns exec "$UE" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.100.0.2", 7100))
s.settimeout(120)
n = 0
try:
    while True:
        n += len(s.recv(100)) > 0
        print(n, flush=True)
except socket.timeout:
    pass' > "$tmp/rcv" &
at_exit "kill $! 2>/dev/null"
sleep 1

# send_inner N: the server sends N inner datagrams to 10.100.0.2:7100.
send_inner() {
	ip netns exec "$SRV" python3 - "$uport" "$1" <<'EOF'
import os, socket, sys
sys.path.insert(0, os.environ['TSCF_TOP'] + '/selftests/lib')
from tunnel_peer import udp4_packet
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('10.10.0.2', 4800))
for i in range(int(sys.argv[2])):
    s.sendto(udp4_packet('10.100.0.1', '10.100.0.2', 9, 7100, b'in'), ('10.10.0.1', int(sys.argv[1])))
EOF
}

ip -n "$UE" link set tscf0 down
drops0=$(link_stat "$UE" tscf0 rx_dropped)
send_inner 5
sleep 1
expect_eq "packets delivered while down" "$(wc -l < "$tmp/rcv")" 0
expect_eq "tunnel rx_packets while down" "$(tunnel_stat "$UE" tscf0 rx_packets)" 0
expect_eq "rx_dropped while down" $(( $(link_stat "$UE" tscf0 rx_dropped) - drops0 )) 5

ip -n "$UE" link set tscf0 up
ip -n "$UE" addr add 10.100.0.2/24 dev tscf0 2>/dev/null || true
send_inner 3
wait_for 5 sh -c "[ \$(wc -l < $tmp/rcv) = 3 ]" || fail "after up: $(cat "$tmp/rcv")"
expect_eq "tunnel rx_packets after up" "$(tunnel_stat "$UE" tscf0 rx_packets)" 3
echo ok
