#!/bin/sh
# make bench: iperf3 TCP throughput in one VM run over
#   veth            the bare link (the reference)
#   wireguard       the peer to compare with
#   tscf0 udp       clear tunnel over UDP, through tscfd
#   tscf0 tcp       clear tunnel over TCP
#   tscf0s ktls     encrypted twin (kTLS), brought up on demand by tscf-exec
# and prints a Markdown table with each as a ratio to veth; then the time
# from setsockopt(encrypted-only) to the first encrypted packet (tunnel up,
# and on demand) beside WireGuard's first ping with its handshake; then the
# kernel memory a marked socket costs beside the socket itself.
TSCF_TOP=${TSCF_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TSCF_TOP/selftests/lib.sh"
SECS=${BENCH_SECONDS:-5}
EXEC="$TSCF_TOP/tools/tscf-exec"
tscfd_topology bench DTTE
ip -n "$UE" link add tscf0 type tscf
ip netns exec "$SRV" iperf3 -s -D -I "$TMPD/iperf.pid"
at_exit "[ -f $TMPD/iperf.pid ] && kill \$(cat $TMPD/iperf.pid) 2>/dev/null"
sleep 1

run() {	# label client-prefix... : prints Mbit/s
	label=$1
	shift
	mbps=$("$@" iperf3 -c "$DST" -t "$SECS" -J 2>/dev/null |
		python3 -c 'import json,sys; print(round(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e6, 1))') ||
		mbps=0
	echo "$label $mbps" >> "$TMPD/results"
}

DST=10.10.0.2 run veth ip netns exec "$UE"

# WireGuard between the same namespaces.
wg genkey > "$TMPD/k1"; wg pubkey < "$TMPD/k1" > "$TMPD/p1"
wg genkey > "$TMPD/k2"; wg pubkey < "$TMPD/k2" > "$TMPD/p2"
wg_pair() {
	ip -n "$UE" link add wg0 type wireguard
	ip -n "$SRV" link add wg0 type wireguard
	ip netns exec "$UE" wg set wg0 private-key "$TMPD/k1" peer "$(cat "$TMPD/p2")" \
		allowed-ips 10.200.0.2/32 endpoint 10.10.0.2:51820
	ip netns exec "$SRV" wg set wg0 private-key "$TMPD/k2" listen-port 51820 \
		peer "$(cat "$TMPD/p1")" allowed-ips 10.200.0.1/32
	ip -n "$UE" addr add 10.200.0.1/24 dev wg0
	ip -n "$SRV" addr add 10.200.0.2/24 dev wg0
	ip -n "$UE" link set wg0 up
	ip -n "$SRV" link set wg0 up
}
wg_pair
DST=10.200.0.2 run wireguard ip netns exec "$UE"

# stats LABEL "x1 x2 ...": a table row, median min max runs (ms).
stats() {
	python3 -c 'import sys, statistics as st
v = [float(x) for x in sys.argv[2].split()]
print(f"| {sys.argv[1]} | {st.median(v):.3f} | {min(v):.3f} | {max(v):.3f} | {len(v)} |")' "$1" "$2" >> "$TMPD/latency"
}

# ping_ms NS DST: the round trip of one ping, in ms.
ping_ms() {
	ip netns exec "$1" ping -c 1 -W 10 "$2" | sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p'
}

# WireGuard's first packet waits for its handshake: a fresh pair each run.
wg_first=""
wg_up=""
for i in 1 2 3 4 5; do
	ip -n "$UE" link del wg0
	ip -n "$SRV" link del wg0
	wg_pair
	wg_first="$wg_first $(ping_ms "$UE" 10.200.0.2)"
	wg_up="$wg_up $(ping_ms "$UE" 10.200.0.2)"
done
stats "wireguard: first ping, handshake included" "$wg_first"
stats "wireguard: ping, session up" "$wg_up"

# latency_rows CASE FILE: the two rows of one dtte_latency.py run.
latency_rows() {
	for k in send echo; do
		stats "tscf: setsockopt(encrypted-only) to first $k, $1" \
			"$(python3 -c "import json,sys; print(*json.load(open(sys.argv[1]))['first_${k}_ms'])" "$2")"
	done
}

# Run inside the UE namespace: the python helpers talk to the service.
dtte_latency() {
	py="python3 $TSCF_TOP/selftests/bench/dtte_latency.py 10.100.0.1 7000"
	ip netns exec "$UE" "$CTL" set tscf0 linger 0
	clear_rtt=""
	for i in 1 2 3 4 5; do clear_rtt="$clear_rtt $(ping_ms "$UE" 10.100.0.1)"; done
	stats "tscf0 (clear tunnel): ping" "$clear_rtt"
	ip netns exec "$UE" $py 5 tscf0s > "$TMPD/lat-demand" ||
		fail "latency on demand: $(cat "$TMPD/lat-demand")"
	ip netns exec "$UE" python3 "$TSCF_TOP/selftests/lib/app.py" --proto udp \
		--dst 10.100.0.1 --port 7000 level:1 waitpath:encrypted sleep:600 > /dev/null &
	holder=$!
	wait_for 30 has_tunnel "$UE" tscf0s || fail "no encrypted tunnel for the holder"
	ip netns exec "$UE" $py 20 > "$TMPD/lat-up" || fail "latency, tunnel up"
	kill $holder
	latency_rows "tunnel up" "$TMPD/lat-up"
	latency_rows "on demand" "$TMPD/lat-demand"
	ip netns exec "$UE" "$CTL" set tscf0 linger 5000
}

for tr in udp tcp; do
	tscfctl_up $tr "$TMPD/ctl-$tr"
	DST=10.100.0.1 run "tscf0-$tr" ip netns exec "$UE"
	if [ $tr = udp ]; then
		# Wake DTTE with one marked socket, then measure through the twin.
		ip netns exec "$UE" python3 "$TSCF_TOP/selftests/lib/app.py" --proto udp \
			--dst 10.100.0.1 --port 7000 level:1 waitpath:encrypted sleep:1 > /dev/null &
		wait_for 30 grep -q 'encrypted tunnel up' "$TMPD/ctl-$tr" || fail "no DTTE: $(cat "$TMPD/ctl-$tr")"
		DST=10.100.0.1 run "tscf0s-ktls" ip netns exec "$UE" "$EXEC" --level encrypted-only --
		dtte_latency
	fi
	kill $CTL_PID; wait $CTL_PID 2>/dev/null
done

veth=$(awk '$1 == "veth" { print $2 }' "$TMPD/results")
echo "| path | Mbit/s | ratio to veth |"
echo "| --- | ---: | ---: |"
while read -r label mbps; do
	echo "| $label | $mbps | $(python3 -c "print(round($mbps / $veth, 3) if $veth else 0)") |"
done < "$TMPD/results"
echo
echo "iperf3 TCP, ${SECS} s each, one VM run: $(uname -r), qemu TCG, $(nproc) vCPUs."
echo
echo "| latency | median ms | min | max | runs |"
echo "| --- | ---: | ---: | ---: | ---: |"
cat "$TMPD/latency"
echo
echo "First send: the first send(2) the kernel accepts after the setsockopt (an"
echo "encrypted-only socket cannot send before its tunnel is up).  First echo: its"
echo "answer back.  On demand: no encrypted tunnel when the option is set, so the"
echo "time includes the DTTE request, TLS 1.2 handshake, kTLS and configuration."
echo
n=${BENCH_SOCKETS:-20000}
mem=$(ip netns exec "$UE" python3 "$TSCF_TOP/selftests/bench/sock_memory.py" "$n") ||
	fail "sock_memory"
echo "| kernel memory per socket | bytes |"
echo "| --- | ---: |"
echo "$mem" | python3 -c 'import json, sys
d = json.load(sys.stdin)
print("| UDP socket itself (the reference) |", d["socket_bytes"], "|")
print("| SO_TSCF_ENCLEVEL mark on it |", d["mark_bytes"], "|")'
echo
echo "Slab growth over $n sockets, opened then all marked."
