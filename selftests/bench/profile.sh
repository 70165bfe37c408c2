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
# that reached SRV and the skbs per packet.  PROFILE_WORKLOADS picks
# (default "tcp rtp").
#   sh selftests/vm/vm-run.sh sh selftests/bench/profile.sh
TSCF_TOP=${TSCF_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TSCF_TOP/selftests/lib.sh"
SECS=${PROFILE_SECONDS:-10}
TOP=${PROFILE_TOP:-10}
WORKLOADS=${PROFILE_WORKLOADS:-tcp rtp}
RTP="$TSCF_TOP/build/bench/rtp172"
RTP_PORT=5004
command -v perf > /dev/null || fail "perf is not installed"
require_module tscf
tscfd_topology prof DTTE
ue_tscf0
tscfctl_up udp
[ "$(tscfd_stat kernel_fast_peers)" = 1 ] || fail "the session is not on tscfd's kernel path"
ip netns exec "$SRV" iperf3 -s -D -I "$TMPD/iperf.pid"
at_exit "[ -f $TMPD/iperf.pid ] && kill \$(cat $TMPD/iperf.pid) 2>/dev/null"
wait_for 10 sh -c "ip netns exec $SRV ss -Hltn | grep -q ':5201'" || fail "iperf3 server"

# profile NAME DST WORKLOAD: WORKLOAD to DST for SECS under "perf record
# -a -g" (perf starts the sender, so the whole recording is the flow).
# tcp: iperf3; rtp: rtp172 send, counted by rtp172 recv in SRV.  The top
# symbols leave out the idle loop (its share is printed apart).
profile() {
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
		# The counter's window (SECS - 1) lies inside the sender's SECS + 1.
		ip netns exec "$SRV" "$RTP" recv 0.0.0.0 $RTP_PORT $((SECS - 1)) > "$TMPD/$1.pps" 2> "$TMPD/$1.rerr" &
		sink=$!
		wait_for 10 sh -c "ip netns exec $SRV ss -Hlun | grep -q ':$RTP_PORT '" || fail "rtp172 recv"
		perf record -q -a -g -F 499 -o "$TMPD/$1.data" -- \
			ip netns exec "$UE" "$RTP" send "$2" $RTP_PORT $((SECS + 1)) > "$TMPD/$1.send" 2> "$TMPD/$1.rec" ||
			fail "perf record / rtp172 to $2: $(cat "$TMPD/$1.rec" "$TMPD/$1.send")"
		wait "$sink" || fail "rtp172 recv: $(cat "$TMPD/$1.rerr")"
		rate="rtp172 $(cat "$TMPD/$1.pps") pkt/s at SRV ($(tr '\n' ' ' < "$TMPD/$1.send"))"
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
	echo "idle: $(grep -E 'native_safe_halt|default_idle|cpuidle' "$TMPD/$1.syms" | awk '{ s += $1 } END { print s "%" }')"
	grep -v -E 'native_safe_halt|default_idle|cpuidle' "$TMPD/$1.syms" | head -n "$TOP"
	perf report -i "$TMPD/$1.data" --stdio --no-children --sort comm -g none \
		2> /dev/null | grep -v '^#' | grep -v '^$' | head -n 6 | sed 's/^/by comm: /'
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
