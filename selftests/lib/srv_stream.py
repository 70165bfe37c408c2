#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A server device's stream peers, driven through the genl API alone.

  srv_stream.py PUNT [SVC_ADDR]

Run as root in a netns of its own with lo up and PUNT (a TUN device) in
it.  Plays tscfd: creates the server device "sst0" (10.99.0.1/24), listens
for srv-frame events on a second genl socket (srv-listen), accepts TCP
connections on 127.0.0.1 and hands them to the kernel as stream peers with
internal address 10.99.0.2 (or .3, .4...), while the other end of each
connection plays the client and writes frames (PROTOCOL.md) by hand.

What must hold, each checked (a failed check prints FAIL and the script
exits 1 after the rest):
- rx-rest: the start of a frame that "tscfd" read is cut with the rest;
- a fast peer's packet from its own address reaches a UDP socket on
  10.99.0.1, and counts in the peer's rx counters;
- a control frame, and a packet with a forged source, reach the listener
  as srv-frame events, byte for byte, and are not delivered;
- a reply routed to 10.99.0.2 comes out of the connection as one frame,
  its UDP checksum complete; srv-peer-send frames follow in order;
- srv-peer-send refuses two frames, half a frame and garbage (EINVAL);
- a slow peer (fast 0): its packets are events, replies go to the punt
  device, not to the connection;
- the client's FIN: the kernel shuts the connection, "tscfd" sees EPOLLHUP
  on its fd; srv-peer-del answers with the counters;
- no listener (its socket closed): a control frame cannot reach tscfd, so
  the connection is shut (the client reads EOF), and a fast packet
  behind it in the same write is not delivered; `ethtool -S` counts the
  frame as srv_frames_lost, and the slow peer's reply as tx_punted;
- bytes that are not frames: the connection is shut, the stream counted
  once in rx_dropped however much more the client writes;
