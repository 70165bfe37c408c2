#!/usr/bin/env python3
"""Mass peer churn on a server device (tscfd's kernel data path).

  srv_churn.py PUNT N [FLOOD_SECS]

In the caller's netns: creates a server device "churn0" (owned by this
process's genl socket) punting to PUNT, attaches a UDP socket bound to
127.0.0.1, adds N fast peers (outer 127.0.0.2:10000+i, inner 10.200.x.y),
then deletes every peer, one genl request each, as tscfd does on a mass
expiry: the first half while a child process sends datagrams from the
peers' outer addresses and inner packets routed into churn0 (receive and
transmit paths both read the peers under RCU), the second half alone,
timed.  Prints one JSON line: add_s (N adds), del_flood_s, del_s (the
del_n quiet deletes), fast_clear_s (clearing fast on one peer), the
peer counts before and after, and how many grace periods this process
waited for in the quiet deletes (del_gp_waits) and in the fast clear
(fast_clear_gp_waits), counted by kprobes on synchronize_rcu() and
synchronize_rcu_expedited() filtered on this process (null without
tracefs and kprobe events).  A count, unlike a time, does not depend on
how loaded the machine is.
"""
import json
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tscf_nl import A, CMD, Genl, nla  # noqa: E402

SP_REMOTE, SP_FD, SP_TSID, SP_IP4, SP_FAST = 1, 2, 3, 4, 6
BASE_PORT = 10000


def inner_ip(i):
    return '10.200.%d.%d' % (i // 250, i % 250 + 1)


def sin(addr, port):
    return struct.pack('=H', socket.AF_INET) + struct.pack('!H', port) + \
        socket.inet_aton(addr) + b'\0' * 8


def peer_attrs(ifindex, fd, i, full):
    nest = nla(SP_REMOTE, sin('127.0.0.2', BASE_PORT + i)) + \
        nla(SP_FD, struct.pack('=I', fd))
    if full:
        nest += nla(SP_TSID, struct.pack('=Q', i + 1)) + \
            nla(SP_IP4, socket.inet_aton(inner_ip(i))) + \
            nla(SP_FAST, b'\1')
    return nla(A['IFINDEX'], struct.pack('=I', ifindex)) + \
        nla(A['SRV_PEER'] | 0x8000, nest)


def count_peers(g):
    return len(g.do(CMD['SRV_PEER_GET'], dump=True))


def ip4_udp(src, dst, payload):
    udp = struct.pack('!HHHH', 4444, 7000, 8 + len(payload), 0) + payload
    hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 1, 0, 64, 17,
                      0, socket.inet_aton(src), socket.inet_aton(dst))
    s = sum(struct.unpack('!10H', hdr))
    s = (s >> 16) + (s & 0xffff)
    csum = ~(s + (s >> 16)) & 0xffff
    return hdr[:10] + struct.pack('!H', csum) + hdr[12:] + udp


