#!/bin/sh
# Tear down at any moment, with traffic flowing: device deletion, netns
# deletion and rmmod each release every tunnel exactly once (the VM run
# fails on any kernel warning, and the module must load again).
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
ko="${TSCF_KO:-$TSCF_TOP/kmod/tscf.ko}"
ue_srv_topology td
tmp=$(mktemp -d)
at_exit "rm -rf $tmp"

start_server() {	# transport port [addr]
	ip netns exec "$SRV" $TSCF_PEER server --transport "$1" --addr "${3:-10.10.0.2}" \
		--port "$2" > "$tmp/s$2" 2>&1 &
	at_exit "kill $! 2>/dev/null"
	wait_for 5 grep -q listening "$tmp/s$2" || fail "server $1 $2"
}

# A sender that never stops, through whatever the device has.
flood() {	# ns dst
	ip netns exec "$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
while True:
    try:
        s.sendto(b"x" * 1000, (sys.argv[1], 9))
    except OSError:
        pass' "$2" &
	at_exit "kill $! 2>/dev/null"
}

# tx_above DEV N: DEV's tunnel has sent more than N frames (a flood's
# python takes a second or more to start in a loaded guest).
tx_above() { [ "$(tunnel_stat "$UE" "$1" tx_packets)" -gt "$2" ]; }

start_server udp 4200
start_server tcp 4201
start_server ktls 4202

# 1. Deleting a device with a busy UDP tunnel.
ip -n "$UE" link add tscf1 type tscf
ip -n "$UE" addr add 10.102.0.2/24 dev tscf1
ip -n "$UE" link set tscf1 up
ip netns exec "$UE" $TSCF_PEER client tscf1 --transport udp --addr 10.10.0.2 --port 4200 || fail "attach 1"
flood "$UE" 10.102.0.1
wait_for 30 tx_above tscf1 10 || fail "flood did not flow"
ip -n "$UE" link del tscf1 || fail "del with live tunnel"

# 2. A netns that goes away with its tunnels attached.
ns2=$(tscf_netns td-2)
ip link add veth-x netns "$ns2" type veth peer name veth-y netns "$SRV"
ip -n "$ns2" addr add 10.11.0.1/24 dev veth-x
ip -n "$SRV" addr add 10.11.0.2/24 dev veth-y
ip -n "$ns2" link set veth-x up
ip -n "$SRV" link set veth-y up
start_server tcp 4203 10.11.0.2
ip -n "$ns2" link add tscf0 type tscf
ip -n "$ns2" addr add 10.103.0.2/24 dev tscf0
ip -n "$ns2" link set tscf0 up
ip netns exec "$ns2" $TSCF_PEER client tscf0 --transport tcp --addr 10.11.0.2 --port 4203 || fail "attach 2"
has_tunnel "$ns2" tscf0 || fail "no tunnel in ns2"
ip netns pids "$ns2" | xargs -r kill
ip netns del "$ns2"
TSCF_NETNS_LIST=$(echo "$TSCF_NETNS_LIST" | sed "s/ $ns2//")

# 3. rmmod with a TCP and a kTLS tunnel carrying traffic.
ip netns exec "$UE" $TSCF_PEER client tscf0 --transport tcp --addr 10.10.0.2 --port 4201 || fail "attach tcp"
ip netns exec "$UE" $TSCF_PEER client tscf0s --transport ktls --addr 10.10.0.2 --port 4202 || fail "attach ktls"
for port in 4201 4202; do
	ip netns exec "$SRV" ss -Htn state established "( sport = :$port )" | grep -q . ||
		fail "no connection to port $port"
done
flood "$UE" 10.100.0.1
flood "$UE" 10.101.0.1
wait_for 30 tx_above tscf0 10 || fail "tcp flood did not flow"
wait_for 30 tx_above tscf0s 10 || fail "ktls flood did not flow"
rmmod tscf || fail "rmmod with live tunnels"
[ -d /sys/module/tscf ] && fail "module still loaded"
insmod "$ko" || fail "insmod after rmmod"
ip -n "$UE" link add tscf0 type tscf || fail "add after reload"
# The module released the sockets: the server's ends are closed (a FIN,
# or a reset since unread data was still queued).
for port in 4201 4202; do
	wait_for 5 sh -c "! ip netns exec $SRV ss -Htn state established '( sport = :$port )' | grep -q ." ||
		fail "socket to port $port not closed by rmmod: $(ip netns exec "$SRV" ss -tan)"
done
echo ok
