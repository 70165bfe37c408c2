#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A protocol-level TSCF client for tscfd's host tests: an independent
implementation of docs/PROTOCOL.md (no code shared with tools/lib), so the
tests check the server against the document.

  tscf_client.py SCENARIO --addr A --port N [--ca FILE] [options]

Each scenario asserts what it sees and exits non-zero with a message on the
first surprise; it prints one JSON line of results on success.
"""
import argparse
import hashlib
import json
import os
import random
import resource
import select
import socket
import ssl
import struct
import sys
import threading
import time

CONFIG_REQ, CONFIG_RESP, RELEASE_REQ, RELEASE_RESP = 1, 2, 3, 4
KEEPALIVE_REQ, KEEPALIVE_RESP, SERVICE_REQ, SERVICE_RESP = 5, 6, 7, 8
FLOW_BIND_REQ, FLOW_BIND_RESP, COOKIE = 9, 10, 11
TLV = dict(IPV4=1, IPV4_MASK=2, IPV6=3, IPV6_PLEN=4, DNS=5, KEEPALIVE=6,
           SERVICE_TYPE=7, RESPONSE_CODE=8, CONN_INFO=9, ASSOC_TSID=10,
           RESERVED_TSID=11, FLOW=12, ENC_LEVEL=13, MTU=14, ERROR_TEXT=15,
           VERSION=16, PADDING=17, COOKIE=18, DTTE_COMMIT=19, DTTE_SECRET=20,
           RESUME_COMMIT=21, RESUME_SECRET=22, LIFETIME=23, SUPER_FRAMES=24)
ALL_ONES = (1 << 64) - 1
SUCCESS, BAD_REQUEST, SERVICE_UNAVAILABLE, UNKNOWN_TSID = 0, 1, 2, 3
NO_RESOURCES, NOT_ALLOWED, UNSUPPORTED_VERSION = 4, 5, 6
ENABLE_DTTE, DISABLE_DTTE = 1, 2
VERSION = 2             # the control protocol version this client speaks
DGRAM_MIN = 128         # a UDP CONFIG_REQ is at least this long


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def tlv(t, value):
    if isinstance(t, str):
        t = TLV[t]
    return struct.pack('!HH', t, len(value)) + value


def ctrl(cm_type, tsid, seq, tlvs=()):
    body = b''.join(tlvs)
    return struct.pack('!BBHQI', 0x10, cm_type, len(tlvs), tsid, seq) + body


def padded(tlvs, minimum=DGRAM_MIN):
    """TLVs plus a PADDING TLV so that the control frame is >= minimum."""
    size = 16 + sum(len(t) for t in tlvs)
    if size >= minimum:
        return list(tlvs)
    return list(tlvs) + [tlv('PADDING', bytes(max(0, minimum - size - 4)))]


def version_tlv(v=VERSION):
    return tlv('VERSION', bytes([v]))


def probe_frame(seq):
    """A UDP CONFIG_REQ without secrets, to be answered by a COOKIE."""
    return ctrl(CONFIG_REQ, ALL_ONES, seq, padded([version_tlv()]))


def config_frame(seq, tlvs=(), tsid=ALL_ONES, cookie=None):
    """A CONFIG_REQ with VERSION; with a cookie (UDP) also COOKIE and padding."""
    body = [version_tlv()] + list(tlvs)
    if cookie is not None:
        body = padded(body + [tlv('COOKIE', cookie)])
    return ctrl(CONFIG_REQ, tsid, seq, body)


def sha256(b):
    return hashlib.sha256(b).digest()


def parse_ctrl(frame):
    check(len(frame) >= 16 and frame[0] == 0x10, f"not a control frame: {frame[:16].hex()}")
    _, typ, count, tsid, seq = struct.unpack_from('!BBHQI', frame)
    tlvs, off = [], 16
    for _ in range(count):
        t, ln = struct.unpack_from('!HH', frame, off)
        tlvs.append((t, frame[off + 4:off + 4 + ln]))
        off += 4 + ln
    check(off == len(frame), "control frame length does not match its TLVs")
    return {'type': typ, 'tsid': tsid, 'seq': seq, 'tlvs': tlvs, 'raw': frame}


def get(msg, name):
    for t, v in msg['tlvs']:
        if t == TLV[name]:
            return v
    return None


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tunnel_peer import csum, frame_len, udp4_packet as udp4  # noqa: E402


class Tunnel:
    seq = random.randrange(1, 1 << 30)

    def __init__(self, transport, addr, port, ca=None, server_name=None):
        self.transport = transport
        self.addr, self.port, self.ca = addr, port, ca
        fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
        if transport == 'udp':
            self.s = socket.socket(fam, socket.SOCK_DGRAM)
            self.s.connect((addr, port))
        else:
            self.s = socket.create_connection((addr, port), timeout=5)
            if transport == 'tls':
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.load_verify_locations(ca)
                ctx.maximum_version = ssl.TLSVersion.TLSv1_2
                self.s = ctx.wrap_socket(self.s, server_hostname=server_name or addr)
        self.buf = b''
        self.tsid = ALL_ONES
        self.cookie = None          # UDP: the server's return-routability cookie
        self.resume_secret = None   # the server holds its SHA-256
        self.dtte_secret = None     # revealed only inside TLS
        self.last_request = None

    def send(self, frame):
        if self.transport == 'udp':
            self.s.send(frame)
        else:
            self.s.sendall(frame)

    def recv(self, timeout=3.0):
        """The next frame, or None on timeout; b'' when the server closed."""
        end = time.time() + timeout
        while True:
            if self.transport == 'udp':
                r, _, _ = select.select([self.s], [], [], max(0, end - time.time()))
                if not r:
                    return None
                return self.s.recv(65536)
            n = frame_len(self.buf)
            if n is not None and 0 < n <= len(self.buf):
                frame, self.buf = self.buf[:n], self.buf[n:]
                return frame
            pending = self.transport == 'tls' and self.s.pending()
            if not pending:
                r, _, _ = select.select([self.s], [], [], max(0, end - time.time()))
                if not r:
                    return None
            try:
                data = self.s.recv(65536)
            except (ConnectionResetError, ssl.SSLError):
                return b''
            if not data:
                return b''
            self.buf += data

    def request(self, cm_type, tlvs=(), tsid=None, answers=None, build=None):
        """Send a request (resent every second on UDP, as PROTOCOL.md says)
        and return the answer with its Sequence.  build(seq), if given,
        makes the frame."""
        Tunnel.seq += 1
        seq = Tunnel.seq
        if build is None:
            frame = ctrl(cm_type, self.tsid if tsid is None else tsid, seq, tlvs)
        else:
            frame = build(seq)
        self.last_request = frame
        answers = answers or {cm_type + 1}
        tries = 5 if self.transport == 'udp' else 1
        for _ in range(tries):
            self.send(frame)
            while True:
                f = self.recv(1.0 if self.transport == 'udp' else 3.0)
                if f is None:
                    break
                check(f != b'', f"server closed the tunnel on control type {cm_type}")
                if f[0] >> 4 == 1:
                    m = parse_ctrl(f)
                    if m['seq'] == seq:
                        check(m['type'] in answers, f"answer type {m['type']} to {cm_type}")
                        return m
        raise Fail(f"no answer to control type {cm_type}")

    def config_request(self, tlvs=(), tsid=ALL_ONES):
        """A CONFIG_REQ as PROTOCOL.md 2.6 says: VERSION; over UDP a probe
        without secrets first to get a cookie, then the request with it,
        both padded to DGRAM_MIN bytes."""
        udp = self.transport == 'udp'
        if udp and self.cookie is None:
            m = self.get_cookie()
            if m is not None:
                return m        # no cookie asked for: the caller judges
        for _ in range(2):
            m = self.request(CONFIG_REQ, answers={CONFIG_RESP, COOKIE},
                             build=lambda seq: config_frame(seq, tlvs, tsid,
                                                            self.cookie if udp else None))
            if m['type'] == CONFIG_RESP:
                return m
            self.cookie = get(m, 'COOKIE')      # rotated: once more
        raise Fail("the server keeps asking for a cookie")

    def get_cookie(self):
        """UDP: the cookie exchange; None, or the CONFIG_RESP if the
        server answered the probe without asking for a cookie."""
        m = self.request(CONFIG_REQ, answers={CONFIG_RESP, COOKIE}, build=probe_frame)
        if m['type'] == CONFIG_RESP:
            return m
        self.cookie = get(m, 'COOKIE')
        check(self.cookie is not None and len(self.cookie) == 16, "COOKIE without a 16-byte cookie")
        return None

    def resume_tlvs(self, secret):
        """The TLVs of a resume revealing secret; the next secret is kept
        in self.next_secret (taken on success by resume())."""
        self.next_secret = os.urandom(32)
        extra = [tlv('RESUME_COMMIT', sha256(self.next_secret))]
        if secret is not None:
            extra.insert(0, tlv('RESUME_SECRET', secret))
        return extra

    def configured(self, m):
        code = code_of(m)
        if code == SUCCESS:
            check(m['tsid'] not in (0, ALL_ONES), "assigned TSID is 0 or all ones")
            self.tsid = m['tsid']
            self.ip4 = socket.inet_ntoa(get(m, 'IPV4'))
            v6 = get(m, 'IPV6')
            self.ip6 = socket.inet_ntop(socket.AF_INET6, v6) if v6 else None
        return code

    def config(self, tlvs=(), resume=True):
        """A new clear session (committing to a resume secret), or with
        ASSOC/RESERVED/DTTE_SECRET the encrypted tunnel."""
        secret = os.urandom(32)
        extra = list(tlvs) + ([tlv('RESUME_COMMIT', sha256(secret))] if resume else [])
        m = self.config_request(extra)
        code = self.configured(m)
        if code == SUCCESS and resume:
            self.resume_secret = secret
        return code, m

    def resume(self, tsid, secret):
        """Resume clear tunnel TSID here, revealing secret (None: no proof)
        and committing to the next one."""
        m = self.config_request(self.resume_tlvs(secret), tsid=tsid)
        code = self.configured(m)
        if code == SUCCESS:
            self.resume_secret = self.next_secret
        return code, m

    def enable_dtte(self, secret=None):
        """SERVICE_REQ ENABLE_DTTE committing to a DTTE secret (new unless given)."""
        self.dtte_secret = secret or self.dtte_secret or os.urandom(32)
        return self.request(SERVICE_REQ, [tlv('SERVICE_TYPE', struct.pack('!H', ENABLE_DTTE)),
                                          tlv('DTTE_COMMIT', sha256(self.dtte_secret))])

    def encrypted(self, clear, reserved, secret, port=None):
        """Configure this TLS tunnel as clear's encrypted tunnel."""
        tlvs = [tlv('ASSOC_TSID', struct.pack('!Q', clear.tsid)),
                tlv('RESERVED_TSID', struct.pack('!Q', reserved))]
        if secret is not None:
            tlvs.append(tlv('DTTE_SECRET', secret))
        return self.config(tlvs, resume=False)


