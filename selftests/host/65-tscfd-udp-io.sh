#!/bin/sh
# tscfd's UDP data path (docs/SERVER.md, "The userspace data path"):
#  1. udp-socket-buffer is applied to the UDP tunnel socket, receive and
#     send (ss -m shows the kernel's doubled figure);
#  2. with a small buffer, a burst sent while tscfd is stopped overflows
#     it, and every datagram is accounted for: read (unverified_rx_bytes:
#     they come from no tunnel) or dropped by the kernel (drop_rxq_overflow);
#  3. with the default buffer (4 MiB), the same kind of burst, far larger
#     than the kernel's default of 208 KB, arrives whole;
#  4. batching keeps the per-packet checks: inner packets queued together
#     (tscfd stopped while they arrive, so they are read in one batch),
#     every third with a spoofed source, are each judged alone: every
#     spoofed one is dropped and counted, every other one is answered.
. "$TSCF_TOP/selftests/lib.sh"
tscfd_topology udpio ""

restart() {	# restart with udp-socket-buffer $1 KB (empty: the default)
	kill "$TSCFD_PID" 2>/dev/null || true
	wait "$TSCFD_PID" 2>/dev/null || true
	sed -i '/^udp-socket-buffer/d' "$TMPD/tscfd.conf"
	[ -z "$1" ] || sed -i "1i udp-socket-buffer $1" "$TMPD/tscfd.conf"
	tscfd_start
}

skmem() {	# the UDP tunnel socket's rb or tb (ss -m)
	ip netns exec "$SRV" ss -Huamn 'sport = :4000' |
		tr ',()' '\n\n\n' | sed -n "s/^$1\([0-9]*\)$/\1/p" | head -n 1
}

# burst COUNT: COUNT datagrams of 1000 bytes that are not TSCF frames, sent
# while tscfd is stopped, paced so that none is lost before the socket.
burst() {
	kill -STOP "$TSCFD_PID"
	ip netns exec "$UE" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[1])):
    s.sendto(b"\xff" * 1000, ("10.10.0.2", 4000))
    if i % 20 == 19:
        time.sleep(0.002)' "$1"
	sleep 0.5
	kill -CONT "$TSCFD_PID"
	sleep 1.5	# the count is read once a second when nothing follows
}

# 1. The configured size is the socket's.
restart 16384
rb=$(skmem rb)
tb=$(skmem tb)
log "udp-socket-buffer 16384: rb $rb tb $tb"
[ "$rb" = 33554432 ] || fail "receive buffer $rb, want 33554432 (16 MiB doubled)"
[ "$tb" = 33554432 ] || fail "send buffer $tb, want 33554432 (16 MiB doubled)"

# 2. A small buffer overflows; the kernel's drops are counted.
restart 64
ns0=$(tscfd_stat unverified_rx_bytes)
ov0=$(tscfd_stat drop_rxq_overflow)
[ -n "$ov0" ] || fail "no drop_rxq_overflow counter in tscfd --stats"
burst 600
ns=$((($(tscfd_stat unverified_rx_bytes) - ns0) / 1000))
ov=$(($(tscfd_stat drop_rxq_overflow) - ov0))
log "udp-socket-buffer 64: of 600 datagrams, $ns read and $ov dropped by the kernel"
[ "$ov" -gt 0 ] || fail "no receive-queue drop counted with a 64 KB buffer"
[ $((ns + ov)) -eq 600 ] || fail "$ns read + $ov dropped is not the 600 sent"

# 3. The default buffer holds a burst far larger than the kernel default.
restart ""
rb=$(skmem rb)
[ "$rb" = 8388608 ] || fail "default receive buffer $rb, want 8388608 (4 MiB doubled)"
ns0=$(tscfd_stat unverified_rx_bytes)
ov0=$(tscfd_stat drop_rxq_overflow)
burst 1500
ns=$((($(tscfd_stat unverified_rx_bytes) - ns0) / 1000))
ov=$(($(tscfd_stat drop_rxq_overflow) - ov0))
log "default buffer: of 1500 datagrams (1.5 MB), $ns read and $ov dropped"
[ "$ov" -eq 0 ] && [ "$ns" -eq 1500 ] || fail "the burst did not arrive whole"

# 4. Spoofed inner sources inside one batch are each dropped and counted.
sp0=$(tscfd_stat drop_spoofed)
rx0=$(tscfd_stat rx_packets)
out=$(ip netns exec "$UE" env PID="$TSCFD_PID" python3 -c '
import os, signal, sys, time
sys.path.insert(0, sys.argv[1])
import tscf_client as tc
t = tc.Tunnel("udp", "10.10.0.2", 4000)
code, m = t.config()
tc.check(code == tc.SUCCESS, "config response code %d" % code)
pid = int(os.environ["PID"])
os.kill(pid, signal.SIGSTOP)
sent = spoofed = 0
for i in range(60):
    src = "10.100.0.250" if i % 3 == 2 else t.ip4
    spoofed += src != t.ip4
    t.send(tc.udp4(src, "10.100.0.1", 6000, 7000, b"batch-%d" % i))
    sent += 1
time.sleep(0.3)
os.kill(pid, signal.SIGCONT)
got = set()
end = time.time() + 5
while time.time() < end and len(got) < sent - spoofed:
    f = t.recv(max(0.01, end - time.time()))
    if not f:
        break
    if f[0] >> 4 == 4 and b"echo:batch-" in f:
        got.add(int(f.split(b"echo:batch-")[1]))
bad = sorted(i for i in got if i % 3 == 2)
tc.check(not bad, "spoofed packets answered: %s" % bad)
tc.check(len(got) == sent - spoofed, "answers to %d of %d" % (len(got), sent - spoofed))
print("%d sent, %d spoofed, %d answered" % (sent, spoofed, len(got)))
' "$TSCF_TOP/selftests/lib" 2>&1) || fail "batch: $out"
sp=$(($(tscfd_stat drop_spoofed) - sp0))
rx=$(($(tscfd_stat rx_packets) - rx0))
log "batch: $out; drop_spoofed +$sp, rx_packets +$rx"
[ "$sp" -eq 20 ] || fail "drop_spoofed +$sp, want +20"
[ "$rx" -eq 40 ] || fail "rx_packets +$rx, want +40"
kill -0 "$TSCFD_PID" || fail "tscfd died"
echo ok
