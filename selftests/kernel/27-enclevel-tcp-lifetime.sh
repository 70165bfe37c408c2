#!/bin/sh
# A mark lives as long as the socket's last packet, and passes to
# accepted children:
# 1. a connection accepted from an encrypted-preferred listener rides the
#    encrypted tunnel like its parent (level inherited);
# 2. an encrypted-only TCP socket closed with data still queued (the
#    peer reads only seconds later) keeps its level until that data is
#    gone: none of it leaves on the clear tunnel, even after its close.
# Judged on the outer link: no canary in a capture.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
tscfd_topology tcplife DTTE
ue_tscf0
ip netns exec "$SRV" python3 -c '
import socket, threading, time
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
l.bind(("10.100.0.1", 7002))
l.listen(4)
c = l.accept()[0]
time.sleep(8)
n = 0
c.settimeout(20)
try:
    while True:
        d = c.recv(65536)
        if not d:
            break
        n += len(d)
except OSError:
    pass
print("slow reader got", n, flush=True)' > "$TMPD/slow" 2>&1 &
at_exit "kill $! 2>/dev/null"
tscfctl_up udp
ifindex=$(ip netns exec "$UE" cat /sys/class/net/tscf0/ifindex)
# A long linger: the encrypted tunnel stays up, so only the mark decides.
ip netns exec "$UE" $TSCF_NL raw 2 1:u32:$ifindex 13:u32:60000 || fail "linger"
ue_addr=$(ip -n "$UE" -4 -o addr show dev tscf0 | awk '{ print $4 }' | cut -d/ -f1)
log "UE inner address $ue_addr"
capture_start "$SRV" veth-srv "$TMPD/wire.pcap"

# 1. Child of a marked listener.
ip netns exec "$UE" python3 - > "$TMPD/listener" 2>&1 <<'PY' &
import socket, struct, time
SOL_IP, LEVEL, PATH = 0, 0x5453, 0x5454
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("0.0.0.0", 6100))
l.setsockopt(SOL_IP, LEVEL, struct.pack("=i", 2))
l.listen(4)
end = time.time() + 30
while struct.unpack("=i", l.getsockopt(SOL_IP, PATH, 4))[0] != 1 and time.time() < end:
    time.sleep(0.1)
print("listening", flush=True)
l.settimeout(20)
c = l.accept()[0]
print("child level", struct.unpack("=i", c.getsockopt(SOL_IP, LEVEL, 4))[0], flush=True)
c.settimeout(10)
for i in range(20):
    msg = b"canary-child-%02d" % i
    c.sendall(msg)
    got = b""
    while len(got) < len(msg):
        got += c.recv(64)
    assert got == msg, got
print("child done", flush=True)
c.close()
PY
lpid=$!
wait_for 40 grep -q listening "$TMPD/listener" || fail "listener: $(cat "$TMPD/listener" "$CTL_LOG")"
ip netns exec "$SRV" python3 -c '
import socket, sys
c = socket.create_connection((sys.argv[1], 6100), timeout=20)
n = 0
while True:
    d = c.recv(64)
    if not d:
        break
    n += len(d)
    c.sendall(d)
print("client echoed", n)' "$ue_addr" > "$TMPD/client" 2>&1 || fail "client: $(cat "$TMPD/client")"
wait $lpid || fail "listener side: $(cat "$TMPD/listener")"
log "$(cat "$TMPD/listener" | tr '\n' ' ') / $(cat "$TMPD/client")"
grep -q 'child level 2' "$TMPD/listener" || check "the accepted socket did not inherit the level"

# 2. Encrypted-only, closed with data queued behind a slow reader.
ip netns exec "$UE" python3 - > "$TMPD/closer" 2>&1 <<'PY' || fail "closer: $(cat "$TMPD/closer")"
import socket, struct, time
SOL_IP, LEVEL, PATH = 0, 0x5453, 0x5454
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 262144)
s.setsockopt(SOL_IP, LEVEL, struct.pack("=i", 1))
end = time.time() + 30
while struct.unpack("=i", s.getsockopt(SOL_IP, PATH, 4))[0] != 1 and time.time() < end:
    time.sleep(0.1)
s.connect(("10.100.0.1", 7002))
s.setblocking(False)
sent = 0
chunk = b"canary-close-" * 100
try:
    while True:
        sent += s.send(chunk)
except BlockingIOError:
    pass
print("queued", sent, flush=True)
s.close()
PY
log "$(cat "$TMPD/closer")"
wait_for 30 grep -q 'slow reader got' "$TMPD/slow" || fail "slow reader did not finish"
log "$(cat "$TMPD/slow")"
sent=$(awk '/queued/ { print $2 }' "$TMPD/closer")
got=$(awk '/slow reader got/ { print $4 }' "$TMPD/slow")

capture_stop "$CAPTURE"
child=$(capture_count "$TMPD/wire.pcap" 'frame contains "canary-child"')
closed=$(capture_count "$TMPD/wire.pcap" 'frame contains "canary-close"')
log "canary frames on the wire: child $child, closed socket $closed; queued $sent, delivered $got"
[ "$child" -eq 0 ] || check "the accepted child's data crossed the outer link in clear ($child frames)"
[ "$closed" -eq 0 ] || check "a closed encrypted-only socket's data crossed in clear ($closed frames)"
grep -q 'child done' "$TMPD/listener" || check "child exchange incomplete"
[ "$got" = "$sent" ] || check "the closed socket's queued data was not all delivered ($got of $sent)"
checks_done
echo ok
