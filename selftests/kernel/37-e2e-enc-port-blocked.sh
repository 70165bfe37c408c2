#!/bin/sh
# Port N+1 blocked by a firewall (nftables drops the SYNs): the encrypted
# tunnel cannot come up.  An encrypted-preferred socket keeps talking
# through the clear tunnel; an encrypted-only one fails to send with
# ENETUNREACH.  Unblocked, both move to the encrypted tunnel.  Then the
# encrypted tunnel dies (the server aborts it) while the port is blocked
# again: preferred falls back to clear, only is blocked; unblocked, both
# recover.  The encrypted-only payload never shows on the wire.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
tscfd_topology n1block DTTE
ue_tscf0
tscfctl_up udp
capture_start "$SRV" veth-srv "$TMPD/wire.pcapng"
wire=$CAPTURE

block() {
	ip netns exec "$UE" nft 'add table inet tscftest; add chain inet tscftest out { type filter hook output priority 0; }; add rule inet tscftest out tcp dport 4001 drop' ||
		fail "nft"
}
unblock() {
	ip netns exec "$UE" nft delete table inet tscftest
}

# has FILE JSON-FRAGMENT: the app printed that line.
has() { grep -qF "$2" "$1"; }

block
ip netns exec "$UE" $APP --proto udp --dst 10.100.0.1 --port 7000 level:2 echo:PREF-A path \
	wait:"$TMPD/go1" waitpath:encrypted echo:PREF-B \
	wait:"$TMPD/go2" waitpath:clear echo:PREF-C \
	wait:"$TMPD/go3" waitpath:encrypted echo:PREF-D > "$TMPD/pref" 2>&1 &
at_exit "kill $! 2>/dev/null"
ip netns exec "$UE" $APP --proto udp --dst 10.100.0.1 --port 7000 level:1 send:ONLY-A path \
	wait:"$TMPD/go1" waitpath:encrypted echo:ONLY-B \
	wait:"$TMPD/go2" waitpath:blocked send:ONLY-C \
	wait:"$TMPD/go3" waitpath:encrypted echo:ONLY-D > "$TMPD/only" 2>&1 &
at_exit "kill $! 2>/dev/null"

log "port 4001 blocked"
wait_for 30 grep -q 'port 4001: cannot reach server 10.10.0.2 port 4001/tcp: no answer' "$TMPD/ctl.log" ||
	fail "no clear failure for the blocked port: $(cat "$TMPD/ctl.log")"
wait_for 10 has "$TMPD/pref" '"path": "clear"' || fail "preferred: $(cat "$TMPD/pref")"
has "$TMPD/pref" '{"recv": "echo:PREF-A", "ok": true}' || fail "preferred did not talk in the clear: $(cat "$TMPD/pref")"
wait_for 10 has "$TMPD/only" '"path": "blocked"' || fail "only: $(cat "$TMPD/only")"
has "$TMPD/only" '{"send": "ONLY-A", "errno": "ENETUNREACH"}' || fail "only was not refused: $(cat "$TMPD/only")"
has_tunnel "$UE" tscf0s && fail "an encrypted tunnel through a blocked port"

log "port 4001 open"
unblock
touch "$TMPD/go1"
wait_for 60 has "$TMPD/only" '{"recv": "echo:ONLY-B", "ok": true}' ||
	fail "only did not recover: $(cat "$TMPD/only" "$TMPD/ctl.log")"
wait_for 10 has "$TMPD/pref" '{"recv": "echo:PREF-B", "ok": true}' || fail "preferred did not move: $(cat "$TMPD/pref")"

log "encrypted tunnel aborted by the server, port 4001 blocked again"
block
ip netns exec "$SRV" ss -K -t state established '( sport = :4001 )' > /dev/null || fail "ss -K"
touch "$TMPD/go2"
wait_for 20 grep -q 'encrypted tunnel down' "$TMPD/ctl.log" || fail "tunnel loss not seen: $(cat "$TMPD/ctl.log")"
wait_for 20 has "$TMPD/pref" '{"recv": "echo:PREF-C", "ok": true}' || fail "preferred did not fall back: $(cat "$TMPD/pref")"
wait_for 20 has "$TMPD/only" '{"send": "ONLY-C", "errno": "ENETUNREACH"}' || fail "only not blocked after the loss: $(cat "$TMPD/only")"

log "port 4001 open again"
unblock
touch "$TMPD/go3"
wait_for 60 has "$TMPD/only" '{"recv": "echo:ONLY-D", "ok": true}' ||
	fail "only did not recover again: $(cat "$TMPD/only" "$TMPD/ctl.log")"
wait_for 10 has "$TMPD/pref" '{"recv": "echo:PREF-D", "ok": true}' || fail "preferred did not move back: $(cat "$TMPD/pref")"
expect_eq "encrypted tunnels brought up" "$(grep -c 'encrypted tunnel up' "$TMPD/ctl.log")" 2

capture_stop $wire
clear_pref=$(capture_count "$TMPD/wire.pcapng" 'frame contains "PREF-A" || frame contains "PREF-C"')
clear_only=$(capture_count "$TMPD/wire.pcapng" 'frame contains "ONLY-"')
log "UE-server link: $clear_pref clear frames of the preferred socket while blocked, $clear_only of the encrypted-only one"
[ "$clear_pref" -ge 4 ] || fail "the preferred fallback is not on the wire"
expect_eq "encrypted-only payload on the wire" "$clear_only" 0
ip netns exec "$UE" "$CTL" down tscf0
wait $CTL_PID || fail "helper exit $?: $(tail -5 "$CTL_LOG")"
echo ok
