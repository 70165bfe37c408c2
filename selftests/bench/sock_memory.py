#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Kernel memory (the Slab line of /proc/meminfo) that N UDP sockets cost,
then what marking each with SO_TSCF_ENCLEVEL adds.

  sock_memory.py N
Prints one JSON line with bytes per socket and per mark.
"""
import json
import resource
import socket
import struct
import sys
import time

SOL_IP, SO_TSCF_ENCLEVEL = 0, 0x5453


def slab_bytes():
    with open('/proc/meminfo') as f:
        for line in f:
            if line.startswith('Slab:'):
                return int(line.split()[1]) * 1024
    raise SystemExit('no Slab in /proc/meminfo')


def settled():
    time.sleep(1)
    return slab_bytes()


def main():
    n = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_NOFILE, (n + 64, n + 64))
    base = settled()
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(n)]
    opened = settled()
    for s in socks:
        s.setsockopt(SOL_IP, SO_TSCF_ENCLEVEL, struct.pack('=i', 2))
    marked = settled()
    for s in socks:
        s.close()
    print(json.dumps({'sockets': n,
                      'socket_bytes': round((opened - base) / n),
                      'mark_bytes': round((marked - opened) / n)}))


if __name__ == '__main__':
    main()