def code_of(m):
    return struct.unpack('!H', get(m, 'RESPONSE_CODE'))[0]


def sc_basic(a):
    """Configuration, keepalive, release over one transport."""
    t = Tunnel(a.transport, a.addr, a.port)
    code, m = t.config()
    check(code == SUCCESS, f"config response code {code}")
    check(t.ip4.startswith(a.expect_prefix), f"address {t.ip4} not from the pool")
    check(struct.unpack('!I', get(m, 'KEEPALIVE'))[0] > 0, "no keepalive interval")
    check(get(m, 'IPV4_MASK') is not None, "no netmask")
    k = t.request(KEEPALIVE_REQ)
    check(k['tsid'] == t.tsid and code_of(k) == SUCCESS, "keepalive answer")
    r = t.request(RELEASE_REQ)
    check(code_of(r) == SUCCESS, "release answer")
    if a.transport != 'udp':
        check(t.recv(3) == b'', "server did not close after release")
    return {'tsid': t.tsid, 'ip4': t.ip4}


def sc_dtte(a):
    """DTTE: service request, TLS on N+1, same addresses, flow bind."""
    c = Tunnel(a.transport, a.addr, a.port)
    code, _ = c.config()
    check(code == SUCCESS, "clear config")
    m = c.enable_dtte()
    if a.expect_unavailable:
        check(code_of(m) == SERVICE_UNAVAILABLE, f"service answer {code_of(m)}, want SERVICE_UNAVAILABLE")
        return {'service': 'unavailable'}
    check(code_of(m) == SUCCESS, f"service answer {code_of(m)}")
    reserved = struct.unpack('!Q', get(m, 'RESERVED_TSID'))[0]
    ci = get(m, 'CONN_INFO')
    check(ci is not None and ci[0] == 3, "no TLS connection info")
    port = struct.unpack('!H', ci[2:4])[0]
    check(port == a.port + 1, f"encrypted port {port}, want {a.port + 1}")
    lifetime = get(m, 'LIFETIME')
    check(lifetime is not None and struct.unpack('!I', lifetime)[0] > 0,
          "no reservation lifetime in the SERVICE_RESP")
    e = Tunnel('tls', a.addr, port, ca=a.ca)
    code, em = e.encrypted(c, reserved, c.dtte_secret)
    check(code == SUCCESS, f"encrypted config code {code}")
    check(e.tsid == reserved, "encrypted TSID is not the reserved one")
    check(e.ip4 == c.ip4, f"encrypted address {e.ip4} != clear {c.ip4}")
    result = {'clear': c.tsid, 'enc': e.tsid, 'ip4': c.ip4}
    if a.flows:
        result.update(flows(a, c, e))
    if a.classify:
        result.update(classify(a, c, e))
    return result


