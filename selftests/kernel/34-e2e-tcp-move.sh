#!/bin/sh
# A live TCP connection moves to the encrypted tunnel and back: same fd,
# same addresses, no reset, every byte echoed intact, and the server's
# return traffic follows the move (FLOW_BIND).
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
tscfd_topology tcpmove DTTE
ue_tscf0
srv_tcp_echo
tscfctl_up udp
ifindex=$(ip netns exec "$UE" cat /sys/class/net/tscf0/ifindex)
ip netns exec "$UE" $TSCF_NL raw 2 1:u32:$ifindex 13:u32:60000 || fail "linger"

ip netns exec "$UE" python3 - > "$TMPD/tcp.out" 2>&1 <<'PY' || fail "stream: $(cat "$TMPD/tcp.out"; cat "$TMPD/ctl.log")"
import socket, struct, time, os
SOL_IP, LEVEL, PATH = 0, 0x5453, 0x5454
s = socket.create_connection(("10.100.0.1", 7001), timeout=30)
local = s.getsockname()
def path():
    return ["clear", "encrypted", "blocked"][struct.unpack("=i", s.getsockopt(SOL_IP, PATH, 4))[0]]
def exchange(i):
    msg = (b"%06d:" % i) + os.urandom(1000)
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        got += s.recv(len(msg) - len(got))
    assert got == msg, f"chunk {i} corrupted"
n = 0
def phase(count):
    global n
    for _ in range(count):
        exchange(n)
        n += 1
phase(50)
print("clear:", path())
s.setsockopt(SOL_IP, LEVEL, struct.pack("=i", 1))
phase(50)                     # stalls (encrypted-only, no tunnel yet), then resumes
end = time.time() + 30
while path() != "encrypted" and time.time() < end:
    time.sleep(0.1)
print("after encrypted-only:", path())
phase(50)
s.setsockopt(SOL_IP, LEVEL, struct.pack("=i", 0))
phase(50)
print("back:", path())
assert s.getsockname() == local, "local address changed"
print("chunks", n, "ok")
s.close()
PY
log "$(cat "$TMPD/tcp.out")"
grep -q 'after encrypted-only: encrypted' "$TMPD/tcp.out" || fail "never moved"
grep -q 'chunks 200 ok' "$TMPD/tcp.out" || fail "stream broken"
[ "$(tunnel_stat "$UE" tscf0s tx_packets)" -ge 50 ] || fail "the stream did not use tscf0s"
[ "$(tunnel_stat "$UE" tscf0s rx_packets)" -ge 50 ] || fail "return traffic did not follow to tscf0s"
ip netns exec "$UE" "$CTL" down tscf0
wait $CTL_PID || fail "helper exit $?: $(tail -5 "$CTL_LOG")"
echo ok
