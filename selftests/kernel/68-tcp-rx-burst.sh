#!/bin/sh
# A stream tunnel reads every frame its server writes, however they come.
#
# The budget: a clear TCP tunnel's receive softirq cuts at most a budget
# of frames per read and leaves the rest to its work item, so that a
# server (or an on-path attacker filling a hole in TCP's out-of-order
# queue, which TCP hands on as one large skb) cannot make one softirq cut
# a whole receive buffer of tiny frames.  With the veth's MTU at 65,000
# bytes, TCP carries a burst of 20,000 16-byte frames in a few segments
# of up to 64 KB (as GRO would merge them), each holding far more frames
# than the budget: frames a stopped read left behind would stay unread
# unless the work item takes them.
#
# SO_RCVLOWAT: the helper set it to 100,000 bytes on the tunnel socket
# before handing it over.  TCP signals sk_data_ready only once that many
# bytes are queued, so the module must set it to 1 while attached: the
# server writes 100 more frames (1,600 bytes) a second after a burst, and
# nothing after them, on clear TCP and on kTLS.
#
# Each time, every frame must be counted once, none malformed.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
ue_srv_topology burst
tmp=$(mktemp -d)
at_exit "rm -rf $tmp"

# rx_ctrl_at_least DEV N: DEV's tunnel has counted N control frames or more.
rx_ctrl_at_least() { [ "$(tunnel_stat "$UE" "$1" rx_ctrl)" -ge "$2" ]; }

# burst_run DEV TRANSPORT PORT DST BURST TAIL: attach DEV over TRANSPORT
# (SO_RCVLOWAT 100,000); the server answers the first frame, writes BURST
# KEEPALIVE_RESPs at once and TAIL more a second later; then detach.
burst_run() {
	dev=$1 transport=$2 port=$3 dst=$4 nburst=$5 ntail=$6
	nframes=$((nburst + ntail))
	log "== $transport on $dev: $nburst frames, then $ntail"
	ip netns exec "$SRV" $TSCF_PEER server --transport "$transport" --addr 10.10.0.2 \
		--port "$port" --tsid 0x77 --burst "$nburst" --burst-tail "$ntail" > "$tmp/srv-$port" 2>&1 &
	server=$!
	at_exit "kill $server 2>/dev/null"
	wait_for 5 grep -q listening "$tmp/srv-$port" || fail "server did not start"
	ip netns exec "$UE" $TSCF_PEER client "$dev" --transport "$transport" --addr 10.10.0.2 \
		--port "$port" --tsid 0x77 --internal 10.100.0.2 --rcvlowat 100000 ||
		fail "attach $transport"

	got=$(udp_echo "$UE" "$dst" 7000 "burst-$port")
	expect_eq "$transport: echo before the burst" "$got" "echo:burst-$port"
	wait_for 10 grep -q '"tail"' "$tmp/srv-$port" ||
		fail "$transport: the server did not send its burst and tail"
	wait_for 60 rx_ctrl_at_least "$dev" "$nframes" ||
		fail "$transport: rx_ctrl: $(tunnel_stat "$UE" "$dev" rx_ctrl) of $nframes frames"
	expect_eq "$transport: frames counted once" "$(tunnel_stat "$UE" "$dev" rx_ctrl)" "$nframes"
	expect_eq "$transport: malformed" "$(tunnel_stat "$UE" "$dev" rx_malformed)" 0
	has_tunnel "$UE" "$dev" || fail "$transport: the tunnel went down"
	ip netns exec "$UE" $TSCF_NL detach "$dev" || fail "detach $dev"
	kill $server; wait $server 2>/dev/null || true
}

burst_run tscf0 tcp 4401 10.100.0.1 20000 100
burst_run tscf0s ktls 4402 10.101.0.1 20000 100
ip -n "$UE" link set veth-ue mtu 65000 && ip -n "$SRV" link set veth-srv mtu 65000 ||
	fail "veth MTU"
burst_run tscf0 tcp 4403 10.100.0.1 20000 0
echo ok
