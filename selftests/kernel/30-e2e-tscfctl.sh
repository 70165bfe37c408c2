#!/bin/sh
# End to end: tscfctl brings tscf0 up to tscfd (UDP, then TCP), ping and
# iperf3 go through; "tscfctl up tscf0 encrypted" brings the kTLS twin up and
# ping and iperf3 go through it too; an encrypted-only socket makes tscfctl bring tscf0s up on demand
# over kTLS and its traffic moves there; a capture on the UE-server link
# shows clear payload but never the encrypted-only canary; the encrypted
# tunnel is released after the socket closes; tscfctl down releases all.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
tscfd_topology e2e DTTE
ue_tscf0

ip netns exec "$SRV" iperf3 -s -D -I "$TMPD/iperf.pid"
at_exit "[ -f $TMPD/iperf.pid ] && kill \$(cat $TMPD/iperf.pid) 2>/dev/null"
capture_start "$SRV" veth-srv "$TMPD/cap.pcapng"
cap=$CAPTURE

for tr in udp tcp; do
	tscfctl_up $tr "$TMPD/ctl-$tr.log"
	ip netns exec "$UE" ping -c 3 -i 0.2 -W 2 10.100.0.1 > "$TMPD/ping" || fail "$tr: ping: $(cat "$TMPD/ping")"
	log "$tr: $(tail -n 2 "$TMPD/ping" | head -n 1)"
	ip netns exec "$UE" "$CTL" show tscf0 | grep -q "tunnel: up, TSID [0-9a-f]*, $tr" || fail "$tr: show"
	ip netns exec "$UE" "$CTL" show -j | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["devices"][0]["tunnel"]["state"] == "up"' ||
		fail "$tr: show -j"
	ip netns exec "$UE" iperf3 -c 10.100.0.1 -t 2 -J > "$TMPD/iperf-$tr" 2>&1 || fail "$tr: iperf3: $(tail -5 "$TMPD/iperf-$tr")"
	log "$tr: iperf3 through tscf0: $(python3 -c "import json; print(round(json.load(open('$TMPD/iperf-$tr'))['end']['sum_received']['bits_per_second'] / 1e6, 1))") Mbit/s"
	got=$(udp_echo "$UE" 10.100.0.1 7000 "PLAINTEXT-MARK-$tr")
	expect_eq "$tr: plain echo" "$got" "echo:PLAINTEXT-MARK-$tr"
	if [ $tr = udp ]; then
		ifindex=$(ip netns exec "$UE" cat /sys/class/net/tscf0/ifindex)
		ip netns exec "$UE" $TSCF_NL raw 2 1:u32:$ifindex 13:u32:1500 || fail "linger"
		ip netns exec "$UE" $APP --proto udp --dst 10.100.0.1 --port 7000 \
			level:1 send:CANARY-early waitpath:encrypted echo:CANARY-1 echo:CANARY-2 > "$TMPD/app" 2>&1 ||
			fail "app: $(cat "$TMPD/app")"
		log "app: $(cat "$TMPD/app" | tr '\n' ' ')"
		grep -q '"send": "CANARY-early", "errno": "ENETUNREACH"' "$TMPD/app" || fail "early send not refused"
		grep -q "\"recv\": \"echo:CANARY-2\", \"ok\": true" "$TMPD/app" || fail "no echo through the encrypted tunnel: $(cat "$TMPD/ctl-$tr.log"; ip netns exec $SRV $TSCFD --stats -s $TMPD/tscfd.sock; tail -5 $TMPD/tscfd.log; ip netns exec $UE $TSCF_NL dev tscf0s)"
		grep -q 'encrypted tunnel up (DTTE)' "$TMPD/ctl-$tr.log" || fail "no DTTE bring-up"
		wait_for 15 grep -q 'encrypted tunnel released' "$TMPD/ctl-$tr.log" ||
			fail "encrypted tunnel not released: $(cat "$TMPD/ctl-$tr.log")"
	fi
	if [ $tr = tcp ]; then
		# The explicit way: tscfctl up DEV encrypted, then ping and iperf3
		# through tscf0s.
		ip netns exec "$UE" "$CTL" up tscf0 encrypted server 10.10.0.2 ca "$TMPD/ca.pem" > "$TMPD/enc.log" 2>&1 &
		enc=$!
		wait_for 20 grep -q 'encrypted tunnel up' "$TMPD/enc.log" || fail "up encrypted: $(cat "$TMPD/enc.log")"
		ip netns exec "$UE" "$CTL" show tscf0s | grep -q 'tunnel: up, TSID [0-9a-f]*, tls' || fail "show tscf0s"
		ip -n "$UE" route add 10.100.0.1/32 dev tscf0s
		# tscf0s has no address of its own: use the session's.
		me=$(ip -n "$UE" -4 -o addr show dev tscf0 | awk '{ split($4, a, "/"); print a[1] }')
		ip netns exec "$UE" ping -I "$me" -c 3 -i 0.2 -W 2 10.100.0.1 > "$TMPD/ping" ||
			fail "ping through tscf0s: $(cat "$TMPD/ping")"
		ip netns exec "$UE" iperf3 -B "$me" -c 10.100.0.1 -t 2 -J > "$TMPD/iperf-ktls" 2>&1 ||
			fail "iperf3 through tscf0s"
		log "kTLS: iperf3 through tscf0s: $(python3 -c "import json; print(round(json.load(open('$TMPD/iperf-ktls'))['end']['sum_received']['bits_per_second'] / 1e6, 1))") Mbit/s"
		[ "$(tunnel_stat "$UE" tscf0s tx_packets)" -gt 100 ] || fail "iperf3 did not go through tscf0s"
		# A full socket stops the device queue: nothing is dropped.
		expect_eq "tscf0s drops under iperf3" "$(tunnel_stat "$UE" tscf0s tx_dropped)" 0
		ip -n "$UE" route del 10.100.0.1/32 dev tscf0s
		kill $enc
		wait $enc || fail "encrypted helper exit: $(cat "$TMPD/enc.log")"
		has_tunnel "$UE" tscf0s && fail "twin still attached after its helper stopped"
	fi
	ip netns exec "$UE" "$CTL" down tscf0 || fail "down"
	wait $CTL_PID || fail "$tr: helper exit: $(cat "$TMPD/ctl-$tr.log")"
	grep -q 'released and detached' "$TMPD/ctl-$tr.log" || fail "$tr: no release"
done
wait_for 10 tscfd_stat_is tunnels 0 ||
	fail "tunnels left on the server"

capture_stop $cap
plain=$(capture_count "$TMPD/cap.pcapng" 'frame contains "PLAINTEXT-MARK"')
canary=$(capture_count "$TMPD/cap.pcapng" 'frame contains "CANARY"')
tls=$(capture_count "$TMPD/cap.pcapng" 'tcp.port == 4001 && tls.record.content_type == 23')
log "capture: $plain clear frames with the plain mark, $canary with the canary, $tls TLS records on 4001"
[ "$plain" -ge 2 ] || fail "the capture does not show clear traffic"
expect_eq "canary frames on the wire" "$canary" 0
[ "$tls" -ge 2 ] || fail "no TLS application data on port 4001"
echo ok
