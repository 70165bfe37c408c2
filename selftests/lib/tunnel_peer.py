#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Both ends of a tscf tunnel for kernel tests, without tscfctl or tscfd.

  tunnel_peer.py server --transport udp|tcp|ktls --addr A --port P
        A fake tunneling server.  Every inner IPv4 UDP packet is answered
        with one whose addresses and ports are swapped and whose payload is
        b"echo:" + payload.  A KEEPALIVE_REQ control frame is answered with
        KEEPALIVE_RESP (same TSID and sequence).  --inject HEX... sends those
        raw frames first (hostile-input tests).  Prints one JSON line per
        frame received.  Runs until killed.
  tunnel_peer.py client DEV --transport udp|tcp|ktls --addr A --port P --tsid N
        Connects and attaches the socket to DEV through the tscf genl API,
        then exits: the kernel keeps the socket.

ktls installs fixed AES-128-GCM TLS 1.2 keys on both sides (as the kernel's
tls selftest does), so no TLS library is involved.
"""
import argparse
import json
import os
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tscf_nl  # noqa: E402

SOL_TLS, TLS_TX, TLS_RX, TCP_ULP = 282, 1, 2, 31
TLS_1_2_VERSION, TLS_CIPHER_AES_GCM_128 = 0x0303, 51


def ktls_info(key_byte, iv_byte):
    # struct tls12_crypto_info_aes_gcm_128: version, cipher, iv[8], key[16],
    # salt[4], rec_seq[8]
    return struct.pack('=HH8s16s4s8s', TLS_1_2_VERSION, TLS_CIPHER_AES_GCM_128,
                       bytes([iv_byte]) * 8, bytes([key_byte]) * 16,
                       bytes([iv_byte]) * 4, b'\0' * 8)


def install_ktls(s, is_server):
    s.setsockopt(socket.SOL_TCP, TCP_ULP, b'tls')
    c2s, s2c = ktls_info(0x11, 0x21), ktls_info(0x12, 0x22)
    s.setsockopt(SOL_TLS, TLS_TX, s2c if is_server else c2s)
    s.setsockopt(SOL_TLS, TLS_RX, c2s if is_server else s2c)


def csum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def udp4_packet(src, dst, sport, dport, payload):
    udp_len = 8 + len(payload)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('!BBH', 0, 17, udp_len)
    udp = struct.pack('!HHHH', sport, dport, udp_len, 0) + payload
    c = csum(pseudo + udp) or 0xffff
    udp = udp[:6] + struct.pack('!H', c) + udp[8:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + udp_len, 0, 0x4000, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    return ip + udp


def frame_len(buf):
    """Length of the frame at buf[0], None if incomplete, -1 if bad."""
    if not buf:
        return None
    nib = buf[0] >> 4
    if nib == 4:
        return struct.unpack_from('!H', buf, 2)[0] if len(buf) >= 20 else None
    if nib == 6:
        return 40 + struct.unpack_from('!H', buf, 4)[0] if len(buf) >= 40 else None
    if nib == 1:
        if len(buf) < 16:
            return None
        n, off = struct.unpack_from('!H', buf, 2)[0], 16
        for _ in range(n):
            if len(buf) < off + 4:
                return None
            off += 4 + struct.unpack_from('!H', buf, off + 2)[0]
        return off
    return -1


def answer(frame):
    """The server's reply to one frame, or None."""
    nib = frame[0] >> 4
    if nib == 1 and len(frame) >= 16 and frame[1] == 5:     # KEEPALIVE_REQ
        return bytes([0x10, 6]) + b'\0\0' + frame[4:16]
    if nib == 1 and len(frame) >= 16 and frame[1] == 9:     # FLOW_BIND_REQ
        # FLOW_BIND_RESP, same TSID and sequence, RESPONSE_CODE SUCCESS
        return bytes([0x10, 10, 0, 1]) + frame[4:16] + struct.pack('!HHH', 8, 2, 0)
    if nib == 4 and len(frame) >= 28 and frame[9] == 17:
        ihl = (frame[0] & 0xf) * 4
        src, dst = socket.inet_ntoa(frame[12:16]), socket.inet_ntoa(frame[16:20])
        sport, dport = struct.unpack_from('!HH', frame, ihl)
        return udp4_packet(dst, src, dport, sport, b'echo:' + frame[ihl + 8:])
    return None


def report(frame):
    nib = frame[0] >> 4
    rec = {'kind': {1: 'ctrl', 4: 'ipv4', 6: 'ipv6'}.get(nib, 'bad'), 'len': len(frame)}
    if nib == 1 and len(frame) >= 16:
        rec['type'] = frame[1]
        rec['tsid'] = struct.unpack_from('!Q', frame, 4)[0]
        rec['seq'] = struct.unpack_from('!I', frame, 12)[0]
        if frame[1] == 9:       # FLOW_BIND_REQ: ENC_LEVEL is its last TLV
            rec['level'] = frame[-1]
    if nib == 4 and len(frame) >= 28:
        rec['payload'] = frame[28:].decode('latin-1')
    print(json.dumps(rec), flush=True)


def keepalive_resps(tsid, first, n):
    """n KEEPALIVE_RESP frames (16 bytes each), numbered from first."""
    return b''.join(bytes([0x10, 6, 0, 0]) + struct.pack('!QI', tsid, first + i)
                    for i in range(n))