def bind(t, ip4, lport, level, rport=0, raddr='0.0.0.0'):
    fl = struct.pack('!BBHHH', 17, 4, 0, lport, rport) + socket.inet_aton(ip4) + socket.inet_aton(raddr)
    return code_of(t.request(FLOW_BIND_REQ, [tlv(TLV['FLOW'], fl),
                                             tlv(TLV['ENC_LEVEL'], bytes([level]))]))


def expect_inner(t, msg, timeout=2.0):
    end = time.time() + timeout
    while time.time() < end:
        f = t.recv(max(0.01, end - time.time()))
        if not f:
            return False
        if f[0] >> 4 == 4 and msg in f:
            return True
    return False


def flows(a, c, e):
    ip = c.ip4
    # Unbound: the reply comes back on the clear tunnel.
    c.send(udp4(ip, a.service, 6000, 7000, b'plain-1'))
    check(expect_inner(c, b'echo:plain-1'), "unbound flow: no reply on clear")
    # Encrypted-only flow: requests on clear are dropped, replies go encrypted.
    check(bind(e, ip, 6001, 1) == SUCCESS, "flow bind")
    c.send(udp4(ip, a.service, 6001, 7000, b'only-clear'))
    check(not expect_inner(c, b'echo:only-clear', 1) and not expect_inner(e, b'echo:only-clear', 0.5),
          "encrypted-only request over clear was forwarded")
    e.send(udp4(ip, a.service, 6001, 7000, b'only-enc'))
    check(expect_inner(e, b'echo:only-enc'), "encrypted-only reply not on the encrypted tunnel")
    # Preferred: encrypted while up.
    check(bind(c, ip, 6002, 2) == SUCCESS, "flow bind preferred")
    c.send(udp4(ip, a.service, 6002, 7000, b'pref-1'))
    check(expect_inner(e, b'echo:pref-1'), "preferred reply not on the encrypted tunnel")
    # Back to unencrypted.
    check(bind(c, ip, 6002, 0) == SUCCESS, "flow unbind")
    c.send(udp4(ip, a.service, 6002, 7000, b'pref-2'))
    check(expect_inner(c, b'echo:pref-2'), "unbound flow reply not back on clear")
    # A flow not ours is refused.
    check(bind(c, '10.99.99.99', 6003, 1) == 5, "foreign flow not refused")
    # Anti-spoofing: another source address is dropped.
    c.send(udp4('10.100.0.250', a.service, 6000, 7000, b'spoof'))
    check(not expect_inner(c, b'echo:spoof', 1), "spoofed packet forwarded")
    # The encrypted tunnel goes while a reply is on its way: the reply of an
    # encrypted-only flow is dropped, never sent in clear.
    e.send(udp4(ip, a.service, 6001, 7000, b'delay:only-after'))
    time.sleep(0.3)
    r = e.request(RELEASE_REQ)
    check(code_of(r) == SUCCESS, "encrypted release")
    check(not expect_inner(c, b'only-after', 2), "encrypted-only reply sent in clear")
    # Wrong TSID: the tunnel is terminated.
    c.send(ctrl(KEEPALIVE_REQ, c.tsid ^ 1, 99))
    if c.transport != 'udp':
        check(c.recv(3) == b'', "tunnel not closed after a wrong TSID")
    else:
        check(c.recv(1) is None, "wrong TSID answered")
    return {'flows': 'ok'}


