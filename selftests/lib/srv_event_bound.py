#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The bound on a server device's srv-frame events, per stream peer, and
frames that find tscfd's event socket full (docs/SERVER.md, "Kernel data
path"), driven through the genl API alone.

  srv_event_bound.py PUNT

Run as root in a netns of its own with lo up and PUNT (a TUN device) in
it.  Plays tscfd as srv_stream.py does (whose Server it uses): each
scenario has a server device of its own, so that its `ethtool -S`
counters and its event socket are its own.  The events are read with
their frame-seq, and acknowledged with srv-peer-set frame-seq.

What must hold, each checked (a failed check prints FAIL and the script
exits 1 after the rest):
A. bound: 100 control frames in one write from a fast peer: exactly 32
   events (seqs 1..32, the frames byte for byte, in order), then nothing
   for a second; srv_streams_paused +1; frame-seq 16 lets exactly 16 more
   through (33..48), then nothing (srv_streams_paused +2); acknowledged
   every 16, all 100 arrive, in order, whole, their seqs consecutive;
   the connection still carries a further frame (seq 101);
B. independence: while A's peer is held, another peer's frame is an
   event at once;
C. full event socket (256 KiB, not read for a second): three slow peers,
   32 packets of 16 KB each: srv_frames_waited > 0, srv_frames_lost
   unchanged, no connection shut; read and acknowledged every 16, each
   peer's 32 frames arrive in order, whole, seqs consecutive; each
   connection still carries a further frame;
D. patience: a listener that never reads: 2 s into its wait the frame
   still waits (not lost, connection open; a look that a loaded machine
   makes 4.5 s or more into the wait is not judged); then it is lost
   (srv_frames_lost +1, not before ~3.5 s after it began to wait, timed
   from the reads of the counters that bracket each change) and the client
   reads EOF; a new listener gets a new peer's events;
E. FIN while held: 40 control frames then the client's FIN: 32 events,
   tscfd's fd sees no hang-up while held; frame-seq 32: the other 8
   arrive in order, then the hang-up; nothing lost;
F. deletes: a peer held at 32 unacknowledged events, and a peer whose
   frame waits for room in a full event socket (srv_frames_waited went
   up for it): srv-peer-del succeeds, the client reads EOF, and no event
   of the deleted waiting peer comes out later;
G. frame-seq: accepted on a clear stream peer; EINVAL on a UDP peer.
"""
import errno
import os
import select
import socket
import struct
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import srv_stream  # noqa: E402
from srv_stream import (SP, Server, check, ctrl, eof_within, ethtool_stats,  # noqa: E402
                        expect_errno)
from tscf_nl import A, CMD, Genl, NlError, nla, parse_attrs  # noqa: E402
from tunnel_peer import udp4_packet as udp4  # noqa: E402

SP_FRAME_SEQ = 17
AHEAD = 32                      # TSCF_SRV_EVENTS_AHEAD
SO_RCVBUFFORCE = 33
BIG = 16000                     # payload bytes of a "big" slow packet


# --- helpers -----------------------------------------------------------------

def ack(s, a, seq):
    """srv-peer-set frame-seq: tscfd handled a's events up to seq."""
    s.set(a, more=nla(SP_FRAME_SEQ, struct.pack('=I', seq)))


def small_rcvbuf(s, size):
    s.ev.s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, size)


