#!/bin/sh
# Deleting a network namespace releases its tunnels even when no helper
# owns them: a tunnel holds its socket, the socket its netns, so nothing
# else would ever free the device, the tunnel or the server's connection.
# Here a TCP, a kTLS and a UDP tunnel are attached without an owner, the
# attaching processes exit, the netns is deleted: the server sees both
# stream connections closed and the kernel log says each tunnel went down
# with its device.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
tmp=$(mktemp -d)
at_exit "rm -rf $tmp"
SRV=$(tscf_netns nr-srv)
ns=$(tscf_netns nr-ue)
ip link add veth-x netns "$ns" type veth peer name veth-y netns "$SRV"
ip -n "$ns" addr add 10.12.0.1/24 dev veth-x
ip -n "$SRV" addr add 10.12.0.2/24 dev veth-y
ip -n "$ns" link set veth-x up
ip -n "$SRV" link set veth-y up

for spec in "tcp 4500" "ktls 4501" "udp 4502"; do
	set -- $spec
	ip netns exec "$SRV" $TSCF_PEER server --transport "$1" --addr 10.12.0.2 \
		--port "$2" > "$tmp/s$2" 2>&1 &
	at_exit "kill $! 2>/dev/null"
	wait_for 5 grep -q listening "$tmp/s$2" || fail "server $1"
done
ip -n "$ns" link add tscf0 type tscf
ip -n "$ns" link add tscf1 type tscf
for d in tscf0 tscf0s tscf1; do ip -n "$ns" link set "$d" up; done
# TSIDs unique to this run, to find their lines in the kernel log.
base=$(( ($$ % 4096) * 16 + 0x5e0000 ))
ip netns exec "$ns" $TSCF_PEER client tscf0 --transport tcp --addr 10.12.0.2 --port 4500 \
	--tsid $base || fail "attach tcp"
ip netns exec "$ns" $TSCF_PEER client tscf0s --transport ktls --addr 10.12.0.2 --port 4501 \
	--tsid $((base + 1)) || fail "attach ktls"
ip netns exec "$ns" $TSCF_PEER client tscf1 --transport udp --addr 10.12.0.2 --port 4502 \
	--tsid $((base + 2)) || fail "attach udp"
for port in 4500 4501; do
	ip netns exec "$SRV" ss -Htn state established "( sport = :$port )" | grep -q . ||
		fail "no connection to port $port"
done

ip netns pids "$ns" | xargs -r kill
ip netns del "$ns"
TSCF_NETNS_LIST=$(echo "$TSCF_NETNS_LIST" | sed "s/ $ns//")

for port in 4500 4501; do
	wait_for 15 sh -c "! ip netns exec $SRV ss -Htn state established '( sport = :$port )' | grep -q ." ||
		fail "connection to port $port still open after its netns was deleted"
done
for i in 0 1 2; do
	tsid=$(printf '%016x' $((base + i)))
	wait_for 10 sh -c "dmesg | grep -q 'tunnel down: TSID $tsid, reason 5'" ||
		fail "tunnel $tsid not released: $(dmesg | grep "TSID $tsid")"
done
echo ok
