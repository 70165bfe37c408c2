#!/bin/sh
# An RTP-like UDP stream (50 packets/s, echoed) moves to the encrypted
# tunnel and back while flowing; the packets lost across the planned moves
# are counted.  The encrypted tunnel is already up (held by another
# socket), as for a planned move.
# - Lowering to unencrypted loses nothing: the packets stay on the
#   encrypted tunnel until the server has answered the unbinding (on a
#   loaded machine the clear tunnel used to overtake it, and the server
#   dropped the packet as encrypted-only on the clear tunnel).
# - Raising to encrypted-only drops, by the rule, what crossed the raise in
#   the clear (the two tunnels are not ordered against each other): an echo
#   the server sent in clear before the binding that arrives after the
#   raise (counted as RX_BLOCKED on tscf0), and a packet the client sent in
#   clear before the raise that reaches the server after the binding
#   (tscfd's drop_enc_only_clear).  Only packets sent just before a raise
#   may be missing, and each one missing is counted by one of the two.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
tscfd_topology rtp DTTE
ue_tscf0
tscfctl_up udp
ip netns exec "$UE" $APP --proto udp --dst 10.100.0.1 --port 7000 level:2 waitpath:encrypted sleep:30 \
	> /dev/null 2>&1 &
holder=$!
at_exit "kill $holder 2>/dev/null"
wait_for 30 grep -q 'encrypted tunnel up' "$TMPD/ctl.log" || fail "no encrypted tunnel: $(cat "$TMPD/ctl.log")"

# On a loss: which packets, and who dropped them (the module's counters on
# both devices, tscfd's).
why() {
	cat "$TMPD/rtp.out"
	for d in tscf0 tscf0s; do
		echo "$d: $(ip netns exec "$UE" "$CTL" show $d -j 2>&1 | tr -d '\n ')"
	done
	ip netns exec "$SRV" "$TSCFD" --stats -s "$TMPD/tscfd.sock" 2>&1 | grep -v ' 0$'
}
ip netns exec "$UE" python3 - > "$TMPD/rtp.out" 2>&1 <<'PY' || fail "rtp: $(why)"
import socket, struct, time, select
SOL_IP, LEVEL, PATH = 0, 0x5453, 0x5454
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("10.100.0.1", 7000))
s.setblocking(False)
sent, got, paths = 0, set(), []
start = time.time()
plan = {100: 1, 200: 0, 300: 2}          # packet number -> new level
for i in range(400):                      # 8 s at 50 packets/s
    if i in plan:
        s.setsockopt(SOL_IP, LEVEL, struct.pack("=i", plan[i]))
        paths.append(["clear", "encrypted", "blocked"][struct.unpack("=i", s.getsockopt(SOL_IP, PATH, 4))[0]])
    s.send(struct.pack("!I", i) + b"R" * 160)
    sent += 1
    deadline = start + (i + 1) * 0.02
    while True:
        r, _, _ = select.select([s], [], [], max(0, deadline - time.time()))
        if not r:
            break
        d = s.recv(2048)
        got.add(struct.unpack("!I", d[5:9])[0])
time.sleep(1)
while select.select([s], [], [], 0)[0]:
    got.add(struct.unpack("!I", s.recv(2048)[5:9])[0])
missing = sorted(set(range(sent)) - got)
print("paths after each move:", paths)
print(f"sent {sent} received {len(got)} lost {len(missing)}", missing)
assert paths == ["encrypted", "clear", "encrypted"], paths
# sent in clear within 0.5 s before a raise (at 100 and 300)
late = [i for i in missing if not (75 <= i < 100 or 275 <= i < 300)]
assert not late, f"lost {late}, not echoes in flight at a raise"
print("LOST", len(missing))
PY
log "$(cat "$TMPD/rtp.out")"
lost=$(sed -n 's/^LOST //p' "$TMPD/rtp.out")
# A mismatch says who counted what (the counters of both ends).
blocked=$(tunnel_stat "$UE" tscf0 rx_blocked)
dropped=$(tscfd_stat drop_enc_only_clear)
log "lost at a raise: $lost (echoes blocked on tscf0: $blocked, packets dropped by tscfd: $dropped)"
expect_eq "packets lost at a raise = RX_BLOCKED on tscf0 + tscfd's drop_enc_only_clear" \
	"$((blocked + dropped))" "$lost" why
expect_eq "server refusals of a lowering" "$(tscfd_stat refused_flow_lower)" 0 why
kill $holder 2>/dev/null
ip netns exec "$UE" "$CTL" down tscf0
wait $CTL_PID || fail "helper exit $?: $(tail -5 "$CTL_LOG")"
echo ok
