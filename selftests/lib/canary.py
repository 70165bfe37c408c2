#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Canary traffic for the leak matrix (selftests/kernel/50-leak-matrix.sh).

Every payload is the unit "CANARY-LEAKMATRIX-<tag>#<kind>:<seq>;" repeated
to the message size, so each frame (and each IP fragment) that carries any
of it in the clear shows the tag, and the receiver counts distinct messages.

  canary.py serve --log FILE [--v6] [--slow-go FILE]
      in SRV: UDP and TCP sinks on 10.100.0.1 (and fd00:100::1) port 7100,
      a TCP sink on 7101 that reads nothing until --slow-go exists; writes
      {tag: distinct messages received} to FILE as they arrive
  canary.py send --tag T --kinds K,K.. --ready FILE --stop FILE
                 [--size N] [--interval S] [--mode normal|flip|closeq]
                 [--netns NAME]
      in UE: encrypted-only sockets (kinds udp4, udp4c, udp6, udp6c, tcp4,
      tcp6; "c": connected UDP), waits until each is on the encrypted path,
      creates FILE, sends canaries until --stop exists; prints one JSON
      summary.  flip: one thread per socket sends at full rate while
      another flips the level between 1 and 2.  closeq: TCP to port 7101,
      fill the send queue, close().  --netns: the sockets are made in that
      namespace, the process lives outside it.
  canary.py listen --tag T --addr A[@LEVEL].. --ready FILE --stop FILE
      in UE: a listener on port 7200 at LEVEL (default 1, encrypted-only)
      per address; each accepted child sends canaries until --stop exists
  canary.py pull --tag T --dst A --log FILE --stop FILE
      in SRV: connect to the listener, count what arrives into FILE
  canary.py inject --tag T --dev DEV
      AF_PACKET frames into DEV carrying the canary: a control frame,
      bad nibbles, IP lengths that lie, a runt; prints a JSON summary
  canary.py count --pcap FILE [--tag T]
      tags of the canary frames in a capture: {tag: frames} (tshark), or
      the number of frames of tag T
