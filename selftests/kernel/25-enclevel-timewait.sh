#!/bin/sh
# Packets without a socket of their own fail closed: after an
# encrypted-only TCP connection is closed, its time-wait state answers a
# segment with an ACK sent by the kernel's control socket (no user
# socket on the skb).  That ACK belongs to an encrypted-only flow and
# must not take the clear tunnel.  Judged on the outer link: no clear
# tunnel frame carries the flow's inner port.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
tscfd_topology timewait DTTE
ue_tscf0
ip netns exec "$SRV" python3 -c '
import socket
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("10.100.0.1", 7001))
l.listen(4)
while True:
    c = l.accept()[0]
    while True:
        d = c.recv(65536)
        if not d:
            break
        c.sendall(d)
    c.close()' &
at_exit "kill $! 2>/dev/null"
tscfctl_up udp
ifindex=$(ip netns exec "$UE" cat /sys/class/net/tscf0/ifindex)
ip netns exec "$UE" $TSCF_NL raw 2 1:u32:$ifindex 13:u32:60000 || fail "linger"
ue_addr=$(ip -n "$UE" -4 -o addr show dev tscf0 | awk '{ print $4 }' | cut -d/ -f1)
capture_start "$SRV" veth-srv "$TMPD/wire.pcap"

# An encrypted-only connection from port 6200, closed by UE first: UE's
# side ends in TIME_WAIT.
ip netns exec "$UE" python3 - > "$TMPD/app" 2>&1 <<'PY' || fail "app: $(cat "$TMPD/app" "$CTL_LOG")"
import socket, struct, time
SOL_IP, LEVEL, PATH = 0, 0x5453, 0x5454
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 6200))
s.setsockopt(SOL_IP, LEVEL, struct.pack("=i", 1))
end = time.time() + 90
while struct.unpack("=i", s.getsockopt(SOL_IP, PATH, 4))[0] != 1 and time.time() < end:
    time.sleep(0.1)
print("path", struct.unpack("=i", s.getsockopt(SOL_IP, PATH, 4))[0], flush=True)
s.settimeout(30)
s.connect(("10.100.0.1", 7001))
s.sendall(b"hello")
assert s.recv(64) == b"hello"
s.shutdown(socket.SHUT_WR)
assert s.recv(64) == b""
s.close()
print("closed", flush=True)
PY
wait_for 10 sh -c "ip netns exec $UE ss -tan state time-wait | grep -q ':6200 '" ||
	fail "no time-wait socket: $(ip netns exec "$UE" ss -tan)"
sleep 2	# long enough for the closed socket's entry to be collected

# From the server side, a stray ACK segment for the old flow: the
# time-wait socket answers it.
ip netns exec "$SRV" python3 - "$ue_addr" <<'PY' || fail "stray segment"
import socket, struct, sys
sys.path.insert(0, __import__("os").environ["TSCF_TOP"] + "/selftests/lib")
from tunnel_peer import csum
src, dst = socket.inet_aton("10.100.0.1"), socket.inet_aton(sys.argv[1])
tcp = struct.pack("!HHIIBBHHH", 7001, 6200, 12345, 67890, 5 << 4, 0x10, 1024, 0, 0)
c = csum(src + dst + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, src, dst)
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
for _ in range(3):
    r.sendto(ip + tcp, (sys.argv[1], 0))
PY
sleep 2
capture_stop "$CAPTURE"
# Clear tunnel frames (UDP 4000) from UE whose inner TCP source port is
# 6200 (0x1838, right after a 20-byte inner IPv4 header).
clear=$(capture_count "$TMPD/wire.pcap" 'ip.src == 10.10.0.1 && udp.dstport == 4000 && udp.payload[0:1] == 45 && udp.payload[9:1] == 06 && udp.payload[20:2] == 18:38')
enc=$(tunnel_stat "$UE" tscf0s tx_packets)
log "clear frames of the closed flow: $clear; encrypted tunnel tx_packets $enc"
[ "$clear" -eq 0 ] || fail "the time-wait ACK of an encrypted-only flow took the clear tunnel ($clear frames)"
echo ok
