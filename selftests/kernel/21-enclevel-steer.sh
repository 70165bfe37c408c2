#!/bin/sh
# Live moves: one encrypted-only and one encrypted-preferred UDP socket, each
# the same fd throughout, while the encrypted twin comes and goes.  A canary
# sent on the encrypted-only socket never reaches the clear tunnel's server,
# and a clear packet for it is dropped on arrival.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
ue_srv_topology steer
tmp=$(mktemp -d)
at_exit "rm -rf $tmp"
APP="python3 $TSCF_TOP/selftests/lib/app.py"

# A clear packet to the encrypted-only socket (port 6001), injected by the
# clear server when it hears from the UE.
rx_canary=$(python3 -c "
import sys; sys.path.insert(0, '$TSCF_TOP/selftests/lib')
import tunnel_peer
print(tunnel_peer.udp4_packet('10.100.0.1', '10.100.0.2', 7000, 6001, b'canary-rx').hex())")

ip netns exec "$SRV" $TSCF_PEER server --transport udp --addr 10.10.0.2 --port 4300 \
	--inject "$rx_canary" > "$tmp/clear" 2>&1 &
at_exit "kill $! 2>/dev/null"
ip netns exec "$SRV" $TSCF_PEER server --transport ktls --addr 10.10.0.2 --port 4301 \
	> "$tmp/enc" 2>&1 &
at_exit "kill $! 2>/dev/null"
wait_for 5 grep -q listening "$tmp/clear" || fail "clear server"
wait_for 5 grep -q listening "$tmp/enc" || fail "encrypted server"
ip netns exec "$UE" $TSCF_PEER client tscf0 --transport udp --addr 10.10.0.2 --port 4300 \
	--tsid 0x10 || fail "attach clear"
ifindex=$(ip netns exec "$UE" cat /sys/class/net/tscf0/ifindex)
ip netns exec "$UE" $TSCF_NL raw 2 1:u32:$ifindex 13:u32:1000 || fail "DEV_SET linger"
start_listener "$UE" "$tmp/events" 40

ip netns exec "$UE" $APP --proto udp --dst 10.100.0.1 --port 7000 --lport 6001 \
	level:1 path send:canary-1 recv \
	wait:"$tmp/twin-up" path echo:canary-2 \
	wait:"$tmp/twin-down" path send:canary-3 > "$tmp/only" 2>&1 &
only=$!
wait_for 10 grep -q '"path"' "$tmp/only" || fail "encrypted-only app did not start"
ip netns exec "$UE" $APP --proto udp --dst 10.100.0.1 --port 7000 --lport 6002 \
	level:2 path echo:pref-1 \
	wait:"$tmp/twin-up" path echo:pref-2 level:0 echo:pref-3 echo:pref-3b level:2 \
	wait:"$tmp/twin-down" path echo:pref-4 > "$tmp/pref" 2>&1 &
pref=$!
wait_for 15 grep -q 'pref-1' "$tmp/pref" || fail "preferred app did not send"

ip netns exec "$UE" $TSCF_PEER client tscf0s --transport ktls --addr 10.10.0.2 --port 4301 \
	--tsid 0x20 || fail "attach encrypted"
touch "$tmp/twin-up"
wait_for 20 grep -q 'pref-3b' "$tmp/pref" || fail "preferred app stuck"
wait_for 20 grep -q 'canary-2' "$tmp/only" || fail "only app stuck"
sleep 1
ip netns exec "$UE" $TSCF_NL detach tscf0s || fail "detach encrypted"
touch "$tmp/twin-down"
wait $only || fail "only app"
wait $pref || fail "pref app"
log "only: $(cat "$tmp/only")"
log "pref: $(cat "$tmp/pref")"

# Encrypted-only: blocked with ENETUNREACH, moved, blocked again.
sed -n 2p "$tmp/only" | grep -q '"path": "blocked"' || fail "only: not blocked before the twin"
sed -n 3p "$tmp/only" | grep -q '"errno": "ENETUNREACH"' || fail "only: send did not fail"
sed -n 4p "$tmp/only" | grep -q '"recv": null' || fail "only: received the clear canary"
grep -q '"path": "encrypted", "level": 1' "$tmp/only" || fail "only: never encrypted"
grep -q '"recv": "echo:canary-2", "ok": true' "$tmp/only" || fail "only: no echo through the twin"
tail -n 1 "$tmp/only" | grep -q '"errno": "ENETUNREACH"' || fail "only: send after twin down did not fail"

# Encrypted-preferred: clear, encrypted, clear again when set unencrypted,
# back to clear when the twin goes.
for m in pref-1 pref-2 pref-3 pref-3b pref-4; do
	grep -q "\"recv\": \"echo:$m\", \"ok\": true" "$tmp/pref" || fail "pref: no echo for $m"
done
grep -q 'payload.*pref-1' "$tmp/clear" || fail "pref-1 not on the clear tunnel"
grep -q 'payload.*pref-2' "$tmp/enc" || fail "pref-2 not on the encrypted tunnel"
# Lowered to unencrypted: the unbinding goes over the encrypted tunnel
# (the server lets only it lower what it bound) with the packet that
# caused it behind it; once the server has answered it (the peer does at
# once), the next packet takes the clear tunnel.
grep -q '"payload": "pref-3"' "$tmp/enc" || fail "pref-3 not behind its unbinding on the encrypted tunnel"
awk '/"type": 9/ && /"level": 0/ { bind = NR } /"payload": "pref-3"/ { exit !(bind && bind < NR) }' "$tmp/enc" ||
	fail "no level-0 FLOW_BIND on the encrypted tunnel before pref-3"
grep -q '"payload": "pref-3b"' "$tmp/clear" || fail "pref-3b not back on the clear tunnel"
grep -q 'payload.*pref-4' "$tmp/clear" || fail "pref-4 not on the clear tunnel after fallback"

# The canary never reached the clear server; it reached the encrypted one,
# after a FLOW_BIND for its flow.
grep -q canary "$tmp/clear" && fail "canary crossed the clear tunnel"
grep -q 'payload.*canary-2' "$tmp/enc" || fail "canary-2 missing on the encrypted tunnel"
awk '/"type": 9/ { bind = NR } /canary-2/ { if (!bind || bind > NR) exit 1; exit 0 }' "$tmp/enc" ||
	fail "no FLOW_BIND before the moved flow's first packet"
grep -q '"type": 9' "$tmp/clear" || fail "no FLOW_BIND back to clear for pref-3b"

# Counters: the clear canary was dropped on arrival, the sends were blocked.
stats=$(ip netns exec "$UE" $TSCF_NL dev tscf0)
log "tscf0: $stats"
echo "$stats" | python3 -c "
import json, sys
d = json.load(sys.stdin)
t = d['tunnel']['stats']
assert t['rx_blocked'] >= 1, 'rx_blocked'
" || fail "rx_blocked not counted"

# Events: blocked, moved, demand on, then released and demand off once
# the sockets are gone and the linger passed.
wait $LISTENER
log "events: $(cat "$tmp/events")"
grep -q '"cmd": "ENC_DEMAND"' "$tmp/events" || fail "no ENC_DEMAND event"
grep '"cmd": "SOCK_EVENT"' "$tmp/events" | grep -q '"event": 4' || fail "no blocked event"
grep '"cmd": "SOCK_EVENT"' "$tmp/events" | grep -q '"event": 3' || fail "no moved event"
grep '"cmd": "SOCK_EVENT"' "$tmp/events" | grep -q '"event": 5' || fail "no released event"
grep '"cmd": "ENC_DEMAND"' "$tmp/events" | tail -n 1 | grep -q '"demand": 0' || fail "demand not withdrawn"
echo ok
