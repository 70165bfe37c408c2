#!/bin/sh
# profile.sh (in the VM; docs/BENCH.md "Profile"): what is left between
# tscf0 and veth.  iperf3 TCP from UE to SRV, once over the bare veth and
# once through tscf0 over UDP with tscfd's kernel data path, each under
# "perf record -a -g" for PROFILE_SECONDS (default 10); prints iperf3's
# Mbit/s and the top PROFILE_TOP (default 10) symbols by self time of
# each, the callers of the two lock symbols at its top, and the skbs per
# MB the UE's veth sent, between PROFILE-BEGIN/END lines.  Then the same
# for the small-packet path: rtp172 (172-byte UDP payloads at saturation,
# the bench's RTP-172 column) over each path, with the packets per second
# that reached SRV, the input-backlog and server-device drops, and the
# inclusive share of the path's stages.  PROFILE_WORKLOADS picks
# (default "tcp rtp").
#   sh selftests/vm/vm-run.sh sh selftests/bench/profile.sh
TSCF_TOP=${TSCF_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TSCF_TOP/selftests/lib.sh"
SECS=${PROFILE_SECONDS:-10}
TOP=${PROFILE_TOP:-10}
WORKLOADS=${PROFILE_WORKLOADS:-tcp rtp}
RTP="$TSCF_TOP/build/bench/rtp172"
RTP_PORT=5004
STAGES='udp_sendmsg|__dev_queue_xmit|__qdisc_run|sch_direct_xmit|tscf_[a-z_]+|udp_tunnel_xmit_skb|iptunnel_xmit|ip_finish_output2|veth_xmit|net_rx_action|__netif_receive_skb_core[a-z._]*|ip_rcv|udp_rcv|udp_queue_rcv_one_skb|gro_cell_poll|napi_gro_receive|__udp_enqueue_schedule_skb|tcp_v4_rcv|tcp_sendmsg|skb_segment|__skb_gso_segment|__[a-z]*_copy_datagram_iter|udp_recvmsg'
command -v perf > /dev/null || fail "perf is not installed"
require_module tscf
tscfd_topology prof DTTE
ue_tscf0
tscfctl_up udp
[ "$(tscfd_stat kernel_fast_peers)" = 1 ] || fail "the session is not on tscfd's kernel path"
ip netns exec "$SRV" iperf3 -s -D -I "$TMPD/iperf.pid"
at_exit "[ -f $TMPD/iperf.pid ] && kill \$(cat $TMPD/iperf.pid) 2>/dev/null"
wait_for 10 sh -c "ip netns exec $SRV ss -Hltn | grep -q ':5201'" || fail "iperf3 server"

# backlog_drops: packets the CPUs' input queues dropped (netdev_max_backlog),
# all namespaces: /proc/net/softnet_stat's second column, in hex.
backlog_drops() {
	python3 -c "print(sum(int(l.split()[1], 16) for l in open('/proc/net/softnet_stat')))"
}

# profile NAME DST WORKLOAD: WORKLOAD to DST for SECS under "perf record
# -a -g".  tcp: perf starts iperf3, so the whole recording is the flow;
# rtp: rtp172 send, counted by rtp172 recv in SRV, runs before and after
# the recording.  The top symbols leave out the idle loop (its share is
# printed apart).
profile() {
	bl0=$(backlog_drops)
	sd0=$(link_stat "$SRV" tscfsrv0 rx_dropped)
	pk0=$(link_stat "$UE" veth-ue tx_packets)
	by0=$(link_stat "$UE" veth-ue tx_bytes)
	case $3 in
	tcp)
		perf record -q -a -g -F 499 -o "$TMPD/$1.data" -- \
			ip netns exec "$UE" iperf3 -c "$2" -t "$SECS" -J > "$TMPD/$1.json" 2> "$TMPD/$1.rec" ||
			fail "perf record / iperf3 to $2: $(cat "$TMPD/$1.rec"; tail -5 "$TMPD/$1.json")"
		rate="iperf3 TCP $(python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['end']['sum_received']['bits_per_second'] / 1e6, 1))" "$TMPD/$1.json") Mbit/s"
		;;
	rtp)
		[ -x "$RTP" ] || fail "build/bench/rtp172 is not built (make build/bench/rtp172)"
		# perf takes seconds to start under TCG: the flow starts first
		# and outlasts the recording, which is of the flow only.
		ip netns exec "$SRV" "$RTP" recv 0.0.0.0 $RTP_PORT $((SECS - 1)) > "$TMPD/$1.pps" 2> "$TMPD/$1.rerr" &
		sink=$!
		wait_for 10 sh -c "ip netns exec $SRV ss -Hlun | grep -q ':$RTP_PORT '" || fail "rtp172 recv"
		ip netns exec "$UE" "$RTP" send "$2" $RTP_PORT $((SECS + 120)) > "$TMPD/$1.send" 2>&1 &
		src=$!
		sleep 1
		perf record -q -a -g -F 499 -o "$TMPD/$1.data" -- sleep "$SECS" 2> "$TMPD/$1.rec" ||
			fail "perf record: $(cat "$TMPD/$1.rec")"
		wait "$sink" || fail "rtp172 recv: $(cat "$TMPD/$1.rerr")"
		kill "$src" 2>/dev/null
		wait "$src" 2>/dev/null || true
		rate="rtp172 $(cat "$TMPD/$1.pps") pkt/s at SRV"
		;;
	esac
	perf report -i "$TMPD/$1.data" --stdio --no-children --sort symbol -g none \
		2> /dev/null | grep -v '^#' | grep -v '^$' > "$TMPD/$1.syms"
	pk=$(( $(link_stat "$UE" veth-ue tx_packets) - pk0 ))
	by=$(( $(link_stat "$UE" veth-ue tx_bytes) - by0 ))
	echo "PROFILE-BEGIN $1 $rate, $SECS s, perf record -a -g -F 499"
	# What the stack handles per MB: the skbs the UE's veth sent (a TSO
	# super-packet counts once, as veth counts it).
	echo "veth-ue sent $pk skbs, $by bytes: $(( pk * 1000000 / (by + 1) )) skbs per MB"
	echo "input backlog drops: $(( $(backlog_drops) - bl0 )); tscfsrv0 rx_dropped: $(( $(link_stat "$SRV" tscfsrv0 rx_dropped) - sd0 ))"
	echo "idle: $(grep -E 'native_safe_halt|default_idle|cpuidle' "$TMPD/$1.syms" | awk '{ s += $1 } END { print s "%" }')"
	grep -v -E 'native_safe_halt|default_idle|cpuidle' "$TMPD/$1.syms" | head -n "$TOP"
	perf report -i "$TMPD/$1.data" --stdio --no-children --sort comm -g none \
		2> /dev/null | grep -v '^#' | grep -v '^$' | head -n 6 | sed 's/^/by comm: /'
	# Where the time goes along the path: the inclusive share of its
	# stages (the sender's UDP, the qdisc, tscf's transmit and UDP
	# encapsulation, the veth, the receive softirq, the server device).
	echo "path stages (inclusive):"
	perf report -i "$TMPD/$1.data" --stdio --children --sort symbol -g none \
		2> /dev/null | awk -v re="^($STAGES)\$" '$3 ~ /^\[/ && $4 ~ re { print "  " $1, $2, $4 }' |
		head -n "${PROFILE_STAGES:-24}"
	# Who takes the contended locks: the callers of the slow path and
	# of the irq-restoring unlock, by share of their samples.
	for sym in native_queued_spin_lock_slowpath _raw_spin_unlock_irqrestore; do
		echo "callers of $sym:"
		perf report -i "$TMPD/$1.data" --stdio --no-children -S "$sym" \
			-G -g caller,2,callee,function,percent --percent-limit 1 \
			2> /dev/null | grep -v '^#' | grep -v '^$' | head -n "${PROFILE_CALLERS:-40}"
	done
	echo "PROFILE-END $1"
}
for w in $WORKLOADS; do
	case $w in
	tcp|rtp) ;;
	*) fail "PROFILE_WORKLOADS: '$w' is not tcp or rtp" ;;
	esac
	profile "veth-$w" 10.10.0.2 "$w"
	profile "tscf0-udp-kdp-$w" 10.100.0.1 "$w"
done
