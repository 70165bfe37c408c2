#!/bin/sh
# The encrypted twin over the kernel's DTLS records, with tscfd (OpenSSL's
# DTLS) as the peer: tscfctl does the handshake, the module writes and
# reads the records.  An encrypted-only UDP socket and an encrypted-only
# TCP connection move into tscf0s and back to clear, every message echoed
# (OpenSSL reads what the kernel writes and the reverse); no canary in
# clear on the outer link; tshark's DTLS dissector parses the records and
# decrypts them with tscfctl's key log.  Then, from the server's netns, a
# record of the server's is sent again (replay) and forged copies
# (another sequence number, a flipped byte): each is dropped and counted,
# and the tunnel still carries traffic.  Last, the server closes the
# tunnel (close_notify): the module takes it down and the helper makes a
# new one.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
tscfd_topology dtls DTTE
ue_tscf0
srv_tcp_echo
capture_start "$SRV" veth-srv "$TMPD/wire.pcapng"
wire=$CAPTURE

CTL_LOG=$TMPD/ctl.log
ip netns exec "$UE" env SSLKEYLOGFILE="$TMPD/keys.log" "$CTL" up tscf0 server 10.10.0.2 \
	port 4000 transport udp ca "$TMPD/ca.pem" enc dtls > "$CTL_LOG" 2>&1 &
CTL_PID=$!
at_exit "kill $CTL_PID 2>/dev/null"
wait_for 20 grep -q 'clear tunnel up' "$CTL_LOG" || fail "tscfctl up: $(cat "$CTL_LOG")"
# One encrypted-only socket holds the encrypted tunnel for the whole test,
# so that its counters are those of one tunnel.
ip netns exec "$UE" $APP --proto udp --dst 10.100.0.1 --port 7000 level:1 waitpath:encrypted \
	sleep:600 > /dev/null 2>&1 &
holder=$!
at_exit "kill $holder 2>/dev/null"

why() {
	cat "$TMPD/move.out" "$CTL_LOG"
	ip netns exec "$UE" $TSCF_NL dev tscf0s
	ip netns exec "$SRV" "$TSCFD" --stats -s "$TMPD/tscfd.sock" 2>&1 | grep -v ' 0$'
	tail -5 "$TMPD/tscfd.log"
}

# move: an encrypted-only UDP socket and TCP connection, echoed through
# tscf0s, then lowered to clear and echoed there.
ip netns exec "$UE" python3 - > "$TMPD/move.out" 2>&1 <<'PY' || fail "move: $(why)"
import socket, struct, time
SOL_IP, LEVEL, PATH = 0, 0x5453, 0x5454
PATHS = ["clear", "encrypted", "blocked"]
def path(s):
    return PATHS[struct.unpack("=i", s.getsockopt(SOL_IP, PATH, 4))[0]]
def wait_path(s, want):
    for _ in range(300):
        if path(s) == want:
            return
        time.sleep(0.1)
    raise SystemExit(f"path {path(s)}, not {want}")
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.connect(("10.100.0.1", 7000))
u.settimeout(1)
u.setsockopt(SOL_IP, LEVEL, struct.pack("=i", 1))
wait_path(u, "encrypted")
t = socket.create_connection(("10.100.0.1", 7001), timeout=10)
t.setsockopt(SOL_IP, LEVEL, struct.pack("=i", 1))
wait_path(t, "encrypted")
def udp_echo(msg):
    for _ in range(10):
        u.send(msg)
        try:
            if u.recv(4096) == b"echo:" + msg:
                return
        except socket.timeout:
            pass
    raise SystemExit(f"no echo of {msg!r}")
def tcp_echo(msg):
    t.sendall(msg)
    got = b""
    while len(got) < len(msg):
        got += t.recv(65536)
    assert got == msg, "tcp echo differs"
for i in range(50):
    udp_echo(b"DTLSCANARY-U%03d" % i + b"x" * (i * 20))
