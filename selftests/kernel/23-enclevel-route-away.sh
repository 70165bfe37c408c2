#!/bin/sh
# An encrypted-only socket whose route stops leading to a tscf device is
# refused (ENETUNREACH) and counted, never sent in the clear: a more
# specific route appearing mid-call, then tscf0 deleted under an
# unconnected socket with a default route.  The outer link is captured:
# no canary may cross it.  Also: setting a level that is already set
# sends no event (a setsockopt loop cannot flood the helper).
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
ue_srv_topology away
tmp=$(mktemp -d)
at_exit "rm -rf $tmp"

ip netns exec "$SRV" $TSCF_PEER server --transport udp --addr 10.10.0.2 --port 4300 \
	> "$tmp/clear" 2>&1 &
at_exit "kill $! 2>/dev/null"
ip netns exec "$SRV" $TSCF_PEER server --transport ktls --addr 10.10.0.2 --port 4301 \
	> "$tmp/enc" 2>&1 &
at_exit "kill $! 2>/dev/null"
wait_for 5 grep -q listening "$tmp/clear" || fail "clear server"
wait_for 5 grep -q listening "$tmp/enc" || fail "encrypted server"
ip netns exec "$UE" $TSCF_PEER client tscf0 --transport udp --addr 10.10.0.2 --port 4300 \
	--tsid 0x10 || fail "attach clear"
ip netns exec "$UE" $TSCF_PEER client tscf0s --transport ktls --addr 10.10.0.2 --port 4301 \
	--tsid 0x20 || fail "attach encrypted"
capture_start "$SRV" veth-srv "$tmp/wire.pcap"

# 0. Fifty setsockopt calls that change nothing send no event: one for
# the first mark, one for the change to 2, one when the socket goes.
start_listener "$UE" "$tmp/events" 4
ino=$(ip netns exec "$UE" python3 -c '
import os, socket, struct, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(50):
    s.setsockopt(0, 0x5453, struct.pack("=i", 1))
s.setsockopt(0, 0x5453, struct.pack("=i", 2))
print(os.fstat(s.fileno()).st_ino)
time.sleep(0.5)')
wait $LISTENER
n=$(grep '"cmd": "SOCK_EVENT"' "$tmp/events" | grep -c "\"inode\": $ino," || true)
log "SOCK events for socket $ino: $n"
[ "$n" -le 3 ] || check "setsockopt without a change sent events ($n)"

# 1. A connected encrypted-only socket: echo through the twin, then a
# more specific route sends 10.100.0.1 over the veth; then the route goes.
ip netns exec "$UE" $APP --proto udp --dst 10.100.0.1 --port 7000 --lport 6001 \
	level:1 echo:canary-1 \
	wait:"$tmp/route-away" send:canary-2 send:canary-3 \
	wait:"$tmp/route-back" echo:canary-4 > "$tmp/only" 2>&1 &
only=$!
wait_for 15 grep -q 'canary-1' "$tmp/only" || fail "only app did not start: $(cat "$tmp/only")"
ip -n "$UE" route add 10.100.0.1/32 via 10.10.0.2 dev veth-ue
touch "$tmp/route-away"
wait_for 10 grep -q 'canary-3' "$tmp/only" || fail "only app stuck"
ip -n "$UE" route del 10.100.0.1/32 via 10.10.0.2 dev veth-ue
touch "$tmp/route-back"
wait $only || fail "only app"
log "only: $(cat "$tmp/only")"
grep -q '"recv": "echo:canary-1", "ok": true' "$tmp/only" || fail "no echo through the twin"
grep '"send": "canary-2"' "$tmp/only" | grep -q ENETUNREACH || check "canary-2 not refused"
grep '"send": "canary-3"' "$tmp/only" | grep -q ENETUNREACH || check "canary-3 not refused"
grep -q '"recv": "echo:canary-4", "ok": true' "$tmp/only" || fail "no echo once the route is back"
refused=$(ip netns exec "$UE" $TSCF_NL dev tscf0 |
	python3 -c "import json,sys; print(json.load(sys.stdin).get('tx_refused', -1))")
log "tx_refused: $refused"
[ "$refused" -ge 2 ] || check "refused sends not counted ($refused)"

# 2. tscf0 deleted, default route over the veth: an unconnected
# encrypted-only socket keeps sending with sendto.
ip netns exec "$UE" python3 - > "$tmp/del" 2>&1 <<PY &
import errno, os, socket, struct, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(0, 0x5453, struct.pack('=i', 1))
while not os.path.exists("$tmp/deleted"):
    time.sleep(0.05)
for i in range(5):
    try:
        s.sendto(b"canary-del-%d" % i, ("10.100.0.1", 7000))
        print("sent", i, flush=True)
    except OSError as e:
        print("refused", i, errno.errorcode[e.errno], flush=True)
PY
del=$!
sleep 0.5
ip -n "$UE" link del tscf0
ip -n "$UE" route add default via 10.10.0.2 dev veth-ue
touch "$tmp/deleted"
wait $del || fail "sender after delete: $(cat "$tmp/del")"
log "after delete: $(cat "$tmp/del" | tr '\n' ' ')"
[ "$(grep -c 'refused .* ENETUNREACH' "$tmp/del")" = 5 ] || check "sends over the default route not refused"

sleep 1
capture_stop "$CAPTURE"
n=$(capture_count "$tmp/wire.pcap" 'frame contains "canary"')
log "canary frames on the wire (clear or routed): $n"
tshark -r "$tmp/wire.pcap" -Y 'frame contains "canary"' 2>/dev/null | head -5
# The echoes of canary-1 and canary-4 travel inside the kTLS tunnel:
# nothing readable may appear.
[ "$n" -eq 0 ] || check "$n canary frames crossed the outer link in clear"

checks_done
echo ok