def flood(n, port, secs):
    """Receive path: datagrams from peers' outer addresses; transmit path:
    inner packets to peers' addresses routed into churn0."""
    outs = []
    for i in range(0, n, max(1, n // 16)):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(('127.0.0.2', BASE_PORT + i))
        outs.append((s, i))
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    end = time.monotonic() + secs
    while time.monotonic() < end:
        for s, i in outs:
            try:
                s.sendto(ip4_udp(inner_ip(i), '10.100.0.1', b'churn'),
                         ('127.0.0.1', port))
                tx.sendto(b'back', (inner_ip(i), 7000))
            except OSError:
                pass
    os._exit(0)


class GpWaits:
    """Counts this process's calls to the kernel's grace-period waits."""
    TRACING = '/sys/kernel/tracing'
    GROUP = 'tscfchurn'
    FUNCS = ('synchronize_rcu', 'synchronize_rcu_expedited')

    def __init__(self):
        self.ok = False
        if not os.path.exists(self.TRACING + '/kprobe_events'):
            os.system('mount -t tracefs nodev %s 2>/dev/null' % self.TRACING)
        try:
            for fn in self.FUNCS:
                self._append('kprobe_events', 'p:%s/%s %s' % (self.GROUP, fn, fn))
            for fn in self.FUNCS:
                self._write('events/%s/%s/filter' % (self.GROUP, fn),
                            'common_pid == %d' % os.getpid())
            self.ok = True
        except OSError:
            self.close()

    def _append(self, path, line):
        # Not open(..., 'a'): its seek to the end fails on tracefs.
        fd = os.open('%s/%s' % (self.TRACING, path), os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, line.encode() + b'\n')
        finally:
            os.close(fd)

    def _write(self, path, text):
        with open('%s/%s' % (self.TRACING, path), 'w') as f:
            f.write(text)

    def count(self, fn, *args):
        """Runs fn(*args); returns how many waits it made (None: no probe)."""
        if not self.ok:
            fn(*args)
            return None
        self._write('trace', '')
        self._write('events/%s/enable' % self.GROUP, '1')
        try:
            fn(*args)
        finally:
            self._write('events/%s/enable' % self.GROUP, '0')
        with open(self.TRACING + '/trace') as f:
            return sum(1 for line in f if ' %s: ' % self.FUNCS[0] in line or
                       ' %s: ' % self.FUNCS[1] in line)

    def close(self):
        try:
            self._write('events/%s/enable' % self.GROUP, '0')
        except OSError:
            pass
        for fn in self.FUNCS:
            try:
                self._append('kprobe_events', '-:%s/%s' % (self.GROUP, fn))
            except OSError:
                pass


def main(argv):
    punt, n = argv[0], int(argv[1])
    flood_secs = float(argv[2]) if len(argv) > 2 else 0
    g = Genl()
    rep = g.do(CMD['SRV_NEW'], nla(A['IFNAME'], b'churn0\0') +
               nla(A['PUNT_IFINDEX'],
                   struct.pack('=I', socket.if_nametoindex(punt))))
    ifindex = struct.unpack('=I', rep[0][1][A['IFINDEX']])[0]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(('127.0.0.1', 0))
    sock.setblocking(False)
    port = sock.getsockname()[1]
    g.do(CMD['SRV_SOCK_ADD'], nla(A['IFINDEX'], struct.pack('=I', ifindex)) +
         nla(A['SOCK_FD'], struct.pack('=I', sock.fileno())))
    os.system('ip link set churn0 up && ip route add 10.200.0.0/16 dev churn0')

    t0 = time.monotonic()
    for i in range(n):
        g.do(CMD['SRV_PEER_SET'], peer_attrs(ifindex, sock.fileno(), i, True))
    add_s = time.monotonic() - t0
    before = count_peers(g)

    # One fast clear: the promise before a flow binding keeps its wait.
    clear = nla(A['IFINDEX'], struct.pack('=I', ifindex)) + \
        nla(A['SRV_PEER'] | 0x8000,
            nla(SP_REMOTE, sin('127.0.0.2', BASE_PORT)) +
            nla(SP_FD, struct.pack('=I', sock.fileno())) +
            nla(SP_FAST, b'\0'))
    gp = GpWaits()
    t0 = time.monotonic()
    fast_clear_gp = gp.count(g.do, CMD['SRV_PEER_SET'], clear)
    fast_clear_s = time.monotonic() - t0

    # First half: deleted while the flood runs (the readers' side of RCU).
    half = n // 2
    child = 0
    if flood_secs > 0:
        child = os.fork()
        if child == 0:
            flood(n, port, flood_secs)
        time.sleep(0.5)     # the flood runs before the first delete
    t0 = time.monotonic()
    for i in range(half):
        g.do(CMD['SRV_PEER_DEL'], peer_attrs(ifindex, sock.fileno(), i, False))
    del_flood_s = time.monotonic() - t0
    if child:
        os.waitpid(child, 0)
    # Second half: timed alone, against the adds (no flood either).
    def quiet_deletes():
        for i in range(half, n):
            g.do(CMD['SRV_PEER_DEL'], peer_attrs(ifindex, sock.fileno(), i, False))
    t0 = time.monotonic()
    del_gp = gp.count(quiet_deletes)
    del_s = time.monotonic() - t0
    gp.close()
    after = count_peers(g)
    # Drain what the socket got back (punted to tscfd in real life).
    got = 0
    try:
        while True:
            sock.recv(2048)
            got += 1
    except BlockingIOError:
        pass
    print(json.dumps(dict(n=n, add_s=round(add_s, 3), del_flood_s=round(del_flood_s, 3),
                          del_s=round(del_s, 3), del_n=n - half,
                          fast_clear_s=round(fast_clear_s, 4),
                          peers_before=before, peers_after=after,
                          to_socket=got, del_gp_waits=del_gp,
                          fast_clear_gp_waits=fast_clear_gp)))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
