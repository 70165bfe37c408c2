#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Time from setsockopt(SO_TSCF_ENCLEVEL, encrypted-only) on a connected
UDP socket to (a) the first send the kernel accepts, which can only go
into the encrypted tunnel, and (b) the first echo back through it.

  dtte_latency.py ADDR PORT RUNS [DEV]

With DEV (the encrypted twin), each run first waits until DEV has no
tunnel, so that each run brings one up on demand.  Prints one JSON line:
the times in ms of each run.
"""
import errno
import json
import os
import socket
import struct
import subprocess
import sys
import time

SOL_IP, SO_TSCF_ENCLEVEL = 0, 0x5453


def one_run(dst):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(dst)
    s.settimeout(0.002)
    t0 = time.monotonic()
    s.setsockopt(SOL_IP, SO_TSCF_ENCLEVEL, struct.pack('=i', 1))
    sent = None
    deadline = t0 + 60
    while time.monotonic() < deadline:
        try:
            s.send(b'dtte-latency')
        except OSError as e:
            if e.errno != errno.ENETUNREACH:
                raise
            time.sleep(0.0005)
            continue
        if sent is None:
            sent = time.monotonic()
        try:
            if s.recv(2048).endswith(b'dtte-latency'):
                back = time.monotonic()
                s.close()
                return (sent - t0) * 1e3, (back - t0) * 1e3
        except socket.timeout:
            pass
    sys.exit('no echo within 60 s')


def wait_no_tunnel(dev):
    nl = os.path.join(os.path.dirname(os.path.abspath(__file__)), '../lib/tscf_nl.py')
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        out = subprocess.run(['python3', nl, 'dev', dev], check=True,
                             capture_output=True, text=True).stdout
        if 'tunnel' not in json.loads(out):
            return
        time.sleep(0.05)
    sys.exit(f'{dev} kept its tunnel for 60 s')


def main():
    dst = (sys.argv[1], int(sys.argv[2]))
    runs = int(sys.argv[3])
    dev = sys.argv[4] if len(sys.argv) > 4 else None
    first_send, first_echo = [], []
    for _ in range(runs):
        if dev:
            wait_no_tunnel(dev)
        a, b = one_run(dst)
        first_send.append(round(a, 3))
        first_echo.append(round(b, 3))
    print(json.dumps({'first_send_ms': first_send, 'first_echo_ms': first_echo}))


if __name__ == '__main__':
    main()
