#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Minimal generic netlink client for the tscf family, for kernel tests.

An independent implementation of the family of docs/netlink/tscf.yaml
(tscfctl is another, ynl's CLI a third), so the tests check the kernel API
itself.  Standard library only.  Its numbers are checked against the spec
(selftests/host/72-ynl-spec.sh) and its answers against ynl's CLI
(selftests/kernel/57-ynl-cli.sh).

CLI (used by the shell tests):
  tscf_nl.py attach DEV FD TSID [IPV4]   attach inherited fd FD
  tscf_nl.py detach DEV
  tscf_nl.py send-ctrl DEV HEX
  tscf_nl.py dev DEV                     print device info as JSON
  tscf_nl.py raw CMD [ATTR:TYPE:VALUE...]  send anything (bad-input tests)
  tscf_nl.py listen SECONDS [--until TEXT [--count N]] [GROUP...]
                                         print events as JSON lines, from
                                         GROUPs (ctrl, tunnel, sock; all by
                                         default), until SECONDS without an
                                         event; with --until, until N lines
                                         (default 1) hold TEXT or SECONDS in
                                         all have passed
  tscf_nl.py socks                       marked sockets, a JSON line each
  tscf_nl.py srv-peers                   server devices' peers, a JSON line each
  tscf_nl.py srv-peer-field FIELD        FIELD of the first clear peer
"""
import json
import time
import os
import socket
import struct
import sys

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
CTRL_ATTR_MCAST_GROUPS = 7
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 1, 4, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLA_F_NESTED = 0x8000
SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, NETLINK_EXT_ACK = 270, 1, 11
NLMSGERR_ATTR_MSG = 1

CMD = dict(DEV_GET=1, DEV_SET=2, TUNNEL_ATTACH=3, TUNNEL_DETACH=4,
           CTRL_SEND=5, SOCK_GET=6, CTRL_RECV=7, TUNNEL_EVENT=8,
           ENC_DEMAND=9, SOCK_EVENT=10, SRV_NEW=11, SRV_SOCK_ADD=12,
           SRV_PEER_SET=13, SRV_PEER_DEL=14, SRV_PEER_GET=15, SRV_LISTEN=16,
           SRV_PEER_SEND=17, SRV_FRAME=18)
CMD_NAME = {v: k for k, v in CMD.items()}
A = dict(IFINDEX=1, IFNAME=2, ENCRYPTED=3, TWIN_IFINDEX=4, TUNNEL=5, FRAME=6,
         TSID=7, EVENT=8, REASON=9, STATS=10, DEMAND=11, SOCK=12,
         ENC_LINGER_MS=13, PAD=14, TX_REFUSED=15, EVENTS_SUPPRESSED=16,
         PUNT_IFINDEX=17, SOCK_FD=18, SRV_PEER=19)
T = dict(FD=1, TSID=2, TRANSPORT=3, INTERNAL_IPV4=4, INTERNAL_IPV6=5,
         LOCAL=6, PEER=7, STATS=8, DTLS_TX_KEY=11, DTLS_RX_KEY=12,
         DTLS_TX_SALT=13, DTLS_RX_SALT=14, DTLS_EPOCH=15, DTLS_TX_SEQ=16,
         DTLS_RX_SEQ=17, SUPER_FRAMES=18)
STATS = ['tx_packets', 'tx_bytes', 'rx_packets', 'rx_bytes', 'tx_ctrl',
         'rx_ctrl', 'rx_malformed', 'tx_dropped', 'tx_blocked', 'rx_blocked',
         None, 'tx_malformed',     # None: TSCF_STATS_A_PAD
         'rx_auth_failed', 'rx_replayed', 'tx_super_frames', 'txq_bytes']
GROUPS = ('ctrl', 'tunnel', 'sock')


class NlError(Exception):
    def __init__(self, errno, msg):
        super().__init__(f"{os.strerror(errno)}" + (f": {msg}" if msg else ""))
        self.errno = errno
        self.msg = msg


def nla(atype, payload):
    hdr = struct.pack('=HH', 4 + len(payload), atype)
    pad = (4 - len(payload) % 4) % 4
    return hdr + payload + b'\0' * pad


def parse_attrs(data):
    out = {}
    i = 0
    while i + 4 <= len(data):
        ln, at = struct.unpack_from('=HH', data, i)
        if ln < 4:
            break
        out[at & 0x3fff] = data[i + 4:i + ln]
        i += (ln + 3) & ~3
    return out


class Genl:
    def __init__(self):
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                               NETLINK_GENERIC)
        self.s.bind((0, 0))
        self.s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        self.seq = 1
        self.fid, self.groups = self._resolve('tscf')

    def _send(self, fid, cmd, attrs, flags=NLM_F_REQUEST | NLM_F_ACK):
        self.seq += 1
        body = struct.pack('=BBH', cmd, 1, 0) + attrs
        msg = struct.pack('=IHHII', 16 + len(body), fid, flags, self.seq, 0)
        self.s.send(msg + body)
        return self.seq

    def _recv(self, seq):
        """Yield (type, attrs) until ACK/DONE; raise NlError on error."""
        while True:
            data = self.s.recv(1 << 20)
            i = 0
            while i < len(data):
                ln, typ, flags, sq, _ = struct.unpack_from('=IHHII', data, i)
                payload = data[i + 16:i + ln]
                i += (ln + 3) & ~3
                if sq != seq:
                    continue
                if typ == NLMSG_ERROR:
                    err = struct.unpack_from('=i', payload)[0]
                    if err == 0:
                        return
                    # extack TLVs follow the echoed request header
                    olen = struct.unpack_from('=I', payload, 4)[0]
                    off = 4 + (16 if flags & 0x100 else olen)
                    ext = parse_attrs(payload[off:])
                    m = ext.get(NLMSGERR_ATTR_MSG, b'').rstrip(b'\0').decode()
                    raise NlError(-err, m)
                if typ == NLMSG_DONE:
                    return
                yield typ, parse_attrs(payload[4:])

    def _resolve(self, name):
        seq = self._send(GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                         nla(CTRL_ATTR_FAMILY_NAME, name.encode() + b'\0'))
        fid, groups = None, {}
        try:
            for _, at in self._recv(seq):
                fid = struct.unpack('=H', at[CTRL_ATTR_FAMILY_ID][:2])[0]
                for g in parse_attrs(at.get(CTRL_ATTR_MCAST_GROUPS, b'')).values():
                    ga = parse_attrs(g)
                    groups[ga[1].rstrip(b'\0').decode()] = struct.unpack('=I', ga[2])[0]
        except NlError as e:
            raise NlError(e.errno, "genl family 'tscf' not found (module not loaded?)")
        return fid, groups

    def do(self, cmd, attrs=b'', dump=False):
        flags = NLM_F_REQUEST | NLM_F_ACK | (NLM_F_DUMP if dump else 0)
        seq = self._send(self.fid, cmd, attrs, flags)
        return list(self._recv(seq))

    def join(self, group):
        self.s.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, self.groups[group])


def ifindex(dev):
    return socket.if_nametoindex(dev)


def decode_dev(at):
    d = {}
    if A['IFINDEX'] in at:
        d['ifindex'] = struct.unpack('=I', at[A['IFINDEX']])[0]
    if A['IFNAME'] in at:
        d['ifname'] = at[A['IFNAME']].rstrip(b'\0').decode()
    if A['ENCRYPTED'] in at:
        d['encrypted'] = at[A['ENCRYPTED']][0]
    if A['TWIN_IFINDEX'] in at:
        d['twin_ifindex'] = struct.unpack('=I', at[A['TWIN_IFINDEX']])[0]
    if A['TSID'] in at:
        d['tsid'] = struct.unpack('=Q', at[A['TSID']])[0]
    for k in ('EVENT', 'REASON', 'DEMAND'):
        if A[k] in at:
            d[k.lower()] = at[A[k]][0]
    for k in ('TX_REFUSED', 'EVENTS_SUPPRESSED'):
        if A[k] in at:
            d[k.lower()] = struct.unpack('=Q', at[A[k]])[0]
    if A['FRAME'] in at:
        d['frame'] = at[A['FRAME']].hex()
    if A['SOCK'] in at:
        d['sock'] = decode_sock(parse_attrs(at[A['SOCK']]))
    if A['TUNNEL'] in at:
        t = parse_attrs(at[A['TUNNEL']])
        tun = {'tsid': struct.unpack('=Q', t[T['TSID']])[0],
               'transport': t[T['TRANSPORT']][0]}
        if T['INTERNAL_IPV4'] in t:
            tun['internal_ipv4'] = socket.inet_ntoa(t[T['INTERNAL_IPV4']])
        if T['INTERNAL_IPV6'] in t:
            tun['internal_ipv6'] = socket.inet_ntop(socket.AF_INET6, t[T['INTERNAL_IPV6']])
        tun['stats'] = decode_stats(t.get(T['STATS'], b''))
        d['tunnel'] = tun
    if A['STATS'] in at:
        d['stats'] = decode_stats(at[A['STATS']])
    return d


SRV_PEER_U64 = {3: 'tsid', 7: 'rx_packets', 8: 'rx_bytes', 9: 'tx_packets',
                10: 'tx_bytes'}


def decode_srv_peer(at):
    p = parse_attrs(at[A['SRV_PEER']])
    d = {'ifindex': struct.unpack('=I', at[A['IFINDEX']])[0]}
    for k, name in SRV_PEER_U64.items():
        if k in p:
            d[name] = struct.unpack('=Q', p[k])[0]
    if 4 in p:
        d['internal_ipv4'] = socket.inet_ntoa(p[4])
    if 6 in p:
        d['fast'] = p[6][0]
    if 11 in p:
        d['rx_idle_ms'] = struct.unpack('=I', p[11])[0]
    d['super_frames'] = struct.unpack('=H', p[13][:2])[0] if 13 in p else 0
    d['encrypted'] = int(15 in p)
    return d


def decode_stats(nest):
    return {STATS[k - 1]: struct.unpack('=Q', v)[0]
            for k, v in parse_attrs(nest).items()
            if 0 < k <= len(STATS) and STATS[k - 1]}


def decode_sock(sa):
    d = {'cookie': struct.unpack('=Q', sa[1])[0], 'inode': struct.unpack('=Q', sa[2])[0],
         'level': sa[3][0], 'path': sa[4][0], 'proto': sa[5][0]}
    return d


def main(argv):
    g = Genl()
    op = argv[0]
    if op == 'attach':
        dev, fd, tsid = argv[1], int(argv[2]), int(argv[3], 0)
        tun = nla(T['FD'], struct.pack('=I', fd)) + nla(T['TSID'], struct.pack('=Q', tsid))
        if len(argv) > 4:
            tun += nla(T['INTERNAL_IPV4'], socket.inet_aton(argv[4]))
        g.do(CMD['TUNNEL_ATTACH'], nla(A['IFINDEX'], struct.pack('=I', ifindex(dev))) +
             nla(A['TUNNEL'] | NLA_F_NESTED, tun))
    elif op == 'detach':
        g.do(CMD['TUNNEL_DETACH'], nla(A['IFINDEX'], struct.pack('=I', ifindex(argv[1]))))
    elif op == 'send-ctrl':
        g.do(CMD['CTRL_SEND'], nla(A['IFINDEX'], struct.pack('=I', ifindex(argv[1]))) +
             nla(A['FRAME'], bytes.fromhex(argv[2])))
    elif op == 'dev':
        for _, at in g.do(CMD['DEV_GET'], nla(A['IFNAME'], argv[1].encode() + b'\0')):
            print(json.dumps(decode_dev(at)))
    elif op == 'dump':
        for _, at in g.do(CMD['DEV_GET'], dump=True):
            print(json.dumps(decode_dev(at)))
    elif op == 'socks':
        for _, at in g.do(CMD['SOCK_GET'], dump=True):
            print(json.dumps(decode_sock(parse_attrs(at[A['SOCK']]))))
    elif op == 'srv-peers':
        for _, at in g.do(CMD['SRV_PEER_GET'], dump=True):
            print(json.dumps(decode_srv_peer(at)))
    elif op == 'srv-peer-field':
        peers = [decode_srv_peer(at) for _, at in g.do(CMD['SRV_PEER_GET'], dump=True)]
        print([p for p in peers if not p['encrypted']][0][argv[1]])
    elif op == 'raw':
        attrs = b''
        for spec in argv[2:]:
            num, typ, val = spec.split(':', 2)
            if typ == 'u32':
                payload = struct.pack('=I', int(val, 0))
            elif typ == 'u64':
                payload = struct.pack('=Q', int(val, 0))
            elif typ == 'str':
                payload = val.encode() + b'\0'
            else:
                payload = bytes.fromhex(val)
            attrs += nla(int(num), payload)
        g.do(int(argv[1]), attrs)
    elif op == 'listen':
        args, until, count = argv[2:], None, 1
        while args[:1] in (['--until'], ['--count']):
            if args[0] == '--until':
                until = args[1]
            else:
                count = int(args[1])
            args = args[2:]
        for grp in args or GROUPS:
            g.join(grp)
        deadline = time.monotonic() + float(argv[1])
        g.s.settimeout(float(argv[1]))
        print(json.dumps({'ready': True}), flush=True)
        seen = 0
        try:
            while until is None or seen < count:
                if until is not None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    g.s.settimeout(left)
                data = g.s.recv(1 << 20)
                i = 0
                while i < len(data):
                    ln = struct.unpack_from('=I', data, i)[0]
                    cmd = data[i + 16]
                    ev = decode_dev(parse_attrs(data[i + 20:i + ln]))
                    ev['cmd'] = CMD_NAME.get(cmd, cmd)
                    line = json.dumps(ev)
                    print(line, flush=True)
                    if until is not None and until in line:
                        seen += 1
                    i += (ln + 3) & ~3
        except socket.timeout:
            pass
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv[1:]))
    except NlError as e:
        print(f"tscf_nl: {e}", file=sys.stderr)
        sys.exit(1)