def serve_stream(conn, inject, hold=None, burst=0, tsid=0, tail=0):
    """hold: a path; while it does not exist, answers to FLOW_BIND_REQ are
    kept back (in order), and sent before the next reply once it does.
    burst: after the reply to the client's first frame, that many
    KEEPALIVE_RESP frames (16 bytes each) in one write; tail: one second
    later, that many more in a second write (reported, even if none)."""
    for hexframe in inject:
        conn.sendall(bytes.fromhex(hexframe))
    held = []
    buf = b''
    while True:
        data = conn.recv(65536)
        if not data:
            return
        buf += data
        while True:
            n = frame_len(buf)
            if n is None or n > len(buf):
                break
            if n < 0:
                print(json.dumps({'kind': 'unparsable'}), flush=True)
                return
            frame, buf = buf[:n], buf[n:]
            report(frame)
            reply = answer(frame)
            if held and os.path.exists(hold):
                conn.sendall(b''.join(held))
                print(json.dumps({'kind': 'released', 'answers': len(held)}), flush=True)
                held = []
            if reply and hold and frame[0] == 0x10 and frame[1] == 9 and \
                    (held or not os.path.exists(hold)):
                held.append(reply)
            elif reply:
                conn.sendall(reply)
            if burst:
                conn.sendall(keepalive_resps(tsid, 0, burst))
                print(json.dumps({'kind': 'burst', 'frames': burst}), flush=True)
                if tail:
                    time.sleep(1)
                    conn.sendall(keepalive_resps(tsid, burst, tail))
                print(json.dumps({'kind': 'tail', 'frames': tail}), flush=True)
                burst = 0


def server(args):
    fam = socket.AF_INET6 if ':' in args.addr else socket.AF_INET
    if args.transport == 'udp':
        s = socket.socket(fam, socket.SOCK_DGRAM)
        if args.no_udp_csum:
            s.setsockopt(socket.SOL_SOCKET, 11, 1)     # SO_NO_CHECK
        s.bind((args.addr, args.port))
        print(json.dumps({'listening': args.port}), flush=True)
        peer_seen = None
        while True:
            frame, peer = s.recvfrom(65536)
            if peer_seen is None:
                peer_seen = peer
                print(json.dumps({'peer': list(peer[:2])}), flush=True)
                for hexframe in args.inject:
                    s.sendto(bytes.fromhex(hexframe), peer)
            report(frame)
            reply = answer(frame)
            if reply:
                s.sendto(reply, peer)
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((args.addr, args.port))
    s.listen(8)
    print(json.dumps({'listening': args.port}), flush=True)
    while True:
        conn, _ = s.accept()
        if args.transport == 'ktls':
            install_ktls(conn, True)
        serve_stream(conn, args.inject, args.bind_hold, args.burst, args.tsid,
                     args.burst_tail)
        conn.close()
        print(json.dumps({'kind': 'closed'}), flush=True)


def client(args):
    fam = socket.AF_INET6 if ':' in args.addr else socket.AF_INET
    typ = socket.SOCK_DGRAM if args.transport == 'udp' else socket.SOCK_STREAM
    s = socket.socket(fam, typ)
    if args.rcvlowat:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, args.rcvlowat)
    s.connect((args.addr, args.port))
    if args.transport == 'ktls':
        install_ktls(s, False)
    g = tscf_nl.Genl()
    tun = tscf_nl.nla(tscf_nl.T['FD'], struct.pack('=I', s.fileno()))
    tun += tscf_nl.nla(tscf_nl.T['TSID'], struct.pack('=Q', args.tsid))
    if args.internal:
        tun += tscf_nl.nla(tscf_nl.T['INTERNAL_IPV4'], socket.inet_aton(args.internal))
    g.do(tscf_nl.CMD['TUNNEL_ATTACH'],
         tscf_nl.nla(tscf_nl.A['IFINDEX'], struct.pack('=I', tscf_nl.ifindex(args.dev))) +
         tscf_nl.nla(tscf_nl.A['TUNNEL'] | tscf_nl.NLA_F_NESTED, tun))
    s.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument('role', choices=['server', 'client'])
    p.add_argument('dev', nargs='?')
    p.add_argument('--transport', default='udp', choices=['udp', 'tcp', 'ktls'])
    p.add_argument('--addr', required=True)
    p.add_argument('--port', type=int, default=4000)
    p.add_argument('--tsid', type=lambda v: int(v, 0), default=0x1234)
    p.add_argument('--internal')
    p.add_argument('--inject', nargs='*', default=[])
    p.add_argument('--bind-hold', metavar='PATH',
                   help='stream: hold FLOW_BIND answers until PATH exists')
    p.add_argument('--rcvlowat', type=int, default=0, metavar='BYTES',
                   help='stream client: SO_RCVLOWAT of the tunnel socket')
    p.add_argument('--burst', type=int, default=0, metavar='N',
                   help='stream: N KEEPALIVE_RESP frames after the first reply')
    p.add_argument('--burst-tail', type=int, default=0, metavar='N',
                   help='stream: N more KEEPALIVE_RESP frames 1 s after the burst')
    p.add_argument('--no-udp-csum', action='store_true',
                   help='send UDP datagrams with a zero (no) checksum')
    args = p.parse_args()
    try:
        (server if args.role == 'server' else client)(args)
    except tscf_nl.NlError as e:
        print(f"tunnel_peer: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    main()
