#!/bin/sh
# An RTP-like UDP stream (50 packets/s, echoed) moves to the encrypted
# tunnel and back while flowing; the packets lost across the planned moves
# are counted and must be zero.  The encrypted tunnel is already up (held
# by another socket), as for a planned move.
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

ip netns exec "$UE" python3 - > "$TMPD/rtp.out" 2>&1 <<'PY' || fail "rtp: $(cat "$TMPD/rtp.out")"
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
lost = sent - len(got)
print("paths after each move:", paths)
print(f"sent {sent} received {len(got)} lost {lost}")
assert paths == ["encrypted", "clear", "encrypted"], paths
assert lost == 0, f"{lost} packets lost"
PY
log "$(cat "$TMPD/rtp.out")"
kill $holder 2>/dev/null
ip netns exec "$UE" "$CTL" down tscf0
wait $CTL_PID
echo ok
