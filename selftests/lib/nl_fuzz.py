#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Fuzz the tscf genl family and the SO_TSCF_* socket options.

  nl_fuzz.py --seconds S --seed N [--dev tscf0,tscf0s] [--punt TUN] [--user]

For S seconds, alternately:
  - a genl message to the tscf family: any command number (the defined
    ones, the event-only ones, unknown ones), request flags with and without
    DUMP, random attributes (known types with well-typed, short, long and
    random payloads; nests with random inner attributes; unknown types;
    lengths that overrun the message), now and then a truncated header;
    handy values are mixed in: the devices' ifindexes, fds of live UDP and
    TCP sockets, a pipe, control frames, DTLS keys and salts of right and
    wrong lengths, socket addresses; as root the fuzzer first makes a
    server device of its own (srv-new), so that the server commands
    (srv-sock-add, srv-peer-set/-del/-get) meet a real one;
  - setsockopt/getsockopt (through libc, so any length and a NULL pointer
    can be passed) of SO_TSCF_ENCLEVEL, SO_TSCF_PATH and their neighbours
    at SOL_IP and SOL_IPV6 on UDP, TCP, raw and unix sockets, IPv4 and IPv6,
    fresh, bound, connected and listening; and a send now and then.
Invariants checked as it goes (a violation is printed and fails the run):
  - as --user (no CAP_NET_ADMIN), a configuration command never succeeds,
    and every served command, reads included (DEV_GET do and dump,
    SOCK_GET dump), fails with EPERM whatever its attributes, as soon as
    the genl header is whole;
  - a command the family does not serve fails (never succeeds);
  - SO_TSCF_ENCLEVEL set succeeds exactly for a 4-byte value 0..2 on a
    UDP or TCP socket, and reads back what was set; a refused set leaves
    the level unchanged; getsockopt never reports more than the buffer.
