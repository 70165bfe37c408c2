#!/bin/sh
# A clear TCP tunnel under load from several senders at once: the client
# writes a frame from the sender's own context when nothing is queued
# ahead of it and queues it otherwise (a full send buffer, a worker that
# holds the socket), and reads frames in the receive softirq.  Whatever
# path each frame takes, the stream stays one well-formed sequence of
# frames in order: four TCP connections and a UDP ping-pong through the
# tunnel at once, every byte echoed back intact, tscfd never sees a
# malformed frame, the client drops nothing and the tunnel stays up.
# UE's TCP send buffers are held to 64 KiB (tcp_wmem), so the tunnel
# socket's fills over and over: frames are written in part, queued and
# resumed from sk_write_space while others arrive.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
tscfd_topology order ""
ue_tscf0
srv_tcp_echo
ip netns exec "$UE" sysctl -qw net.ipv4.tcp_wmem="4096 16384 65536"
tscfctl_up tcp

# what the tunnel's two ends say, for a failure's message
state() {
	echo "UE tunnel: $(ip netns exec "$UE" $TSCF_NL dev tscf0)"
	echo "UE sockets: $(ip netns exec "$UE" ss -tnmi state established)"
	echo "tscfd: $(ip netns exec "$SRV" "$TSCFD" --stats -s "$TMPD/tscfd.sock" | tr '\n' ' ')"
}

ip netns exec "$UE" python3 - > "$TMPD/load.out" 2>&1 <<'PY' || fail "load: $(cat "$TMPD/load.out"; state)"
import hashlib, os, socket, threading
SIZE, CHUNK = 3 << 20, 60000
errors = []

def stream(i):
    try:
        data = os.urandom(SIZE)
        s = socket.create_connection(("10.100.0.1", 7001), timeout=60)
        got = bytearray()
        def reader():
            try:
                while len(got) < SIZE:
                    d = s.recv(1 << 16)
                    if not d:
                        break
                    got.extend(d)
            except OSError as e:
                errors.append(f"stream {i} reading: {e!r}")
        r = threading.Thread(target=reader)
        r.start()
        for off in range(0, SIZE, CHUNK):
            s.sendall(data[off:off + CHUNK])
        r.join(120)
        s.close()
        if bytes(got) != data:
            errors.append(f"stream {i}: {len(got)} of {SIZE} bytes back, "
                          f"sha256 {hashlib.sha256(got).hexdigest()[:12]} "
                          f"!= {hashlib.sha256(data).hexdigest()[:12]}")
    except Exception as e:
        errors.append(f"stream {i}: {e!r}")

def pingpong():
    try:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(20)
        for n in range(300):
            msg = b"%05d" % n + os.urandom(100)
            u.sendto(msg, ("10.100.0.1", 7000))
            data, _ = u.recvfrom(2048)
            if data != b"echo:" + msg:
                errors.append(f"ping {n}: wrong answer")
                return
    except Exception as e:
        errors.append(f"ping-pong: {e!r}")

threads = [threading.Thread(target=stream, args=(i,)) for i in range(4)]
threads.append(threading.Thread(target=pingpong))
for t in threads:
    t.start()
for t in threads:
    t.join(300)
print("\n".join(errors) if errors else "all intact")
raise SystemExit(1 if errors else 0)
PY
log "$(cat "$TMPD/load.out")"
grep -q "all intact" "$TMPD/load.out" || fail "load: $(cat "$TMPD/load.out")"

has_tunnel "$UE" tscf0 || fail "the tunnel went down under load: $(tail -5 "$CTL_LOG")"
[ "$(tscfd_stat drop_malformed)" = 0 ] || fail "tscfd saw malformed frames: $(tscfd_stat drop_malformed)"
[ "$(tunnel_stat "$UE" tscf0 rx_malformed)" = 0 ] || fail "the client saw malformed frames"
[ "$(tunnel_stat "$UE" tscf0 tx_dropped)" = 0 ] || fail "the client dropped $(tunnel_stat "$UE" tscf0 tx_dropped) frames"
[ "$(link_stat "$UE" tscf0 tx_dropped)" = 0 ] || fail "tscf0 tx_dropped: $(link_stat "$UE" tscf0 tx_dropped)"
[ "$(tunnel_stat "$UE" tscf0 tx_bytes)" -ge $((4 * 3 * 1048576)) ] ||
	fail "the load did not go through the tunnel: $(tunnel_stat "$UE" tscf0 tx_bytes) bytes"
ip netns exec "$UE" "$CTL" down tscf0
wait $CTL_PID || fail "helper exit $?: $(tail -5 "$CTL_LOG")"
echo ok