class Events:
    """The srv-frame events of Server s (its s.ev, read as it is now)."""
    def __init__(self, s):
        self.s = s
        self.enobufs = 0        # overruns the socket reported

    def next(self, timeout):
        """(fd, tsid, seq, frame) of the next event, or None after timeout."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            sock = self.s.ev.s
            if not select.select([sock], [], [], left)[0]:
                return None
            try:
                data = sock.recv(1 << 20)
            except OSError as e:
                if e.errno == errno.ENOBUFS:    # the socket was full once
                    self.enobufs += 1
                    continue
                raise
            ln, _typ, _fl, nseq, _ = struct.unpack_from('=IHHII', data)
            if data[16] != CMD['SRV_FRAME'] or nseq != 0:
                return ('unexpected', data[16], nseq, data[:ln])
            at = parse_attrs(data[20:ln])
            p = parse_attrs(at[A['SRV_PEER']])
            return (struct.unpack('=I', p[SP['FD']])[0],
                    struct.unpack('=Q', p[SP['TSID']])[0],
                    struct.unpack('=I', p[SP_FRAME_SEQ])[0]
                    if SP_FRAME_SEQ in p else None,
                    at[A['FRAME']])

    def collect(self, want, quiet=10.0, socks=None, ack_every=0):
        """Events until each fd of want {fd: n} has n, or quiet seconds
        without one.  With socks {fd: socket} and ack_every, each fd's
        events are acknowledged whenever their seq is a multiple of it.
        Returns {fd: [(tsid, seq, frame)...]} (other fds included)."""
        got = {fd: [] for fd in want}
        while any(len(got.get(fd, [])) < n for fd, n in want.items()):
            e = self.next(quiet)
            if e is None:
                break
            if e[0] == 'unexpected':
                got.setdefault('unexpected', []).append(e)
                continue
            fd, tsid, seq, frame = e
            got.setdefault(fd, []).append((tsid, seq, frame))
            if ack_every and socks and seq and seq % ack_every == 0:
                ack(self.s, socks[fd], seq)
        return got

    def silent(self, secs):
        """Every event of the next secs seconds (none, if all is well)."""
        out = []
        end = time.monotonic() + secs
        while True:
            e = self.next(end - time.monotonic())
            if e is None:
                return out
            out.append(e)


def same(events, tsid, first, frames):
    """events are (tsid, seq first.., frame) for frames, in order: ''
    or what differs first."""
    if len(events) != len(frames):
        return f'{len(events)} events, want {len(frames)}'
    for i, ((t, seq, fr), want) in enumerate(zip(events, frames)):
        if t != tsid or seq != first + i or fr != want:
            return (f'event {i}: tsid {t} seq {seq} frame {len(fr)} bytes '
                    f'{"same" if fr == want else "differs"}; want tsid {tsid} '
                    f'seq {first + i}')
    return ''


def stat(dev, key):
    return ethtool_stats(dev).get(key)


def wait_stat(dev, key, pred, secs):
    """Poll ethtool -S until pred(value); the last value read."""
    return wait_stat_span(dev, key, pred, secs)[0]


def wait_stat_span(dev, key, pred, secs):
    """wait_stat, and when the change happened: (value, after, before).
    It came after `after` (the start of the last read that did not see
    it) and before `before` (the end of the read that did): on a loaded
    machine the test itself may run late, and a time measured from when
    it saw a change would start late by that much."""
    end = time.monotonic() + secs
    after = time.monotonic()
    while True:
        t = time.monotonic()
        v = stat(dev, key)
        if pred(v) or time.monotonic() > end:
            return v, after, time.monotonic()
        after = t
        time.sleep(0.1)


def open_now(c):
    """The client's socket is not at its end (nothing to read, no EOF)."""
    c.setblocking(False)
    try:
        d = c.recv(65536, socket.MSG_PEEK)
        return d != b''
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        c.setblocking(True)


def pollhup(a, secs):
    """tscfd's fd a sees POLLHUP (the kernel shut it both ways) within secs."""
    p = select.poll()
    p.register(a.fileno(), select.POLLIN)
    end = time.monotonic() + secs
    while True:
        left = end - time.monotonic()
        for _fd, ev in p.poll(max(0, int(left * 1000))):
            if ev & select.POLLHUP:
                return True
        if left <= 0:
            return False
        time.sleep(0.05)


def send_bg(c, data):
    """c.sendall(data) in a thread (the kernel may not read it yet)."""
    def run():
        try:
            c.sendall(data)
        except OSError:
            pass
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def big_frames(src, dst, tag, n):
    return [udp4(src, dst, 5000, 7000, b'%s-%02d:' % (tag, k) + bytes([k]) * BIG)
            for k in range(n)]


def delete(s, a):
    try:
        s.g.do(CMD['SRV_PEER_DEL'], s.peer(a))
        return None
    except NlError as e:
        return e


def cleanup(s, socks):
    for a in socks:
        delete(s, a)


# --- the scenarios -----------------------------------------------------------