Prints the seed first and "nl-fuzz: N messages, M setsockopt calls, G
getsockopt calls, V violations" last; exit status 1 on a violation.
"""
import ctypes
import errno
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tscf_nl  # noqa: E402
from tscf_nl import nla, NLA_F_NESTED  # noqa: E402

SOL_IP, SOL_IPV6 = 0, 41
LEVEL, PATH = 0x5453, 0x5454
# DEV_SET, TUNNEL_ATTACH/DETACH, CTRL_SEND, SRV_NEW, SRV_SOCK_ADD,
# SRV_PEER_SET/DEL
CONFIG_CMDS = (2, 3, 4, 5, 11, 12, 13, 14, 16, 17)
SERVED_CMDS = (1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16, 17)
DO_CMDS = (1, 2, 3, 4, 5, 11, 12, 13, 14, 15, 16, 17)     # docs/netlink/tscf.yaml
DUMP_CMDS = (1, 6, 15)
libc = ctypes.CDLL(None, use_errno=True)


class Fuzz:
    def __init__(self, o):
        self.rnd = random.Random(int(o['seed']))
        self.user = 'user' in o
        self.devs = [socket.if_nametoindex(d) for d in o.get('dev', 'tscf0').split(',')]
        self.msgs = self.sets = self.gets = 0
        self.violations = []
        self.errnos = {}
        self.nl = tscf_nl.Genl()
        # Events arrive between our answers: the fuzzer must skip them.
        for grp in tscf_nl.GROUPS:
            try:
                self.nl.join(grp)
            except OSError:
                pass    # an unprivileged user may not join every group
        self.nl.s.settimeout(2)
        self.live = []
        self._helpers()
        self.punt = socket.if_nametoindex(o['punt']) if 'punt' in o else None
        self.srv_devs = [] if self.user or not self.punt else self._srv_new()
        self.devs += self.srv_devs

    def _srv_new(self):
        """A server device of the fuzzer's own (gone when it exits)."""
        name = b'fzsrv%d\0' % (os.getpid() % 1000)
        body = struct.pack('=BBH', 11, 1, 0) + nla(2, name) + nla(17, struct.pack('=I', self.punt))
        self.nl.seq += 1
        self.nl.s.send(struct.pack('=IHHII', 16 + len(body), self.nl.fid,
                                   tscf_nl.NLM_F_REQUEST | tscf_nl.NLM_F_ACK, self.nl.seq, 0) + body)
        err = self.ack(self.nl.seq)
        if err:
            self.violate(f'srv-new as root: {err}')
            return []
        ifindex = socket.if_nametoindex(name[:-1].decode())
        # One socket of the device's, for srv-peer-set to name.
        body = struct.pack('=BBH', 12, 1, 0) + nla(1, struct.pack('=I', ifindex)) + \
            nla(18, struct.pack('=I', self.fds[0].fileno()))
        self.nl.seq += 1
        self.nl.s.send(struct.pack('=IHHII', 16 + len(body), self.nl.fid,
                                   tscf_nl.NLM_F_REQUEST | tscf_nl.NLM_F_ACK, self.nl.seq, 0) + body)
        self.count('srv-sock-add-setup:' + errorname(-self.ack(self.nl.seq)))
        return [ifindex]

    def violate(self, what):
        if len(self.violations) < 20:
            print('VIOLATION:', what, flush=True)
        self.violations.append(what)

    # ---- handy objects -------------------------------------------------
    def _helpers(self):
        self.lst = socket.socket()
        self.lst.bind(('127.0.0.1', 0))
        self.lst.listen(64)
        self.udp_peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp_peer.bind(('127.0.0.1', 0))
        self.pipe = os.pipe()
        self.fds = []
        self._refresh_fds()

    def _refresh_fds(self):
        for s in self.fds:
            s.close()
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.connect(self.udp_peer.getsockname())
        t = socket.create_connection(self.lst.getsockname())
        self.lst.setblocking(False)
        try:
            while True:
                self.lst.accept()[0].close()
        except BlockingIOError:
            pass
        self.fds = [u, t, socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)]

    def fd_value(self):
        r = self.rnd.random()
        if r < 0.6:
            return self.rnd.choice(self.fds).fileno()
        if r < 0.7:
            return self.pipe[0]
        if r < 0.8:
            return self.nl.s.fileno()
        return self.rnd.choice([0, 1, 2, 1023, 0xffffffff, self.rnd.getrandbits(32)])

    # ---- genl ---------------------------------------------------------
    def payload(self, kind):
        r = self.rnd
        if kind == 'ifindex':
            v = r.choice(self.devs + [1, 0, 9999, r.getrandbits(32)])
            return struct.pack('=I', v)
        if kind == 'fd':
            return struct.pack('=I', self.fd_value())
        if kind == 'u8':
            return bytes([r.choice([0, 1, 2, 255, r.getrandbits(8)])])
        if kind == 'u32':
            return struct.pack('=I', r.choice([0, 1, 1500, 60000, 0xffffffff, r.getrandbits(32)]))
        if kind == 'u64':
            return struct.pack('=Q', r.getrandbits(64))
        if kind == 'str':
            return r.choice([b'tscf0\0', b'tscf0s\0', b'lo\0', b'tscf0', b'x' * 40 + b'\0', b''])
        if kind == 'frame':
            n = r.choice([0, 1, 15, 16, 20, 100, 4096, 4097, 9000])
            head = bytes([r.choice([0x10, 0x11, 0x45, 0x60, 0x00, 0xff])])
            tlvs = r.randrange(0, 70)
            body = head + bytes([r.getrandbits(8)]) + struct.pack('!HQI', tlvs, r.getrandbits(64), 1)
            while len(body) < n:
                body += struct.pack('!HH', r.getrandbits(16), r.choice([0, 4, 16, 0xffff])) + \
                    os.urandom(r.choice([0, 4, 16]))
            return body[:n] if r.random() < 0.8 else os.urandom(n)
        if kind == 'ipv4':
            return socket.inet_aton(r.choice(['10.100.0.2', '0.0.0.0', '255.255.255.255']))
        if kind == 'ipv6':
            return socket.inet_pton(socket.AF_INET6, 'fd00:100::2')
        if kind == 'u16':
            return struct.pack('=H', r.choice([0, 1, 2, 0xffff, r.getrandbits(16)]))
        if kind == 'key':
            return os.urandom(r.choice([16, 32, 16, 32, 0, 1, 15, 24, 31, 33, 64]))
        if kind == 'salt':
            return os.urandom(r.choice([4, 4, 0, 3, 5, 8]))
        if kind == 'sockaddr':
            c = r.random()
            if c < 0.4:
                return struct.pack('=H', socket.AF_INET) + struct.pack('!H', r.getrandbits(16)) + \
                    socket.inet_aton(r.choice(['10.100.0.2', '127.0.0.1', '0.0.0.0'])) + bytes(8)
            if c < 0.7:
                return struct.pack('=H', socket.AF_INET6) + struct.pack('!HI', r.getrandbits(16), 0) + \
                    socket.inet_pton(socket.AF_INET6, r.choice(['::1', '::ffff:10.100.0.2', 'fd00:100::2'])) + \
                    struct.pack('=I', r.getrandbits(32))
            return struct.pack('=H', r.choice([0, 1, 2, 10, 0xffff])) + \
                os.urandom(r.choice([0, 2, 6, 14, 26, 40]))
        return os.urandom(r.choice([0, 1, 2, 3, 4, 7, 8, 16, 17, 64, 300]))

    A_KIND = {1: 'ifindex', 2: 'str', 3: 'u8', 4: 'ifindex', 5: 'tunnel', 6: 'frame', 7: 'u64',
              8: 'u8', 9: 'u8', 10: 'stats', 11: 'u8', 12: 'sock', 13: 'u32', 14: 'raw',
              15: 'u64', 16: 'u64', 17: 'ifindex', 18: 'fd', 19: 'srvpeer'}
    T_KIND = {1: 'fd', 2: 'u64', 3: 'u8', 4: 'ipv4', 5: 'ipv6', 6: 'raw', 7: 'raw', 8: 'raw',
              9: 'raw', 10: 'flag', 11: 'key', 12: 'key', 13: 'salt', 14: 'salt', 15: 'u16',
              16: 'u64', 17: 'u64'}
    P_KIND = {1: 'sockaddr', 2: 'fd', 3: 'u64', 4: 'ipv4', 5: 'ipv6', 6: 'u8', 7: 'u64',
              8: 'u64', 9: 'u64', 10: 'u64', 11: 'u32', 13: 'u16', 14: 'frame'}

    def attr(self, kinds, depth):
        r = self.rnd
        t = r.choice(list(kinds) + [0, len(kinds) + 1, r.randrange(0, 0x4000)])
        kind = kinds.get(t, 'raw')
        if r.random() < 0.15:
            kind = 'raw'
        if kind in ('tunnel', 'sock', 'stats', 'srvpeer') and depth < 2:
            kinds = self.P_KIND if kind == 'srvpeer' else self.T_KIND
            inner = b''.join(self.attr(kinds, depth + 1) for _ in range(r.randrange(0, 7)))
            return nla(t | (NLA_F_NESTED if r.random() < 0.7 else 0), inner)
        if kind == 'flag':
            return nla(t, b'' if r.random() < 0.8 else b'\1')
        data = self.payload(kind)
        if r.random() < 0.1:
            data = data[:r.randrange(0, len(data) + 1)]
        a = nla(t, data)
        if r.random() < 0.03:
            # nla_len that lies (overruns the message or is below 4)
            a = struct.pack('=HH', r.choice([0, 1, 3, 0xffff, len(a) + 8]), t) + a[4:]
        return a

    def genl_message(self):
        r = self.rnd
        cmd = r.choice(list(range(0, 19)) + [r.randrange(0, 256)])
        if r.random() < 0.5:
            cmd = r.choice(SERVED_CMDS)
        well_formed = r.random() < 0.3
        if well_formed:
            attrs = nla(1, struct.pack('=I', r.choice(self.devs)))
            if cmd == 2:
                attrs += nla(13, struct.pack('=I', r.choice([0, 100, 60000])))
            elif cmd == 3:
                inner = self.dtls_attach() if r.random() < 0.4 else \
                    nla(1, struct.pack('=I', self.fd_value())) + nla(2, struct.pack('=Q', r.getrandbits(64)))
                if r.random() < 0.3:    # super-frames: stream sockets only
                    inner += nla(18, self.payload('u16'))
                attrs += nla(5 | NLA_F_NESTED, inner + (nla(10, b'') if r.random() < 0.5 else b''))
            elif cmd == 5:
                attrs += nla(6, self.payload('frame'))
            elif cmd == 11:
                attrs = nla(2, r.choice([b'fz%d\0' % r.randrange(4), b'tscf0\0'])) + \
                    nla(17, struct.pack('=I', r.choice(self.devs + [self.punt or 1])))
            elif cmd == 12:
                attrs += nla(18, struct.pack('=I', self.fd_value()))
            elif cmd in (13, 14):
                attrs += nla(19 | NLA_F_NESTED, self.srv_peer())
            elif cmd == 17:
                attrs += nla(19 | NLA_F_NESTED, self.srv_peer()) + \
                    nla(6, self.payload('frame'))
        else:
            attrs = b''.join(self.attr(self.A_KIND, 0) for _ in range(r.randrange(0, 9)))
        flags = tscf_nl.NLM_F_REQUEST | tscf_nl.NLM_F_ACK
        if r.random() < 0.2:
            flags |= tscf_nl.NLM_F_DUMP
        version = 1 if r.random() < 0.9 else r.getrandbits(8)
        body = struct.pack('=BBH', cmd, version, 0) + attrs
        if r.random() < 0.02:
            body = body[:r.randrange(0, 4)]
        self.nl.seq += 1
        msg = struct.pack('=IHHII', 16 + len(body), self.nl.fid, flags, self.nl.seq, 0) + body
        self.msgs += 1
        try:
            self.nl.s.send(msg)
        except OSError as e:
            self.count('send-' + errno.errorcode.get(e.errno, str(e.errno)))
            return
        err = self.ack(self.nl.seq)
        self.count(f'cmd{cmd}:' + (errno.errorcode.get(-err, str(err)) if err else 'ok'))
        self.check_genl(cmd, flags, well_formed and version == 1 and len(body) >= 4, err,
                        len(body) >= 4)
        if cmd == 3 and err == 0 and r.random() < 0.5:
            self._refresh_fds()

    def dtls_attach(self):
        """A DTLS tunnel-attach: right keys and salts, more often than not."""
        r = self.rnd
        a = nla(1, struct.pack('=I', self.fd_value())) + nla(2, struct.pack('=Q', r.getrandbits(64))) + \
            nla(3, bytes([r.choice([4, 4, 1, 3, 5])]))
        key = r.choice([16, 32, 16, 24, 0])
        for t, k in ((11, 'key'), (12, 'key'), (13, 'salt'), (14, 'salt'), (15, 'u16'), (16, 'u64'),
                     (17, 'u64')):
            if r.random() < 0.9:
                a += nla(t, os.urandom(key) if k == 'key' and r.random() < 0.8 else self.payload(k))
        return a

    def srv_peer(self):
        """A server peer: a remote, the device's socket and a TSID, mostly."""
        r = self.rnd
        a = nla(1, self.payload('sockaddr')) if r.random() < 0.9 else b''
        if r.random() < 0.9:
            a += nla(2, struct.pack('=I', self.fds[0].fileno() if r.random() < 0.7 else self.fd_value()))
        for t, k in ((3, 'u64'), (4, 'ipv4'), (5, 'ipv6'), (6, 'u8')):
            if r.random() < 0.6:
                a += nla(t, self.payload(k))
        return a

    def ack(self, seq):
        """The error code of our request (0: success), skipping events."""
        end = time.time() + 5
        while time.time() < end:
            try:
                data = self.nl.s.recv(1 << 20)
            except socket.timeout:
                return -errno.ETIMEDOUT
            except OSError as e:
                if e.errno == errno.ENOBUFS:
                    continue
                raise
            i = 0
            while i + 16 <= len(data):
                ln, typ, _, sq, _ = struct.unpack_from('=IHHII', data, i)
                if ln < 16:
                    break
                if sq == seq and typ == tscf_nl.NLMSG_ERROR:
                    return struct.unpack_from('=i', data, i + 16)[0]
                if sq == seq and typ == tscf_nl.NLMSG_DONE:
                    return 0
                i += (ln + 3) & ~3
        return -errno.ETIMEDOUT

    def check_genl(self, cmd, flags, well_formed, err, whole_hdr):
        dump = flags & tscf_nl.NLM_F_DUMP == tscf_nl.NLM_F_DUMP
        served = cmd in (DUMP_CMDS if dump else DO_CMDS)
        if (self.user and served and whole_hdr and flags & tscf_nl.NLM_F_REQUEST and
                err != -errno.EPERM):
            self.violate(f'unprivileged cmd {cmd}{" dump" if dump else ""}: {err}, want EPERM')
        if err == -errno.ETIMEDOUT:
            self.violate(f'cmd {cmd}: no answer within 5 s')
        if self.user and cmd in CONFIG_CMDS and err == 0:
            self.violate(f'unprivileged cmd {cmd} succeeded')
        if self.user and cmd in CONFIG_CMDS and well_formed and not dump and err != -errno.EPERM:
            self.violate(f'unprivileged well-formed cmd {cmd}: {err}, want EPERM')
        if cmd not in SERVED_CMDS and err == 0:
            self.violate(f'unserved cmd {cmd} succeeded')

    # ---- socket options -----------------------------------------------
    def new_socket(self):
        r = self.rnd
        fam = r.choice([socket.AF_INET, socket.AF_INET6])
        typ = r.choice([socket.SOCK_DGRAM, socket.SOCK_STREAM, socket.SOCK_DGRAM,
                        socket.SOCK_STREAM, 'raw', 'unix'])
        try:
            if typ == 'raw':
                s = socket.socket(fam, socket.SOCK_RAW,
                                  socket.IPPROTO_ICMP if fam == socket.AF_INET else socket.IPPROTO_ICMPV6)
            elif typ == 'unix':
                s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            else:
                s = socket.socket(fam, typ)
        except OSError:
            return
        s.setblocking(False)
        kind = 'ip' if s.family != socket.AF_UNIX and s.type in (socket.SOCK_DGRAM, socket.SOCK_STREAM) else 'other'
        st = r.random()
        loop = '::1' if fam == socket.AF_INET6 else '127.0.0.1'
        try:
            if kind == 'ip' and st < 0.3:
                s.bind((loop, 0))
            elif kind == 'ip' and st < 0.5:
                dst = r.choice([(loop, self.lst.getsockname()[1]), ('10.100.0.1', 9),
                                ('fd00:100::1', 9)])
                if fam == socket.AF_INET6 and ':' not in dst[0]:
                    dst = ('::ffff:' + dst[0], dst[1])
                if fam == socket.AF_INET and ':' in dst[0]:
                    dst = ('10.100.0.1', 9)
                s.connect_ex(dst)
            elif kind == 'ip' and st < 0.6 and s.type == socket.SOCK_STREAM:
                s.bind((loop, 0))
                s.listen(4)
        except OSError:
            pass
        self.live.append([s, kind, 0])
        if len(self.live) > 64:
            self.live.pop(r.randrange(len(self.live)))[0].close()

    def sockopt(self):
        r = self.rnd
        if not self.live or r.random() < 0.1:
            self.new_socket()
            if not self.live:
                return
        ent = r.choice(self.live)
        s, kind, lvl = ent
        sol = r.choice([SOL_IP, SOL_IPV6, SOL_IP, SOL_IPV6, socket.SOL_SOCKET, 6])
        opt = r.choice([LEVEL, LEVEL, LEVEL, PATH, PATH, LEVEL - 1, PATH + 1, PATH + 2])
        if r.random() < 0.65:
            self.set_opt(ent, s, kind, sol, opt)
        else:
            self.get_opt(ent, s, kind, sol, opt)
        if kind == 'ip' and r.random() < 0.05:
            try:
                if s.type == socket.SOCK_DGRAM:
                    dst = '10.100.0.1' if s.family == socket.AF_INET else 'fd00:100::1'
                    s.sendto(b'fuzz', (dst, 9))
                else:
                    s.send(b'fuzz')
            except OSError:
                pass
        if r.random() < 0.02:
            self.live.remove(ent)
            s.close()

    def set_opt(self, ent, s, kind, sol, opt):
        r = self.rnd
        v = r.choice([0, 1, 2, 3, -1, 0x7fffffff, -0x80000000, r.getrandbits(32)])
        ln = r.choice([4, 4, 4, 0, 1, 2, 3, 5, 8, 64])
        buf = (struct.pack('=I', v & 0xffffffff) + os.urandom(60))[:ln] if ln else b''
        null = r.random() < 0.03
        cbuf = None if null else ctypes.create_string_buffer(buf, max(ln, 1))
        self.sets += 1
        rc = libc.setsockopt(s.fileno(), sol, opt, cbuf, ln)
        e = ctypes.get_errno() if rc else 0
        self.count(f'set:{errorname(e)}')
        if s.family == socket.AF_INET and sol == SOL_IPV6:
            return
        if sol not in (SOL_IP, SOL_IPV6) or opt != LEVEL or kind != 'ip':
            if rc == 0 and opt in (LEVEL, PATH) and sol in (SOL_IP, SOL_IPV6):
                self.violate(f'set {opt:#x} on a {s.type!r} {s.family!r} socket succeeded')
            return
        val = struct.unpack('=i', buf[:4])[0] if ln >= 4 else None
        valid = ln == 4 and not null and val in (0, 1, 2)
        if valid and rc != 0:
            self.violate(f'set level {val} refused: {errorname(e)}')
        elif not valid and rc == 0:
            self.violate(f'set level len {ln} value {val} null {null} accepted')
        if rc == 0:
            ent[2] = val
        got = self.read_level(s, sol)
        if got is not None and got != ent[2]:
            self.violate(f'level reads {got}, want {ent[2]}')

    def read_level(self, s, sol):
        b = ctypes.create_string_buffer(4)
        ln = ctypes.c_uint(4)
        if libc.getsockopt(s.fileno(), sol, LEVEL, b, ctypes.byref(ln)):
            self.violate(f'get level failed: {errorname(ctypes.get_errno())}')
            return None
        return struct.unpack('=i', b.raw)[0]

    def get_opt(self, ent, s, kind, sol, opt):
        r = self.rnd
        cap = r.choice([4, 4, 0, 1, 2, 3, 5, 8, 64])
        b = ctypes.create_string_buffer(max(cap, 1) + 8)
        ln = ctypes.c_uint(cap)
        null = r.random() < 0.03
        self.gets += 1
        rc = libc.getsockopt(s.fileno(), sol, opt, None if null else b,
                             ctypes.byref(ln) if r.random() < 0.97 else None)
        e = ctypes.get_errno() if rc else 0
        self.count(f'get:{errorname(e)}')
        if rc == 0 and ln.value > cap:
            self.violate(f'getsockopt {opt:#x} wrote {ln.value} bytes into {cap}')
        if rc == 0 and b.raw[cap:] != b'\0' * (len(b.raw) - cap):
            self.violate(f'getsockopt {opt:#x} wrote past {cap} bytes')
        if rc == 0 and opt in (LEVEL, PATH) and sol in (SOL_IP, SOL_IPV6) and ln.value >= 4:
            v = struct.unpack('=i', b.raw[:4])[0]
            if not 0 <= v <= 2:
                self.violate(f'getsockopt {opt:#x} returned {v}')

    def count(self, k):
        self.errnos[k] = self.errnos.get(k, 0) + 1

    def run(self, seconds):
        end = time.time() + seconds
        while time.time() < end:
            if self.rnd.random() < 0.5:
                self.genl_message()
            else:
                self.sockopt()
        for ent in self.live:
            ent[0].close()


def errorname(e):
    return errno.errorcode.get(e, str(e)) if e else 'ok'


def main():
    args = sys.argv[1:]
    o = {}
    while args:
        k = args.pop(0)[2:]
        o[k] = args.pop(0) if args and not args[0].startswith('--') else '1'
    print(f"nl-fuzz: seed {o['seed']}, {o['seconds']} s, {'unprivileged' if 'user' in o else 'root'}",
          flush=True)
    f = Fuzz(o)
    f.run(float(o['seconds']))
    top = sorted(f.errnos.items(), key=lambda kv: -kv[1])[:30]
    print('nl-fuzz: outcomes ' + ' '.join(f'{k}={v}' for k, v in top))
    print(f'nl-fuzz: {f.msgs} messages, {f.sets} setsockopt calls, {f.gets} getsockopt calls, '
          f'{len(f.violations)} violations', flush=True)
    return 1 if f.violations else 0


if __name__ == '__main__':
    sys.exit(main())
