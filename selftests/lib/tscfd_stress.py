#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Lifetime and limits of tscfd, seen from clients (host tests 28 to 36).

  tscfd_stress.py SCENARIO --addr A --port N [--pid PID] [options]

Scenarios:
  batch      one epoll batch holds an event that closes another tunnel
             (resume, DISABLE_DTTE, the timer) and that tunnel's own event:
             tscfd is stopped (SIGSTOP) while both are queued, then resumed
  expire     N tunnels that expire behind N live ones; a probe measures the
             longest answer time of the loop meanwhile
  ciphers    the TLS port refuses CBC-SHA1 suites and accepts AEAD ones
  idle       open N TCP connections to a port and hold them until --hold
             exists (prints "held" when open)
  preauth    N connections each announce a long frame before configuration
  backlog    tunnels that do not read ask for many replies
  flood      spoofed-source CONFIG_REQs (raw socket, sources in --spoof
             prefix) at --rate per second while a legitimate client
             configures; prints the legitimate client's time

Uses the protocol client of tscf_client.py (an implementation of
docs/PROTOCOL.md independent of tools/lib).  Prints one JSON line of
results; exits non-zero with a message on the first surprise.
"""
import argparse
import ipaddress
import json
import os
import random
import resource
import select
import signal
import socket
import ssl
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tscf_client as tc  # noqa: E402
from tscf_client import Fail, check, ctrl, tlv, code_of, Tunnel  # noqa: E402


def stopped(pid):
    """Context: tscfd stopped, so that what is sent queues in one batch."""
    class Stop:
        def __enter__(self):
            os.kill(pid, signal.SIGSTOP)
            time.sleep(0.1)

        def __exit__(self, *exc):
            time.sleep(0.2)  # let every datagram and segment land
            os.kill(pid, signal.SIGCONT)
    return Stop()


def alive(a):
    """The server still answers a new client."""
    t = Tunnel('tcp', a.addr, a.port)
    code, _ = t.config()
    check(code == tc.SUCCESS, "server stopped serving")
    t.request(tc.RELEASE_REQ)


def sc_batch(a):
    res = {}
    # 1. Resume on UDP closes the TCP tunnel whose data is queued behind.
    old = Tunnel('tcp', a.addr, a.port)
    code, _ = old.config()
    check(code == tc.SUCCESS, "clear config")
    new = Tunnel('udp', a.addr, a.port)
    check(new.get_cookie() is None, "no cookie asked for over UDP")
    with stopped(a.pid):
        new.send(tc.config_frame(1, new.resume_tlvs(old.resume_secret), old.tsid, new.cookie))
        time.sleep(0.05)
        old.send(ctrl(tc.KEEPALIVE_REQ, old.tsid, 2))
    f = new.recv(3)
    check(f, "no answer to the resume")
    m = tc.parse_ctrl(f)
    check(m['type'] == tc.CONFIG_RESP, f"resume answered by type {m['type']}")
    check(code_of(m) == tc.SUCCESS, f"resume answered {code_of(m)}")
    new.tsid = m['tsid']
    check(code_of(new.request(tc.KEEPALIVE_REQ)) == tc.SUCCESS, "keepalive after resume")
    res['resume'] = 'ok'
    # 2. DISABLE_DTTE on the clear tunnel closes the encrypted one, whose
    #    keepalive is queued behind it.
    c = Tunnel('tcp', a.addr, a.port)
    code, _ = c.config()
    check(code == tc.SUCCESS, "clear config")
    m = c.enable_dtte()
    check(code_of(m) == tc.SUCCESS, f"DTTE answer {code_of(m)}")
    reserved = struct.unpack('!Q', tc.get(m, 'RESERVED_TSID'))[0]
    e = Tunnel('tls', a.addr, a.port + 1, ca=a.ca)
    code, _ = e.encrypted(c, reserved, c.dtte_secret)
    check(code == tc.SUCCESS, f"encrypted config {code}")
    with stopped(a.pid):
        c.send(ctrl(tc.SERVICE_REQ, c.tsid, 50, [tlv(tc.TLV['SERVICE_TYPE'], struct.pack('!H', 2))]))
        time.sleep(0.05)
        e.send(ctrl(tc.KEEPALIVE_REQ, e.tsid, 51))
    check(c.recv(3) is not None, "no answer to DISABLE_DTTE")
    res['disable'] = 'ok'
    # 3. The timer closes an unconfigured connection whose bytes are
    #    queued behind the timer's event.
    h = socket.create_connection((a.addr, a.port))
    time.sleep(10.3)
    with stopped(a.pid):
        time.sleep(1.5)     # the timer fires while tscfd is stopped
        h.send(b'\x10\x01')  # then a partial header arrives
    time.sleep(0.5)
    res['timer'] = 'ok'
    alive(a)
    return res


def config_many(socks, addr, port, deadline):
    """CONFIG_REQ on every socket (pipelined), each after its cookie
    exchange (PROTOCOL.md 2.6); their TSIDs."""
    ep = select.epoll()
    fd_idx = {s.fileno(): k for k, s in enumerate(socks)}
    for s in socks:
        ep.register(s.fileno(), select.EPOLLIN)
    tsids, sent_at, cookies, i, window = {}, {}, {}, 0, 512

    def send(k):
        """The probe until a cookie came, then the request with it."""
        if k in cookies:
            socks[k].send(tc.config_frame(2, (), tc.ALL_ONES, cookies[k]))
        else:
            socks[k].send(tc.probe_frame(1))
        sent_at[k] = time.time()

    while len(tsids) < len(socks) and time.time() < deadline:
        while i < len(socks) and len(sent_at) < window:
            send(i)
            i += 1
        for fd, _ in ep.poll(0.5):
            k = fd_idx[fd]
            try:
                m = tc.parse_ctrl(socks[k].recv(65536))
            except BlockingIOError:
                continue
            if k in tsids:
                continue
            if m['type'] == tc.COOKIE:
                cookies[k] = tc.get(m, 'COOKIE')
                send(k)
                continue
            check(code_of(m) == tc.SUCCESS, f"config code {code_of(m)}")
            tsids[k] = m['tsid']
            sent_at.pop(k, None)
        now = time.time()
        for k, t0 in list(sent_at.items()):
            if now - t0 > 2 and k not in tsids:
                send(k)
    ep.close()
    check(len(tsids) == len(socks), f"only {len(tsids)} of {len(socks)} configured")
    return [tsids[k] for k in range(len(socks))]


def keepalive_raw(raw, src, ports, tsids, addr, port):
    """A KEEPALIVE_REQ from each src:port (their sockets are closed),
    paced to what the server's socket buffer holds."""
    for i, (p, tsid) in enumerate(zip(ports, tsids)):
        raw.sendto(udp_raw(src, p, addr, port, ctrl(tc.KEEPALIVE_REQ, tsid, 7)), (addr, 0))
        if i % 100 == 99:
            time.sleep(0.003)


