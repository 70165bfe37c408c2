#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""TCP super-frames on stream tunnels (docs/PROTOCOL.md 1.3), from a
hand-made TCP client inside a tunnel to tscfd:

  super_frames.py on  --sock S --ca CA   the server offers them (key on)
  super_frames.py off --sock S           "stream-super-frames no"

A TCP listener at SVC:7002 (beyond tscfd's TUN, reached by forwarding)
records each connection's bytes in --results; this script asserts on
those lines and on tscfd's counters (tscfd --stats over its control
socket), and exits non-zero with a message on the first surprise.
"""
import argparse
import json
import os
import random
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tscf_client as tc  # noqa: E402

SVC, SVC_PORT, ECHO = '10.200.0.2', 7002, '10.100.0.1'
SVC6 = 'fd00:200::2'
PAYLOAD = bytes(i % 251 for i in range(20000))
SYN, ACK, PSH, CWR = 0x02, 0x10, 0x08, 0x80
A = None


def stats():
    out = subprocess.run([A.tscfd, '--stats', '-s', A.sock], capture_output=True,
                         text=True, check=True).stdout
    return {k.rstrip(':'): int(v) for k, v in
            (ln.split()[:2] for ln in out.splitlines() if len(ln.split()) >= 2)
            if v.isdigit()}


def tcp_hdr(pseudo, sport, dport, seq, ack, flags, payload, bad_sum, doff=5):
    opts = b'\0' * ((doff - 5) * 4) if doff > 5 else b''
    hdr = struct.pack('!HHIIBBHHH', sport, dport, seq, ack, doff << 4, flags,
                      65535, 0, 0) + opts
    c = 0xdead if bad_sum else tc.csum(pseudo + hdr + payload)
    return hdr[:16] + struct.pack('!H', c) + hdr[18:] + payload


def tcp4(src, dst, sport, dport, seq, ack, flags, payload=b'', df=True,
         bad_sum=False, doff=5, frag=0):
    seg_len = max(doff, 5) * 4 + len(payload)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('!BBH', 0, 6, seg_len)
    tcp = tcp_hdr(pseudo, sport, dport, seq, ack, flags, payload, bad_sum, doff)
    return ip4(src, dst, 6, tcp, df, frag)


def ip4(src, dst, proto, body, df=True, frag=0, ident=None):
    ident = random.randrange(65536) if ident is None else ident
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(body), ident,
                     (0x4000 if df else 0) | frag, 64, proto, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    return ip[:10] + struct.pack('!H', tc.csum(ip)) + ip[12:] + body


def tcp6(src, dst, sport, dport, seq, ack, flags, payload=b'', bad_sum=False, ext=False):
    s6, d6 = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
    seg_len = 20 + len(payload)
    pseudo = s6 + d6 + struct.pack('!IxxxB', seg_len, 6)
    tcp = tcp_hdr(pseudo, sport, dport, seq, ack, flags, payload, bad_sum)
    nh, body = 6, tcp
    if ext:         # a hop-by-hop options header (PadN) in front of TCP
        nh, body = 0, struct.pack('!BB', 6, 0) + b'\x01\x04\0\0\0\0' + tcp
    return struct.pack('!IHBB', 0x60000000, len(body), nh, 64) + s6 + d6 + body


def synack(tunnels, src, sport, timeout=5.0):
    """The listener's SYN-ACK to our SYN from (src, sport): its ISN."""
    end = time.time() + timeout
    while time.time() < end:
        for t in tunnels:
            f = t.recv(0.2)
            tc.check(f != b'', "tunnel closed while waiting for the SYN-ACK")
            if not f:
                continue
            if f[0] >> 4 == 4 and f[9] == 6:
                ihl = (f[0] & 15) * 4
                sp, dp, seq, _, _, fl = struct.unpack_from('!HHIIBB', f, ihl)
                if socket.inet_ntoa(f[12:16]) == src and dp == sport and fl & (SYN | ACK) == SYN | ACK:
                    return seq
            if f[0] >> 4 == 6 and f[6] == 6:
                sp, dp, seq, _, _, fl = struct.unpack_from('!HHIIBB', f, 40)
                if dp == sport and fl & (SYN | ACK) == SYN | ACK:
                    return seq
    raise tc.Fail(f"no SYN-ACK from {src} to port {sport}")


