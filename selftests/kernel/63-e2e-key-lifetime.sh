#!/bin/sh
# An encrypted tunnel's keys have a lifetime (tscfctl's key-lifetime):
# when it is reached the helper releases the tunnel and makes a new one
# with a fresh handshake, and the encrypted-only sockets on it move to
# the new one live: the same UDP socket and the same TCP connection carry
# on, nothing of theirs is ever in clear on the outer link, and what was
# sent before and after the new keys is echoed.  Run for DTLS (the
# module's records) and for TLS (kTLS), each with a 10 s lifetime over a
# run of 24 s, so at least two new handshakes.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
tscfd_topology lifetime DTTE
ue_tscf0
srv_tcp_echo

# run ENC: one helper with "enc ENC key-lifetime 10", 24 s of traffic.
run() {
	enc=$1
	capture_start "$SRV" veth-srv "$TMPD/wire-$enc.pcapng"
	wire=$CAPTURE
	CTL_LOG=$TMPD/ctl-$enc.log
	ip netns exec "$UE" "$CTL" up tscf0 server 10.10.0.2 port 4000 transport udp \
		ca "$TMPD/ca.pem" enc "$enc" key-lifetime 10 > "$CTL_LOG" 2>&1 &
	CTL_PID=$!
	at_exit "kill $CTL_PID 2>/dev/null"
	wait_for 20 grep -q 'clear tunnel up' "$CTL_LOG" || fail "tscfctl up ($enc): $(cat "$CTL_LOG")"

	ip netns exec "$UE" python3 - > "$TMPD/traffic-$enc.out" 2>&1 <<'PY' ||
import errno, socket, struct, time
SOL_IP, LEVEL, PATH = 0, 0x5453, 0x5454
def path(s):
    return ["clear", "encrypted", "blocked"][struct.unpack("=i", s.getsockopt(SOL_IP, PATH, 4))[0]]
def wait_path(s, want):
    for _ in range(300):
        if path(s) == want:
            return
        time.sleep(0.1)
    raise SystemExit(f"path {path(s)}, not {want}")
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.connect(("10.100.0.1", 7000))
u.setsockopt(SOL_IP, LEVEL, struct.pack("=i", 1))
u.settimeout(0.3)
wait_path(u, "encrypted")
t = socket.create_connection(("10.100.0.1", 7001), timeout=30)
t.setsockopt(SOL_IP, LEVEL, struct.pack("=i", 1))
wait_path(t, "encrypted")
sent = echoed = refused = 0
tcp_out = b""
tcp_in = b""
end = time.monotonic() + 24
i = 0
while time.monotonic() < end:
    msg = b"LIFECANARY-U%05d" % i
    i += 1
    try:
        u.send(msg)
        sent += 1
    except OSError as e:
        # The twin has no tunnel between the old one and the new one.
        if e.errno != errno.ENETUNREACH:
            raise
        refused += 1
        time.sleep(0.1)
        continue
    try:
        while True:
            if u.recv(4096) == b"echo:" + msg:
                echoed += 1
                break
    except socket.timeout:
        pass
    chunk = b"LIFECANARY-T%05d" % i
    t.sendall(chunk)
    tcp_out += chunk
    t.setblocking(False)
    try:
        while True:
            d = t.recv(65536)
            if not d:
                raise SystemExit("the TCP connection was closed")
            tcp_in += d
    except BlockingIOError:
        pass
    t.settimeout(30)
    time.sleep(0.05)
while len(tcp_in) < len(tcp_out):
    d = t.recv(65536)
    if not d:
        raise SystemExit("the TCP connection was closed")
    tcp_in += d
assert tcp_in == tcp_out, "the TCP echo differs"
if path(u) != "encrypted" or path(t) != "encrypted":
    raise SystemExit(f"paths at the end: udp {path(u)}, tcp {path(t)}")
u.send(b"LIFECANARY-LAST")
u.settimeout(10)
last = u.recv(100)
print(f"udp sent {sent} echoed {echoed} refused {refused}; tcp {len(tcp_out)} bytes echoed; last {last!r}")
if last != b"echo:LIFECANARY-LAST":
    raise SystemExit("no echo of the last datagram")
PY
		fail "$enc traffic: $(cat "$TMPD/traffic-$enc.out"; tail -20 "$CTL_LOG")"
	log "$enc: $(cat "$TMPD/traffic-$enc.out")"
	capture_stop $wire

	rekeys=$(grep -c 'reached their lifetime (10s): a new handshake' "$CTL_LOG" || true)
	[ "$rekeys" -ge 2 ] || fail "$enc: $rekeys new handshakes for the key lifetime in 24 s: $(cat "$CTL_LOG")"
	want=$(echo "$enc" | tr a-z A-Z)
	tsids=$(sed -n "s/.*encrypted tunnel up (DTTE), TSID \([0-9a-f]*\), $want to .*/\1/p" "$CTL_LOG" | sort -u | wc -l)
	[ "$tsids" -ge 3 ] || fail "$enc: $tsids encrypted tunnels (TSIDs) over 24 s: $(cat "$CTL_LOG")"
	canary=$(capture_count "$TMPD/wire-$enc.pcapng" 'frame contains "LIFECANARY"')
	expect_eq "$enc: canary frames in clear on the outer link" "$canary" 0
	enc_frames=$(capture_count "$TMPD/wire-$enc.pcapng" "$2")
	[ "$enc_frames" -ge 50 ] || fail "$enc: $enc_frames encrypted frames on the wire: the capture sees nothing"
	ip netns exec "$UE" "$CTL" down tscf0
	wait $CTL_PID || fail "$enc: helper exit $?: $(tail -5 "$CTL_LOG")"
}

run dtls 'udp.port == 4001'
run tls 'tcp.port == 4001 && tcp.len > 0'
echo ok