"""
import ctypes
import errno
import json
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time

SOL_IP, SOL_IPV6 = 0, 41
LEVEL, PATH = 0x5453, 0x5454
PATH_ENCRYPTED = 1
PORT, SLOW_PORT, LISTEN_PORT = 7100, 7101, 7200
V4, V6 = '10.100.0.1', 'fd00:100::1'
UNIT_RE = re.compile(rb'CANARY-LEAKMATRIX-([a-z0-9-]+)#([a-z0-9]+):(\d+);')


def out(**kw):
    print(json.dumps(kw), flush=True)


def opts(args):
    o = {}
    while args:
        k = args.pop(0)[2:]
        o.setdefault(k, []).append(args.pop(0) if args and not args[0].startswith('--') else '1')
    return {k: v if len(v) > 1 else v[0] for k, v in o.items()}


def message(tag, kind, seq, size):
    unit = f'CANARY-LEAKMATRIX-{tag}#{kind}:{seq};'.encode()
    n = max(size, len(unit))
    return (unit * (n // len(unit) + 1))[:n]


class Counter:
    """Distinct canary messages received, per tag, mirrored to a file."""

    def __init__(self, path):
        self.path = path
        self.seen = {}
        self.lock = threading.Lock()
        self.dirty = True
        threading.Thread(target=self._flush, daemon=True).start()

    def feed(self, data):
        with self.lock:
            for tag, kind, seq in UNIT_RE.findall(data):
                s = self.seen.setdefault(tag.decode(), set())
                if (kind, seq) not in s:
                    s.add((kind, seq))
                    self.dirty = True

    def _flush(self):
        while True:
            if self.dirty:
                with self.lock:
                    self.dirty = False
                    snap = {k: len(v) for k, v in self.seen.items()}
                with open(self.path + '.tmp', 'w') as f:
                    json.dump(snap, f)
                os.rename(self.path + '.tmp', self.path)
            time.sleep(0.1)


def read_stream(c, counter, go=None):
    if go:
        while not os.path.exists(go):
            time.sleep(0.1)
    carry = b''
    try:
        while True:
            d = c.recv(65536)
            if not d:
                break
            counter.feed(carry + d)
            carry = (carry + d)[-200:]
    except OSError:
        pass
    c.close()


def serve(o):
    counter = Counter(o['log'])
    addrs = [(socket.AF_INET, V4)] + ([(socket.AF_INET6, V6)] if 'v6' in o else [])

    def udp(fam, addr):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.bind((addr, PORT))
        while True:
            counter.feed(s.recv(65536))

    def tcp(fam, addr, port, go):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if go:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
        s.bind((addr, port))
        s.listen(16)
        while True:
            c, _ = s.accept()
            threading.Thread(target=read_stream, args=(c, counter, go), daemon=True).start()

    for fam, addr in addrs:
        threading.Thread(target=udp, args=(fam, addr), daemon=True).start()
        threading.Thread(target=tcp, args=(fam, addr, PORT, None), daemon=True).start()
        threading.Thread(target=tcp, args=(fam, addr, SLOW_PORT, o.get('slow-go')),
                         daemon=True).start()
    out(serving=True)
    while True:
        time.sleep(3600)


def setns(path):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    if libc.setns(fd, 0) != 0:
        raise OSError(ctypes.get_errno(), f'setns {path}')
    os.close(fd)


def wait_file(path, limit=120):
    end = time.time() + limit
    while not os.path.exists(path) and time.time() < end:
        time.sleep(0.05)


class Sock:
    def __init__(self, kind, port):
        self.kind = kind
        self.fam = socket.AF_INET6 if '6' in kind else socket.AF_INET
        self.tcp = kind.startswith('tcp')
        self.sol = SOL_IPV6 if self.fam == socket.AF_INET6 else SOL_IP
        self.dst = (V6 if self.fam == socket.AF_INET6 else V4, port)
        self.s = socket.socket(self.fam, socket.SOCK_STREAM if self.tcp else socket.SOCK_DGRAM)
        self.level(1)
        self.sent = self.refused = self.full = self.seq = 0
        self.errors = {}
        self.dead = False

    def level(self, n):
        self.s.setsockopt(self.sol, LEVEL, struct.pack('=i', n))

    def path(self):
        return struct.unpack('=i', self.s.getsockopt(self.sol, PATH, 4))[0]

    def connect(self):
        if self.tcp or self.kind.endswith('c'):
            self.s.settimeout(20)
            self.s.connect(self.dst)
            self.s.setblocking(False)

    def send(self, tag, size):
        self.seq += 1
        msg = message(tag, self.kind, self.seq, size)
        try:
            if self.tcp or self.kind.endswith('c'):
                self.s.send(msg, socket.MSG_DONTWAIT)
            else:
                self.s.sendto(msg, socket.MSG_DONTWAIT, self.dst)
            self.sent += 1
        except BlockingIOError:
            self.full += 1
        except OSError as e:
            name = errno.errorcode.get(e.errno, str(e.errno))
            self.errors[name] = self.errors.get(name, 0) + 1
            self.refused += 1
            if self.tcp and e.errno in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN):
                self.dead = True

    def summary(self):
        return dict(sent=self.sent, refused=self.refused, full=self.full, errors=self.errors)


def send(o):
    tag, size = o['tag'], int(o.get('size', 200))
    mode = o.get('mode', 'normal')
    port = SLOW_PORT if mode == 'closeq' else PORT
    home = os.open('/proc/self/ns/net', os.O_RDONLY) if 'netns' in o else None
    if home is not None:
        setns('/run/netns/' + o['netns'])
    socks = [Sock(k, port) for k in o['kinds'].split(',')]
    # The first demand brings the encrypted tunnel up: a TLS handshake
    # under TCG on a loaded host can take a minute.
    end = time.time() + 150
    while 'nowait' not in o and time.time() < end and \
            any(s.path() != PATH_ENCRYPTED for s in socks):
        time.sleep(0.05)
    paths = {s.kind: s.path() for s in socks}
    if 'nowait' not in o and any(p != PATH_ENCRYPTED for p in paths.values()):
        out(ready=False, paths=paths)
        return 1
    for s in socks:
        if mode == 'closeq':
            s.s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32768)
        s.connect()
    if home is not None:
        ctypes.CDLL(None).setns(home, 0)
    if 'plant' in o:
        # The planted bug: the sockets fall back to unencrypted.
        for s in socks:
            s.level(0)
    if mode == 'closeq':
        return close_queued(o, socks, tag, size)
    if mode == 'flip':
        return flip(o, socks, tag, size)
    open(o['ready'], 'w').close()
    interval = float(o.get('interval', 0.05))
    while not os.path.exists(o['stop']):
        for s in socks:
            if not s.dead:
                s.send(tag, size)
        time.sleep(interval)
    out(**total(socks))
    return 0


def total(socks, **extra):
    t = dict(sent=0, refused=0, full=0)
    for s in socks:
        for k in t:
            t[k] += getattr(s, k)
    t['per'] = {s.kind: s.summary() for s in socks}
    t.update(extra)
    return t


def close_queued(o, socks, tag, size):
    """Fill each TCP socket's send queue (the reader is stalled), close."""
    for s in socks:
        end = time.time() + 10
        while time.time() < end and s.full < 20 and not s.dead:
            full = s.full
            s.send(tag, size)
            if s.full != full:
                time.sleep(0.05)
        s.s.close()
    open(o['ready'], 'w').close()
    wait_file(o['stop'])
    out(**total(socks))
    return 0