def udp6(src, dst, sport, dport, payload):
    s6, d6 = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
    udp_len = 8 + len(payload)
    pseudo = s6 + d6 + struct.pack('!IxxxB', udp_len, 17)
    udp = struct.pack('!HHHH', sport, dport, udp_len, 0) + payload
    c = csum(pseudo + udp) or 0xffff
    udp = udp[:6] + struct.pack('!H', c) + udp[8:]
    return struct.pack('!IHBB', 0x60000000, udp_len, 17, 64) + s6 + d6 + udp


def bind6(t, ip6, lport, level):
    fl = struct.pack('!BBHHH', 17, 6, 0, lport, 0) + socket.inet_pton(socket.AF_INET6, ip6) + bytes(16)
    return code_of(t.request(FLOW_BIND_REQ, [tlv(TLV['FLOW'], fl),
                                             tlv(TLV['ENC_LEVEL'], bytes([level]))]))


def inner_packets(t, timeout):
    """The inner packets that arrive on tunnel t within timeout."""
    got, end = [], time.time() + timeout
    while time.time() < end:
        f = t.recv(max(0.01, end - time.time()))
        if not f:
            break
        if f[0] >> 4 in (4, 6):
            got.append(f)
    return got


def classify(a, c, e):
    """Return traffic of encrypted-only flows that the server cannot read
    ports from (fragments, IPv6 extension headers, ICMP errors) never takes
    the clear tunnel; the clear tunnel cannot lower an encrypted binding.
    Needs the services that 42-tscfd-classify.sh starts."""
    ip, ip6 = c.ip4, c.ip6
    check(ip6, "no IPv6 address: the test needs an IPv6 pool")
    check(bind(e, ip, 6001, 1) == SUCCESS, "encrypted-only bind")
    check(bind6(e, ip6, 6006, 1) == SUCCESS, "encrypted-only bind (IPv6)")
    res = {}
    # 1. A reply of 3,000 bytes, fragmented by the service host.
    e.send(udp4(ip, a.service, 6001, 7100, b'big'))
    enc, clear = inner_packets(e, 2), inner_packets(c, 0.5)
    check(not clear, f"{len(clear)} packet(s) of an encrypted-only reply in clear")
    size = sum(len(p) - (p[0] & 0xf) * 4 for p in enc if p[0] >> 4 == 4)
    check(len(enc) >= 3 and size >= 3000, f"fragmented reply: {len(enc)} packets, {size} bytes encrypted")
    res['fragments_encrypted'] = len(enc)
    # 2. IPv6 with hop-by-hop and destination options before UDP.
    e.send(udp6(ip6, a.service6, 6006, 7006, b'ext'))
    enc, clear = inner_packets(e, 2), inner_packets(c, 0.5)
    check(not clear, "an IPv6 reply with extension headers went in clear")
    check(any(p[0] >> 4 == 6 and p[6] == 0 and b'echo6:ext' in p for p in enc),
          "the IPv6 reply with extension headers did not arrive encrypted")
    # 3. ICMP errors quoting an encrypted-only datagram.
    e.send(udp4(ip, a.service, 6001, 7999, b'closed-port'))
    e.send(udp6(ip6, a.service6, 6006, 7999, b'closed-port6'))
    enc, clear = inner_packets(e, 2), inner_packets(c, 0.5)
    check(not clear, f"ICMP error quoting an encrypted-only datagram in clear: {clear[0][:48].hex() if clear else ''}")
    check(any(p[0] >> 4 == 4 and p[9] == 1 for p in enc), "no ICMP error on the encrypted tunnel")
    check(any(p[0] >> 4 == 6 and p[6] == 58 for p in enc), "no ICMPv6 error on the encrypted tunnel")
    # 4. The clear tunnel cannot lower what the encrypted tunnel bound.
    check(bind(c, ip, 6001, 0) == 5, "level-0 bind on the clear tunnel not refused")
    check(bind(c, ip, 6001, 2) == 5, "lowering bind on the clear tunnel not refused")
    e.send(udp4(ip, a.service, 6001, 7000, b'still-only'))
    check(expect_inner(e, b'echo:still-only'), "encrypted-only reply not encrypted after a clear unbind")
    check(not expect_inner(c, b'echo:still-only', 0.5), "encrypted-only reply in clear after a clear unbind")
    # 5. Fragments whose first fragment never came (the service host's
    # injector writes them straight into tscfd's TUN): encrypted or dropped.
    e.send(udp4(ip, a.service, 6001, 7200, ip6.encode()))
    enc, clear = inner_packets(e, 2), inner_packets(c, 0.5)
    check(not clear, "a fragment without its first fragment went in clear")
    check(sum(b'orphan' in p for p in enc) == 2, "the orphan fragments did not arrive encrypted")
    check(bind(e, ip, 6001, 0) == SUCCESS, "the encrypted tunnel may unbind")
    return res