tcp_echo(b"DTLSCANARY-T" * 5000)
print("encrypted: 50 UDP echoes and 60000 TCP bytes")
u.setsockopt(SOL_IP, LEVEL, struct.pack("=i", 0))
t.setsockopt(SOL_IP, LEVEL, struct.pack("=i", 0))
wait_path(u, "clear")
wait_path(t, "clear")
# The first datagram after lowering may still go encrypted (behind the
# level-0 FLOW_BIND on the encrypted tunnel, until the server's answer);
# by the second, both ways are clear.
udp_echo(b"CLEAR-U")
udp_echo(b"CLEAR-U")
tcp_echo(b"CLEAR-T" * 100)
print("back in clear: echoed")
PY
log "$(cat "$TMPD/move.out")"
ip netns exec "$UE" "$CTL" show tscf0s | grep -q 'tunnel: up, TSID [0-9a-f]*, dtls' ||
	fail "show tscf0s does not say dtls: $(ip netns exec "$UE" "$CTL" show tscf0s)"
grep -q 'encrypted tunnel up (DTTE), TSID [0-9a-f]*, DTLS to' "$CTL_LOG" || fail "helper log: $(cat "$CTL_LOG")"

# Replay and forgeries.  One record of the server's, the echo of a
# 615-byte message, is kept from the UE (nftables in UE drops it) and
# captured in SRV; then, from SRV: the record with a flipped ciphertext
# byte, the record under a sequence number ahead of the window (2 tag
# failures, the window unmoved), the record itself (taken: its echo
# reaches the socket), and 3 replays of it.  The echo is told from the
# server's control records (keepalive answers, 87 bytes of IP) by its
# size.
ip netns exec "$SRV" python3 - "$TMPD/rec" > "$TMPD/sniff.out" 2>&1 <<'PY' &
import socket, struct, sys
sn = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
sn.bind(("veth-srv", 0))
sn.settimeout(30)
while True:        # the echo the server sends: UDP from port 4001, type 23
    pkt, addr = sn.recvfrom(65536)
    ip = pkt[14:]
    if addr[2] != socket.PACKET_OUTGOING or ip[9] != 17 or len(ip) < 600:
        continue
    ihl = (ip[0] & 15) * 4
    if struct.unpack("!H", ip[ihl:ihl + 2])[0] == 4001 and ip[ihl + 8] == 23:
        break
open(sys.argv[1] + ".tmp", "wb").write(ip)
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
print("captured a record of", len(ip), "bytes")
PY
sniff=$!
sleep 1
ip netns exec "$UE" nft 'add table inet dtlstest; add chain inet dtlstest in { type filter hook input priority 0; }; add rule inet dtlstest in udp sport 4001 drop' ||
	fail "nft"
at_exit "ip netns exec $UE nft delete table inet dtlstest 2>/dev/null"
ip netns exec "$UE" python3 - "$TMPD" > "$TMPD/replay.out" 2>&1 <<'PY' &
import os, socket, struct, sys, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.connect(("10.100.0.1", 7000))
u.setsockopt(0, 0x5453, struct.pack("=i", 1))
u.send(b"DTLSCANARY-KEPT" + b"k" * 600)
open(os.path.join(sys.argv[1], "sent"), "w").close()
u.settimeout(30)
print("got", u.recv(2000)[:20])
PY
app=$!
wait $sniff || fail "sniff: $(cat "$TMPD/sniff.out")"
ip netns exec "$UE" nft delete table inet dtlstest
before=$(tunnel_stat "$UE" tscf0s rx_packets)
ip netns exec "$SRV" python3 - "$TMPD/rec" > "$TMPD/inject.out" 2>&1 <<'PY' || fail "inject: $(cat "$TMPD/inject.out")"
import socket, sys, time
ip = open(sys.argv[1], "rb").read()
ihl = (ip[0] & 15) * 4
r = ihl + 8
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
def send(p):
    raw.sendto(p, (socket.inet_ntoa(ip[16:20]), 0))
    time.sleep(0.2)
