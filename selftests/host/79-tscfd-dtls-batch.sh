#!/bin/sh
# DTLS records go in and out of tscfd in batches (docs/SERVER.md, "DTLS
# I/O"): 40 inner packets sent on a DTLS tunnel while tscfd is stopped
# are read with fewer reads than records (recvmmsg), and 40 replies
# queued on the TUN while it is stopped go out with fewer writes than
# records (the round's sendmmsg); all arrive whole and in order, none on
# the clear tunnel.  strace counts the system calls on the client's DTLS
# socket; the one-SSL_read, one-SSL_write-per-record code made one each.
# Then, with udp-socket-buffer at its least (64 KB), a burst of records
# sent while tscfd is stopped overflows the client's socket, and the
# kernel's drops there are counted (drop_rxq_overflow).
. "$TSCF_TOP/selftests/lib.sh"
tscfd_topology dtlsb DTTE
kill "$TSCFD_PID" 2>/dev/null || true
wait "$TSCFD_PID" 2>/dev/null || true
sed -i '/^udp-socket-buffer/d' "$TMPD/tscfd.conf"
sed -i "1i udp-socket-buffer 64" "$TMPD/tscfd.conf"
tscfd_start
command -v strace > /dev/null || fail "strace is needed"
N=40

# A service that records what came and answers only when told.
ip netns exec "$SRV" python3 -c '
import os, socket, sys
n, d = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.100.0.1", 7001))
open(d + "/svc.ready", "w").close()
got = []
while len(got) < n:
    data, peer = s.recvfrom(65536)
    got.append((data, peer))
with open(d + "/svc.got.tmp", "w") as f:
    f.write("\n".join(x.decode() for x, _ in got))
os.rename(d + "/svc.got.tmp", d + "/svc.got")
while not os.path.exists(d + "/svc.go"):
    os.system("sleep 0.05")
for data, peer in got:
    s.sendto(b"echo:" + data, peer)
open(d + "/svc.sent", "w").close()' "$N" "$TMPD" &
at_exit "kill $! 2>/dev/null"
wait_for 20 test -e "$TMPD/svc.ready" || fail "the service did not start"

ov0=$(tscfd_stat drop_rxq_overflow)
[ -n "$ov0" ] || fail "no drop_rxq_overflow counter in tscfd --stats"
ip netns exec "$UE" env PID="$TSCFD_PID" D="$TMPD" N="$N" python3 -c '
import os, re, signal, subprocess, sys, time
sys.path.insert(0, sys.argv[1])
import tscf_client as tc
from tscf_dtls import DtlsTunnel
pid, d, n = int(os.environ["PID"]), os.environ["D"], int(os.environ["N"])

def wait_file(name, secs=10):
    end = time.time() + secs
    while not os.path.exists(os.path.join(d, name)):
        tc.check(time.time() < end, "timed out waiting for " + name)
        time.sleep(0.02)

def dtls_fd():
    """tscfd descriptor of the connected DTLS socket (port 4001, a peer)."""
    inodes = set()
    for line in open("/proc/%d/net/udp" % pid).readlines()[1:]:
        f = line.split()
        if f[1].endswith(":0FA1") and not f[2].endswith(":0000"):
            inodes.add(f[9])
    for fd in os.listdir("/proc/%d/fd" % pid):
        link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        m = re.match(r"socket:\[(\d+)\]", link)
        if m and m.group(1) in inodes:
            return int(fd)
    raise tc.Fail("no DTLS client socket in tscfd")

c = tc.Tunnel("udp", "10.10.0.2", 4000)
code, _ = c.config()
tc.check(code == tc.SUCCESS, "clear config %d" % code)
reserved, port, _ = tc.dtte_up(None, c)
e = DtlsTunnel("10.10.0.2", port, d + "/ca.pem")
code, _ = e.encrypted(c, reserved, c.dtte_secret)
tc.check(code == tc.SUCCESS, "encrypted config over DTLS %d" % code)
tc.check(tc.bind(e, c.ip4, 6001, 1, 7001, "10.100.0.1") == tc.SUCCESS, "flow bind")
fd = dtls_fd()
st = subprocess.Popen(["strace", "-qq", "-e",
                       "trace=read,recvfrom,recvmsg,recvmmsg,write,writev,sendto,sendmsg,sendmmsg",
                       "-e", "signal=none", "-s", "0", "-o", d + "/strace", "-p", str(pid)])
time.sleep(1)
# In: the records wait in the socket while tscfd is stopped.
os.kill(pid, signal.SIGSTOP)
for i in range(n):
    e.send(tc.udp4(c.ip4, "10.100.0.1", 6001, 7001, b"db-%03d" % i))
time.sleep(0.3)
os.kill(pid, signal.SIGCONT)
wait_file("svc.got")
# Out: the replies wait on the TUN while tscfd is stopped.
os.kill(pid, signal.SIGSTOP)
open(os.path.join(d, "svc.go"), "w").close()
wait_file("svc.sent")
time.sleep(0.3)
os.kill(pid, signal.SIGCONT)
got = []
end = time.time() + 5
while time.time() < end and len(got) < n:
    f = e.recv(max(0.01, end - time.time()))
    if not f:
        break
    if f[0] >> 4 == 4:
        got.append(f[28:])
time.sleep(0.3)
st.terminate()
st.wait()
sent = ["db-%03d" % i for i in range(n)]
came = open(d + "/svc.got").read().split("\n")
tc.check(came == sent, "the service got %d of %d, in order: %s" % (len(came), n, came == sent[:len(came)]))
want = [b"echo:db-%03d" % i for i in range(n)]
tc.check(got == want, "replies on the DTLS tunnel: %d of %d, in order: %s" % (len(got), n, got == want[:len(got)]))
tc.check(c.recv(0.5) is None, "something came on the clear tunnel")
lines = open(d + "/strace").readlines()
reads = [l for l in lines if re.match(r"(read|recvfrom|recvmsg|recvmmsg)\(%d," % fd, l)]
writes = [l for l in lines if re.match(r"(write|writev|sendto|sendmsg|sendmmsg)\(%d," % fd, l)]
print("%d records in: %d reads; %d records out: %d writes (DTLS socket, fd %d)"
      % (n, len(reads), n, len(writes), fd))
tc.check(0 < len(reads) < n // 4, "%d reads for %d records: not batched" % (len(reads), n))
tc.check(0 < len(writes) < n // 4, "%d writes for %d records: not batched" % (len(writes), n))
# A burst larger than the 64 KB socket holds, paced so the UE loses none.
os.kill(pid, signal.SIGSTOP)
for i in range(600):
    e.send(tc.udp4(c.ip4, "10.100.0.1", 6001, 7009, b"\xff" * 1000))
    if i % 20 == 19:
        time.sleep(0.002)
time.sleep(0.5)
os.kill(pid, signal.SIGCONT)
time.sleep(1)
' "$TSCF_TOP/selftests/lib" > "$TMPD/out" 2>&1 || fail "$(cat "$TMPD/out")"
log "$(cat "$TMPD/out")"
ov=$(($(tscfd_stat drop_rxq_overflow) - ov0))
log "600 records of 1 KB at a 64 KB DTLS socket: $ov dropped by the kernel, counted"
[ "$ov" -gt 0 ] || fail "no receive-queue drop counted at the DTLS client's socket"
kill -0 "$TSCFD_PID" || fail "tscfd died"
echo ok