def config_ports(ports, src, addr, port, deadline, refresh):
    """Configure one UDP tunnel from each source port (sockets opened and
    closed in chunks: the fd limit is below the tunnel count); the TSIDs.
    refresh() after each chunk keeps what is configured alive."""
    tsids = []
    for i in range(0, len(ports), 5000):
        socks = []
        for p in ports[i:i + 5000]:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((src, p))
            s.connect((addr, port))
            s.setblocking(False)
            socks.append(s)
        tsids += config_many(socks, addr, port, deadline)
        for s in socks:
            s.close()
        refresh(ports[:len(tsids)], tsids)
    return tsids


def udp_raw(src, sport, dst, dport, payload):
    """An IPv4 UDP datagram from src:sport, for a raw socket."""
    udp = struct.pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    return ip + udp


def sc_expire(a):
    """--count tunnels go silent together and expire after --timeout while
    --count others, opened after them, keep alive; a probe tunnel measures
    the longest keepalive round trip meanwhile."""
    n, src = a.count, a.src
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    t0 = time.time()
    dying_ports = list(range(10000, 10000 + n))
    live_ports = list(range(10000 + n, 10000 + 2 * n))
    dying = config_ports(dying_ports, src, a.addr, a.port, t0 + 120,
                         lambda p, t: keepalive_raw(raw, src, p, t, a.addr, a.port))
    t_config = time.time() - t0
    live = config_ports(live_ports, src, a.addr, a.port, t0 + 240,
                        lambda p, t: keepalive_raw(raw, src, dying_ports + p, dying + t,
                                                   a.addr, a.port))
    # The probe: a port of its own, none of the closed sockets' ports.
    probe = Tunnel('udp', a.addr, a.port)
    probe.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.s.bind((src, 10000 + 2 * n))
    probe.s.connect((a.addr, a.port))
    code, _ = probe.config()
    check(code == tc.SUCCESS, "probe config")
    # Last word of the dying ones: they expire together a timeout later.
    keepalive_raw(raw, src, dying_ports, dying, a.addr, a.port)
    end = time.time() + a.timeout + 4
    worst, seq, last_live = 0.0, 1000, time.time()
    while time.time() < end:
        now = time.time()
        if now - last_live > a.timeout / 3:
            keepalive_raw(raw, src, live_ports, live, a.addr, a.port)
            last_live = now
        seq += 1
        sent = time.time()
        probe.send(ctrl(tc.KEEPALIVE_REQ, probe.tsid, seq))
        while True:
            f = probe.recv(1)
            if f is None:   # lost: a datagram may be; retransmit
                check(time.time() - sent < 10, "probe: no keepalive answer in 10 s")
                probe.send(ctrl(tc.KEEPALIVE_REQ, probe.tsid, seq))
                continue
            if tc.parse_ctrl(f)['seq'] == seq:
                break
        worst = max(worst, time.time() - sent)
        time.sleep(0.02)
    return {'expiring': n, 'live': n, 'configured_in_s': round(t_config, 1),
            'worst_loop_stall_ms': round(worst * 1000, 1)}