def sc_resume(a):
    """A clear tunnel moves to a new transport by its TSID: same TSID and
    address, the old transport is closed, traffic flows on the new one; an
    unknown TSID is refused."""
    old = Tunnel(a.transport, a.addr, a.port)
    code, _ = old.config()
    check(code == SUCCESS, "clear config")
    other = 'udp' if a.transport == 'tcp' else 'tcp'
    new = Tunnel(other, a.addr, a.port)
    code, m = new.resume(old.tsid, old.resume_secret)
    check(code == SUCCESS, f"resume answered {code}")
    check(m['tsid'] == old.tsid, "resume gave another TSID")
    ip4 = socket.inet_ntoa(get(m, 'IPV4'))
    check(ip4 == old.ip4, f"resume gave another address: {ip4}, had {old.ip4}")
    new.tsid, new.ip4 = m['tsid'], ip4
    if old.transport != 'udp':
        check(old.recv(3) == b'', "the old transport was not closed")
    new.send(udp4(ip4, a.service, 6000, 7000, b'resumed'))
    check(expect_inner(new, b'echo:resumed'), "no traffic on the resumed tunnel")
    k = new.request(KEEPALIVE_REQ)
    check(code_of(k) == SUCCESS, "keepalive on the resumed tunnel")
    stranger = Tunnel(a.transport, a.addr, a.port)
    code, m = stranger.resume(old.tsid ^ 0x5a5a, old.resume_secret)
    check(code == UNKNOWN_TSID, f"unknown TSID answered {code}")
    check(m['tsid'] == ALL_ONES, "a refused resume carries a TSID")
    r = new.request(RELEASE_REQ)
    check(code_of(r) == SUCCESS, "release")
    return {'tsid': f"{new.tsid:016x}", 'ip4': ip4, 'moved_to': other}


def sc_later(a):
    """Configure now, ask for DTTE when the file --hold exists."""
    c = Tunnel(a.transport, a.addr, a.port)
    code, _ = c.config()
    check(code == SUCCESS, "clear config")
    open(a.hold + '.ready', 'w').close()
    end = time.time() + 30
    while not os.path.exists(a.hold) and time.time() < end:
        time.sleep(0.05)
    m = c.enable_dtte()
    return {'service_code': code_of(m)}


def sc_echo_hold(a):
    """A clear session echoes through the service, then again once the
    file --hold exists (the test changed the server meanwhile); keepalives
    keep the session up while it waits."""
    c = Tunnel(a.transport, a.addr, a.port)
    code, _ = c.config()
    check(code == SUCCESS, "clear config")
    c.send(udp4(c.ip4, a.service, 6000, 7000, b'before'))
    check(expect_inner(c, b'echo:before'), "no echo before")
    open(a.hold + '.ready', 'w').close()
    end = time.time() + 60
    while not os.path.exists(a.hold) and time.time() < end:
        c.request(KEEPALIVE_REQ)
        time.sleep(1)
    check(os.path.exists(a.hold), "no hold file in time")
    got = False
    for i in range(5):      # the server falls back within its 1 s tick
        c.send(udp4(c.ip4, a.service, 6000, 7000, b'after-%d' % i))
        if expect_inner(c, b'echo:after-%d' % i, 1.5):
            got = True
            break
    check(got, "no echo after")
    return {'tsid': c.tsid, 'ip4': c.ip4, 'after_tries': i + 1}


