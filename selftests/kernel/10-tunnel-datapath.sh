#!/bin/sh
# Inner packets and control frames through a UDP, a TCP and a kTLS tunnel
# to a fake server; detach and peer close end the tunnel with an event.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
ue_srv_topology dp

run_transport() {
	transport=$1 dev=$2 dst=$3 port=$4
	log "== $transport on $dev"
	ip netns exec "$SRV" $TSCF_PEER server --transport "$transport" \
		--addr 10.10.0.2 --port "$port" > "$tmp/srv-$transport" 2>&1 &
	srv=$!
	at_exit "kill $srv 2>/dev/null"
	wait_for 5 grep -q listening "$tmp/srv-$transport" || fail "server did not start"

	ip netns exec "$UE" $TSCF_PEER client "$dev" --transport "$transport" \
		--addr 10.10.0.2 --port "$port" --tsid 0x77 --internal 10.100.0.2 ||
		fail "attach over $transport"
	has_tunnel "$UE" "$dev" || fail "$dev has no tunnel after attach"

	got=$(udp_echo "$UE" "$dst" 7000 "hello-$transport")
	expect_eq "echo over $transport" "$got" "echo:hello-$transport"
	[ "$(tunnel_stat "$UE" "$dev" tx_packets)" -ge 1 ] || fail "tx_packets"
	[ "$(tunnel_stat "$UE" "$dev" rx_packets)" -ge 1 ] || fail "rx_packets"
	grep -q "\"payload\": \".*hello-$transport" "$tmp/srv-$transport" || fail "server did not see the payload"

	# A keepalive request goes out as a control frame; the answer comes
	# back to userspace on the events group.
	start_listener "$UE" "$tmp/ev-$transport" 60 '"frame": "1006000000000000000000770000002a"'
	lis=$LISTENER
	ip netns exec "$UE" $TSCF_NL send-ctrl "$dev" 1005000000000000000000770000002a ||
		fail "send-ctrl"
	wait $lis
	grep '"cmd": "CTRL_RECV"' "$tmp/ev-$transport" |
		grep -q '"frame": "1006000000000000000000770000002a"' ||
		fail "no KEEPALIVE_RESP event: $(cat "$tmp/ev-$transport")"
	expect_eq "rx_ctrl" "$(tunnel_stat "$UE" "$dev" rx_ctrl)" 1
	expect_eq "tx_ctrl" "$(tunnel_stat "$UE" "$dev" tx_ctrl)" 1

	# Detach: the event says so, traffic is dropped again.
	start_listener "$UE" "$tmp/ev2-$transport" 60 '"event": 2, "reason": 1'
	lis=$LISTENER
	ip netns exec "$UE" $TSCF_NL detach "$dev" || fail "detach"
	wait $lis
	grep -q '"event": 2, "reason": 1' "$tmp/ev2-$transport" || fail "no down event: $(cat "$tmp/ev2-$transport")"
	has_tunnel "$UE" "$dev" && fail "tunnel still attached after detach"
	kill $srv; wait $srv 2>/dev/null || true
}

tmp=$(mktemp -d)
at_exit "rm -rf $tmp"
run_transport udp tscf0 10.100.0.1 4000
run_transport tcp tscf0 10.100.0.1 4001
run_transport ktls tscf0s 10.101.0.1 4002

# Role checks: the clear device refuses kTLS, the twin refuses plain TCP.
ip netns exec "$SRV" $TSCF_PEER server --transport tcp --addr 10.10.0.2 --port 4003 > "$tmp/s3" 2>&1 &
at_exit "kill $! 2>/dev/null"
wait_for 5 grep -q listening "$tmp/s3"
err=$(ip netns exec "$UE" $TSCF_PEER client tscf0s --transport tcp --addr 10.10.0.2 --port 4003 2>&1) &&
	fail "twin accepted a plain TCP socket"
echo "$err" | grep -q "encrypted twin takes only" || fail "twin refusal message: $err"

# The server going away ends a TCP tunnel with PEER_CLOSED.
ip netns exec "$SRV" $TSCF_PEER server --transport tcp --addr 10.10.0.2 --port 4004 > "$tmp/s4" 2>&1 &
srv=$!
wait_for 5 grep -q listening "$tmp/s4"
ip netns exec "$UE" $TSCF_PEER client tscf0 --transport tcp --addr 10.10.0.2 --port 4004 || fail "attach"
start_listener "$UE" "$tmp/ev-close" 60 '"event": 2, "reason": 2'
lis=$LISTENER
kill $srv
wait $lis
grep -q '"event": 2, "reason": 2' "$tmp/ev-close" || fail "no PEER_CLOSED event: $(cat "$tmp/ev-close")"
has_tunnel "$UE" tscf0 && fail "tunnel survived the server"
echo ok
