#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Captures for the Wireshark dissector's test (tools/wireshark/tscf.lua),
written offline in the pcap format (link type raw IP), no capture needed.

  ws_pcap.py main FRAMES OUT.pcap MANIFEST
      every control frame of FRAMES (lines "NAME HEX", from ws_frames.c)
      as a UDP datagram on port 4464, inner IPv4/IPv6 UDP packets and an
      inner RTP packet, and two TCP streams on 4464 whose frames are split
      across segments and coalesced; MANIFEST gets "FRAME_NUMBER LABEL".
  ws_pcap.py tls FRAMES CERT KEY OUT.pcap KEYLOG MANIFEST
      a TLS 1.2 session on TCP 4465 made with Python's ssl module in memory,
      carrying the encrypted tunnel's frames; its keys go to KEYLOG.
  ws_pcap.py fuzz OUT.pcap SEED
      malformed and truncated frames on UDP and TCP 4464 and 4465.
"""
import random
import socket
import ssl
import struct
import sys

CLIENT, SERVER = '10.10.0.1', '10.10.0.2'


def csum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ipv4(src, dst, proto, payload, ident=0):
    hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), ident, 0x4000,
                      64, proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    hdr = hdr[:10] + struct.pack('!H', csum(hdr)) + hdr[12:]
    return hdr + payload


def ipv6(src, dst, proto, payload):
    return struct.pack('!IHBB16s16s', 6 << 28, len(payload), proto, 64,
                       socket.inet_pton(socket.AF_INET6, src),
                       socket.inet_pton(socket.AF_INET6, dst)) + payload


def udp(src, dst, sport, dport, payload, v6=False):
    seg = struct.pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload
    fam = socket.AF_INET6 if v6 else socket.AF_INET
    pseudo = (socket.inet_pton(fam, src) + socket.inet_pton(fam, dst) +
              struct.pack('!IxxxB' if v6 else '!xBH', *((len(seg), 17) if v6
                                                         else (17, len(seg)))))
    c = csum(pseudo + seg) or 0xffff
    seg = seg[:6] + struct.pack('!H', c) + seg[8:]
    if v6:
        return ipv6(src, dst, 17, seg)
    return ipv4(src, dst, 17, seg)


class Pcap:
    def __init__(self, path):
        self.f = open(path, 'wb')
        # magic, version 2.4, zone, sigfigs, snaplen, LINKTYPE_RAW
        self.f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))
        self.n = 0
        self.t = 1700000000.0

    def add(self, pkt, caplen=None):
        self.n += 1
        self.t += 0.001
        data = pkt if caplen is None else pkt[:caplen]
        self.f.write(struct.pack('<IIII', int(self.t), int(self.t * 1e6) % 1000000,
                                 len(data), len(pkt)))
        self.f.write(data)
        return self.n

    def close(self):
        self.f.close()


class Tcp:
    """One TCP connection; segments carry the right sequence numbers."""
    def __init__(self, cap, cport, sport):
        self.cap, self.cport, self.sport = cap, cport, sport
        self.seq = {True: 1000, False: 5000}    # keyed by "from client"
        self.send(True, b'', 0x02)              # SYN
        self.send(False, b'', 0x12)             # SYN+ACK
        self.send(True, b'', 0x10)              # ACK

    def send(self, from_client, data, flags=0x18, caplen=None):
        src, dst = (CLIENT, SERVER) if from_client else (SERVER, CLIENT)
        sp, dp = (self.cport, self.sport) if from_client else (self.sport, self.cport)
        seq, ack = self.seq[from_client], self.seq[not from_client]
        hdr = struct.pack('!HHIIBBHHH', sp, dp, seq, ack if flags != 0x02 else 0,
                          5 << 4, flags, 65535, 0, 0)
        pseudo = (socket.inet_aton(src) + socket.inet_aton(dst) +
                  struct.pack('!xBH', 6, len(hdr) + len(data)))
        hdr = hdr[:16] + struct.pack('!H', csum(pseudo + hdr + data)) + hdr[18:]
        self.seq[from_client] = seq + len(data) + (1 if flags & 0x03 else 0)
        return self.cap.add(ipv4(src, dst, 6, hdr + data), caplen)


def read_frames(path):
    frames = {}
    with open(path) as f:
        for line in f:
            name, hexa = line.split()
            frames[name] = bytes.fromhex(hexa)
    return frames


def from_client(name):
    return '_req' in name


def inner_v4():
    return udp('10.100.0.2', '10.100.0.1', 5000, 7000, b'tscf-inner-v4')


def inner_v6():
    return udp('fd00:100::2', 'fd00:100::1', 5001, 7001, b'tscf-inner-v6', v6=True)


def inner_rtp():
    rtp = struct.pack('!BBHII', 0x80, 0, 4242, 160, 0x5ca1ab1e) + bytes(160)
    return udp('10.100.0.2', '10.100.0.1', 5004, 5006, rtp)


# docs/PROTOCOL.md section 7, by hand: the worked example over TCP.
DOC_CONFIG_REQ = bytes.fromhex('10010001' 'ffffffffffffffff' '00000001'
                               '0010000102')
DOC_CONFIG_RESP = bytes.fromhex(
    '10020006' '1122334455667788' '00000001'
    '000800020000' '0010000102' '000100040a640002' '00020004ffff0000'
    '000600040000001e' '000e00020577')


def cmd_main(frames_path, out, manifest):
    frames = read_frames(frames_path)
    cap = Pcap(out)
    names = []

    def mark(n, label):
        names.append('%d %s' % (n, label))

    for name, fr in frames.items():
        if name == 'config_req_encrypted':
            continue    # its secret belongs inside TLS (the tls capture)
        src, dst, sp, dp = ((CLIENT, SERVER, 40000, 4464) if from_client(name)
                            else (SERVER, CLIENT, 4464, 40000))
        mark(cap.add(udp(src, dst, sp, dp, fr)), 'udp:' + name)
    mark(cap.add(udp(CLIENT, SERVER, 40000, 4464, inner_v4())), 'udp:inner_v4')
    mark(cap.add(udp(CLIENT, SERVER, 40000, 4464, inner_v6())), 'udp:inner_v6')
    mark(cap.add(udp(CLIENT, SERVER, 40000, 4464, inner_rtp())), 'udp:inner_rtp')
    # The encrypted tunnel's request in clear: flagged.
    mark(cap.add(udp(CLIENT, SERVER, 40000, 4464, frames['config_req_encrypted'])),
         'udp:secret_in_clear')

    # TCP: the worked example and more, split and coalesced.
    t = Tcp(cap, 40001, 4464)
    svc = frames['service_req']
    v4 = inner_v4()
    mark(t.send(True, DOC_CONFIG_REQ + svc[:7]), 'tcp:c1 doc_config_req+svc_head')
    mark(t.send(True, svc[7:] + v4 + frames['flow_bind_req']),
         'tcp:c2 svc_tail+inner_v4+flow_bind_req')
    resp = DOC_CONFIG_RESP
    mark(t.send(False, resp[:10]), 'tcp:s1 resp_head')
    mark(t.send(False, resp[10:30]), 'tcp:s2 resp_mid')
    mark(t.send(False, resp[30:] + frames['service_resp'] + inner_v6()),
         'tcp:s3 resp_tail+service_resp+inner_v6')
    # A second connection whose inner IPv4 packet spans three segments
    # (reassembled from a 1-byte head, an IP header and the rest).
    t2 = Tcp(cap, 40002, 4464)
    big = udp('10.100.0.2', '10.100.0.1', 5002, 7002, b'B' * 1000)
    mark(t2.send(True, big[:1]), 'tcp2:b1')
    mark(t2.send(True, big[1:30]), 'tcp2:b2')
    mark(t2.send(True, big[30:] + frames['keepalive_req']), 'tcp2:b3')
    cap.close()
    with open(manifest, 'w') as f:
        f.write('\n'.join(names) + '\n')


def cmd_tls(frames_path, cert, key, out, keylog, manifest):
    frames = read_frames(frames_path)
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(cert, key)
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.check_hostname = False
    cctx.verify_mode = ssl.CERT_NONE
    # What a kTLS client uses (PROTOCOL.md 5): TLS 1.2, AES-GCM.
    cctx.maximum_version = ssl.TLSVersion.TLSv1_2
    cctx.set_ciphers('ECDHE-RSA-AES128-GCM-SHA256')
    cctx.keylog_filename = keylog
    bios = [ssl.MemoryBIO() for _ in range(4)]
    srv = sctx.wrap_bio(bios[0], bios[1], server_side=True)
    cli = cctx.wrap_bio(bios[2], bios[3], server_hostname='10.10.0.2')
    cap = Pcap(out)
    t = Tcp(cap, 40010, 4465)
    names = []

    def pump():
        sent = []
        for src_out, dst_in, fc in ((bios[3], bios[0], True), (bios[1], bios[2], False)):
            data = src_out.read()
            if data:
                sent.append(t.send(fc, data))
                dst_in.write(data)
        return sent

    done = [False, False]
    for _ in range(20):
        for i, s in enumerate((cli, srv)):
            if not done[i]:
                try:
                    s.do_handshake()
                    done[i] = True
                except ssl.SSLWantReadError:
                    pass
        pump()
        if all(done):
            break
    if not all(done):
        sys.exit('ws_pcap: TLS handshake did not finish')
    req = frames['config_req_encrypted']
    # Two records, the request split between them, then the inner packet.
    cli.write(req[:30])
    n1 = pump()
    cli.write(req[30:] + inner_v4())
    n2 = pump()
    srv.write(frames['config_resp_encrypted'])
    n3 = pump()
    names += ['%d tls:req_head' % n1[0], '%d tls:req_tail+inner_v4' % n2[0],
              '%d tls:resp' % n3[0]]
    cap.close()
    with open(manifest, 'w') as f:
        f.write('\n'.join(names) + '\n')


def mutate(rng, fr):
    """One malformed variant of a frame."""
    fr = bytearray(fr)
    how = rng.randrange(8)
    if how == 0 and len(fr) > 1:            # truncated anywhere
        return bytes(fr[:rng.randrange(1, len(fr))])
    if how == 1:                            # random bytes flipped
        for _ in range(rng.randrange(1, 6)):
            fr[rng.randrange(len(fr))] = rng.randrange(256)
        return bytes(fr)
    if how == 2 and len(fr) >= 4:           # TLV_Count / IP length changed
        fr[2:4] = struct.pack('!H', rng.choice([0, 1, 63, 64, 65, 0xffff,
                                                rng.randrange(65536)]))
        return bytes(fr)
    if how == 3 and len(fr) >= 20:          # a TLV length changed
        off = rng.randrange(16, len(fr) - 3)
        fr[off + 2:off + 4] = struct.pack('!H', rng.choice([0, 1, 3, 5, 31, 33,
                                                            0xffff]))
        return bytes(fr)
    if how == 4:                            # trailing garbage
        return bytes(fr) + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 9)))
    if how == 5:                            # a random first byte
        fr[0] = rng.randrange(256)
        return bytes(fr)
    if how == 6:                            # pure noise
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 80)))
    # first nibble 1, 4 or 6 over noise (an impossible IP or control frame)
    return bytes([rng.choice([0x10, 0x11, 0x45, 0x4f, 0x60, 0x41])]) + \
        bytes(rng.randrange(256) for _ in range(rng.randrange(0, 60)))


def cmd_fuzz(out, seed):
    rng = random.Random(int(seed))
    here = [DOC_CONFIG_REQ, DOC_CONFIG_RESP, inner_v4(), inner_v6(), inner_rtp(),
            # TLVs of every type with values of every odd length
            bytes.fromhex('10010018ffffffffffffffff00000001') +
            b''.join(struct.pack('!HH', t, n) + bytes(range(n))
                     for t in range(1, 25) for n in [rng.choice([0, 1, 2, 3, 5, 9, 13, 17, 25, 41])])]
    cap = Pcap(out)
    for i in range(400):
        fr = mutate(rng, rng.choice(here))
        port = rng.choice([4464, 4464, 4464, 4465])
        caplen = rng.randrange(20, 60) if i % 23 == 0 else None
        cap.add(udp(CLIENT, SERVER, 41000 + i % 7, port, fr), caplen)
    for i in range(30):
        t = Tcp(cap, 42000 + i, rng.choice([4464, 4464, 4465]))
        stream = b''.join(rng.choice(here) if rng.random() < 0.5 else mutate(rng, rng.choice(here))
                          for _ in range(rng.randrange(2, 6)))
        while stream:
            n = rng.randrange(1, 200)
            t.send(rng.random() < 0.8, stream[:n], caplen=rng.randrange(40, 60) if i % 11 == 0 else None)
            stream = stream[n:]
    cap.close()


if __name__ == '__main__':
    cmds = {'main': (cmd_main, 3), 'tls': (cmd_tls, 6), 'fuzz': (cmd_fuzz, 2)}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds or len(sys.argv) - 2 != cmds[sys.argv[1]][1]:
        sys.exit(__doc__)
    cmds[sys.argv[1]][0](*sys.argv[2:])
