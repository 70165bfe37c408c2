#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Blocking UDP sends for backpressure tests.

  udp_flood.py DST N SIZE SNDBUF

N blocking sends of SIZE bytes to DST port 9 from one connected socket
with IP_RECVERR and a send buffer of SNDBUF bytes (SO_SNDBUFFORCE); prints
"sent K errors {ERRNO: COUNT, ...}".  A stopped device queue must hold the
sender back, never fail it.
"""
import errno
import socket
import sys

SO_SNDBUFFORCE, IP_RECVERR = 32, 11


def main(argv):
    dst, n, size, sndbuf = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, SO_SNDBUFFORCE, sndbuf)
    s.setsockopt(socket.SOL_IP, IP_RECVERR, 1)
    s.connect((dst, 9))
    sent, errs = 0, {}
    for _ in range(n):
        try:
            s.send(b'x' * size)
            sent += 1
        except OSError as e:
            name = errno.errorcode.get(e.errno, str(e.errno))
            errs[name] = errs.get(name, 0) + 1
    print('sent', sent, 'errors', errs)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
