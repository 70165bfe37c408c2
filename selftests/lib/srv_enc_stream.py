#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A server device's encrypted stream peers (a session's TLS tunnel with
kTLS both ways), driven through the genl API alone.

  srv_enc_stream.py PUNT SVC_NETNS SVC_ADDR

Run as root in a netns of its own (SST) with lo up, IPv4 forwarding on,
and a veth to SVC_NETNS, whose address SVC_ADDR routes 10.99.0.0/24
back through SST.  Plays tscfd: creates the punt TUN PUNT itself (so that
it can read what the server device punts), the server device "sst0"
(10.99.0.1/24, fd00:99::1/64), listens for srv-frame events, accepts TCP
connections on 127.0.0.1, installs kTLS with fixed keys on both ends
(tunnel_peer.py's, as the kernel's tls selftest does: no TLS library) and
hands them to the kernel; the other end of each connection plays the
client and writes and reads frames (PROTOCOL.md) by hand, through kTLS.
The service side's sockets live in SVC_NETNS (setns).

What must hold (docs/SERVER.md "Encrypted sessions", docs/netlink/tscf.yaml
srv-peer encrypted/flows/frame-seq), each checked; a failed check prints
FAIL and the script exits 1 after the rest:
- refused, the socket left to its owner (data still flows both ways on it
  afterwards, through kTLS where it has kTLS): encrypted on a clear
  socket (EINVAL); a kTLS socket without encrypted (EOPNOTSUPP); kTLS TX
  only, or RX only (EINVAL); encrypted with fast 1 (EINVAL); no internal
  address (EINVAL); flows on a clear peer (EINVAL); flows not a multiple
  of 40 bytes (EINVAL); 65 entries (E2BIG); an entry of another protocol,
  another family, nonzero pad, bytes past an IPv4 address, a remote with
  rport 0, another local address, an IPv6 entry for another address
  (EINVAL); a second encrypted peer for the same IPv4 or IPv6 address
  (EEXIST); fast 1 on the encrypted peer later (EINVAL);
