#!/bin/sh
# make bench: iperf3 TCP throughput in one VM run over
#   veth            the bare link (the reference)
#   wireguard       the peer to compare with
#   tscf0 udp       clear tunnel over UDP, through tscfd
#   tscf0 tcp       clear tunnel over TCP
#   tscf0s ktls     encrypted twin (kTLS), brought up on demand by tscf-exec
# and prints a Markdown table with each as a ratio to veth.
TSCF_TOP=${TSCF_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TSCF_TOP/selftests/lib.sh"
SECS=${BENCH_SECONDS:-5}
CTL="$TSCF_TOP/tools/tscfctl"
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
DST=10.200.0.2 run wireguard ip netns exec "$UE"

for tr in udp tcp; do
	ip netns exec "$UE" "$CTL" up tscf0 server 10.10.0.2 port 4000 transport $tr \
		ca "$TMPD/ca.pem" > "$TMPD/ctl-$tr" 2>&1 &
	ctl=$!
	wait_for 20 grep -q 'clear tunnel up' "$TMPD/ctl-$tr" || fail "tscfctl: $(cat "$TMPD/ctl-$tr")"
	DST=10.100.0.1 run "tscf0-$tr" ip netns exec "$UE"
	if [ $tr = udp ]; then
		# Wake DTTE with one marked socket, then measure through the twin.
		ip netns exec "$UE" python3 "$TSCF_TOP/selftests/lib/app.py" --proto udp \
			--dst 10.100.0.1 --port 7000 level:1 waitpath:encrypted sleep:1 > /dev/null &
		wait_for 30 grep -q 'encrypted tunnel up' "$TMPD/ctl-$tr" || fail "no DTTE: $(cat "$TMPD/ctl-$tr")"
		DST=10.100.0.1 run "tscf0s-ktls" ip netns exec "$UE" "$EXEC" --level encrypted-only --
	fi
	kill $ctl; wait $ctl 2>/dev/null
done

veth=$(awk '$1 == "veth" { print $2 }' "$TMPD/results")
echo "| path | Mbit/s | ratio to veth |"
echo "| --- | ---: | ---: |"
while read -r label mbps; do
	echo "| $label | $mbps | $(python3 -c "print(round($mbps / $veth, 3) if $veth else 0)") |"
done < "$TMPD/results"
echo
echo "iperf3 TCP, ${SECS} s each, one VM run: $(uname -r), qemu TCG, $(nproc) vCPUs."