def connect(t, tunnels, me, sport, v6=False):
    """A TCP handshake by hand from me:sport to the listener: (seq, ack)."""
    isn = random.randrange(1 << 32)
    if v6:
        t.send(tcp6(me, SVC6, sport, SVC_PORT, isn, 0, SYN))
        theirs = synack(tunnels, SVC6, sport)
        t.send(tcp6(me, SVC6, sport, SVC_PORT, isn + 1, theirs + 1, ACK))
    else:
        t.send(tcp4(me, SVC, sport, SVC_PORT, isn, 0, SYN))
        theirs = synack(tunnels, SVC, sport)
        t.send(tcp4(me, SVC, sport, SVC_PORT, isn + 1, theirs + 1, ACK))
    return (isn + 1) & 0xffffffff, (theirs + 1) & 0xffffffff


def received(sport, timeout):
    """The listener's record of the connection from sport: its bytes."""
    end = time.time() + timeout
    while time.time() < end:
        try:
            with open(A.results) as f:
                for ln in f:
                    r = json.loads(ln)
                    if r['port'] == sport:
                        return r
        except FileNotFoundError:
            pass
        time.sleep(0.2)
    return None


def expect_whole(sport, what):
    r = received(sport, 15)
    tc.check(r is not None, f"{what}: the listener saw no connection from port {sport}")
    tc.check(r['n'] == len(PAYLOAD) and r['same'],
             f"{what}: the listener got {r['n']} bytes (same as sent: {r['same']}), want {len(PAYLOAD)}")
    return r


def expect_nothing(sport, what):
    r = received(sport, 6)
    tc.check(r is not None, f"{what}: the listener saw no connection from port {sport}")
    tc.check(r['n'] == 0, f"{what}: {r['n']} bytes reached the service side")


def dropped(before, counter, what, n=1):
    after = stats()
    got = after.get(counter, 0) - before.get(counter, 0)
    tc.check(got == n, f"{what}: {counter} went up by {got}, want {n}")
    return after


def super4(c, sport, df=True, src=None, cwr=False):
    """A connection from sport, then one 20,000-byte super-frame on it
    with a garbage TCP checksum (CWR set: GSO_ECN)."""
    seq, ack = connect(c, [c] + A.others, c.ip4, sport)
    c.send(tcp4(src or c.ip4, SVC, sport, SVC_PORT, seq, ack,
                PSH | ACK | (CWR if cwr else 0), PAYLOAD, df=df, bad_sum=True))


def offers(c):
    code, m = c.config()
    tc.check(code == tc.SUCCESS, f"config {code}")
    return tc.get(m, 'SUPER_FRAMES')


def echo_of(t, msg, secs):
    return any(msg in f for f in tc.inner_packets(t, secs))


def over_mtu_udp(c, u):
    """An over-MTU UDP datagram (to the echo service) on the TCP tunnel,
    which was offered super-frames, and on the UDP tunnel: dropped."""
    for t in (c, u):
        before = stats()
        t.send(tc.udp4(t.ip4, ECHO, 6100, 7000, b'big-udp' + bytes(3000)))
        tc.check(not echo_of(t, b'echo:big-udp', 2),
                 f"an over-MTU UDP datagram on the {t.transport} tunnel was forwarded")
        dropped(before, 'drop_too_big', f"over-MTU UDP on {t.transport}")