def sc_many(a):
    """Open N UDP clear tunnels (cookie round, then the request), keep
    them, report timings."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (a.count + 1024, a.count + 1024))
    socks = []
    start = time.time()
    for i in range(a.count):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect((a.addr, a.port))
        s.setblocking(False)
        socks.append(s)
    probe = ctrl(CONFIG_REQ, ALL_ONES, 1, padded([version_tlv()]))

    def with_cookie(k, cookie):
        return ctrl(CONFIG_REQ, ALL_ONES, 2 + k, padded([version_tlv(), tlv('COOKIE', cookie)]))
    # Pipelined: up to 256 outstanding requests.
    done, i, window = 0, 0, 256
    ep = select.epoll()
    for s in socks:
        ep.register(s.fileno(), select.EPOLLIN)
    fd_idx = {s.fileno(): k for k, s in enumerate(socks)}
    sent_at, last = {}, {}
    deadline = time.time() + 120
    while done < a.count and time.time() < deadline:
        while i < a.count and len(sent_at) < window:
            socks[i].send(probe)
            sent_at[i], last[i] = time.time(), probe
            i += 1
        for fd, _ in ep.poll(1.0):
            k = fd_idx[fd]
            try:
                f = socks[k].recv(65536)
            except BlockingIOError:
                continue
            m = parse_ctrl(f)
            if m['type'] == COOKIE:
                last[k] = with_cookie(k, get(m, 'COOKIE'))
                socks[k].send(last[k])
                sent_at[k] = time.time()
                continue
            check(code_of(m) == SUCCESS, f"tunnel {k}: config code {code_of(m)}")
            if sent_at.pop(k, None) is not None:
                done += 1
        now = time.time()
        for k, t0 in list(sent_at.items()):
            if now - t0 > 2:
                socks[k].send(last[k])
                sent_at[k] = now
    elapsed = time.time() - start
    check(done == a.count, f"only {done} of {a.count} tunnels configured")
    print(json.dumps({'tunnels': done, 'seconds': round(elapsed, 2),
                      'config_per_sec': round(done / elapsed)}), flush=True)
    if a.hold:
        open(a.hold, 'w').close()
        time.sleep(a.hold_secs)
    return None


def sc_hostile(a):
    """Garbage on every transport; the server survives and counts it."""
    # UDP: a bad nibble from an unknown peer, then garbage after config.
    u = Tunnel('udp', a.addr, a.port)
    u.send(b'\xff\x00garbage')
    code, _ = u.config()
    check(code == SUCCESS, "udp config after garbage")
    u.send(b'\xff\x00\x00\x00')
    u.send(ctrl(KEEPALIVE_REQ, u.tsid, 1)[:20])     # overrunning TLV count
    u.send(bytes([0x10, 77]) + struct.pack('!HQI', 0, u.tsid, 5))  # unknown type
    check(code_of(u.request(KEEPALIVE_REQ)) == SUCCESS, "udp tunnel dead after garbage")
    # TCP: a stream that cannot be parsed is closed.
    t = Tunnel('tcp', a.addr, a.port)
    code, _ = t.config()
    check(code == SUCCESS, "tcp config")
    t.send(b'\x7f' * 64)
    check(t.recv(3) == b'', "unparsable stream not closed")
    # TCP: oversize control frame.
    t = Tunnel('tcp', a.addr, a.port)
    t.send(struct.pack('!BBHQI', 0x10, 1, 1, ALL_ONES, 1) + struct.pack('!HH', 99, 5000) + b'x' * 5000)
    check(t.recv(3) == b'', "oversize control frame not refused")
    # TLS port: plain garbage instead of a handshake.
    g = socket.create_connection((a.addr, a.port + 1), timeout=5)
    g.sendall(b'GET / HTTP/1.0\r\n\r\n' * 10)
    g.settimeout(3)
    try:
        check(g.recv(100) is not None, "")
    except (ConnectionResetError, socket.timeout):
        pass
    # Half-open: a TCP connection that never configures is closed later
    # (checked by the caller through the counters).
    # The server still serves a new client.
    n = Tunnel('tcp', a.addr, a.port)
    code, _ = n.config()
    check(code == SUCCESS, "server stopped serving after hostile input")
    return {'hostile': 'survived'}


def collect(s, timeout):
    """Every datagram that arrives on s within timeout seconds."""
    got, end = [], time.time() + timeout
    while True:
        r, _, _ = select.select([s], [], [], max(0, end - time.time()))
        if not r:
            return got
        try:
            got.append(s.recv(65536))
        except ConnectionRefusedError:
            pass


def unverified_cases():
    """What an unverified source may send on UDP port N."""
    v2 = version_tlv()
    return {
        'legacy-16': ctrl(CONFIG_REQ, ALL_ONES, 1),
        'v2-unpadded': ctrl(CONFIG_REQ, ALL_ONES, 2, [v2]),
        'v2-probe': ctrl(CONFIG_REQ, ALL_ONES, 3, padded([v2])),
        'v2-bad-cookie': ctrl(CONFIG_REQ, ALL_ONES, 4, padded([v2, tlv('COOKIE', bytes(16))])),
        'v1-padded': ctrl(CONFIG_REQ, ALL_ONES, 5, padded([])),
        'resume-guess': ctrl(CONFIG_REQ, 0x1122334455667788, 6,
                             padded([v2, tlv('RESUME_SECRET', bytes(32))])),
        'keepalive': ctrl(KEEPALIVE_REQ, 0x1122334455667788, 7),
        'garbage': b'\x10\x01' + b'\xff' * 14,
        'big-probe': ctrl(CONFIG_REQ, ALL_ONES, 8, padded([v2], 1400)),
    }


def sc_amplify(a):
    """Each unverified request, from a fresh source port, is answered with
    at most as many bytes as it carried (PROTOCOL.md 2.6)."""
    cases, total_in, total_out, worst = {}, 0, 0, 0.0
    for name, frame in unverified_cases().items():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect((a.addr, a.port))
        s.send(frame)
        answers = collect(s, 0.5)
        out = sum(len(x) for x in answers)
        cases[name] = [len(frame), out, [parse_ctrl(x)['type'] for x in answers]]
        total_in += len(frame)
        total_out += out
        worst = max(worst, out / len(frame))
        s.close()
    factor = total_out / total_in
    res = {'cases': cases, 'max_factor': round(worst, 3), 'factor': round(factor, 3)}
    check(worst <= 1.0, f"amplification {worst:.2f} > 1.0: {json.dumps(res)}")
    probe = cases['v2-probe']
    check(probe[2] == [COOKIE], f"a padded probe is answered {probe[2]}, want one COOKIE")
    check(cases['v1-padded'][2] == [CONFIG_RESP], "version 1 not answered UNSUPPORTED_VERSION")
    return res


def sc_flood(a):
    """Spoofed-source CONFIG_REQs (raw socket, sources all over
    198.18.0.0/15, which the server routes back through the UE namespace,
    where nobody answers), a.count per second for a.seconds, while a
    legitimate client configures over UDP: the time it took."""
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    frames = [f for n, f in unverified_cases().items() if n != 'big-probe']
    stop = threading.Event()
    sent = [0, 0]

    rnd = random.Random(1)
    packets = []
    for _ in range(4096):
        src = f"198.{rnd.randrange(18, 20)}.{rnd.randrange(256)}.{rnd.randrange(1, 255)}"
        f = frames[rnd.randrange(len(frames))]
        packets.append((udp4(src, a.addr, rnd.randrange(1024, 65535), a.port, f), len(f)))

    def flood():
        end, k = time.time() + a.seconds, 0
        while time.time() < end and not stop.is_set():
            t0 = time.time()
            for _ in range(a.count // 100):
                pkt, n = packets[k % len(packets)]
                k += 1
                raw.sendto(pkt, (a.addr, 0))
                sent[0] += 1
                sent[1] += n
            time.sleep(max(0, 0.01 - (time.time() - t0)))
    th = threading.Thread(target=flood)
    th.start()
    time.sleep(min(0.5, a.seconds / 2))
    t0 = time.time()
    c = Tunnel('udp', a.addr, a.port)
    code, _ = c.config()
    legit_ms = round((time.time() - t0) * 1000)
    check(code == SUCCESS, f"legitimate client refused under flood: {code}")
    r = c.request(RELEASE_REQ)
    check(code_of(r) == SUCCESS, "release under flood")
    stop.set() if a.stop_early else None
    th.join()
    return {'spoofed_requests': sent[0], 'spoofed_bytes': sent[1],
            'legit_config_ms': legit_ms}


def sc_retransmit(a):
    """UDP: a retransmitted CONFIG_REQ gets the same answer and the tunnel
    lives; wrong-TSID datagrams from the client's address are dropped."""
    t = Tunnel('udp', a.addr, a.port)
    code, m = t.config()
    check(code == SUCCESS, f"config code {code}")
    req = t.last_request
    for i in range(2):
        t.send(req)
        again = t.recv(2)
        check(again is not None, f"no answer to retransmission {i + 1} of the CONFIG_REQ")
        check(again == m['raw'], "a retransmitted CONFIG_REQ got another answer")
    check(code_of(t.request(KEEPALIVE_REQ)) == SUCCESS, "tunnel dead after a retransmitted CONFIG_REQ")
    t.send(ctrl(KEEPALIVE_REQ, t.tsid ^ 1, 0x100))
    t.send(ctrl(RELEASE_REQ, t.tsid ^ 2, 0x101))
    t.send(ctrl(SERVICE_REQ, ALL_ONES, 0x102, [tlv('SERVICE_TYPE', struct.pack('!H', DISABLE_DTTE))]))
    # A CONFIG_REQ of another Sequence (not a retransmission) from the same port.
    t.send(ctrl(CONFIG_REQ, ALL_ONES, 0x103, padded([version_tlv(), tlv('COOKIE', t.cookie)])))
    check(t.recv(1) is None, "a wrong-TSID frame or a foreign CONFIG_REQ was answered")
    check(code_of(t.request(KEEPALIVE_REQ)) == SUCCESS, "tunnel dead after wrong-TSID datagrams")
    check(code_of(t.request(RELEASE_REQ)) == SUCCESS, "release")
    return {'tsid': f"{t.tsid:016x}", 'retransmissions': 2, 'wrong_tsid_sent': 4}


