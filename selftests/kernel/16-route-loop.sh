#!/bin/sh
# A tunnel socket whose own route leads into a tscf device would loop: its
# frames would be framed into itself forever.  Attach refuses such a
# socket (UDP and TCP); and when the route of an attached TCP tunnel
# changes to a tscf device later, its looping segments are dropped and
# counted at the device instead of going round.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
ue_srv_topology rl
tmp=$(mktemp -d)
at_exit "rm -rf $tmp"

for spec in "tcp 4700" "udp 4701" "tcp 4702"; do
	set -- $spec
	ip netns exec "$SRV" $TSCF_PEER server --transport "$1" --addr 10.10.0.2 \
		--port "$2" > "$tmp/s$2" 2>&1 &
	at_exit "kill $! 2>/dev/null"
	wait_for 5 grep -q listening "$tmp/s$2" || fail "server $1 $2"
done

# attach_rerouted TRANSPORT PORT: connect over the veth, route the server
# through tscf0, then attach; prints the error.
attach_rerouted() {
	ip netns exec "$UE" python3 - "$1" "$2" <<'EOF'
import os, socket, struct, subprocess, sys
sys.path.insert(0, os.environ['TSCF_TOP'] + '/selftests/lib')
import tscf_nl
typ = socket.SOCK_STREAM if sys.argv[1] == 'tcp' else socket.SOCK_DGRAM
s = socket.socket(socket.AF_INET, typ)
s.connect(('10.10.0.2', int(sys.argv[2])))
subprocess.run(['ip', 'route', 'add', '10.10.0.2/32', 'dev', 'tscf0'], check=True)
try:
    tun = tscf_nl.nla(tscf_nl.T['FD'], struct.pack('=I', s.fileno()))
    tun += tscf_nl.nla(tscf_nl.T['TSID'], struct.pack('=Q', 0x77))
    tscf_nl.Genl().do(tscf_nl.CMD['TUNNEL_ATTACH'],
                      tscf_nl.nla(tscf_nl.A['IFINDEX'], struct.pack('=I', tscf_nl.ifindex('tscf0'))) +
                      tscf_nl.nla(tscf_nl.A['TUNNEL'] | tscf_nl.NLA_F_NESTED, tun))
    print('attached')
except tscf_nl.NlError as e:
    print(e)
finally:
    subprocess.run(['ip', 'route', 'del', '10.10.0.2/32', 'dev', 'tscf0'], check=True)
EOF
}
for spec in "tcp 4700" "udp 4701"; do
	set -- $spec
	out=$(attach_rerouted "$1" "$2")
	log "$1 attach through tscf0: $out"
	echo "$out" | grep -q "would loop" || fail "$1: a socket routed into tscf0 was not refused: $out"
	has_tunnel "$UE" tscf0 && fail "$1: tunnel attached"
done

# The route changes under a live TCP tunnel.
ip netns exec "$UE" $TSCF_PEER client tscf0 --transport tcp --addr 10.10.0.2 --port 4702 ||
	fail "attach tcp"
ip -n "$UE" route add 10.10.0.2/32 dev tscf0
at_exit "ip -n $UE route del 10.10.0.2/32 dev tscf0 2>/dev/null"
drops0=$(link_stat "$UE" tscf0 tx_dropped)
ip netns exec "$UE" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(5):
    s.sendto(b"loop", ("10.100.0.1", 9))'
sleep 2
tx=$(tunnel_stat "$UE" tscf0 tx_packets)
drops=$(( $(link_stat "$UE" tscf0 tx_dropped) - drops0 ))
log "tunnel tx_packets $tx, device tx_dropped +$drops"
[ "$tx" -le 5 ] || fail "the tunnel's frames went round: $tx sent for 5 datagrams"
[ "$drops" -ge 1 ] || fail "no looping segment was dropped and counted"
echo ok
