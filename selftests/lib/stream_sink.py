#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A stream tunnel server that holds back, then counts: backpressure tests.

  stream_sink.py TRANSPORT PORT N [--sleep S | --go FILE] [--quiet S]

Listens on 10.10.0.2:PORT with a 4 KiB receive buffer, prints "listening",
accepts one tunnel (TRANSPORT tcp, or ktls: tunnel_peer's fixed keys), and
reads nothing for S seconds (--sleep) or until FILE exists (--go, 60 s at
most).  Then it reads the stream and counts the inner IPv4 packets of 1000
bytes or more, until N arrived, the stream ended, it went quiet for
--quiet seconds (default 5) or 60 s passed, and prints "received K".  With
--go it then waits for FILE.done (30 s at most) before it closes, so the
client's tunnel can still be looked at.
"""
import argparse
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tunnel_peer  # noqa: E402


def wait_file(path, secs):
    end = time.time() + secs
    while not os.path.exists(path) and time.time() < end:
        time.sleep(0.1)


def count_frames(c, n, quiet):
    buf, got, end = b'', 0, time.time() + 60
    c.settimeout(quiet)
    while got < n and time.time() < end:
        try:
            data = c.recv(1 << 20)
        except socket.timeout:
            break
        if not data:
            break
        buf += data
        while True:
            flen = tunnel_peer.frame_len(buf)
            if flen is None or flen < 0 or flen > len(buf):
                break
            if buf[0] >> 4 == 4 and flen >= 1000:
                got += 1
            buf = buf[flen:]
    return got


def main():
    p = argparse.ArgumentParser()
    p.add_argument('transport', choices=['tcp', 'ktls'])
    p.add_argument('port', type=int)
    p.add_argument('n', type=int)
    hold = p.add_mutually_exclusive_group(required=True)
    hold.add_argument('--sleep', type=float)
    hold.add_argument('--go')
    p.add_argument('--quiet', type=float, default=5)
    a = p.parse_args()

    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.bind(('10.10.0.2', a.port))
    s.listen(1)
    print('listening', flush=True)
    c, _ = s.accept()
    if a.transport == 'ktls':
        tunnel_peer.install_ktls(c, True)
    if a.go:
        wait_file(a.go, 60)
    else:
        time.sleep(a.sleep)
    print('received', count_frames(c, a.n, a.quiet), flush=True)
    if a.go:
        wait_file(a.go + '.done', 30)
    return 0


if __name__ == '__main__':
    sys.exit(main())
