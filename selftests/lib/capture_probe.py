#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Prove that a capture is live: send a probe frame out of an Ethernet
device until the capture file holds it.

  capture_probe.py IFACE FILE TAG SECONDS

Run as root in IFACE's network namespace.  Every 0.3 s, sends one
broadcast frame out of IFACE: IPv4/UDP from 0.0.0.0:9 to
255.255.255.255:9 (the discard port; nothing in the tests answers it, and
a broadcast draws no ICMP error), its payload "tscf-capture-probe TAG".
Exits 0 once those bytes appear in FILE past its size at the start (the
capture wrote, and so flushed, the probe and everything it captured
before it), 1 after SECONDS without them.
"""
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tunnel_peer import csum  # noqa: E402


def probe_frame(mac, payload):
    udp = struct.pack('!HHHH', 9, 9, 8 + len(payload), 0) + payload
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0, 1, 17, 0,
                     bytes(4), b'\xff' * 4)
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    return b'\xff' * 6 + mac + b'\x08\x00' + ip + udp


def main():
    iface, path, tag, secs = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    payload = b'tscf-capture-probe ' + tag.encode()
    with open(f'/sys/class/net/{iface}/address') as f:
        mac = bytes.fromhex(f.read().strip().replace(':', ''))
    frame = probe_frame(mac, payload)
    start = os.path.getsize(path) if os.path.exists(path) else 0
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    end = time.monotonic() + secs
    while time.monotonic() < end:
        s.send(frame)
        time.sleep(0.3)
        try:
            with open(path, 'rb') as f:
                f.seek(start)
                if payload in f.read():
                    return 0
        except FileNotFoundError:
            pass
    print(f'capture_probe: no probe in {path} after {secs:.0f} s', file=sys.stderr)
    return 1


if __name__ == '__main__':
    sys.exit(main())
