#!/bin/sh
# SO_TSCF_ENCLEVEL / SO_TSCF_PATH: UDP and TCP, IPv4 and IPv6, SOL_IP and
# SOL_IPV6, before and after connect; bad values, lengths and socket kinds
# fail with the documented errno; 100,000 marked sockets cost nothing once
# closed.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
ns=$(tscf_netns sockopt)

ip netns exec "$ns" python3 - <<'PY' || fail "sockopt checks"
import errno, socket, struct, sys
SOL_IP, SOL_IPV6, LEVEL, PATH = 0, 41, 0x5453, 0x5454
bad = []

def get(s, sol, opt):
    return struct.unpack('=i', s.getsockopt(sol, opt, 4))[0]

def expect_err(what, fn, want):
    try:
        fn()
        bad.append(f"{what}: no error, want {errno.errorcode[want]}")
    except OSError as e:
        if e.errno != want:
            bad.append(f"{what}: {errno.errorcode.get(e.errno)} want {errno.errorcode[want]}")

cases = [(socket.AF_INET, socket.SOCK_DGRAM, [SOL_IP]),
         (socket.AF_INET, socket.SOCK_STREAM, [SOL_IP]),
         (socket.AF_INET6, socket.SOCK_DGRAM, [SOL_IP, SOL_IPV6]),
         (socket.AF_INET6, socket.SOCK_STREAM, [SOL_IP, SOL_IPV6])]
for fam, typ, sols in cases:
    for sol in sols:
        s = socket.socket(fam, typ)
        name = f"{fam.name}/{typ.name}/sol{sol}"
        if get(s, sol, LEVEL) != 0: bad.append(f"{name}: default level")
        if get(s, sol, PATH) != 0: bad.append(f"{name}: default path")
        for lvl, path in ((1, 2), (2, 0), (0, 0), (2, 0)):
            s.setsockopt(sol, LEVEL, struct.pack('=i', lvl))
            if get(s, sol, LEVEL) != lvl: bad.append(f"{name}: level {lvl}")
            if get(s, sol, PATH) != path: bad.append(f"{name}: path for {lvl}: {get(s, sol, PATH)}")
        # after bind (and for UDP connect) it still changes
        s.bind(('::1' if fam == socket.AF_INET6 else '127.0.0.1', 0))
        if typ == socket.SOCK_DGRAM:
            s.connect(s.getsockname()[:2])
        s.setsockopt(sol, LEVEL, struct.pack('=i', 1))
        if get(s, sol, LEVEL) != 1: bad.append(f"{name}: level after bind/connect")
        expect_err(f"{name} value 3", lambda: s.setsockopt(sol, LEVEL, struct.pack('=i', 3)), errno.EINVAL)
        expect_err(f"{name} value -1", lambda: s.setsockopt(sol, LEVEL, struct.pack('=i', -1)), errno.EINVAL)
        expect_err(f"{name} short", lambda: s.setsockopt(sol, LEVEL, b'\1\0'), errno.EINVAL)
        expect_err(f"{name} long", lambda: s.setsockopt(sol, LEVEL, b'\1\0\0\0\0\0\0\0'), errno.EINVAL)
        expect_err(f"{name} set path", lambda: s.setsockopt(sol, PATH, struct.pack('=i', 1)), errno.ENOPROTOOPT)
        expect_err(f"{name} short get", lambda: s.getsockopt(sol, LEVEL, 2), errno.EINVAL)
        if get(s, sol, LEVEL) != 1: bad.append(f"{name}: level changed by a bad set")
        s.close()
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
expect_err("raw socket", lambda: r.setsockopt(SOL_IP, LEVEL, struct.pack('=i', 1)), errno.ENOPROTOOPT)
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY

# 100,000 sockets (scaled on the debug kernel) marked and closed: the
# table empties, memory comes back.
nsocks=$(scaled 100000)
ip netns exec "$ns" env NSOCKS="$nsocks" python3 - <<'PY' || fail "$nsocks sockets"
import os, resource, socket, struct, subprocess, sys, time
resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
def slab():
    with open('/proc/meminfo') as f:
        return {l.split(':')[0]: int(l.split()[1]) for l in f}['Slab']
def marked():
    out = subprocess.run(['python3', os.environ['TSCF_TOP'] + '/selftests/lib/tscf_nl.py', 'socks'],
                         check=True, capture_output=True, text=True).stdout
    return len(out.splitlines())
time.sleep(2)
before = slab()
nsocks = int(os.environ['NSOCKS'])
batch = min(2000, nsocks)
for _ in range(nsocks // batch):
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(batch)]
    for s in socks:
        s.setsockopt(0, 0x5453, struct.pack('=i', 2))
    for s in socks:
        s.close()
peak = slab()
deadline = time.time() + 20
while marked() and time.time() < deadline:
    time.sleep(0.2)
time.sleep(2)
# Shrinking every cache also empties KASAN's quarantine of it (the debug
# kernel keeps freed objects there), so "after" counts what is really held.
for name in os.listdir('/sys/kernel/slab'):
    try:
        with open(f'/sys/kernel/slab/{name}/shrink', 'w') as f:
            f.write('1')
    except OSError:
        pass
after = slab()
print(f"{nsocks} sockets; slab kB: before {before} peak {peak} after {after}; marked now {marked()}")
if marked():
    sys.exit("entries left in the table")
if after - before > 2048:
    sys.exit("slab memory did not come back")
PY
echo ok