def dtte_up(a, c):
    """ENABLE_DTTE on clear tunnel c: (reserved TSID, TLS port, lifetime)."""
    m = c.enable_dtte()
    check(code_of(m) == SUCCESS, f"service answer {code_of(m)}")
    reserved = struct.unpack('!Q', get(m, 'RESERVED_TSID'))[0]
    ci = get(m, 'CONN_INFO')
    check(ci is not None and ci[0] == 3, "no TLS connection info")
    life = get(m, 'LIFETIME')
    return reserved, struct.unpack('!H', ci[2:4])[0], life and struct.unpack('!I', life)[0]


def refused_enc(a, port, clear, reserved, secret, what):
    """An attempt to claim clear's reservation must be NOT_ALLOWED."""
    x = Tunnel('tls', a.addr, port, ca=a.ca)
    code, _ = x.encrypted(clear, reserved, secret)
    check(code == NOT_ALLOWED, f"hijack with {what}: answered {code}, want NOT_ALLOWED")
    check(x.recv(2) == b'', f"hijack with {what}: tunnel not closed")


def sc_hijack(a):
    """Another client behind the same address, which saw the clear
    SERVICE_RESP (and the commitment in SERVICE_REQ), cannot claim the
    encrypted tunnel; the client that holds the secret can."""
    victim = Tunnel(a.transport, a.addr, a.port)
    code, _ = victim.config()
    check(code == SUCCESS, "clear config")
    reserved, port, life = dtte_up(a, victim)
    commit = sha256(victim.dtte_secret)
    refused_enc(a, port, victim, reserved, None, "the TSIDs only")
    refused_enc(a, port, victim, reserved, os.urandom(32), "a guessed secret")
    refused_enc(a, port, victim, reserved, commit, "the clear commitment")
    # Injected on the clear tunnel: a reservation for a secret of its own.
    m = victim.request(SERVICE_REQ, [tlv('SERVICE_TYPE', struct.pack('!H', ENABLE_DTTE)),
                                     tlv('DTTE_COMMIT', sha256(os.urandom(32)))])
    check(code_of(m) == NOT_ALLOWED, f"a second DTTE commitment answered {code_of(m)}")
    e = Tunnel('tls', a.addr, port, ca=a.ca)
    code, _ = e.encrypted(victim, reserved, victim.dtte_secret)
    check(code == SUCCESS, f"the owner's encrypted tunnel refused: {code}")
    check(e.tsid == reserved and e.ip4 == victim.ip4, "encrypted tunnel TSID or address")
    # A new reservation (same commitment) cannot be claimed by a stranger
    # to replace the owner's tunnel either.
    reserved2, _, _ = dtte_up(a, victim)
    refused_enc(a, port, victim, reserved2, os.urandom(32), "a guessed secret, replacing")
    check(code_of(e.request(KEEPALIVE_REQ)) == SUCCESS, "the owner's encrypted tunnel was disturbed")
    check(life == a.expect_lifetime, f"reservation lifetime {life}, want {a.expect_lifetime}")
    return {'hijacks_refused': 4, 'enc': f"{e.tsid:016x}", 'lifetime': life}