# The capture is of an outgoing frame whose UDP checksum the device was
# to finish (offload): it holds the pseudo-header's sum only, and the
# UE's UDP would drop it.  Every datagram sent goes without (0: none).
def forged(mutate):
    b = bytearray(ip)
    mutate(b)
    b[ihl + 6:ihl + 8] = b"\0\0"
    return bytes(b)
def same(b):
    pass
def flip(b):
    b[r + 25] ^= 0x40                  # a byte of the ciphertext
def far_seq(b):                        # ahead of the window
    seq = int.from_bytes(b[r + 5:r + 11], "big") + 1000
    b[r + 5:r + 11] = seq.to_bytes(6, "big")
send(forged(flip))
send(forged(far_seq))
send(forged(same))
for _ in range(3):
    send(forged(same))
print("sent 2 forgeries, the record, 3 replays")
PY
wait $app || fail "the kept record's echo did not arrive once injected: $(cat "$TMPD/replay.out" "$TMPD/sniff.out" "$TMPD/inject.out"; why)"
log "$(cat "$TMPD/sniff.out" "$TMPD/inject.out" "$TMPD/replay.out")"
grep -q "got b'echo:DTLSCANARY-KEPT'" "$TMPD/replay.out" || fail "echo: $(cat "$TMPD/replay.out")"
expect_eq "forged records dropped (rx_auth_failed)" "$(tunnel_stat "$UE" tscf0s rx_auth_failed)" 2
expect_eq "replayed records dropped (rx_replayed)" "$(tunnel_stat "$UE" tscf0s rx_replayed)" 3
expect_eq "records taken from the injection" "$(($(tunnel_stat "$UE" tscf0s rx_packets) - before))" 1
expect_eq "other DTLS drops (rx_malformed)" "$(tunnel_stat "$UE" tscf0s rx_malformed)" 0
reply=$(ip netns exec "$UE" python3 -c '
import socket, struct
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.connect(("10.100.0.1", 7000))
u.setsockopt(0, 0x5453, struct.pack("=i", 1))
u.settimeout(3)
u.send(b"DTLSCANARY-AFTER")
print(u.recv(100).decode())')
expect_eq "echo through DTLS after the forgeries" "$reply" "echo:DTLSCANARY-AFTER"
expect_eq "tscfd DTLS errors" "$(tscfd_stat drop_tls)" 0

kill $holder 2>/dev/null
capture_stop $wire
canary=$(capture_count "$TMPD/wire.pcapng" 'frame contains "DTLSCANARY"')
expect_eq "canary frames in clear on the outer link" "$canary" 0
clear=$(capture_count "$TMPD/wire.pcapng" 'frame contains "CLEAR-U"')
log "frames of the clear echoes on the outer link: $clear"
[ "$clear" -ge 2 ] || fail "the clear echo is not on the wire ($clear frames): the capture sees nothing"
records=$(capture_count "$TMPD/wire.pcapng" 'dtls.record.content_type == 23 && udp.port == 4001')
log "DTLS application_data records on the wire: $records"
[ "$records" -ge 100 ] || fail "tshark parses $records DTLS records"
bad=$(capture_count "$TMPD/wire.pcapng" 'udp.port == 4001 && !dtls')
expect_eq "datagrams on N+1 that are not DTLS" "$bad" 0
decrypted=$(tshark -r "$TMPD/wire.pcapng" -o "tls.keylog_file:$TMPD/keys.log" -x \
	-Y 'udp.port == 4001 && dtls.record.content_type == 23' 2>/dev/null |
	grep -c 'DTLSCANARY-U' || true)
log "records tshark decrypts to a canary with the key log: $decrypted"
[ "$decrypted" -ge 50 ] || fail "tshark decrypts $decrypted canary records"
ip netns exec "$UE" "$CTL" down tscf0
wait $CTL_PID || fail "helper exit $?: $(tail -5 "$CTL_LOG")"
echo ok
