#!/bin/sh
# A clear TCP tunnel's receive softirq cuts at most a budget of frames per
# read and leaves the rest to its work item: a server (or an on-path
# attacker filling a hole in TCP's out-of-order queue, which TCP hands on
# as one large skb) must not make one softirq cut a whole receive buffer
# of tiny frames.  The tunnel socket's SO_RCVLOWAT (100,000 bytes) makes
# TCP call sk_data_ready only once that much is queued, so each softirq
# read finds far more than its budget.  The server answers the client's
# first frame, then writes 20,000 16-byte control frames at once and
# nothing after them: frames a stopped read left behind would stay
# unread unless the work item takes them.  Every one must arrive, each
# counted once.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
ue_srv_topology burst
tmp=$(mktemp -d)
at_exit "rm -rf $tmp"
frames=20000

ip netns exec "$SRV" $TSCF_PEER server --transport tcp --addr 10.10.0.2 --port 4401 \
	--tsid 0x77 --burst $frames > "$tmp/srv" 2>&1 &
at_exit "kill $! 2>/dev/null"
wait_for 5 grep -q listening "$tmp/srv" || fail "server did not start"
ip netns exec "$UE" $TSCF_PEER client tscf0 --transport tcp --addr 10.10.0.2 --port 4401 \
	--tsid 0x77 --internal 10.100.0.2 --rcvlowat 100000 || fail "attach tcp"

got=$(udp_echo "$UE" 10.100.0.1 7000 burst)
expect_eq "echo before the burst" "$got" "echo:burst"
wait_for 5 grep -q '"burst"' "$tmp/srv" || fail "the server did not send its burst"
wait_for 20 sh -c "[ \$(ip netns exec $UE $TSCF_NL dev tscf0 | grep -o '\"rx_ctrl\": [0-9]*' | cut -d' ' -f2) -ge $frames ]" ||
	fail "rx_ctrl: $(tunnel_stat "$UE" tscf0 rx_ctrl) of $frames frames after the burst"
expect_eq "frames counted once" "$(tunnel_stat "$UE" tscf0 rx_ctrl)" "$frames"
expect_eq "malformed" "$(tunnel_stat "$UE" tscf0 rx_malformed)" 0
has_tunnel "$UE" tscf0 || fail "the tunnel went down"
echo ok