def bound_and_independence(punt):
    """A and B."""
    s = Server('sba0', punt, '10.91.0.1')
    ev = Events(s)
    c, a = s.connect()
    s.set(a, fast=1, inner='10.91.0.2', tsid=101)
    fa = a.fileno()
    frames = [ctrl(0x20, 1000 + k) for k in range(100)]
    paused0 = stat('sba0', 'srv_streams_paused')
    c.sendall(b''.join(frames))

    got = ev.collect({fa: AHEAD})
    d = same(got[fa], 101, 1, frames[:AHEAD])
    check(not d, f'A: 100 control frames unacknowledged: events 1..32, whole, in order ({d or "ok"})')
    more = ev.silent(1.0)
    check(not more, f'A: then nothing for a second: {len(more)} more events '
          f'(seqs {[e[2] for e in more[:5]]}...)')

    # B: another peer is not held with it.
    cb, b = s.connect()
    s.set(b, fast=1, inner='10.91.0.3', tsid=102)
    fb_frame = ctrl(0x21, 7)
    t0 = time.monotonic()
    cb.sendall(fb_frame)
    e = ev.next(5)
    check(e == (b.fileno(), 102, 1, fb_frame),
          f'B: while A\'s peer is held, another peer\'s frame is an event at once '
          f'({time.monotonic() - t0:.2f} s): {e and e[:3]}')
    more = ev.silent(0.3)
    check(not more, f'B: and nothing of the held peer: {[x[:3] for x in more]}')

    paused = stat('sba0', 'srv_streams_paused')
    check(paused == paused0 + 1, f'A: srv_streams_paused +1: {paused0} -> {paused}')

    ack(s, a, 16)
    got = ev.collect({fa: 16})
    d = same(got[fa], 101, 33, frames[32:48])
    check(not d, f'A: frame-seq 16: exactly 16 more, 33..48 ({d or "ok"})')
    more = ev.silent(1.0)
    check(not more, f'A: then nothing again: {len(more)} more events')
    paused = stat('sba0', 'srv_streams_paused')
    check(paused == paused0 + 2, f'A: srv_streams_paused +2 (held again): {paused0} -> {paused}')

    ack(s, a, 48)
    got = ev.collect({fa: 52}, socks={fa: a}, ack_every=16)
    d = same(got[fa], 101, 49, frames[48:])
    check(not d, f'A: acknowledged every 16, the other 52 arrive, 49..100 ({d or "ok"})')
    check(set(got) == {fa}, f'A: no other event: {sorted(map(str, got))}')
    last = ctrl(0x22, 9999)
    c.sendall(last)
    e = ev.next(5)
    check(e == (fa, 101, 101, last),
          f'A: the connection still carries a further frame, seq 101: {e and e[:3]}')
    lost = stat('sba0', 'srv_frames_lost')
    check(lost == 0, f'A: srv_frames_lost 0: {lost}')
    cleanup(s, [a, b])


def held_peer(name, punt, net, tsid, fin=False):
    """A device NAME on NET.1 with one fast peer (NET.2) whose client
    wrote 40 control frames (and, with fin, its FIN): the peer stops at
    AHEAD events.  (s, ev, c, a, frames, the events collected)."""
    s = Server(name, punt, f'{net}.1')
    ev = Events(s)
    c, a = s.connect()
    s.set(a, fast=1, inner=f'{net}.2', tsid=tsid)
    frames = [ctrl(0x20, tsid * 10 + k) for k in range(40)]
    c.sendall(b''.join(frames))
    if fin:
        c.shutdown(socket.SHUT_WR)
    return s, ev, c, a, frames, ev.collect({a.fileno(): AHEAD})


def fin_while_held(punt):
    """E."""
    s, ev, c, a, frames, got = held_peer('sbe0', punt, '10.92.0', 201, fin=True)
    fa = a.fileno()
    d = same(got[fa], 201, 1, frames[:AHEAD])
    check(not d, f'E: 40 frames and a FIN: the first 32 events ({d or "ok"})')
    more = ev.silent(0.5)
    check(not more, f'E: held: no more events: {len(more)}')
    check(not pollhup(a, 0.5), 'E: held: the FIN is not taken (no hang-up on tscfd\'s fd)')
    ack(s, a, AHEAD)
    got = ev.collect({fa: 8})
    d = same(got[fa], 201, 33, frames[32:])
    check(not d, f'E: frame-seq 32: the other 8 arrive, in order ({d or "ok"})')
    check(pollhup(a, 5), 'E: then tscfd\'s fd sees the hang-up')
    check(eof_within(c, 3), 'E: and the client the end')
    lost = stat('sbe0', 'srv_frames_lost')
    check(lost == 0, f'E: nothing lost: srv_frames_lost {lost}')
    cleanup(s, [a])