def flip(o, socks, tag, size):
    """A sender thread per socket at full rate; this thread flips levels."""
    stop = threading.Event()
    flips = [0]

    def pump(s):
        while not stop.is_set() and not s.dead:
            full = s.full
            s.send(tag, size)
            if s.full != full:
                time.sleep(0.001)

    threads = [threading.Thread(target=pump, args=(s,)) for s in socks]
    for t in threads:
        t.start()
    open(o['ready'], 'w').close()
    levels = (0, 2) if 'plant' in o else (1, 2)
    while not os.path.exists(o['stop']):
        lvl = levels[flips[0] % 2]
        for s in socks:
            s.level(lvl)
        flips[0] += 1
        time.sleep(0.002)
    stop.set()
    for t in threads:
        t.join()
    for s in socks:
        s.level(1)
    out(**total(socks, flips=flips[0]))
    return 0


def listen(o):
    addrs = o['addr'] if isinstance(o['addr'], list) else [o['addr']]
    tag = o['tag']
    ls = []
    for spec in addrs:
        a, _, lvl = spec.partition('@')
        fam = socket.AF_INET6 if ':' in a else socket.AF_INET
        sol = SOL_IPV6 if fam == socket.AF_INET6 else SOL_IP
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(sol, LEVEL, struct.pack('=i', int(lvl or 1)))
        s.bind((a, LISTEN_PORT))
        s.listen(4)
        s.settimeout(30)
        end = time.time() + 150
        while struct.unpack('=i', s.getsockopt(sol, PATH, 4))[0] != PATH_ENCRYPTED:
            if time.time() > end:
                out(ready=False, addr=a)
                return 1
            time.sleep(0.05)
        ls.append((s, sol, 'child' + ('6' if fam == socket.AF_INET6 else '4')))
    res = {}
    threads = []

    def child(s, sol, kind):
        r = res[kind] = dict(sent=0, refused=0, accepted=False)
        # Up to 30 s for a child, but no longer than the scenario: a
        # listener nobody can reach (its SYNs dropped) ends at --stop.
        s.settimeout(0.5)
        end = time.time() + 30
        while True:
            try:
                c, _ = s.accept()
                break
            except socket.timeout:
                if time.time() > end or os.path.exists(o['stop']):
                    r['error'] = 'timed out'
                    return
            except OSError as e:
                r['error'] = str(e)
                return
        r['accepted'] = True
        if 'plant' in o:
            c.setsockopt(sol, LEVEL, struct.pack('=i', 0))
        r['level'] = struct.unpack('=i', c.getsockopt(sol, LEVEL, 4))[0]
        r['path'] = struct.unpack('=i', c.getsockopt(sol, PATH, 4))[0]
        seq = 0
        while not os.path.exists(o['stop']):
            seq += 1
            try:
                c.send(message(tag, kind, seq, 200), socket.MSG_DONTWAIT)
                r['sent'] += 1
            except BlockingIOError:
                pass
            except OSError:
                r['refused'] += 1
            time.sleep(0.05)
        c.close()

    for s, sol, kind in ls:
        threads.append(threading.Thread(target=child, args=(s, sol, kind)))
        threads[-1].start()
    open(o['ready'], 'w').close()
    for t in threads:
        t.join()
    out(sent=sum(r['sent'] for r in res.values()),
        refused=sum(r['refused'] for r in res.values()), per=res)
    return 0


