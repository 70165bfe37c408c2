#!/bin/sh
# A socket lowered to unencrypted stays on the encrypted tunnel until the
# server answers its unbinding there.  An on-path attacker of the clear
# tunnel forges that answer (FLOW_BIND_RESP with the right sequence number,
# under the clear tunnel's TSID and under the encrypted one's): the module
# takes the frames, and the socket's packets still stay encrypted.  When the
# real answer comes over the encrypted tunnel, they take the clear one.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
ue_srv_topology forgeack
tmp=$(mktemp -d)
at_exit "rm -rf $tmp"
APP="python3 $TSCF_TOP/selftests/lib/app.py"

ip netns exec "$SRV" $TSCF_PEER server --transport udp --addr 10.10.0.2 --port 4300 \
	> "$tmp/clear" 2>&1 &
at_exit "kill $! 2>/dev/null"
ip netns exec "$SRV" $TSCF_PEER server --transport ktls --addr 10.10.0.2 --port 4301 \
	--bind-hold "$tmp/answer" > "$tmp/enc" 2>&1 &
at_exit "kill $! 2>/dev/null"
wait_for 5 grep -q listening "$tmp/clear" || fail "clear server"
wait_for 5 grep -q listening "$tmp/enc" || fail "encrypted server"
ip netns exec "$UE" $TSCF_PEER client tscf0 --transport udp --addr 10.10.0.2 --port 4300 \
	--tsid 0x10 || fail "attach clear"
ip netns exec "$UE" $TSCF_PEER client tscf0s --transport ktls --addr 10.10.0.2 --port 4301 \
	--tsid 0x20 || fail "attach encrypted"
# The clear server learns the UE's tunnel port from a keepalive-free
# first frame: an unmarked packet.
ip netns exec "$UE" $APP --proto udp --dst 10.100.0.1 --port 7000 echo:hello > /dev/null 2>&1
port=$(python3 -c "
import json, sys
for l in open('$tmp/clear'):
    d = json.loads(l)
    if 'peer' in d: print(d['peer'][1]); break") || true
[ -n "$port" ] || fail "the clear server saw no peer: $(cat "$tmp/clear")"

ip netns exec "$UE" $APP --proto udp --dst 10.100.0.1 --port 7000 --lport 6100 \
	level:2 echo:up level:0 echo:lowered \
	wait:"$tmp/forged" echo:after-forgery \
	wait:"$tmp/answer" echo:after-answer sleep:1 echo:cleared > "$tmp/app" 2>&1 &
app=$!
at_exit "kill $app 2>/dev/null"
wait_for 20 grep -q '"recv": "echo:lowered"' "$tmp/app" || fail "app: $(cat "$tmp/app")"

# The unbinding's sequence number, as the encrypted server saw it.
seq=$(python3 -c "
import json
for l in open('$tmp/enc'):
    d = json.loads(l)
    if d.get('type') == 9 and d.get('level') == 0: print(d['seq'])")
[ -n "$seq" ] || fail "no level-0 FLOW_BIND on the encrypted tunnel: $(cat "$tmp/enc")"
rx_ctrl() { tunnel_stat "$UE" tscf0 rx_ctrl; }
rx_ctrl_at_least() { [ "$(rx_ctrl)" -ge "$1" ]; }
before=$(rx_ctrl)
# The forgeries: from the clear server's address and port, as an on-path
# attacker writes them (UDP checksum 0: none).
ip netns exec "$SRV" python3 - "$port" "$seq" <<'PY' || fail "forging"
import socket, struct, sys
port, seq = int(sys.argv[1]), int(sys.argv[2])
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
for tsid in (0x10, 0x20):
    for s in (seq, seq + 1, seq + 1000):
        frame = bytes([0x10, 10, 0, 1]) + struct.pack('!QI', tsid, s) + struct.pack('!HHH', 8, 2, 0)
        udp = struct.pack('!HHHH', 4300, port, 8 + len(frame), 0) + frame
        ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                         socket.inet_aton('10.10.0.2'), socket.inet_aton('10.10.0.1'))
        raw.sendto(ip + udp, ('10.10.0.1', 0))
PY
wait_for 30 rx_ctrl_at_least $((before + 6)) ||
	fail "the forged answers did not reach the module ($before -> $(rx_ctrl))"
touch "$tmp/forged"
wait_for 20 grep -q '"recv": "echo:after-forgery"' "$tmp/app" || fail "app: $(cat "$tmp/app")"
grep -q '"payload": "after-forgery"' "$tmp/enc" ||
	fail "a forged clear answer moved the lowered socket off the encrypted tunnel"
grep -q 'after-forgery' "$tmp/clear" && fail "after-forgery crossed the clear tunnel"

touch "$tmp/answer"
wait $app || fail "app: $(cat "$tmp/app")"
log "app: $(tr '\n' ' ' < "$tmp/app")"
grep -q '"recv": "echo:cleared", "ok": true' "$tmp/app" || fail "no echo for cleared"
grep -q '"kind": "released"' "$tmp/enc" || fail "the encrypted server never released its answer"
grep -q '"payload": "after-answer"' "$tmp/enc" || fail "after-answer not on the encrypted tunnel"
grep -q '"payload": "cleared"' "$tmp/clear" || fail "cleared not back on the clear tunnel after the answer"
echo ok
