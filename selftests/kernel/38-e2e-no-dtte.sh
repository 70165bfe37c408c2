#!/bin/sh
# A server without DTTE in assigned-services answers the DTTE service
# request with "service unavailable": tscfctl says so, no encrypted tunnel
# appears, an encrypted-preferred socket talks through the clear tunnel
# and an encrypted-only one fails to send with ENETUNREACH; an inbound
# packet for the encrypted-only socket is not delivered either (the socket
# stays open 15 s: two python start-ups in a loaded TCG guest take seconds).
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
tscfd_topology nodtte ""
ue_tscf0
tscfctl_up tcp
capture_start "$SRV" veth-srv "$TMPD/wire.pcapng"
wire=$CAPTURE

ip netns exec "$UE" $APP --proto udp --dst 10.100.0.1 --port 7000 --lport 7101 level:1 \
	wait:"$TMPD/refused" send:ONLY-1 path sleep:15 > "$TMPD/only" 2>&1 &
only=$!
wait_for 20 grep -q 'server answered SERVICE_UNAVAILABLE: DTTE is not enabled' "$TMPD/ctl.log" ||
	fail "no refusal: $(cat "$TMPD/ctl.log")"
touch "$TMPD/refused"
ip netns exec "$UE" $APP --proto udp --dst 10.100.0.1 --port 7000 level:2 echo:PREF-1 path \
	> "$TMPD/pref" 2>&1 || fail "preferred app"
# The service sends to the encrypted-only socket's port through the only
# tunnel there is; it must not be delivered.
me=$(ip -n "$UE" -4 -o addr show dev tscf0 | awk '{ split($4, a, "/"); print a[1] }')
ip netns exec "$SRV" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.100.0.1", 0))
s.sendto(b"ONLY-INBOUND", (sys.argv[1], 7101))' "$me"
wait $only || fail "only app"
capture_stop $wire

grep -qF '{"send": "ONLY-1", "errno": "ENETUNREACH"}' "$TMPD/only" || fail "only: $(cat "$TMPD/only")"
grep -qF '"path": "blocked"' "$TMPD/only" || fail "only path: $(cat "$TMPD/only")"
grep -qF '{"recv": "echo:PREF-1", "ok": true}' "$TMPD/pref" || fail "preferred: $(cat "$TMPD/pref")"
grep -qF '"path": "clear"' "$TMPD/pref" || fail "preferred path: $(cat "$TMPD/pref")"
has_tunnel "$UE" tscf0s && fail "an encrypted tunnel from a server without DTTE"
expect_eq "inbound clear packets for the encrypted-only socket dropped" \
	"$(tunnel_stat "$UE" tscf0 rx_blocked)" 1
refused=$(tscfd_stat dtte_refused)
log "server: $refused DTTE requests answered service unavailable"
[ "${refused:-0}" -ge 1 ] || fail "the server did not count the refusal: $(ip netns exec "$SRV" "$TSCFD" --stats -s "$TMPD/tscfd.sock")"
expect_eq "encrypted-only payload on the wire" "$(capture_count "$TMPD/wire.pcapng" 'frame contains "ONLY-1"')" 0
ip netns exec "$UE" "$CTL" down tscf0
wait $CTL_PID || fail "helper exit $?: $(tail -5 "$CTL_LOG")"
echo ok