- refused: a listening socket (ENOTCONN), a remote that is not the far
  end (EINVAL), an rx-rest that is a whole frame or not a frame's start
  (EINVAL, and the socket is still the caller's), the same socket on a second device
  (EBUSY), a UDP socket never attached (ENOENT);
- with SVC_ADDR (an address behind a veth whose segmentation offload is
  off, ip_forward on): a TCP super-frame from a peer offered them leaves
  as MTU-sized segments with valid TCP checksums and consecutive
  sequence numbers (the SVC side counts them with a packet socket run by
  the caller; this script only sends and prints "super sent").
- frames sent with srv-peer-send just before srv-peer-del (200 of 1,332
  bytes, then a RELEASE_RESP, small buffers at both ends and the client
  not reading yet): all of them reach the client in order, then the end,
  and none counts as dropped;
- deleting the device with a peer attached shuts its connection.
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
from tscf_nl import A, CMD, Genl, NlError, ifindex, nla, parse_attrs  # noqa: E402
from tunnel_peer import csum, udp4_packet as udp4  # noqa: E402

SP = dict(REMOTE=1, FD=2, TSID=3, IP4=4, FAST=6, RX_PACKETS=7, RX_BYTES=8,
          TX_PACKETS=9, TX_BYTES=10, SUPER_FRAMES=13, RX_REST=14)
FAILED = []
DELETE_BURST = 200  # frames of 1,332 bytes sent just before a delete


def check(ok, what):
    print(('ok: ' if ok else 'FAIL: ') + what, flush=True)
    if not ok:
        FAILED.append(what)


def ip4(src, dst, proto, l4, ident=1):
    hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(l4), ident, 0, 64,
                      proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return hdr[:10] + struct.pack('!H', csum(hdr)) + hdr[12:] + l4


def ctrl(msg_type, seq, tlvs=b''):
    """A control frame: 16-byte header (PROTOCOL.md 2.1), no TLV."""
    return struct.pack('!BBHHHQ', 0x10, msg_type, 0, 0, 0, seq)[:16] + tlvs


def sin(addr):
    host, port = addr[:2]
    return struct.pack('=H', socket.AF_INET) + struct.pack('!H', port) + \
        socket.inet_aton(host) + b'\0' * 8


class Server:
    def __init__(self, name, punt, addr):
        self.g = Genl()
        at = self.g.do(CMD['SRV_NEW'], nla(A['IFNAME'], name.encode() + b'\0') +
                       nla(A['PUNT_IFINDEX'], struct.pack('=I', ifindex(punt))))
        self.ifindex = struct.unpack('=I', at[0][1][A['IFINDEX']])[0]
        self.name = name
        os.system(f'ip addr add {addr}/24 dev {name} && ip link set {name} up')
        self.ev = Genl()
        self.ev.do(CMD['SRV_LISTEN'], self.ifx())
        self.ls = socket.socket()
        self.ls.bind(('127.0.0.1', 0))
        self.ls.listen(8)
        self.remotes = {}      # fd: the far end, as tscfd keeps it

    def ifx(self):
        return nla(A['IFINDEX'], struct.pack('=I', self.ifindex))

    def connect(self):
        c = socket.create_connection(self.ls.getsockname())
        a, _ = self.ls.accept()
        return c, a

    def peer(self, a, fast=None, inner=None, tsid=None, rest=None, remote=None,
             superf=None, more=b''):
        """The attributes naming a's peer; more: further nested attributes."""
        try:            # after the end, the far end as tscfd kept it
            self.remotes[a.fileno()] = a.getpeername()
        except OSError:
            pass
        nest = nla(SP['REMOTE'], sin(remote or self.remotes.get(a.fileno()) or
                                     ('127.0.0.1', 9))) + \
            nla(SP['FD'], struct.pack('=I', a.fileno()))
        if tsid is not None:
            nest += nla(SP['TSID'], struct.pack('=Q', tsid))
        if inner:
            nest += nla(SP['IP4'], socket.inet_aton(inner))
        if fast is not None:
            nest += nla(SP['FAST'], bytes([fast]))
        if superf:
            nest += nla(SP['SUPER_FRAMES'], struct.pack('=H', superf))
        if rest is not None:
            nest += nla(SP['RX_REST'], rest)
        return self.ifx() + nla(A['SRV_PEER'] | 0x8000, nest + more)

    def set(self, a, **kw):
        return self.g.do(CMD['SRV_PEER_SET'], self.peer(a, **kw))

    def send(self, a, frame):
        return self.g.do(CMD['SRV_PEER_SEND'], self.peer(a) + nla(A['FRAME'], frame))

    def counters(self, a, cmd='SRV_PEER_GET'):
        at = self.g.do(CMD[cmd], self.peer(a))[0][1]
        p = parse_attrs(at[A['SRV_PEER']])
        return {k: struct.unpack('=Q', p[SP[k]])[0]
                for k in ('RX_PACKETS', 'RX_BYTES', 'TX_PACKETS', 'TX_BYTES')}

    def event(self, timeout=3):
        """The next srv-frame event: (fd, tsid, frame), or None."""
        r, _, _ = select.select([self.ev.s], [], [], timeout)
        if not r:
            return None
        data = self.ev.s.recv(1 << 20)
        ln, typ, _, seq, _ = struct.unpack_from('=IHHII', data)
        cmd = data[16]
        at = parse_attrs(data[20:ln])
        if cmd != CMD['SRV_FRAME'] or seq != 0:
            return ('unexpected', cmd, seq)
        p = parse_attrs(at[A['SRV_PEER']])
        return (struct.unpack('=I', p[SP['FD']])[0],
                struct.unpack('=Q', p[SP['TSID']])[0], at[A['FRAME']])


SIOCETHTOOL = 0x8946
ETHTOOL_GDRVINFO, ETHTOOL_GSTRINGS, ETHTOOL_GSTATS = 0x03, 0x1b, 0x1d
ETH_SS_STATS, ETH_GSTRING_LEN = 1, 32


def _ethtool(dev, buf):
    """SIOCETHTOOL on dev with buf (a ctypes buffer) as its argument."""
    ifr = struct.pack('16sP16x', dev.encode(), ctypes.addressof(buf))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        fcntl.ioctl(s, SIOCETHTOOL, ifr)


def ethtool_stats(dev):
    """The device's `ethtool -S` counters, by name: read with the ioctl
    ethtool(8) uses, not by running it, whose fork and exec took seconds
    in a loaded debug guest (test 73 times things to the second)."""
    info = ctypes.create_string_buffer(196)
    struct.pack_into('I', info, 0, ETHTOOL_GDRVINFO)
    _ethtool(dev, info)
    n = struct.unpack_from('I', info, 180)[0]       # n_stats
    names = ctypes.create_string_buffer(12 + n * ETH_GSTRING_LEN)
    struct.pack_into('III', names, 0, ETHTOOL_GSTRINGS, ETH_SS_STATS, n)
    _ethtool(dev, names)
    vals = ctypes.create_string_buffer(8 + n * 8)
    struct.pack_into('II', vals, 0, ETHTOOL_GSTATS, n)
    _ethtool(dev, vals)
    out = {}
    for i in range(n):
        raw = names.raw[12 + i * ETH_GSTRING_LEN:12 + (i + 1) * ETH_GSTRING_LEN]
        out[raw.split(b'\0', 1)[0].decode()] = struct.unpack_from('Q', vals, 8 + i * 8)[0]
    return out


def expect_errno(fn, want, what):
    try:
        fn()
    except NlError as e:
        check(e.errno == want, f'{what}: {errno.errorcode.get(e.errno)} ({e.msg})')
        return
    check(False, f'{what}: accepted, want {errno.errorcode[want]}')


def read_frame(c, timeout=3):
    c.settimeout(timeout)
    try:
        head = c.recv(4, socket.MSG_PEEK | socket.MSG_WAITALL)
        if len(head) < 4:
            return head
        n = struct.unpack('!H', head[2:4])[0] if head[0] >> 4 == 4 else 16
        return c.recv(n, socket.MSG_WAITALL)
    except socket.timeout:
        return None


def nothing_arrives(u, what):
    """Check that the UDP socket u receives nothing for half a second."""
    u.settimeout(0.5)
    try:
        check(False, f'{what}: delivered {u.recvfrom(100)}')
    except socket.timeout:
        check(True, what)
    u.settimeout(3)


def dev_stat(dev, name):
    """One of the device's /sys/class/net statistics (tx_dropped, ...)."""
    with open(f'/sys/class/net/{dev}/statistics/{name}') as f:
        return int(f.read())


def read_to_end(c, secs):
    """What c receives until its end (True) or secs of silence (False)."""
    c.settimeout(secs)
    got = b''
    try:
        while True:
            d = c.recv(65536)
            if not d:
                return got, True
            got += d
    except socket.timeout:
        return got, False
    except ConnectionResetError:
        return got, True


def eof_within(c, secs):
    return read_to_end(c, secs)[1]


def hup_within(a, secs):
    p = select.poll()
    p.register(a.fileno(), select.POLLRDHUP)
    for _fd, ev in p.poll(secs * 1000):
        if ev & (select.POLLHUP | select.POLLRDHUP):
            return True
    return False


def main():
    punt = sys.argv[1]
    svc = sys.argv[2] if len(sys.argv) > 2 else None
    s = Server('sst0', punt, '10.99.0.1')
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(('10.99.0.1', 7000))
    u.settimeout(3)

    # --- one fast peer ------------------------------------------------------
    c, a = s.connect()
    f1 = ctrl(0x20, 1)
    d1 = udp4('10.99.0.2', '10.99.0.1', 5000, 7000, b'one')
    c.sendall(f1 + d1[:10])
    got = a.recv(len(f1) + 10, socket.MSG_WAITALL)
    s.set(a, fast=1, inner='10.99.0.2', tsid=7, rest=got[len(f1):])
    c.sendall(d1[10:])
    try:
        check(u.recvfrom(100) == (b'one', ('10.99.0.2', 5000)),
              'rx-rest and the rest of the frame make one packet, delivered')
    except socket.timeout:
        check(False, 'rx-rest and the rest of the frame make one packet, delivered')
    f2 = ctrl(0x21, 2, b'\x00\x05\x00\x01\x07')
    f2 = f2[:2] + b'\x00\x01' + f2[4:]        # one TLV
    c.sendall(f2)
    check(s.event() == (a.fileno(), 7, f2), 'a control frame is an srv-frame event, whole')
    forged = udp4('10.99.0.9', '10.99.0.1', 5000, 7000, b'forged')
    c.sendall(forged)
    check(s.event() == (a.fileno(), 7, forged), 'a forged source goes to tscfd')
    nothing_arrives(u, 'the forged packet is not delivered')

    u.sendto(b'back', ('10.99.0.2', 6000))
    fr = read_frame(c)
    ok = fr is not None and len(fr) == 32 and fr.endswith(b'back') and \
        fr[12:20] == socket.inet_aton('10.99.0.1') + socket.inet_aton('10.99.0.2')
    check(ok, f'a reply comes out of the connection as one frame: {fr!r}')
    if ok:
        ph = fr[12:20] + struct.pack('!BBH', 0, 17, len(fr) - 20)
        check(csum(ph + fr[20:]) == 0 and csum(fr[:20]) == 0,
              'its IP and UDP checksums are complete')
    f3 = ctrl(0x22, 3)
    s.send(a, f3)
    check(read_frame(c) == f3, 'srv-peer-send: the frame arrives whole')
    expect_errno(lambda: s.send(a, f3 + f3), errno.EINVAL, 'srv-peer-send of two frames')
    expect_errno(lambda: s.send(a, f3[:10]), errno.EINVAL, 'srv-peer-send of half a frame')
    expect_errno(lambda: s.send(a, b'\xff' * 20), errno.EINVAL, 'srv-peer-send of garbage')
    cnt = s.counters(a)
    check(cnt['RX_PACKETS'] == 1 and cnt['TX_PACKETS'] == 1,
          f'counters: only what the kernel carried: {cnt}')

    # --- slow -------------------------------------------------------------
    s.set(a, fast=0)
    d2 = udp4('10.99.0.2', '10.99.0.1', 5000, 7000, b'slow')
    c.sendall(d2)
    check(s.event() == (a.fileno(), 7, d2), 'a slow peer\'s packet goes to tscfd')
    u.sendto(b'punt', ('10.99.0.2', 6000))
    check(read_frame(c, 0.5) is None, 'a slow peer\'s reply is not sent by the kernel')
    st = ethtool_stats('sst0')
    check(st.get('tx_punted', 0) >= 1 and st.get('peers') == 1 and
          st.get('srv_frames_lost') == 0,
          f'ethtool -S: the reply punted, one peer, no frame lost: {st}')

    # --- refused ------------------------------------------------------------
    expect_errno(lambda: s.g.do(CMD['SRV_PEER_SET'],
                                s.peer(s.ls, fast=1, inner='10.99.0.5',
                                       remote=('127.0.0.1', 9))),
                 errno.ENOTCONN, 'a listening socket')
    c2, a2 = s.connect()
    expect_errno(lambda: s.set(a2, fast=1, inner='10.99.0.3',
                               remote=('127.0.0.1', 9)),
                 errno.EINVAL, 'a remote that is not the far end')
    expect_errno(lambda: s.set(a2, fast=1, inner='10.99.0.3', rest=ctrl(0x20, 9)),
                 errno.EINVAL, 'an rx-rest that is a whole frame')
    expect_errno(lambda: s.set(a2, fast=1, inner='10.99.0.3', rest=b'\xff' * 8),
                 errno.EINVAL, 'an rx-rest that is not a frame\'s start')
    c2.sendall(b'still mine')
    a2.settimeout(2)
    check(a2.recv(100) == b'still mine', 'a refused socket is still the caller\'s')
    uu = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    uu.bind(('127.0.0.1', 0))
    expect_errno(lambda: s.g.do(CMD['SRV_PEER_SET'],
                                s.peer(uu, fast=1, inner='10.99.0.6',
                                       remote=('127.0.0.1', 9))),
                 errno.ENOENT, 'a UDP socket that is not attached')
    s.set(a2, fast=1, inner='10.99.0.3', tsid=8)
    other = Server('sst1', punt, '10.97.0.1')
    expect_errno(lambda: other.set(a2, fast=1, inner='10.97.0.3'),
                 errno.EBUSY, 'the same connection on a second device')

    # --- the ends of a stream -----------------------------------------------
    c.shutdown(socket.SHUT_WR)
    check(hup_within(a, 3), 'the client\'s FIN: tscfd\'s fd sees the hang-up')
    cnt = s.counters(a, 'SRV_PEER_DEL')
    check(cnt['RX_PACKETS'] == 1, f'srv-peer-del answers with the counters: {cnt}')
    a.close()
    c.close()

    # Not frames: counted once, and nothing more of the stream is read
    # (what the client writes meanwhile is not parsed again, and again).
    # Five segments back to back: the reader finds more queued behind
    # the bytes that did not parse.
    drops = dev_stat('sst0', 'rx_dropped')
    c2.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for _ in range(5):
        try:
            c2.send(b'\xff' * 64)
        except OSError:
            break
    check(eof_within(c2, 3), 'bytes that are not frames: the connection is shut')
    check(dev_stat('sst0', 'rx_dropped') - drops == 1,
          f'an unparsable stream counts once: rx_dropped +{dev_stat("sst0", "rx_dropped") - drops}')
    s.g.do(CMD['SRV_PEER_DEL'], s.peer(a2))

    c3, a3 = s.connect()
    s.set(a3, fast=1, inner='10.99.0.4', tsid=9)
    s.ev.s.close()
    time.sleep(0.2)
    # One write: the packet behind the lost control frame must not go on.
    c3.sendall(ctrl(0x20, 4) + udp4('10.99.0.4', '10.99.0.1', 5000, 7000, b'after'))
    check(eof_within(c3, 3), 'no listener: a control frame shuts the connection')
    nothing_arrives(u, 'nothing behind the lost frame is carried')
    lost = ethtool_stats('sst0').get('srv_frames_lost')
    check(lost == 1, f'ethtool -S counts the lost frame: srv_frames_lost {lost}')
    s.g.do(CMD['SRV_PEER_DEL'], s.peer(a3))

    # --- super-frames, forwarded (the caller counts the segments) -----------
    if svc:
        s.ev = Genl()
        s.ev.do(CMD['SRV_LISTEN'], s.ifx())
        c4, a4 = s.connect()
        s.set(a4, fast=1, inner='10.99.0.2', tsid=10, superf=65535)
        payload = bytes(range(256)) * 20          # 5120 bytes
        th = struct.pack('!HHIIBBHHH', 4000, 4001, 1000, 1, 5 << 4, 0x18,
                         65535, 0xbeef, 0)
        c4.sendall(ip4('10.99.0.2', svc, 6, th + payload, ident=77))
        time.sleep(1)
        ev = s.event(0.2)
        check(ev is None, f'the super-frame was taken, not handed to tscfd: {ev!r}')
        print('super sent', flush=True)
        # The same frame from a peer not offered them goes to tscfd.
        c5, a5 = s.connect()
        s.set(a5, fast=1, inner='10.99.0.7', tsid=11)
        big = ip4('10.99.0.7', svc, 6, th + payload, ident=78)
        c5.sendall(big)
        check(s.event() == (a5.fileno(), 11, big),
              'a super-frame from a peer not offered them goes to tscfd')

    # --- frames sent just before a delete --------------------------------------
    # tscfd answers a RELEASE_REQ and deletes the peer at once.  With small
    # buffers at both ends and a client that reads nothing yet, most of
    # what was sent before the delete still waits in the stream's queue:
    # all of it must reach the client, in order, ahead of the end.
    c7, a7 = s.connect()
    c7.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    a7.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    s.set(a7, fast=1, inner='10.99.0.9', tsid=13)
    sent = [udp4('10.99.0.1', '10.99.0.9', 7000, 5000, b'%04d' % k + b'.' * 1300)
            for k in range(DELETE_BURST)] + [ctrl(0x04, 13)]
    for f in sent:
        s.send(a7, f)
    dropped0 = dev_stat('sst0', 'tx_dropped')
    s.g.do(CMD['SRV_PEER_DEL'], s.peer(a7))
    # What the socket did not take waits for the reaper, which runs after
    # an RCU grace period: seconds in a loaded debug guest (5 s of silence
    # once ended this read with 9,324 bytes), so silence is given 30 s.
    got, end = read_to_end(c7, 30)
    check(end and got == b''.join(sent),
          f'{len(sent)} frames sent before a delete all arrive, in order, then '
          f'the end: {len(got)} of {sum(map(len, sent))} bytes, end {end}')
    dropped = dev_stat('sst0', 'tx_dropped') - dropped0
    check(dropped == 0, f'none of them dropped: tx_dropped +{dropped}')
    a7.close()

    # --- the device goes with a stream attached ------------------------------
    c6, a6 = s.connect()
    s.set(a6, fast=1, inner='10.99.0.8', tsid=12)
    os.system('ip link del sst0')
    check(eof_within(c6, 3), 'the device deleted: its streams\' connections are shut')

    print('%d checks failed' % len(FAILED))
    sys.exit(1 if FAILED else 0)


if __name__ == '__main__':
    main()
