#!/bin/sh
# tscfd's flow table under load, on the host: SESSIONS clear UDP sessions
# bind 1,024 flows each (the per-session maximum), then PACKETS return
# packets of an unbound flow (the worst case for a lookup) are written
# into the TUN for one of them.  Prints tscfd's RSS growth per session
# and its CPU time per return packet it read (noisy on a loaded host:
# selftests/bench/flow_lookup.c measures the lookup alone).
#   sh selftests/bench/flows.sh [SESSIONS] [PACKETS]
TSCF_TOP=${TSCF_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TSCF_TOP/selftests/lib.sh"
SESSIONS=${1:-20}
PACKETS=${2:-100000}
tscfd_topology flowbench DTTE
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$TSCFD_PID/status"; }
cpu() { awk '{ print $14 + $15 }' "/proc/$TSCFD_PID/stat"; }
rss0=$(rss)
ip netns exec "$UE" python3 - "$SESSIONS" "$TMPD/ip" <<'PY' &
import sys, time
sys.path.insert(0, sys.argv[0] and __import__('os').environ['TSCF_TOP'] + '/selftests/lib')
import tscf_client as tc
tunnels = []
for i in range(int(sys.argv[1])):
    t = tc.Tunnel('udp', '10.10.0.2', 4000)
    code, _ = t.config()
    assert code == tc.SUCCESS
    for port in range(10000, 11024):
        assert tc.bind(t, t.ip4, port, 2) == tc.SUCCESS
    tunnels.append(t)
open(sys.argv[2], 'w').write(tunnels[0].ip4)
time.sleep(600)
PY
client=$!
at_exit "kill $client 2>/dev/null"
wait_for 300 test -s "$TMPD/ip" || fail "bindings not made"
rss1=$(rss)
cpu0=$(cpu)
ip netns exec "$SRV" python3 - "$(cat "$TMPD/ip")" "$PACKETS" <<'PY'
import socket, struct, sys
sys.path.insert(0, __import__('os').environ['TSCF_TOP'] + '/selftests/lib')
from tunnel_peer import udp4_packet
pkt = udp4_packet('10.100.0.1', sys.argv[1], 7000, 9999, b'x' * 64)
tun = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM)
for _ in range(int(sys.argv[2])):
    tun.sendto(pkt, ('tscfs0', 0x0800))
PY
sleep 1
cpu1=$(cpu)
hz=$(getconf CLK_TCK)
n=$(tscfd_stat tx_packets)	# the TUN queue drops what tscfd does not read in time
echo "$n of $PACKETS return packets read and sent back"
awk -v s="$SESSIONS" -v r0="$rss0" -v r1="$rss1" -v c0="$cpu0" -v c1="$cpu1" -v hz="$hz" -v n="$n" 'BEGIN {
	printf "RSS per session with 1024 bindings: %.1f KiB\n", (r1 - r0) / s
	printf "tscfd CPU per return packet: %.2f us\n", (c1 - c0) / hz / n * 1e6 }'