def full_socket(punt):
    """C."""
    s = Server('sbc0', punt, '10.93.0.1')
    small_rcvbuf(s, 256 * 1024)
    ev = Events(s)
    st0 = ethtool_stats('sbc0')
    peers = []
    for i in range(3):
        c, a = s.connect()
        inner = '10.93.0.%d' % (10 + i)
        s.set(a, fast=0, inner=inner, tsid=300 + i)
        peers.append((c, a, big_frames(inner, '10.93.0.1', b'C%d' % i, AHEAD)))
    threads = [send_bg(c, b''.join(fr)) for c, _a, fr in peers]
    waited = wait_stat('sbc0', 'srv_frames_waited',
                       lambda v: v > st0['srv_frames_waited'], 15)
    time.sleep(1)
    st = ethtool_stats('sbc0')
    check(waited > st0['srv_frames_waited'],
          f'C: a full event socket: srv_frames_waited {st0["srv_frames_waited"]} -> {waited}')
    check(st['srv_frames_lost'] == st0['srv_frames_lost'],
          f'C: not read for a second: nothing lost: srv_frames_lost {st["srv_frames_lost"]}')
    check(all(open_now(c) and not pollhup(a, 0) for c, a, _ in peers),
          'C: no connection shut')
    socks = {a.fileno(): a for _c, a, _ in peers}
    got = ev.collect({fd: AHEAD for fd in socks}, socks=socks, ack_every=16)
    for i, (c, a, fr) in enumerate(peers):
        d = same(got.get(a.fileno(), []), 300 + i, 1, fr)
        check(not d, f'C: peer {i}: its 32 frames of {len(fr[0])} bytes arrive, '
              f'in order, whole, seqs 1..32 ({d or "ok"})')
    for t in threads:
        t.join(10)
    for i, (c, a, fr) in enumerate(peers):
        c.sendall(ctrl(0x20, 3000 + i))
    got = ev.collect({a.fileno(): 1 for _c, a, _ in peers})
    check(all(got.get(a.fileno()) == [(300 + i, AHEAD + 1, ctrl(0x20, 3000 + i))]
              for i, (_c, a, _) in enumerate(peers)),
          f'C: each connection still carries a further frame, seq 33: '
          f'{ {k: [x[:2] for x in v] for k, v in got.items()} }')
    st = ethtool_stats('sbc0')
    check(st['srv_frames_lost'] == st0['srv_frames_lost'],
          f'C: none lost: srv_frames_lost {st["srv_frames_lost"]}, '
          f'srv_frames_waited {st["srv_frames_waited"]}, ENOBUFS seen {ev.enobufs}')
    cleanup(s, [a for _c, a, _ in peers])


def patience(punt):
    """D."""
    s = Server('sbd0', punt, '10.94.0.1')
    small_rcvbuf(s, 64 * 1024)
    st0 = ethtool_stats('sbd0')
    c, a = s.connect()
    s.set(a, fast=0, inner='10.94.0.2', tsid=401)
    send_bg(c, b''.join(big_frames('10.94.0.2', '10.94.0.1', b'D', 12)))
    waited, w_after, _ = wait_stat_span('sbd0', 'srv_frames_waited',
                                        lambda v: v > st0['srv_frames_waited'], 15)
    check(waited > st0['srv_frames_waited'],
          f'D: the listener does not read: a frame waits (srv_frames_waited {waited})')
    # 2 s into its wait (which began after w_after), well inside the 5 s
    # patience, it still waits.  On a machine so loaded that the look
    # ends 4.5 s or more after w_after, the frame may rightly be lost by
    # then: the look says nothing, and the bound below still holds.
    time.sleep(max(0, w_after + 2 - time.monotonic()))
    lost = stat('sbd0', 'srv_frames_lost')
    is_open = open_now(c)
    late = time.monotonic() - w_after
    if late < 4.5:
        check(lost == st0['srv_frames_lost'] and is_open,
              f'D: {late:.1f} s into its wait it still waits: srv_frames_lost {lost}, '
              f'connection {"open" if is_open else "shut"}')
    else:
        print(f'note: D: the 2 s look ended {late:.1f} s into the wait: not judged')
    lost, _, l_before = wait_stat_span('sbd0', 'srv_frames_lost',
                                       lambda v: v > st0['srv_frames_lost'], 20)
    # At most this long between the frame's first wait and its loss.
    secs = l_before - w_after
    check(lost == st0['srv_frames_lost'] + 1 and secs >= 3.5,
          f'D: after the 5 s patience it is lost: srv_frames_lost {lost}, '
          f'at most {secs:.1f} s after it began to wait')
    check(eof_within(c, 5), 'D: and the client reads EOF')
    # A new listener (tscfd restarted its event socket) works.
    s.ev = Genl()
    s.ev.do(CMD['SRV_LISTEN'], s.ifx())
    ev = Events(s)
    c2, a2 = s.connect()
    s.set(a2, fast=1, inner='10.94.0.3', tsid=402)
    f = ctrl(0x20, 4000)
    c2.sendall(f)
    e = ev.next(5)
    check(e == (a2.fileno(), 402, 1, f), f'D: a new listener gets a new peer\'s event: {e and e[:3]}')
    cleanup(s, [a, a2])