def over_mtu_fragment(c):
    """A datagram in two IPv4 fragments, the first over the MTU."""
    before = stats()
    body = struct.pack('!HHHH', 6101, 7000, 8 + 3000, 0) + b'big-frag' + bytes(2992)
    ident = random.randrange(65536)
    c.send(ip4(c.ip4, ECHO, 17, body[:2000], df=False, frag=0x2000, ident=ident))
    c.send(ip4(c.ip4, ECHO, 17, body[2000:], df=False, frag=2000 // 8, ident=ident))
    tc.check(not echo_of(c, b'echo:big-frag', 2), "a datagram with an over-MTU fragment was answered")
    dropped(before, 'drop_too_big', "over-MTU fragment")


def spoofed(c):
    before = stats()
    super4(c, 40004, src='10.100.0.250')
    after = dropped(before, 'drop_spoofed', "spoofed super-frame")
    tc.check(after['drop_too_big'] == before['drop_too_big'] and
             after['rx_super_frames'] == before['rx_super_frames'],
             "a spoofed super-frame got past the anti-spoofing check")


def hostile(c):
    """Over-MTU frames that are not super-frames: each dropped, counted."""
    big = bytes(3000)
    cases = {
        'data offset 4': tcp4(c.ip4, SVC, 40010, SVC_PORT, 1, 1, ACK, big, doff=4),
        'TCP first fragment': tcp4(c.ip4, SVC, 40011, SVC_PORT, 1, 1, ACK, big, df=False, frag=0x2000),
        'IPv6 hop-by-hop': tcp6(c.ip6, SVC6, 40012, SVC_PORT, 1, 1, ACK, big, ext=True),
    }
    for what, frame in cases.items():
        before = stats()
        c.send(frame)
        time.sleep(0.3)
        dropped(before, 'drop_too_big', what)


def phase_on():
    c = tc.Tunnel('tcp', A.addr, A.port)
    u = tc.Tunnel('udp', A.addr, A.port)
    A.others = []
    sf = offers(c)
    tc.check(sf is not None and struct.unpack('!H', sf)[0] == 65535,
             f"no SUPER_FRAMES 65535 on the TCP tunnel: {sf}")
    sf = offers(u)
    tc.check(sf is not None and struct.unpack('!H', sf)[0] == 65535,
             f"no SUPER_FRAMES 65535 on the UDP tunnel: {sf}")
    before = stats()
    super4(c, 40001)
    expect_whole(40001, "super-frame over TCP")
    dropped(before, 'rx_super_frames', "super-frame over TCP")
    seq, ack = connect(c, [c], c.ip6, 40005, v6=True)
    before = stats()
    c.send(tcp6(c.ip6, SVC6, 40005, SVC_PORT, seq, ack, PSH | ACK, PAYLOAD, bad_sum=True))
    expect_whole(40005, "IPv6 super-frame over TCP")
    dropped(before, 'rx_super_frames', "IPv6 super-frame over TCP")
    # One datagram over UDP (IP-fragmented on the way, as on a wire).
    before = stats()
    super4(u, 40007)
    expect_whole(40007, "super-frame over UDP")
    dropped(before, 'rx_super_frames', "super-frame over UDP")
    over_mtu_udp(c, u)
    over_mtu_fragment(c)
    spoofed(c)
    expect_nothing(40004, "spoofed super-frame")
    hostile(c)
    # TLS, the encrypted tunnel of c's session; answers come on c (unbound).
    reserved, port, _ = tc.dtte_up(None, c)
    e = tc.Tunnel('tls', A.addr, port, ca=A.ca)
    code, m = e.encrypted(c, reserved, c.dtte_secret)
    tc.check(code == tc.SUCCESS, f"encrypted config {code}")
    sf = tc.get(m, 'SUPER_FRAMES')
    tc.check(sf is not None and struct.unpack('!H', sf)[0] == 65535,
             f"no SUPER_FRAMES 65535 on the TLS tunnel: {sf}")
    before = stats()
    A.others = [c]
    super4(e, 40002, cwr=True)
    expect_whole(40002, "super-frame over TLS")
    dropped(before, 'rx_super_frames', "super-frame over TLS")
    # Encrypted-only TCP flow: its super-frame on the clear tunnel is dropped.
    fl = struct.pack('!BBHHH', 6, 4, 0, 40006, 0) + socket.inet_aton(c.ip4) + bytes(4)
    m = e.request(tc.FLOW_BIND_REQ, [tc.tlv('FLOW', fl), tc.tlv('ENC_LEVEL', b'\x01')])
    tc.check(tc.code_of(m) == tc.SUCCESS, "TCP flow bind")
    before = stats()
    c.send(tcp4(c.ip4, SVC, 40006, SVC_PORT, 1, 1, PSH | ACK, PAYLOAD, bad_sum=True))
    time.sleep(0.5)
    dropped(before, 'drop_enc_only_clear', "encrypted-only super-frame on the clear tunnel")
    tc.check(received(40006, 1) is None, "an encrypted-only super-frame on clear reached the listener")
    return {'super_frames': 'taken', 'tls': 'taken', 'drops': 'counted'}


def phase_off():
    c = tc.Tunnel('tcp', A.addr, A.port)
    u = tc.Tunnel('udp', A.addr, A.port)
    A.others = []
    tc.check(offers(c) is None, "SUPER_FRAMES offered with stream-super-frames no")
    tc.check(offers(u) is None, "SUPER_FRAMES offered with udp-super-frames no")
    before = stats()
    super4(c, 40003, df=False)
    expect_nothing(40003, "super-frame without the offer")
    dropped(before, 'drop_too_big', "super-frame without the offer")
    before = stats()
    super4(u, 40008, df=False)
    expect_nothing(40008, "UDP super-frame without the offer")
    dropped(before, 'drop_too_big', "UDP super-frame without the offer")
    return {'super_frames': 'refused', 'udp': 'refused'}


def main():
    global A
    p = argparse.ArgumentParser()
    p.add_argument('phase', choices=['on', 'off'])
    p.add_argument('--addr', default='10.10.0.2')
    p.add_argument('--port', type=int, default=4000)
    p.add_argument('--ca')
    p.add_argument('--sock', required=True)
    p.add_argument('--tscfd', required=True)
    p.add_argument('--results', required=True)
    A = p.parse_args()
    try:
        print(json.dumps(phase_on() if A.phase == 'on' else phase_off()))
    except tc.Fail as e:
        print(f"FAIL: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    main()
