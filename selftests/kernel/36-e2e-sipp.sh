#!/bin/sh
# A real SIP call: sipp in the UE calls sipp in the service network (which
# echoes the RTP), both stock binaries.  tscf-exec marks only the UE's
# media socket: signalling stays in the clear tunnel, RTP goes encrypted.
# First call encrypted-only: the encrypted tunnel comes up on demand, and
# no RTP byte crosses the clear tunnel either way, inside or on the wire.
# Second call encrypted-preferred, after the tunnel was released: every RTP
# packet sent comes back, whichever tunnel carried it.
# The callee rings for 4 s before it answers, as a phone does: sipp stops
# an RTP stream for good at its first send error, so the encrypted tunnel
# that the media socket asked for when it was bound must be up by then.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
command -v sipp > /dev/null || fail "sipp not installed (tools/install-deps.sh)"
EXEC="$TSCF_TOP/tools/tscf-exec"
SCENARIO="$TSCF_TOP/selftests/lib/sipp/uac-rtp.xml"
tscfd_topology sip DTTE
ue_tscf0
tscfctl_up udp
ip netns exec "$UE" "$CTL" set tscf0 linger 500 || fail "set linger"
ip netns exec "$UE" "$CTL" show tscf0 | grep -q 'linger: 500 ms' || fail "linger not shown"
me=$(ip -n "$UE" -4 -o addr show dev tscf0 | awk '{ split($4, a, "/"); print a[1] }')
ip -n "$UE" link set tscf0s up

(cd "$TMPD" && exec ip netns exec "$SRV" sipp -sf "$TSCF_TOP/selftests/lib/sipp/uas-ring.xml" \
	-i 10.100.0.1 -p 5060 -mp 6000 -rtp_echo -nostdin > "$TMPD/uas.out" 2>&1) &
at_exit "kill $! 2>/dev/null"

capture_start "$SRV" veth-srv "$TMPD/wire.pcapng"
wire=$CAPTURE
# The service side of the server: tscfd's TUN, and with tscfd's kernel
# data path also its server device, which carries the TLS tunnel's
# packets itself (an encrypted peer).
srvdevs=tscfs0
ip -n "$SRV" link show tscfsrv0 > /dev/null 2>&1 && srvdevs=tscfs0,tscfsrv0
capture_start "$SRV" "$srvdevs" "$TMPD/srv.pcapng"
srv=$CAPTURE
capture_start "$UE" tscf0 "$TMPD/clear.pcapng"
clear=$CAPTURE
capture_start "$UE" tscf0s "$TMPD/enc.pcapng"
enc=$CAPTURE

# call LEVEL CANARY: one call whose RTP payload repeats CANARY.
call() {
	python3 -c "import sys; open(sys.argv[1], 'wb').write((sys.argv[2].encode() * 20)[:160] * 50)" \
		"$TMPD/rtp.pcma" "$2"
	(cd "$TMPD" && ip netns exec "$UE" "$EXEC" --level "$1" --ports 16000 -- \
		sipp 10.100.0.1:5060 -sf "$SCENARIO" -i "$me" -p 5070 -mp 16000 -m 1 \
		-nostdin -timeout 40 -timeout_error > "$TMPD/uac-$1.out" 2>&1) ||
		fail "$1 call failed: $(tail -20 "$TMPD/uac-$1.out"; cat "$TMPD/ctl.log")"
	grep -q 'Successful call.* 1 *$' "$TMPD/uac-$1.out" || fail "$1: no successful call"
}

call encrypted-only CANARY-ONLY-
grep -q 'encrypted tunnel up' "$TMPD/ctl.log" || fail "no encrypted tunnel on demand"
wait_for 10 grep -q 'encrypted tunnel released' "$TMPD/ctl.log" ||
	fail "encrypted tunnel not released after the call: $(cat "$TMPD/ctl.log")"
call encrypted-preferred CANARY-PREF-
[ "$(grep -c 'encrypted tunnel up' "$TMPD/ctl.log")" = 2 ] ||
	fail "the preferred call did not bring the encrypted tunnel back: $(cat "$TMPD/ctl.log")"
wait_for 10 sh -c "[ \$(grep -c 'encrypted tunnel released' $TMPD/ctl.log) = 2 ]" ||
	fail "encrypted tunnel not released after the second call"
capture_stop $wire
capture_stop $srv
capture_stop $clear
capture_stop $enc

# What is readable on the UE-server link is the clear tunnel's traffic,
# signalling included; RTP must not be there.
sip=$(capture_count "$TMPD/wire.pcapng" 'frame contains "INVITE sip:"')
wire_rtp=$(capture_count "$TMPD/wire.pcapng" 'frame contains "CANARY"')
log "UE-server link: $sip clear frames with an INVITE, $wire_rtp with RTP payload"
[ "$sip" -ge 2 ] || fail "the signalling is not in the clear tunnel"
expect_eq "RTP payload on the wire" "$wire_rtp" 0

# rtp FILE CANARY: RTP packets carrying CANARY, to the callee (out) or
# back from it (back).  tscf0's capture shows what was routed to it,
# whichever tunnel carried it; what arrives on tscf0s came through TLS.
rtp() {
	capture_count "$1" "udp.${3}port == 6000 && frame contains \"$2\""
}
only_sent=$(rtp "$TMPD/srv.pcapng" CANARY-ONLY dst)
only_back=$(rtp "$TMPD/enc.pcapng" CANARY-ONLY src)
only_back_clear=$(rtp "$TMPD/clear.pcapng" CANARY-ONLY src)
pref_sent=$(rtp "$TMPD/srv.pcapng" CANARY-PREF dst)
pref_back=$(rtp "$TMPD/enc.pcapng" CANARY-PREF src)
pref_back_clear=$(rtp "$TMPD/clear.pcapng" CANARY-PREF src)
log "encrypted-only call: $only_sent RTP packets reached the callee, $only_back came back through tscf0s, $only_back_clear through tscf0"
log "encrypted-preferred call: $pref_sent RTP packets reached the callee, $pref_back came back through tscf0s, $pref_back_clear through tscf0"
[ "$only_sent" -ge 150 ] || fail "encrypted-only RTP: only $only_sent packets reached the callee"
expect_eq "encrypted-only RTP echoed through tscf0s" "$only_back" "$only_sent"
expect_eq "encrypted-only RTP back through tscf0" "$only_back_clear" 0
[ "$pref_sent" -ge 150 ] || fail "encrypted-preferred RTP: only $pref_sent packets reached the callee"
expect_eq "encrypted-preferred RTP echoed" "$((pref_back + pref_back_clear))" "$pref_sent"
[ "$pref_back" -ge 100 ] || fail "encrypted-preferred RTP did not move to tscf0s"

ip netns exec "$UE" "$CTL" down tscf0
wait $CTL_PID || fail "helper exit $?: $(tail -5 "$CTL_LOG")"
echo ok