def tls_try(a, ciphers):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(a.ca)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(ciphers)
    s = socket.create_connection((a.addr, a.port + 1), timeout=5)
    try:
        w = ctx.wrap_socket(s, server_hostname=a.addr)
        got = w.cipher()[0]
        w.close()
        return got
    except (ssl.SSLError, ConnectionResetError):
        return None


def sc_ciphers(a):
    weak = ['AES128-SHA', 'AES256-SHA', 'ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES256-SHA',
            'AES128-SHA256', 'ECDHE-RSA-AES128-SHA256', 'AES128-GCM-SHA256']
    for c in weak:
        got = tls_try(a, c)
        check(got is None, f"TLS 1.2 with {c} accepted")
    good = tls_try(a, 'ECDHE-RSA-AES128-GCM-SHA256')
    check(good == 'ECDHE-RSA-AES128-GCM-SHA256', f"AES-GCM refused ({good})")
    good2 = tls_try(a, 'ECDHE-RSA-CHACHA20-POLY1305')
    check(good2 == 'ECDHE-RSA-CHACHA20-POLY1305', f"CHACHA20 refused ({good2})")
    return {'refused': weak, 'accepted': [good, good2]}


def sc_idle(a):
    resource.setrlimit(resource.RLIMIT_NOFILE, (a.count + 1024, a.count + 1024))
    socks, refused = [], 0
    for _ in range(a.count):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect((a.addr, a.port))
        except BlockingIOError:
            pass
        socks.append(s)
    time.sleep(1)
    if a.hold:
        open(a.hold + '.ready', 'w').close()
        end = time.time() + 120
        while not os.path.exists(a.hold) and time.time() < end:
            time.sleep(0.05)
    for s in socks:
        s.close()
    return {'opened': len(socks), 'refused': refused}


