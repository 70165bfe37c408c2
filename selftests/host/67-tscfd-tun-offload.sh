#!/bin/sh
# The TUN device's checksum offload (docs/SERVER.md, "The userspace data
# path"):
#  1. the service network hands tscfd packets with the checksum still to
#     do (an AF_PACKET socket on tscfs0 sees TP_STATUS_CSUMNOTREADY on the
#     echo service's answer), and the client gets them with a correct UDP
#     checksum (tscfd finished it);
#  2. a packet with a wrong inner UDP checksum that came over the clear
#     IPv4 UDP tunnel (whose own checksum may be left out) is still
#     verified by the service side and dropped: no answer;
#  3. the same over the TLS tunnel (its record's MAC checked the bytes) is
#     marked as checked and answered: the service side did not checksum it.
. "$TSCF_TOP/selftests/lib.sh"
tscfd_topology tunoff DTTE

# Outgoing UDP on tscfs0 to the client: was its checksum left to the device?
ip netns exec "$SRV" python3 -c '
import socket, struct, sys, time
SOL_PACKET, PACKET_AUXDATA, CSUMNOTREADY = 263, 8, 8
s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(3))  # ETH_P_ALL: outgoing too
s.bind(("tscfs0", 0))
s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
open(sys.argv[1] + ".ready", "w").close()
s.settimeout(20)
while True:
    data, anc, _, addr = s.recvmsg(65536, 1024)
    if addr[2] != socket.PACKET_OUTGOING or data[0] >> 4 != 4 or data[9] != 17 or b"echo:offload" not in data:
        continue
    status = next(struct.unpack("I", d[:4])[0] for l, t, d in anc if l == SOL_PACKET and t == PACKET_AUXDATA)
    print("partial" if status & CSUMNOTREADY else "complete")
    break' "$TMPD/cap" > "$TMPD/cap" 2>&1 &
cap=$!
wait_for 20 test -e "$TMPD/cap.ready" || fail "capture did not start: $(cat "$TMPD/cap")"

ip netns exec "$UE" env D="$TMPD" python3 -c '
import os, socket, struct, sys
sys.path.insert(0, sys.argv[1])
import tscf_client as tc

def udp_ok(pkt):
    """The UDP checksum of an IPv4 packet verifies (or is absent)."""
    ihl = (pkt[0] & 15) * 4
    udp = pkt[ihl:]
    if struct.unpack("!H", udp[6:8])[0] == 0:
        return False
    pseudo = pkt[12:20] + struct.pack("!BBH", 0, 17, len(udp))
    return tc.csum(pseudo + udp) in (0, 0xffff)

def answered(t, msg, secs):
    for f in tc.inner_packets(t, secs):
        if msg in f:
            return f
    return None

def bad_sum(pkt):
    return pkt[:26] + bytes([pkt[26] ^ 0x5a, pkt[27]]) + pkt[28:]

c = tc.Tunnel("udp", "10.10.0.2", 4000)
code, _ = c.config()
tc.check(code == tc.SUCCESS, "clear config %d" % code)
c.send(tc.udp4(c.ip4, "10.100.0.1", 6000, 7000, b"offload"))
f = answered(c, b"echo:offload", 3)
tc.check(f is not None, "no answer on the clear tunnel")
tc.check(udp_ok(f), "the answer has a wrong UDP checksum")
c.send(bad_sum(tc.udp4(c.ip4, "10.100.0.1", 6000, 7000, b"badsum-udp")))
tc.check(answered(c, b"echo:badsum-udp", 1.5) is None,
         "a wrong checksum over the IPv4 UDP tunnel was answered (marked as checked)")
reserved, port, _ = tc.dtte_up(None, c)
e = tc.Tunnel("tls", "10.10.0.2", port, ca=os.environ["D"] + "/ca.pem")
code, _ = e.encrypted(c, reserved, c.dtte_secret)
tc.check(code == tc.SUCCESS, "encrypted config %d" % code)
tc.check(tc.bind(e, c.ip4, 6001, 1) == tc.SUCCESS, "flow bind")
e.send(tc.udp4(c.ip4, "10.100.0.1", 6001, 7000, b"goodsum-tls"))
tc.check(answered(e, b"echo:goodsum-tls", 3) is not None, "no answer on the TLS tunnel")
e.send(bad_sum(tc.udp4(c.ip4, "10.100.0.1", 6001, 7000, b"badsum-tls")))
tc.check(answered(e, b"echo:badsum-tls", 3) is not None,
         "a packet over TLS was checksummed again by the service side (not marked as checked)")
print("answers: checksums complete; IPv4 UDP tunnel verified, TLS tunnel trusted")
' "$TSCF_TOP/selftests/lib" > "$TMPD/out" 2>&1 || fail "$(cat "$TMPD/out")"
log "$(cat "$TMPD/out")"
wait $cap || fail "capture: $(cat "$TMPD/cap")"
log "the echo service's answer on tscfs0: checksum $(cat "$TMPD/cap")"
[ "$(cat "$TMPD/cap")" = partial ] || fail "no checksum offload on tscfs0: the service side checksums every packet"
kill -0 "$TSCFD_PID" || fail "tscfd died"
echo ok