def deletes(punt):
    """F."""
    # A peer held at the bound.
    s, ev, c, a, _frames, got = held_peer('sbh0', punt, '10.95.0', 501)
    check(len(got[a.fileno()]) == AHEAD and not ev.silent(0.3),
          f'F: a peer held at 32 unacknowledged events ({len(got[a.fileno()])})')
    err = delete(s, a)
    check(err is None, f'F: srv-peer-del of the held peer: {err or "ok"}')
    check(eof_within(c, 5), 'F: its client reads EOF')

    # A peer whose frame waits for room in a full event socket.
    s = Server('sbf0', punt, '10.96.0.1')
    small_rcvbuf(s, 64 * 1024)
    ev = Events(s)
    st0 = ethtool_stats('sbf0')
    cx, x = s.connect()
    s.set(x, fast=0, inner='10.96.0.2', tsid=601)
    send_bg(cx, b''.join(big_frames('10.96.0.2', '10.96.0.1', b'F', 12)))
    w1 = wait_stat('sbf0', 'srv_frames_waited', lambda v: v > st0['srv_frames_waited'], 15)
    cy, y = s.connect()
    s.set(y, fast=1, inner='10.96.0.3', tsid=602)
    fy = y.fileno()
    cy.sendall(ctrl(0x20, 6000))
    w2 = wait_stat('sbf0', 'srv_frames_waited', lambda v: v > w1, 15)
    check(w2 == st0['srv_frames_waited'] + 2,
          f'F: one peer\'s frame waits, then another\'s: srv_frames_waited '
          f'{st0["srv_frames_waited"]} -> {w1} -> {w2}')
    err = delete(s, y)
    check(err is None, f'F: srv-peer-del of the peer whose frame waits: {err or "ok"}')
    check(eof_within(cy, 5), 'F: its client reads EOF')
    err = delete(s, x)
    check(err is None and eof_within(cx, 5),
          f'F: the other waiting peer deleted too: {err or "ok"}, its client reads EOF')
    evs = ev.silent(1.5)
    ys = [e for e in evs if e[0] == fy]
    xs = [e[2] for e in evs if e[0] == x.fileno()]
    check(not ys and xs == list(range(1, len(xs) + 1)),
          f'F: the events left: none of the deleted waiting peer\'s '
          f'({len(ys)}), the other\'s seqs 1..{len(xs)} ({xs})')


def frame_seq_refusals(punt):
    """G."""
    s = Server('sbg0', punt, '10.90.0.1')
    c, a = s.connect()
    s.set(a, fast=1, inner='10.90.0.2', tsid=701)
    try:
        ack(s, a, 1)
        check(True, 'G: frame-seq on a clear stream peer: accepted')
    except NlError as e:
        check(False, f'G: frame-seq on a clear stream peer: '
              f'{errno.errorcode.get(e.errno)} ({e.msg})')
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(('127.0.0.1', 0))
    s.g.do(CMD['SRV_SOCK_ADD'], s.ifx() + nla(A['SOCK_FD'], struct.pack('=I', u.fileno())))
    far = ('127.0.0.2', 10000)
    s.set(u, fast=1, inner='10.90.0.3', tsid=702, remote=far)
    expect_errno(lambda: s.set(u, remote=far, more=nla(SP_FRAME_SEQ, struct.pack('=I', 1))),
                 errno.EINVAL, 'G: frame-seq on a UDP peer')
    s.g.do(CMD['SRV_PEER_DEL'], s.peer(u, remote=far))
    cleanup(s, [a])


def main():
    punt = sys.argv[1]
    for name, fn in (('A, B', bound_and_independence), ('E', fin_while_held),
                     ('C', full_socket), ('F', deletes), ('G', frame_seq_refusals),
                     ('D', patience)):
        t0 = time.monotonic()
        try:
            fn(punt)
        except Exception:   # noqa: BLE001 - the rest still runs
            traceback.print_exc()
            check(False, f'{name}: {sys.exc_info()[1]!r}')
        print(f'# {name}: {time.monotonic() - t0:.1f} s', flush=True)
    print('%d checks failed' % len(srv_stream.FAILED))
    sys.exit(1 if srv_stream.FAILED else 0)


if __name__ == '__main__':
    main()