def sc_preauth(a):
    """Each connection announces an IPv4 frame of 65535 bytes (or, with
    --ctrl, a control frame with one long TLV) before any configuration
    and sends most of it, then holds the connection until --hold exists."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (a.count + 1024, a.count + 1024))
    socks = []
    for _ in range(a.count):
        s = socket.create_connection((a.addr, a.port), timeout=5)
        if a.ctrl:
            hdr = struct.pack('!BBHQI', 0x10, tc.CONFIG_REQ, 1, tc.ALL_ONES, 1)
            s.sendall(hdr + struct.pack('!HH', 99, 4000) + b'x' * 1000)
        else:
            ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 65535, 0, 0, 64, 17, 0,
                             socket.inet_aton('10.100.0.2'), socket.inet_aton('10.100.0.1'))
            try:
                s.sendall(ip + b'y' * 60000)
            except (BrokenPipeError, ConnectionResetError):
                pass
        socks.append(s)
    open(a.hold + '.ready', 'w').close()
    end = time.time() + 60
    while not os.path.exists(a.hold) and time.time() < end:
        time.sleep(0.05)
    closed = 0
    for s in socks:
        s.settimeout(0.01)
        try:
            closed += s.recv(1) == b''
        except socket.timeout:
            pass
        except ConnectionResetError:
            closed += 1
        s.close()
    return {'connections': a.count, 'closed_by_server': closed}


def checksum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


def spoofed(src, sport, dst, dport, payload):
    udp = struct.pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), random.getrandbits(16), 0,
                     64, 17, 0, socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack('!H', checksum(ip)) + ip[12:]
    return ip + udp


def legit_time(a, transport):
    """Seconds to configure; over UDP the request is sent again every
    second, as tscfctl does."""
    t0 = time.time()
    t = Tunnel(transport, a.addr, a.port)
    code, _ = t.config()        # UDP: cookie exchange, each step resent every second
    dt = time.time() - t0
    check(code == tc.SUCCESS, f"legitimate {transport} client refused: code {code}")
    t.request(tc.RELEASE_REQ)   # answered: the test counts the sessions after; not timed
    return dt


def sc_flood(a):
    """--rate spoofed CONFIG_REQs per second for --seconds, sources drawn
    from --spoof; every second a legitimate client (UDP, then TCP)
    configures and its time is recorded.  The spoofed requests are what
    a spoofer can send: cookie-less probes, and requests with a guessed
    cookie (it never sees the real one)."""
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    net = ipaddress.ip_network(a.spoof)
    hosts = net.num_addresses - 2
    reqs = [tc.probe_frame(1),
            tc.config_frame(2, [tlv('RESUME_COMMIT', bytes(32))], tc.ALL_ONES, bytes(16))]
    # Built beforehand, each from another source address and port.
    total = int(a.rate * a.seconds)
    pkts = [spoofed(str(net.network_address + 1 + random.randrange(hosts)),
                    random.randrange(1024, 65535), a.addr, a.port, reqs[k % 2])
            for k in range(total)]
    dst = (a.addr, 0)
    sent, worst, times = 0, 0.0, []
    start = time.time()
    next_legit = start + 0.5
    while time.time() - start < a.seconds and sent < total:
        slot = time.time()
        for pkt in pkts[sent:sent + a.rate // 100]:
            raw.sendto(pkt, dst)
        sent = min(total, sent + a.rate // 100)
        if time.time() >= next_legit:
            for tr in ('udp', 'tcp'):
                dt = legit_time(a, tr)
                times.append(dt)
                worst = max(worst, dt)
            next_legit = time.time() + 1
        left = 0.01 - (time.time() - slot)
        if left > 0:
            time.sleep(left)
    elapsed = time.time() - start
    return {'spoofed_sent': sent, 'rate_per_s': round(sent / elapsed),
            'legit_attempts': len(times), 'legit_worst_s': round(worst, 3),
            'legit_median_s': round(sorted(times)[len(times) // 2], 3)}


def sc_backlog(a):
    """--count TCP tunnels that never read (4 KB receive buffer) each ask
    the echo service for 300 replies of 1,200 bytes, then hold until
    --hold exists."""
    tuns = []
    for _ in range(a.count):
        t = Tunnel('tcp', a.addr, a.port)
        t.s.close()
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect((a.addr, a.port))
        t.s = s
        code, _ = t.config()
        check(code == tc.SUCCESS, "config")
        tuns.append(t)
    payload = b'z' * 1200
    for i in range(300):
        for t in tuns:
            t.send(tc.udp4(t.ip4, '10.100.0.1', 6000, 7000, payload))
        time.sleep(0.002)
    open(a.hold + '.ready', 'w').close()
    end = time.time() + 60
    while not os.path.exists(a.hold) and time.time() < end:
        time.sleep(0.05)
    return {'tunnels': len(tuns), 'requested_bytes': 300 * 1205 * len(tuns)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument('scenario', choices=['batch', 'expire', 'ciphers', 'idle', 'preauth', 'flood', 'backlog'])
    p.add_argument('--addr', required=True)
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--pid', type=int)
    p.add_argument('--ca')
    p.add_argument('--count', type=int, default=1000)
    p.add_argument('--timeout', type=float, default=8)
    p.add_argument('--hold')
    p.add_argument('--ctrl', action='store_true')
    p.add_argument('--spoof', default='10.10.128.0/17')
    p.add_argument('--src', default='10.10.0.1')
    p.add_argument('--rate', type=int, default=10000)
    p.add_argument('--seconds', type=float, default=5)
    a = p.parse_args()
    try:
        res = globals()['sc_' + a.scenario](a)
    except (Fail, OSError, ssl.SSLError) as e:
        print(f"tscfd_stress {a.scenario}: {e}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps(res), flush=True)


if __name__ == '__main__':
    main()