def sc_downgrade(a):
    """The clear tunnel cannot close the encrypted one (DISABLE_DTTE), and a
    resume needs the resume secret, each one usable once."""
    c = Tunnel(a.transport, a.addr, a.port)
    code, _ = c.config()
    check(code == SUCCESS, "clear config")
    reserved, port, _ = dtte_up(a, c)
    e = Tunnel('tls', a.addr, port, ca=a.ca)
    code, _ = e.encrypted(c, reserved, c.dtte_secret)
    check(code == SUCCESS, f"encrypted config {code}")
    m = c.request(SERVICE_REQ, [tlv('SERVICE_TYPE', struct.pack('!H', DISABLE_DTTE))])
    check(code_of(m) == NOT_ALLOWED, f"DISABLE_DTTE on clear answered {code_of(m)}, want NOT_ALLOWED")
    check(code_of(e.request(KEEPALIVE_REQ)) == SUCCESS, "DISABLE_DTTE on clear closed the encrypted tunnel")
    other = 'udp' if a.transport == 'tcp' else 'tcp'
    # A neighbour that knows the TSID only, or guesses a secret.
    for what, secret in (('the TSID only', None), ('a guessed secret', os.urandom(32))):
        x = Tunnel(other, a.addr, a.port)
        code, _ = x.resume(c.tsid, secret)
        check(code == NOT_ALLOWED, f"resume with {what}: answered {code}, want NOT_ALLOWED")
    check(code_of(c.request(KEEPALIVE_REQ)) == SUCCESS, "a refused resume disturbed the tunnel")
    used = c.resume_secret
    n = Tunnel(other, a.addr, a.port)
    code, m = n.resume(c.tsid, used)
    check(code == SUCCESS, f"the owner's resume refused: {code}")
    check(n.ip4 == c.ip4, "resume gave another address")
    # Whoever saw that resume in clear cannot replay its secret.
    r = Tunnel(a.transport, a.addr, a.port)
    code, _ = r.resume(c.tsid, used)
    check(code == NOT_ALLOWED, f"replayed resume secret: answered {code}, want NOT_ALLOWED")
    check(code_of(n.request(KEEPALIVE_REQ)) == SUCCESS, "the resumed tunnel was disturbed")
    check(code_of(e.request(KEEPALIVE_REQ)) == SUCCESS, "the encrypted tunnel did not survive the resume")
    # The next resume, with the next secret, works.
    n2 = Tunnel(a.transport, a.addr, a.port)
    code, _ = n2.resume(c.tsid, n.resume_secret)
    check(code == SUCCESS, f"second resume refused: {code}")
    # Only the encrypted tunnel closes itself; then DISABLE_DTTE is fine.
    check(code_of(e.request(RELEASE_REQ)) == SUCCESS, "encrypted release")
    m = n2.request(SERVICE_REQ, [tlv('SERVICE_TYPE', struct.pack('!H', DISABLE_DTTE))])
    check(code_of(m) == SUCCESS, f"DISABLE_DTTE without an encrypted tunnel: {code_of(m)}")
    check(code_of(n2.request(RELEASE_REQ)) == SUCCESS, "release")
    return {'disable_refused': True, 'resumes_refused': 3, 'resumes': 2}


def sc_version(a):
    """VERSION negotiation: no VERSION or version 1 is UNSUPPORTED_VERSION
    (naming 2) on a stream; a newer client is answered in version 2."""
    res = {}
    for name, tlvs in (('none', []), ('v1', [version_tlv(1)])):
        t = Tunnel('tcp', a.addr, a.port)
        m = t.request(CONFIG_REQ, tlvs, tsid=ALL_ONES)
        check(code_of(m) == UNSUPPORTED_VERSION, f"version {name}: answered {code_of(m)}")
        check(get(m, 'VERSION') == bytes([VERSION]), f"version {name}: the answer does not name version 2")
        check(m['tsid'] == ALL_ONES, "a refused configuration carries a TSID")
        check(t.recv(2) == b'', f"version {name}: tunnel not closed")
        res[name] = 'UNSUPPORTED_VERSION'
    t = Tunnel('tcp', a.addr, a.port)
    m = t.request(CONFIG_REQ, [version_tlv(9)], tsid=ALL_ONES)
    check(code_of(m) == SUCCESS and get(m, 'VERSION') == bytes([VERSION]),
          "a version 9 client is not served in version 2")
    res['v9'] = 'served in 2'
    return res


def main():
    p = argparse.ArgumentParser()
    p.add_argument('scenario', choices=['basic', 'dtte', 'many', 'hostile', 'later', 'resume',
                                        'amplify', 'flood', 'retransmit', 'hijack',
                                        'downgrade', 'version', 'echo_hold'])
    p.add_argument('--addr', required=True)
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--transport', default='tcp', choices=['tcp', 'udp'])
    p.add_argument('--ca')
    p.add_argument('--service', default='10.100.0.1')
    p.add_argument('--expect-prefix', default='10.100.0.')
    p.add_argument('--expect-unavailable', action='store_true')
    p.add_argument('--flows', action='store_true')
    p.add_argument('--classify', action='store_true')
    p.add_argument('--service6', default='fd00:100::1')
    p.add_argument('--count', type=int, default=10000)
    p.add_argument('--hold')
    p.add_argument('--hold-secs', type=float, default=0)
    p.add_argument('--seconds', type=float, default=2)
    p.add_argument('--stop-early', action='store_true')
    p.add_argument('--expect-lifetime', type=int, default=30)
    a = p.parse_args()
    global a_service
    a_service = a.service
    try:
        res = globals()['sc_' + a.scenario](a)
    except (Fail, OSError, ssl.SSLError) as e:
        print(f"tscf_client {a.scenario}: {e}", file=sys.stderr)
        sys.exit(1)
    if res is not None:
        print(json.dumps(res))


if __name__ == '__main__':
    main()
