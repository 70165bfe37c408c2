#!/bin/sh
# A stream tunnel's frame queue is bounded in bytes as well as in frames.
# Large frames are what makes the difference: 256 frames of 15 KB would be
# 3.8 MB in the module, per tunnel.  Over a TCP tunnel (tscf0) and a kTLS
# one (tscf0s), both devices with MTU 16000 and a pfifo qdisc, a server
# that reads nothing until told to, and a UDP sender with a send buffer
# far larger than the queue writing 300 datagrams of 15,000 bytes: while
# the server stalls, the tunnel's txq_bytes gauge (genl stats) must sit
# above 128 KiB (where the device queue wakes) and below 512 KiB (where it
# stops) plus one frame, and the qdisc must hold the rest; then the server
# reads and every datagram arrives, none dropped by the tunnel or the
# qdisc, and the gauge is back at 0.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
ue_srv_topology txqb
tmp=$(mktemp -d)
at_exit "rm -rf $tmp"
N=300
SIZE=15000
STOP_BYTES=524288
WAKE_BYTES=131072
FRAME=$((SIZE + 28))
ip netns exec "$UE" sysctl -qw net.ipv4.tcp_wmem="4096 16384 65536"

# flood DST: N blocking sends of SIZE bytes from a send buffer that holds
# them all; prints "sent K errors {...}".
flood() {
	ip netns exec "$UE" python3 "$TSCF_TOP/selftests/lib/udp_flood.py" \
		"$1" "$N" "$SIZE" $((64 << 20))
}

run_case() {	# TRANSPORT DEV DST PORT
	log "== $1 on $2"
	ip -n "$UE" link set "$2" mtu 16000
	tc -n "$UE" qdisc replace dev "$2" root pfifo limit 1000 ||
		fail "$1: no pfifo qdisc on $2"
	go="$tmp/go-$1"
	# Reads nothing until $go exists, then counts the inner packets of
	# 1000+ bytes; closes once $go.done exists.
	stream_sink_start "$tmp/srv-$1" "$1" "$4" "$N" --go "$go" --quiet 10
	ip netns exec "$UE" $TSCF_PEER client "$2" --transport "$1" \
		--addr 10.10.0.2 --port "$4" --tsid 0x69 --internal 10.100.0.2 ||
		fail "attach over $1"
	out=$(flood "$3")
	log "$1: $out"
	expect_eq "$1: sender" "$out" "sent $N errors {}"

	# The server has read nothing yet: the queue is as full as it gets.
	queued=$(tunnel_stat "$UE" "$2" txq_bytes)
	backlog=$(qdisc_stat "$UE" "$2" backlog)
	log "$1: stalled: txq_bytes $queued, the qdisc holds $backlog packets"
	# The device queue stopped at STOP_BYTES; the socket may have taken
	# a few frames since, but the queue wakes only at WAKE_BYTES.
	[ "$queued" -gt "$WAKE_BYTES" ] ||
		fail "$1: txq_bytes $queued not above the wake mark $WAKE_BYTES"
	[ "$queued" -lt $((STOP_BYTES + FRAME)) ] ||
		fail "$1: txq_bytes $queued past the stop mark $STOP_BYTES by a frame or more"
	[ "$backlog" -gt 0 ] || fail "$1: the qdisc holds nothing while the tunnel stalls"

	touch "$go"
	wait_for 6 grep -q received "$tmp/srv-$1" || fail "$1: the server did not finish"
	log "$1: $(cat "$tmp/srv-$1")"
	expect_eq "$1: received" "$(sed -n 's/^received //p' "$tmp/srv-$1")" "$N"
	expect_eq "$1: qdisc drops" "$(qdisc_stat "$UE" "$2" dropped)" 0
	expect_eq "$1: tunnel tx_dropped" "$(tunnel_stat "$UE" "$2" tx_dropped)" 0
	expect_eq "$1: txq_bytes once drained" "$(tunnel_stat "$UE" "$2" txq_bytes)" 0
	touch "$go.done"
	wait $SERVER
	# The server closed: its tunnel goes down (PEER_CLOSED).
	wait_for 30 no_tunnel "$UE" "$2" || fail "$1: the tunnel outlived its server"
}

run_case tcp tscf0 10.100.0.1 4969
run_case ktls tscf0s 10.101.0.1 4970
echo ok