- accepted: the socket that was refused all that, with 64 entries and a
  plaintext rx-rest; srv-peer-get shows the encrypted flag (and a clear
  peer's does not);
- receive: a whole IPv4 packet from the internal address reaches SVC, an
  IPv6 one a socket on sst0, the rest of an rx-rest frame too; the rx
  counters count exactly those; a control frame, a forged source and a
  packet over the MTU are srv-frame events (fd, TSID, the frame whole,
  numbered from 1) and do not reach SVC; behind a control frame not yet
  handled (srv-peer-set frame-seq) even a good packet is an event, until
  the last control frame is acknowledged; packet events (diverted,
  forged, too big) hold nothing back;
- transmit: where each packet from the service side goes (the encrypted
  client through kTLS, the clear client, the punt TUN) is read at all
  three: a UDP datagram of an exact entry arrives whole as one frame
  (checksums complete) on the encrypted peer and nowhere else; from
  another source port, to another port, or TCP to that port: punted; an
  entry among 64 matches; a replaced set: the old entries are gone, a
  wildcard entry (rport 0) takes any source port, a TCP entry takes TCP,
  an IPv6 entry takes IPv6; an IPv4 first fragment and an IPv6 packet
  with an extension header never match (punted); with a fast clear peer
  for the same address, a matching packet still goes encrypted and an
  unmatched one to the clear peer; an empty set: the packet once matched
  goes to the clear peer, then (clear peer slow) to the TUN; the tx
  counters count exactly the encrypted deliveries;
- delete: a frame sent with srv-peer-send just before srv-peer-del
  reaches the client through kTLS, then the end; the answer has the
  counters; the peer is gone (ENOENT), its flows with it, and its address
  takes a new encrypted peer, whose flows work.
"""
import ctypes
import errno
import fcntl
import os
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import srv_stream  # noqa: E402
from srv_stream import (SP, Server, check, ctrl, expect_errno, sin)  # noqa: E402
from tscf_client import udp6  # noqa: E402
from tscf_nl import A, CMD, NlError, nla, parse_attrs  # noqa: E402
from tunnel_peer import (SOL_TLS, TCP_ULP, TLS_RX, TLS_TX, csum, frame_len,  # noqa: E402
                         ktls_info, udp4_packet as udp4)

SP_IP6, SP_ENCRYPTED, SP_FLOWS, SP_FRAME_SEQ = 5, 15, 16, 17
FLOW_LEN, MAX_FLOWS = 40, 64
IFF_TUN, IFF_NO_PI, TUNSETIFF = 0x0001, 0x1000, 0x400454ca
CLONE_NEWNET = 0x40000000

INNER, INNER6 = '10.99.0.2', 'fd00:99::2'
SRV6 = 'fd00:99::1'
CPORT, SPORT = 5000, 7000       # the client's bound port, the service's
# Both ends of a kTLS connection, as tunnel_peer.install_ktls pairs them.
C2S, S2C = ktls_info(0x11, 0x21), ktls_info(0x12, 0x22)


def aton(a):
    """16 bytes of an address, an IPv4 one followed by zeros."""
    if ':' in a:
        return socket.inet_pton(socket.AF_INET6, a)
    return socket.inet_aton(a) + bytes(12)


def flow(proto, local, lport, remote=None, rport=0, family=None, pad=0,
         local_raw=None, remote_raw=None):
    """One struct tscf_srv_flow (uapi/linux/tscf.h), 40 bytes."""
    fam = family or (socket.AF_INET6 if ':' in local else socket.AF_INET)
    return bytes([proto, fam]) + struct.pack('!HH', lport, rport) + \
        struct.pack('=H', pad) + (local_raw or aton(local)) + \
        (remote_raw or (aton(remote) if remote else bytes(16)))


def ktls(s, tx=None, rx=None):
    """kTLS on s, right after connect/accept: TX and/or RX crypto info."""
    s.setsockopt(socket.IPPROTO_TCP, TCP_ULP, b'tls')
    if tx:
        s.setsockopt(SOL_TLS, TLS_TX, tx)
    if rx:
        s.setsockopt(SOL_TLS, TLS_RX, rx)


def recv_exact(s, n, timeout=3):
    s.settimeout(timeout)
    got = b''
    try:
        while len(got) < n:
            d = s.recv(n - len(got))
            if not d:
                break
            got += d
    except (socket.timeout, OSError) as e:
        return got + f' <{e!r}>'.encode()
    return got


def still_works(c, a, what):
    """c (the client) and a (the caller's socket) still talk both ways."""
    c.sendall(b'still mine')
    up = recv_exact(a, 10)
    a.sendall(b'and back')
    down = recv_exact(c, 8)
    check(up == b'still mine' and down == b'and back',
          f'{what}: the socket is still the caller\'s ({up!r}, {down!r})')


def tcp4(src, dst, sport, dport, payload, seq=1):
    th = struct.pack('!HHIIBBHHH', sport, dport, seq, 1, 5 << 4, 0x18,
                     65535, 0, 0) + payload
    ph = socket.inet_aton(src) + socket.inet_aton(dst) + \
        struct.pack('!BBH', 0, 6, len(th))
    c = csum(ph + th)
    return th[:16] + struct.pack('!H', c) + th[18:]


def frag4(src, dst, sport, dport, payload, ident):
    """The first fragment (MF, offset 0) of a UDP datagram longer than it."""
    udp = struct.pack('!HHHH', sport, dport, 8 + len(payload) + 800, 0) + payload
    hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), ident, 0x2000,
                      64, 17, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return hdr[:10] + struct.pack('!H', csum(hdr)) + hdr[12:] + udp


def udp6_dstopts(src, dst, sport, dport, payload):
    """An IPv6 UDP packet with a destination options header (PadN)."""
    s6, d6 = aton(src), aton(dst)
    udp = struct.pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload
    c = csum(s6 + d6 + struct.pack('!IxxxB', len(udp), 17) + udp) or 0xffff
    udp = udp[:6] + struct.pack('!H', c) + udp[8:]
    ext = bytes([17, 0, 1, 4, 0, 0, 0, 0])
    return struct.pack('!IHBB', 0x60000000, len(ext) + len(udp), 60, 64) + \
        s6 + d6 + ext + udp


def udp_ok(fr, src, dst, sport, dport, payload):
    """fr is exactly the IPv4/IPv6 UDP packet src:sport -> dst:dport with
    payload, its IP (v4) and UDP checksums complete."""
    if fr is None or not fr:
        return False
    if fr[0] >> 4 == 4:
        if len(fr) != 28 + len(payload) or fr[9] != 17 or csum(fr[:20]) or \
           fr[12:20] != socket.inet_aton(src) + socket.inet_aton(dst):
            return False
        ph, l4 = fr[12:20] + struct.pack('!BBH', 0, 17, len(fr) - 20), fr[20:]
    else:
        if len(fr) != 48 + len(payload) or fr[6] != 17 or \
           fr[8:40] != aton(src) + aton(dst):
            return False
        ph, l4 = fr[8:40] + struct.pack('!IxxxB', len(fr) - 40, 17), fr[40:]
    return struct.unpack('!HH', l4[:4]) == (sport, dport) and \
        l4[8:] == payload and csum(ph + l4) == 0


class Place:
    """Somewhere a packet may arrive; take() the first item that pred
    likes, waiting at most timeout for it."""
    def __init__(self):
        self.got = []

    def take(self, pred, timeout):
        end = time.time() + timeout
        while True:
            for i, x in enumerate(self.got):
                if pred(x):
                    return self.got.pop(i)
            left = end - time.time()
            if left <= 0:
                return None
            self.pump(min(left, 0.2))


class Stream(Place):
    """The client's end of a stream peer: the frames it reads (through
    kTLS if the socket has it)."""
    def __init__(self, s):
        super().__init__()
        self.s, self.buf, self.eof = s, b'', False

    def pump(self, timeout):
        if self.eof:
            time.sleep(timeout)
            return
        self.s.settimeout(timeout)
        try:
            d = self.s.recv(65536)
        except socket.timeout:
            return
        except OSError as e:
            self.got.append(f'<{e!r}>'.encode())
            d = b''
        if not d:
            self.eof = True
            return
        self.buf += d
        while True:
            n = frame_len(self.buf)
            if n is None or n > len(self.buf):
                return
            if n < 0:           # not a frame: keep it for the report
                n = len(self.buf)
            self.got.append(self.buf[:n])
            self.buf = self.buf[n:]

    def end_within(self, secs):
        end = time.time() + secs
        while not self.eof and time.time() < end:
            self.pump(0.2)
        return self.eof


class Tun(Place):
    """The punt TUN, created here so that its packets can be read."""
    def __init__(self, name):
        super().__init__()
        self.fd = os.open('/dev/net/tun', os.O_RDWR | os.O_NONBLOCK)
        fcntl.ioctl(self.fd, TUNSETIFF,
                    struct.pack('16sH', name.encode(), IFF_TUN | IFF_NO_PI))
        os.system(f'sysctl -qw net.ipv6.conf.{name}.disable_ipv6=1; '
                  f'ip link set {name} up')

    def pump(self, timeout):
        if not select.select([self.fd], [], [], timeout)[0]:
            return
        while True:
            try:
                self.got.append(os.read(self.fd, 65536))
            except BlockingIOError:
                return


class Udp(Place):
    """A UDP socket: items (payload, (addr, port))."""
    def __init__(self, s):
        super().__init__()
        self.s = s

    def pump(self, timeout):
        self.s.settimeout(timeout)
        try:
            d, addr = self.s.recvfrom(65536)
        except socket.timeout:
            return
        self.got.append((d, addr[:2]))


def where(places, pred, expect, wait=3.0):
    """Where a packet went: {place: item}.  The expected place is given
    wait seconds, each other one (which had that time too) a little."""
    found = {}
    for name in [expect] + [n for n in places if n != expect]:
        x = places[name].take(pred, wait if name == expect else 0.3)
        if x is not None:
            found[name] = x
    return found


def goes(places, pred, expect, what):
    found = where(places, pred, expect)
    check(list(found) == [expect],
          f'{what}: to {expect}; went to {", ".join(found) or "nowhere"}')
    return found.get(expect)


def has(marker):
    return lambda x: marker in x


class Netns:
    """Sockets made in another netns (setns there and back)."""
    libc = ctypes.CDLL(None, use_errno=True)

    def __init__(self, name):
        self.own = os.open('/proc/self/ns/net', os.O_RDONLY)
        self.other = os.open(f'/run/netns/{name}', os.O_RDONLY)

    def socket(self, *args):
        if self.libc.setns(self.other, CLONE_NEWNET):
            raise OSError(ctypes.get_errno(), 'setns')
        try:
            return socket.socket(*args)
        finally:
            if self.libc.setns(self.own, CLONE_NEWNET):
                raise OSError(ctypes.get_errno(), 'setns back')


class EncServer(Server):
    """srv_stream.Server, with encrypted peers, flows, frame-seq, IPv6."""
    def peer(self, a, inner6=None, encrypted=False, flows=None,
             frame_seq=None, **kw):
        more = b''
        if inner6:
            more += nla(SP_IP6, aton(inner6))
        if encrypted:
            more += nla(SP_ENCRYPTED, b'')
        if flows is not None:
            more += nla(SP_FLOWS, flows)
        if frame_seq is not None:
            more += nla(SP_FRAME_SEQ, struct.pack('=I', frame_seq))
        return super().peer(a, more=more, **kw)

    def get(self, a):
        """srv-peer-get: the peer's attributes."""
        at = self.g.do(CMD['SRV_PEER_GET'], self.peer(a))[0][1]
        return parse_attrs(at[A['SRV_PEER']])

    def frame_event(self, timeout=3):
        """The next srv-frame event: dict(fd, tsid, seq, frame), or None."""
        r, _, _ = select.select([self.ev.s], [], [], timeout)
        if not r:
            return None
        data = self.ev.s.recv(1 << 20)
        ln, _typ, _, seq, _ = struct.unpack_from('=IHHII', data)
        at = parse_attrs(data[20:ln])
        if data[16] != CMD['SRV_FRAME'] or seq != 0:
            return dict(unexpected=(data[16], seq))
        p = parse_attrs(at[A['SRV_PEER']])
        return dict(fd=struct.unpack('=I', p[SP['FD']])[0],
                    tsid=struct.unpack('=Q', p[SP['TSID']])[0],
                    seq=struct.unpack('=I', p[SP_FRAME_SEQ])[0]
                    if SP_FRAME_SEQ in p else None,
                    frame=at[A['FRAME']])


def main():
    punt_name, svc_ns, svc = sys.argv[1], sys.argv[2], sys.argv[3]
    tun = Tun(punt_name)
    s = EncServer('sst0', punt_name, '10.99.0.1')
    os.system(f'ip -6 addr add {SRV6}/64 dev sst0 nodad')
    mtu = int(open('/sys/class/net/sst0/mtu').read())
    ns = Netns(svc_ns)
    su = ns.socket(socket.AF_INET, socket.SOCK_DGRAM)
    su.bind((svc, SPORT))
    su2 = ns.socket(socket.AF_INET, socket.SOCK_DGRAM)
    su2.bind((svc, SPORT + 1))
    sraw_tcp = ns.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    sraw = ns.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    svc_place = Udp(su)
    u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    u6.bind((SRV6, 7006))
    u6_place = Udp(u6)
    raw6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)

    # --- refusals: a clear connection ------------------------------------------
    c0, a0 = s.connect()
    expect_errno(lambda: s.set(a0, encrypted=True, inner=INNER, tsid=20),
                 errno.EINVAL, 'encrypted on a clear TCP socket')
    expect_errno(lambda: s.set(a0, fast=1, inner=INNER, tsid=20,
                               flows=flow(17, INNER, CPORT)),
                 errno.EINVAL, 'flows on a clear stream peer')
    still_works(c0, a0, 'clear socket refused')
    c0.close()
    a0.close()

    # --- refusals: kTLS one way only -------------------------------------------
    for way, srv_end, cli_end, how in (
            ('TX', dict(tx=S2C), dict(rx=S2C), 'server writes through kTLS'),
            ('RX', dict(rx=C2S), dict(tx=C2S), 'server reads through kTLS')):
        c1, a1 = s.connect()
        ktls(a1, **srv_end)
        ktls(c1, **cli_end)
        expect_errno(lambda: s.set(a1, encrypted=True, inner=INNER, tsid=20),
                     errno.EINVAL, f'encrypted on kTLS with {way} only')
        still_works(c1, a1, f'kTLS {way} only, refused ({how})')
        c1.close()
        a1.close()

    # --- refusals on a kTLS connection (both ways), which then is accepted -----
    c, a = s.connect()
    ktls(a, tx=S2C, rx=C2S)
    ktls(c, tx=C2S, rx=S2C)
    expect_errno(lambda: s.set(a, fast=1, inner=INNER, tsid=21),
                 errno.EOPNOTSUPP, 'kTLS socket without encrypted')
    expect_errno(lambda: s.set(a, fast=0, inner=INNER, tsid=21),
                 errno.EOPNOTSUPP, 'kTLS socket without encrypted, slow')
    expect_errno(lambda: s.set(a, encrypted=True, fast=1, inner=INNER, tsid=21),
                 errno.EINVAL, 'encrypted with fast 1')
    expect_errno(lambda: s.set(a, encrypted=True, tsid=21),
                 errno.EINVAL, 'encrypted without an internal address')
    good = flow(17, INNER, CPORT, svc, SPORT)
    bad = {
        'flows of 39 bytes': (good[:39], errno.EINVAL),
        'flows of 41 bytes': (good + b'\0', errno.EINVAL),
        'flows of 65 entries': (good * (MAX_FLOWS + 1), errno.E2BIG),
        'a flow of ICMP': (flow(1, INNER, CPORT), errno.EINVAL),
        'a flow of family 3': (flow(17, INNER, CPORT, family=3), errno.EINVAL),
        'a flow with nonzero pad': (flow(17, INNER, CPORT, pad=1), errno.EINVAL),
        'a flow with bytes past its IPv4 local address':
            (flow(17, INNER, CPORT, local_raw=socket.inet_aton(INNER) + b'\1' + bytes(11)),
             errno.EINVAL),
        'a flow with bytes past its IPv4 remote address':
            (flow(17, INNER, CPORT, rport=SPORT,
                  remote_raw=socket.inet_aton(svc) + bytes(11) + b'\1'), errno.EINVAL),
        'a flow with rport 0 and a remote': (flow(17, INNER, CPORT, svc, 0), errno.EINVAL),
        'a flow for another IPv4 address': (flow(17, '10.99.0.3', CPORT), errno.EINVAL),
        'a flow for another IPv6 address': (flow(17, 'fd00:99::3', CPORT), errno.EINVAL),
        'a good flow behind a bad one': (flow(17, INNER, CPORT, pad=1) + good, errno.EINVAL),
    }
    for what, (fl, want) in bad.items():
        expect_errno(lambda: s.set(a, encrypted=True, inner=INNER, inner6=INNER6,
                                   tsid=21, flows=fl), want, what)
    still_works(c, a, 'kTLS socket, after all those refusals')

    # Accepted, with 64 entries and the start of a packet tscfd "read".
    fillers = [flow(17, INNER, 20000 + i) for i in range(MAX_FLOWS - 1)]
    rx0 = udp4(INNER, svc, CPORT, SPORT, b'enc-rx-rest')
    c.sendall(rx0[:10])
    rest = recv_exact(a, 10)
    try:
        s.set(a, encrypted=True, inner=INNER, inner6=INNER6, tsid=21, rest=rest,
              flows=b''.join(fillers) + good)
        check(True, 'a kTLS socket, encrypted, 64 flows, rx-rest: accepted')
    except NlError as e:
        check(False, f'a kTLS socket, encrypted, 64 flows, rx-rest: {e}')
        print('%d checks failed' % len(srv_stream.FAILED))
        sys.exit(1)
    enc = Stream(c)
    c.sendall(rx0[10:])
    got = svc_place.take(lambda x: True, 3)
    check(got == (b'enc-rx-rest', (INNER, CPORT)),
          f'rx-rest (plaintext) and the rest of the frame: one packet, to SVC: {got!r}')
    rx_n, rx_b = 1, len(rx0)

    p = s.get(a)
    check(SP_ENCRYPTED in p and p.get(SP['FAST']) == b'\0' and
          struct.unpack('=Q', p[SP['TSID']])[0] == 21,
          'srv-peer-get: the encrypted flag, fast 0, its TSID')
    expect_errno(lambda: s.set(a, fast=1), errno.EINVAL,
                 'fast 1 on the encrypted peer later')

    # A second encrypted peer for the same address, IPv4 or IPv6.
    c2, a2 = s.connect()
    ktls(a2, tx=S2C, rx=C2S)
    ktls(c2, tx=C2S, rx=S2C)
    expect_errno(lambda: s.set(a2, encrypted=True, inner=INNER, tsid=22),
                 errno.EEXIST, 'a second encrypted peer for the same IPv4 address')
    expect_errno(lambda: s.set(a2, encrypted=True, inner6=INNER6, tsid=22),
                 errno.EEXIST, 'a second encrypted peer for the same IPv6 address')
    still_works(c2, a2, 'kTLS socket refused with EEXIST')

    # --- receive --------------------------------------------------------------
    d = udp4(INNER, svc, CPORT, SPORT, b'enc-rx-1')
    c.sendall(d)
    got = svc_place.take(lambda x: True, 3)
    check(got == (b'enc-rx-1', (INNER, CPORT)),
          f'a whole IPv4 packet from the internal address reaches SVC: {got!r}')
    rx_n, rx_b = rx_n + 1, rx_b + len(d)
    d6 = udp6(INNER6, SRV6, CPORT, 7006, b'enc-rx-6')
    c.sendall(d6)
    got = u6_place.take(lambda x: True, 3)
    check(got == (b'enc-rx-6', (INNER6, CPORT)),
          f'a whole IPv6 packet from the internal address is delivered: {got!r}')
    rx_n, rx_b = rx_n + 1, rx_b + len(d6)
    ev = s.frame_event(0.3)
    check(ev is None, f'they were carried, not handed to tscfd: {ev!r}')

    f1 = ctrl(0x05, 1)
    c.sendall(f1)
    ev = s.frame_event()
    check(ev == dict(fd=a.fileno(), tsid=21, seq=1, frame=f1),
          f'a control frame is srv-frame event 1, whole, naming fd and TSID: {ev!r}')
    # Behind a control frame tscfd has not handled, a good packet goes to
    # tscfd too (a FLOW_BIND must take effect before what follows it).
    d = udp4(INNER, svc, CPORT, SPORT, b'enc-rx-behind')
    c.sendall(d)
    ev = s.frame_event()
    check(ev == dict(fd=a.fileno(), tsid=21, seq=2, frame=d),
          f'behind an unhandled control frame, a good packet is event 2: {ev!r}')
    f2 = ctrl(0x05, 2)
    c.sendall(f2)
    ev = s.frame_event()
    check(ev == dict(fd=a.fileno(), tsid=21, seq=3, frame=f2),
          f'a second control frame is event 3: {ev!r}')
    s.set(a, frame_seq=1)
    d = udp4(INNER, svc, CPORT, SPORT, b'enc-rx-behind2')
    c.sendall(d)
    ev = s.frame_event()
    check(ev is not None and ev.get('seq') == 4 and ev.get('frame') == d,
          f'frame-seq 1 handled, control frame 3 not: the next packet is still an event: {ev!r}')
    # Handled up to the last control frame: packets go up again, though
    # the packet of event 4 was never acknowledged (packets tscfd got
    # meanwhile do not hold back the next ones, or a stream under load
    # would never get out).
    s.set(a, frame_seq=3)
    d = udp4(INNER, svc, CPORT, SPORT, b'enc-rx-after')
    c.sendall(d)
    got = svc_place.take(lambda x: True, 3)
    check(got == (b'enc-rx-after', (INNER, CPORT)),
          f'the last control frame handled (frame-seq 3, event 4 not): packets go up again: {got!r}')
    rx_n, rx_b = rx_n + 1, rx_b + len(d)
    check(svc_place.take(has(b'enc-rx-behind'), 0.3) is None,
          'the packets handed to tscfd did not reach SVC')

    forged = udp4('10.99.0.9', svc, CPORT, SPORT, b'enc-forged')
    c.sendall(forged)
    ev = s.frame_event()
    check(ev == dict(fd=a.fileno(), tsid=21, seq=5, frame=forged),
          f'a forged source is an srv-frame event: {ev!r}')
    big = udp4(INNER, svc, CPORT, SPORT, b'enc-big' + b'.' * (mtu + 1 - 35))
    c.sendall(big)
    ev = s.frame_event()
    check(ev == dict(fd=a.fileno(), tsid=21, seq=6, frame=big),
          f'a packet of MTU+1 ({len(big)}) is an srv-frame event, the forged one '
          f'not acknowledged: {ev and {k: v for k, v in ev.items() if k != "frame"}}')
    got = svc_place.take(lambda x: True, 0.7)
    check(got is None, f'neither reaches SVC: {got!r}')
    # Packets tscfd refused (not control frames) hold nothing back.
    d = udp4(INNER, svc, CPORT, SPORT, b'enc-rx-after-forged')
    c.sendall(d)
    got = svc_place.take(lambda x: True, 3)
    check(got == (b'enc-rx-after-forged', (INNER, CPORT)),
          f'behind unacknowledged packet events, a good packet goes up: {got!r}')
    rx_n, rx_b = rx_n + 1, rx_b + len(d)
    cnt = s.counters(a)
    check(cnt['RX_PACKETS'] == rx_n and cnt['RX_BYTES'] == rx_b,
          f'rx counters: the {rx_n} packets carried, {rx_b} bytes: {cnt}')

    # --- transmit -------------------------------------------------------------
    places = dict(encrypted=enc, punt=tun)
    tx_n, tx_b = 0, 0

    def svc_udp(sock, port, marker):
        sock.sendto(marker, (INNER, port))
        return has(marker)

    fr = goes(places, svc_udp(su, CPORT, b'enc-tx-1'), 'encrypted',
              'UDP of the exact entry')
    check(udp_ok(fr, svc, INNER, SPORT, CPORT, b'enc-tx-1'),
          f'it is one whole frame, read through kTLS, checksums complete: {fr!r}')
    if fr:
        tx_n, tx_b = tx_n + 1, tx_b + len(fr)
    cnt = s.counters(a)
    check(cnt['TX_PACKETS'] == tx_n and cnt['TX_BYTES'] == tx_b,
          f'tx counters: {tx_n} packet, {tx_b} bytes: {cnt}')
    goes(places, svc_udp(su2, CPORT, b'enc-tx-rport'), 'punt',
         'UDP to the client port from another source port')
    goes(places, svc_udp(su, CPORT + 1, b'enc-tx-port'), 'punt',
         'UDP to another client port')
    sraw_tcp.sendto(tcp4(svc, INNER, SPORT, CPORT, b'enc-tx-tcp'), (INNER, 0))
    goes(places, has(b'enc-tx-tcp'), 'punt', 'TCP to the UDP entry\'s ports')
    fr = goes(places, svc_udp(su, 20000 + 40, b'enc-tx-filler'), 'encrypted',
              'UDP matching entry 41 of 64 (any remote)')
    if fr:
        tx_n, tx_b = tx_n + 1, tx_b + len(fr)

    # A new set replaces the old one.
    s.set(a, flows=flow(17, INNER, CPORT) + flow(6, INNER, CPORT + 2) +
          flow(17, INNER6, CPORT))
    goes(places, svc_udp(su, 20000 + 40, b'enc-tx-old'), 'punt',
         'an entry of the replaced set no longer matches')
    for sock, what in ((su2, 'from another source port'), (su, 'from the old one')):
        fr = goes(places, svc_udp(sock, CPORT, b'enc-tx-any-' + what.encode()),
                  'encrypted', f'a wildcard entry (rport 0): UDP {what}')
        if fr:
            tx_n, tx_b = tx_n + 1, tx_b + len(fr)
    seg = tcp4(svc, INNER, SPORT, CPORT + 2, b'enc-tx-tcp2')
    sraw_tcp.sendto(seg, (INNER, 0))
    fr = goes(places, has(b'enc-tx-tcp2'), 'encrypted', 'TCP of a TCP entry')
    check(fr is not None and len(fr) == 20 + len(seg) and fr[9] == 6 and
          fr[20:] == seg, f'the TCP segment, whole: {fr!r}')
    if fr:
        tx_n, tx_b = tx_n + 1, tx_b + len(fr)
    sraw.sendto(frag4(svc, INNER, SPORT, CPORT, b'enc-tx-frag', 0x4242), (INNER, 0))
    goes(places, has(b'enc-tx-frag'), 'punt',
         'an IPv4 first fragment to a matching port')
    u6.sendto(b'enc-tx-6', (INNER6, CPORT))
    fr = goes(places, has(b'enc-tx-6'), 'encrypted', 'IPv6 UDP of an IPv6 entry')
    check(udp_ok(fr, SRV6, INNER6, 7006, CPORT, b'enc-tx-6'),
          f'it is one whole IPv6 frame, checksum complete: {fr!r}')
    if fr:
        tx_n, tx_b = tx_n + 1, tx_b + len(fr)
    raw6.sendto(udp6_dstopts(SRV6, INNER6, 7006, CPORT, b'enc-tx-ext6'), (INNER6, 0))
    goes(places, has(b'enc-tx-ext6'), 'punt',
         'IPv6 UDP behind an extension header to a matching port')
    u6.sendto(b'enc-tx-6port', (INNER6, CPORT + 1))
    goes(places, has(b'enc-tx-6port'), 'punt', 'IPv6 UDP to another port')
    cnt = s.counters(a)
    check(cnt['TX_PACKETS'] == tx_n and cnt['TX_BYTES'] == tx_b,
          f'tx counters: exactly the {tx_n} packets sent encrypted, {tx_b} bytes: {cnt}')

    # A fast clear peer for the same address.
    c3, a3 = s.connect()
    s.set(a3, fast=1, inner=INNER, tsid=23)
    places['clear'] = clear = Stream(c3)
    p = s.get(a3)
    check(SP_ENCRYPTED not in p, 'srv-peer-get of a clear peer: no encrypted flag')
    expect_errno(lambda: s.set(a3, flows=flow(17, INNER, CPORT)), errno.EINVAL,
                 'flows on an existing clear peer')
    try:        # any stream peer says how far it is (the event bound)
        s.set(a3, frame_seq=1)
        check(True, 'frame-seq on a clear stream peer: accepted')
    except NlError as e:
        check(False, f'frame-seq on a clear stream peer: {errno.errorcode.get(e.errno)} ({e.msg})')
    fr = goes(places, svc_udp(su, CPORT, b'enc-tx-over-fast'), 'encrypted',
              'a flow\'s packet, the clear peer fast')
    if fr:
        tx_n, tx_b = tx_n + 1, tx_b + len(fr)
    goes(places, svc_udp(su, CPORT + 1, b'enc-tx-unmatched-fast'), 'clear',
         'a packet of no flow, the clear peer fast')

    # An empty set removes every entry.
    s.set(a, flows=b'')
    goes(places, svc_udp(su, CPORT, b'enc-tx-empty-fast'), 'clear',
         'flows emptied: the once-matching packet, the clear peer fast')
    u6.sendto(b'enc-tx-empty-6', (INNER6, CPORT))
    goes(places, has(b'enc-tx-empty-6'), 'punt',
         'flows emptied: the once-matching IPv6 packet (no clear IPv6 peer)')
    s.set(a3, fast=0)
    goes(places, svc_udp(su, CPORT, b'enc-tx-empty-slow'), 'punt',
         'flows emptied: the once-matching packet, the clear peer slow')
    cnt = s.counters(a)
    check(cnt['TX_PACKETS'] == tx_n and cnt['TX_BYTES'] == tx_b,
          f'tx counters: {tx_n} packets, none since: {cnt}')

    # --- delete ---------------------------------------------------------------
    s.set(a, flows=flow(17, INNER, CPORT))
    last = ctrl(0x04, 99)
    s.send(a, last)
    cnt = s.counters(a, 'SRV_PEER_DEL')
    check(cnt == dict(RX_PACKETS=rx_n, RX_BYTES=rx_b, TX_PACKETS=tx_n, TX_BYTES=tx_b),
          f'srv-peer-del answers with the last counters: {cnt}')
    fr = enc.take(lambda x: True, 3)
    check(fr == last, f'a frame sent just before the delete arrives through kTLS: {fr!r}')
    check(enc.end_within(3) and not enc.got,
          f'then the connection ends: end {enc.eof}, after it {enc.got!r}')
    expect_errno(lambda: s.get(a), errno.ENOENT, 'srv-peer-get of the deleted peer')
    del places['encrypted']
    goes(places, svc_udp(su, CPORT, b'enc-tx-deleted'), 'punt',
         'the deleted peer\'s flow: punted')

    # Its address takes a new encrypted peer, whose flows work.
    try:
        s.set(a2, encrypted=True, inner=INNER, tsid=24, flows=flow(17, INNER, CPORT))
        check(True, 'the address of the deleted peer takes a new encrypted peer')
    except NlError as e:
        check(False, f'the address of the deleted peer takes a new encrypted peer: {e}')
    places['encrypted2'] = Stream(c2)
    fr = goes(places, svc_udp(su, CPORT, b'enc-tx-second'), 'encrypted2',
              'the new encrypted peer\'s flow')
    check(udp_ok(fr, svc, INNER, SPORT, CPORT, b'enc-tx-second'),
          f'whole, through kTLS: {fr!r}')
    s.g.do(CMD['SRV_PEER_DEL'], s.peer(a2))
    s.g.do(CMD['SRV_PEER_DEL'], s.peer(a3))

    print('%d checks failed' % len(srv_stream.FAILED))
    sys.exit(1 if srv_stream.FAILED else 0)


if __name__ == '__main__':
    main()
