#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Many stream peers on one server device: what each costs the kernel.

  srv_stream_scale.py PUNT N [MAX_KIB_PER_PEER]

Run as root in a netns of its own with lo up and PUNT (a TUN device) in
it.  Plays tscfd (as srv_stream.py does) with N clear TCP sessions handed
to the kernel as fast stream peers (inner 10.100.x.y), and prints one
JSON line of what it measured.  What must hold, each checked (FAIL and
exit 1 after the rest):
- every peer's packet is delivered, a reply to each comes out of its
  connection (the kernel's send), and a frame larger than the lean
  receive buffer, written in two halves, reaches the listener whole (an
  srv-frame event), on a few of them;
- once the traffic is over, the peers cost the kernel at most
  MAX_KIB_PER_PEER each (default 16; MemFree before the adds, after the
  traffic): an idle stream holds no receive buffer (a whole one is
  128 KiB) and its connection no page of its own for what it sent (up to
  32 KiB);
- deleting them, one genl request each as tscfd's sweep does, waits for
  no grace period (kprobes, counted as srv_churn.py does, not timed),
  and every client then sees its connection end;
- the device deleted with peers attached ends their connections too.
"""
import json
import os
import resource
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from srv_churn import GpWaits  # noqa: E402
from srv_stream import Server, check, ctrl, eof_within, FAILED  # noqa: E402
from tscf_nl import CMD  # noqa: E402
from tunnel_peer import udp4_packet as udp4  # noqa: E402

SO_RCVBUFFORCE = 33      # not in the socket module
BIG = 3          # peers that also send a frame larger than the lean buffer


def inner(i):
    return '10.100.%d.%d' % (i // 250, i % 250 + 1)


def mem_free_kib():
    """MemFree once the page cache is dropped and the workers are idle.
    Twice: what the first drop frees after a grace period is counted."""
    for _ in range(2):
        time.sleep(1)
        with open('/proc/sys/vm/drop_caches', 'w') as f:
            f.write('3\n')
    time.sleep(1)
    with open('/proc/meminfo') as f:
        for line in f:
            if line.startswith('MemFree:'):
                return int(line.split()[1])
    raise RuntimeError('no MemFree in /proc/meminfo')


def main():
    punt, n = sys.argv[1], int(sys.argv[2])
    max_kib = int(sys.argv[3]) if len(sys.argv) > 3 else 16
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 3 * n + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
    s = Server('ssc0', punt, '10.99.0.1')
    os.system('ip route add 10.100.0.0/16 dev ssc0')
    # Room for every packet at once (root: past rmem_max).
    s.ev.s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 1 << 20)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 1 << 23)
    u.bind(('10.99.0.1', 7000))
    u.settimeout(5)

    pairs = [s.connect() for _ in range(n)]
    free0 = mem_free_kib()
    t0 = time.monotonic()
    for i, (_c, a) in enumerate(pairs):
        s.set(a, fast=1, inner=inner(i), tsid=i + 1)
    add_s = time.monotonic() - t0

    # One packet from each: a lean buffer taken and given back.
    for i, (c, _a) in enumerate(pairs):
        c.sendall(udp4(inner(i), '10.99.0.1', 5000, 7000, b'p%d' % i))
    got = set()
    try:
        while len(got) < n:
            d, src = u.recvfrom(100)
            got.add((d, src[0]))
    except socket.timeout:
        pass
    want_got = {(b'p%d' % i, inner(i)) for i in range(n)}
    check(got == want_got, f'each of {n} peers\' packets delivered: {len(got & want_got)}')
    # And one back to each, sent on its connection by the kernel: 1,300
    # bytes, past what TCP copies into an skb's head, so into a page
    # fragment (one the connection kept would be up to 32 KiB).
    pad = b'.' * 1300
    for i in range(n):
        u.sendto(pad + b'r%d' % i, (inner(i), 5000))
    back = 0
    for i, (c, _a) in enumerate(pairs):
        c.settimeout(5)
        try:
            fr = c.recv(28 + len(pad + b'r%d' % i), socket.MSG_WAITALL)
        except socket.timeout:
            fr = b''
        back += fr.endswith(pad + b'r%d' % i)
    check(back == n, f'a reply to each of {n} peers comes out of its connection: {back}')
    # And a frame of tscfd's to each (srv-peer-send), as its keepalive
    # answers go.
    for i, (_c, a) in enumerate(pairs):
        s.send(a, ctrl(0x20, i))
    back = 0
    for i, (c, _a) in enumerate(pairs):
        try:
            fr = c.recv(100)
        except socket.timeout:
            fr = b''
        back += fr == ctrl(0x20, i)
    check(back == n, f'srv-peer-send to each of {n} peers: {back} frames arrive')

    # A packet of 20 KB (above the MTU, not a super-frame: tscfd's) in two
    # writes: the buffer grows while half of it waits, then goes.
    big = {}
    for i in range(BIG):
        c, a = pairs[i]
        f = udp4(inner(i), '10.99.0.1', 5000, 7000, bytes(range(256)) * 80)
        big[a.fileno()] = f
        c.sendall(f[:10000])
    time.sleep(0.3)
    for i in range(BIG):
        c, a = pairs[i]
        c.sendall(big[a.fileno()][10000:])
    seen = {}
    for _ in range(BIG):
        ev = s.event(5)
        if ev and ev[0] in big:
            seen[ev[0]] = ev[2]
    check(seen == big, f'{BIG} frames of {len(f)} bytes in two writes reach tscfd whole')

    free1 = mem_free_kib()
    kib_per_peer = (free0 - free1) / n
    check(kib_per_peer <= max_kib,
          f'{n} idle stream peers cost {kib_per_peer:.1f} KiB each '
          f'(at most {max_kib})')

    # The deletes, counted: no grace period each.
    keep = 20 if n > 40 else n // 2
    gone = pairs[keep:]
    gp = GpWaits()

    def deletes():
        for _c, a in gone:
            s.g.do(CMD['SRV_PEER_DEL'], s.peer(a))
    t0 = time.monotonic()
    del_gp = gp.count(deletes)
    del_s = time.monotonic() - t0
    gp.close()
    if del_gp is None:
        check(False, 'no kprobe events in tracefs: cannot count grace-period waits')
    else:
        check(del_gp == 0, f'{len(gone)} stream peer deletes waited for {del_gp} grace periods')
    ended = sum(1 for c, _a in gone if eof_within(c, 10))
    check(ended == len(gone), f'each deleted peer\'s connection ends: {ended} of {len(gone)}')

    # The device deleted under the peers left: their connections end too.
    os.system('ip link del ssc0')
    ended = sum(1 for c, _a in pairs[:keep] if eof_within(c, 10))
    check(ended == keep, f'the device gone, its {keep} peers\' connections end: {ended}')

    print(json.dumps(dict(n=n, add_s=round(add_s, 3), del_n=len(gone),
                          del_s=round(del_s, 3), del_gp_waits=del_gp,
                          kib_per_peer=round(kib_per_peer, 2),
                          mem_free_before_kib=free0, mem_free_after_kib=free1)),
          flush=True)
    return 1 if FAILED else 0


if __name__ == '__main__':
    sys.exit(main())