def pull(o):
    counter = Counter(o['log'])
    dst = o['dst'] if isinstance(o['dst'], list) else [o['dst']]
    threads = []
    for d in dst:
        fam = socket.AF_INET6 if ':' in d else socket.AF_INET
        c = socket.socket(fam, socket.SOCK_STREAM)
        c.bind((V6 if fam == socket.AF_INET6 else V4, 0))
        c.settimeout(15)
        try:
            c.connect((d, LISTEN_PORT))
        except OSError as e:
            out(dst=d, connect=str(e))
            continue
        out(dst=d, connect='ok')
        c.settimeout(None)
        threads.append(threading.Thread(target=read_stream, args=(c, counter), daemon=True))
        threads[-1].start()
    wait_file(o['stop'], 600)
    time.sleep(0.5)
    return 0


def inject(o):
    """Frames no socket made, straight into the device's transmit."""
    tag = o['tag']
    body = message(tag, 'inj', 0, 120)
    v4 = bytearray(struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(body), 0, 0, 64, 17, 0,
                               socket.inet_aton('10.100.0.2'), socket.inet_aton(V4)) + body)
    lying = bytearray(v4)
    struct.pack_into('!H', lying, 2, 4000)
    short = bytearray(v4)
    struct.pack_into('!H', short, 2, 30)
    ctrl = bytes([0x10, 0x20]) + struct.pack('!HQI', 0, 0, 1) + body
    frames = [('ctrl', 0x0800, ctrl), ('nibble-f', 0x0800, b'\xf0' + body),
              ('nibble-0', 0x86dd, b'\x00' + body), ('v4-len-long', 0x0800, bytes(lying)),
              ('v4-len-short', 0x0800, bytes(short)), ('v4-as-v6', 0x86dd, bytes(v4)),
              ('runt', 0x0800, b'\x45' + body[:10])]
    if 'plant' in o:
        # The planted bug: a well-formed packet, which may go in the clear.
        frames.append(('plant', 0x0800, bytes(v4)))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM)
    res = dict(sent=0, refused=0, errors={})
    for name, proto, f in frames:
        for _ in range(3):
            try:
                s.sendto(f, (o['dev'], proto))
                res['sent'] += 1
            except OSError as e:
                res['refused'] += 1
                res['errors'][name] = errno.errorcode.get(e.errno, str(e.errno))
    out(**res)
    return 0


def count(o):
    """{tag: frames} for the frames of a capture that carry a canary."""
    # A capture still being written may end in a cut block: tshark reads
    # what is there and exits non-zero; the frames it printed still count.
    p = subprocess.run(['tshark', '-r', o['pcap'], '-Y', 'frame contains "CANARY-LEAKMATRIX-"',
                        '-T', 'json', '-x'], capture_output=True, check='tag' not in o)
    res = {}
    for pkt in json.loads(p.stdout or b'[]'):
        raw = bytes.fromhex(pkt['_source']['layers']['frame_raw'][0])
        tags = set(t.decode() for t in re.findall(rb'CANARY-LEAKMATRIX-([a-z0-9-]+)#', raw))
        for tag in tags or {'?'}:
            res[tag] = res.get(tag, 0) + 1
    print(res.get(o['tag'], 0) if 'tag' in o else json.dumps(res))
    return 0


def main():
    cmd, o = sys.argv[1], opts(sys.argv[2:])
    return dict(serve=serve, send=send, listen=listen, pull=pull,
                inject=inject, count=count)[cmd](o)


if __name__ == '__main__':
    sys.exit(main())
