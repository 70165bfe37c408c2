#!/bin/sh
# Inner packets ready together go to an encrypted (TLS) tunnel in one
# write, not one TLS record and one system call each (docs/SERVER.md,
# "The userspace data path").  40 replies of an encrypted-only flow are
# queued on the TUN while tscfd is stopped; once it runs on, they must all
# arrive on the TLS tunnel, whole and in order, none on the clear one, in
# fewer writes to the TLS socket than packets (strace counts them; one
# per packet before).
. "$TSCF_TOP/selftests/lib.sh"
tscfd_topology tlsco DTTE
command -v strace > /dev/null || fail "strace is needed"
N=40

# A service that answers only when told: its answers reach the TUN together.
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
open(d + "/svc.got", "w").close()
while not os.path.exists(d + "/svc.go"):
    os.system("sleep 0.05")
for data, peer in got:
    s.sendto(b"echo:" + data, peer)
open(d + "/svc.sent", "w").close()' "$N" "$TMPD" &
at_exit "kill $! 2>/dev/null"
wait_for 20 test -e "$TMPD/svc.ready" || fail "the service did not start"

ip netns exec "$UE" env PID="$TSCFD_PID" D="$TMPD" N="$N" python3 -c '
import os, re, signal, socket, struct, subprocess, sys, time
sys.path.insert(0, sys.argv[1])
import tscf_client as tc
pid, d, n = int(os.environ["PID"]), os.environ["D"], int(os.environ["N"])

def wait_file(name, secs=10):
    end = time.time() + secs
    while not os.path.exists(os.path.join(d, name)):
        tc.check(time.time() < end, "timed out waiting for " + name)
        time.sleep(0.02)

def tls_fd():
    """tscfd descriptor of the established connection on port 4001."""
    inodes = set()
    for line in open("/proc/%d/net/tcp" % pid).readlines()[1:]:
        f = line.split()
        if f[1].endswith(":0FA1") and f[3] == "01":
            inodes.add(f[9])
    for fd in os.listdir("/proc/%d/fd" % pid):
        link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        m = re.match(r"socket:\[(\d+)\]", link)
        if m and m.group(1) in inodes:
            return int(fd)
    raise tc.Fail("no TLS connection in tscfd")

c = tc.Tunnel("udp", "10.10.0.2", 4000)
code, _ = c.config()
tc.check(code == tc.SUCCESS, "clear config %d" % code)
reserved, port, _ = tc.dtte_up(None, c)
e = tc.Tunnel("tls", "10.10.0.2", port, ca=d + "/ca.pem")
code, _ = e.encrypted(c, reserved, c.dtte_secret)
tc.check(code == tc.SUCCESS, "encrypted config %d" % code)
tc.check(tc.bind(e, c.ip4, 6001, 1, 7001, "10.100.0.1") == tc.SUCCESS, "flow bind")
fd = tls_fd()
for i in range(n):
    e.send(tc.udp4(c.ip4, "10.100.0.1", 6001, 7001, b"co-%03d" % i))
wait_file("svc.got")
st = subprocess.Popen(["strace", "-qq", "-e", "trace=write,writev,sendto,sendmsg",
                       "-e", "signal=none", "-s", "0", "-o", d + "/strace", "-p", str(pid)])
time.sleep(1)
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
want = [b"echo:co-%03d" % i for i in range(n)]
tc.check(got == want, "replies on the TLS tunnel: %d of %d, in order: %s" % (len(got), n, got == want[:len(got)]))
tc.check(c.recv(0.5) is None, "something came on the clear tunnel")
calls = [l for l in open(d + "/strace") if re.match(r"(write|writev|sendto|sendmsg)\(%d," % fd, l)]
print("%d replies in %d writes to the TLS socket (fd %d)" % (n, len(calls), fd))
tc.check(0 < len(calls) < n, "%d writes for %d packets: not coalesced" % (len(calls), n))
' "$TSCF_TOP/selftests/lib" > "$TMPD/out" 2>&1 || fail "$(cat "$TMPD/out")"
log "$(cat "$TMPD/out")"
kill -0 "$TSCFD_PID" || fail "tscfd died"
echo ok
