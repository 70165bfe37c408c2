#!/bin/sh
# Backpressure holds packets, it does not fail senders.  A stream tunnel
# whose server stops reading fills its socket, then the tunnel's frame
# queue, which stops the device queue; the device's qdisc must then hold
# what senders write until the server reads again.  A device without a
# qdisc (noqueue) cannot be stopped: the core logs "Virtual device ...
# asks to queue packet!" and fails the sender with ENETDOWN.  Over a TCP
# tunnel (tscf0) and a kTLS one (tscf0s), a blocking UDP sender with
# IP_RECVERR and a send buffer larger than the tunnel's frame queue writes
# 3000 datagrams while the server sleeps: every send succeeds, the kernel
# log has no such line, and the server gets every datagram but those the
# qdisc chose to drop and counted (fq_codel, the usual default, drops what
# waited too long; a pfifo drops none).  The UE namespace's sysctl for
# the default qdisc is left as the system has it.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
ue_srv_topology bp
tmp=$(mktemp -d)
at_exit "rm -rf $tmp"
N=3000
# Small TCP buffers on the UE side: the tunnel socket fills at once.
ip netns exec "$UE" sysctl -qw net.ipv4.tcp_wmem="4096 16384 65536"
expect_eq "tscf0 tx_queue_len" "$(ip netns exec "$UE" cat /sys/class/net/tscf0/tx_queue_len)" 1000
ip -n "$UE" link show tscf0 | grep -q noqueue && fail "tscf0 has no qdisc: $(ip -n "$UE" link show tscf0)"

# flood DST: N blocking sends of 1000 bytes from a 1 MiB send buffer;
# prints "sent K errors {...}".
flood() {
	ip netns exec "$UE" python3 "$TSCF_TOP/selftests/lib/udp_flood.py" \
		"$1" "$N" 972 1048576
}

run_case() {	# TRANSPORT DEV DST PORT
	log "== $1 on $2"
	before=$(dmesg | grep -c 'asks to queue packet' || true)
	qdrop_before=$(qdisc_stat "$UE" "$2" dropped)
	# Reads nothing for 4 s, then counts the inner packets of 1000+ bytes.
	stream_sink_start "$tmp/srv-$1" "$1" "$4" "$N" --sleep 4
	ip netns exec "$UE" $TSCF_PEER client "$2" --transport "$1" \
		--addr 10.10.0.2 --port "$4" --tsid 0x19 --internal 10.100.0.2 ||
		fail "attach over $1"
	out=$(flood "$3")
	log "$1: $out"
	wait $SERVER
	log "$1: $(cat "$tmp/srv-$1")"
	expect_eq "$1: sender" "$out" "sent $N errors {}"
	got=$(sed -n 's/^received //p' "$tmp/srv-$1")
	qdrop=$(( $(qdisc_stat "$UE" "$2" dropped) - qdrop_before ))
	log "$1: server got $got, the qdisc dropped $qdrop"
	# Nothing else may lose a packet: not the tunnel, not the device.
	expect_eq "$1: received + dropped by the qdisc" "$((got + qdrop))" "$N"
	after=$(dmesg | grep -c 'asks to queue packet' || true)
	expect_eq "$1: 'asks to queue packet' in dmesg" "$after" "$before"
	# The server closed: its tunnel goes down (PEER_CLOSED).
	wait_for 30 no_tunnel "$UE" "$2" || fail "$1: the tunnel outlived its server"
}

run_case tcp tscf0 10.100.0.1 4900
run_case ktls tscf0s 10.101.0.1 4901
echo ok
