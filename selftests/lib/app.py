#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A scripted application socket for DTTE tests: one socket, many steps, so
a test can watch the same fd move between tunnels.

  app.py --proto udp|tcp --dst ADDR --port N [--lport N] STEP...
Steps:
  level:N        setsockopt(SOL_IP, SO_TSCF_ENCLEVEL, N)
  send:TEXT      send TEXT; prints {"send": ..., "errno": E}
  recv           wait up to 3 s for data; prints {"recv": TEXT} or {"recv": null}
  echo:TEXT      send then recv, expecting b"echo:"+TEXT
  path           prints {"path": P, "level": L}
  wait:FILE      wait (up to 60 s) until FILE exists
  waitpath:P     wait (up to 60 s) until SO_TSCF_PATH is P
  sleep:SECONDS
Each step prints one JSON line; the exit status is 0.
"""
import errno
import json
import os
import socket
import struct
import sys
import time

SOL_IP, SOL_IPV6 = 0, 41
SO_TSCF_ENCLEVEL, SO_TSCF_PATH = 0x5453, 0x5454


def out(**kw):
    print(json.dumps(kw), flush=True)


def main():
    args = sys.argv[1:]
    opts = {}
    while args and args[0].startswith('--'):
        opts[args[0][2:]] = args[1]
        args = args[2:]
    fam = socket.AF_INET6 if ':' in opts['dst'] else socket.AF_INET
    typ = socket.SOCK_STREAM if opts['proto'] == 'tcp' else socket.SOCK_DGRAM
    s = socket.socket(fam, typ)
    s.settimeout(3)
    if 'lport' in opts:
        s.bind(('::' if fam == socket.AF_INET6 else '0.0.0.0', int(opts['lport'])))
    sol = SOL_IPV6 if fam == socket.AF_INET6 else SOL_IP
    dst = (opts['dst'], int(opts['port']))
    connected = False
    for step in args:
        op, _, arg = step.partition(':')
        if op == 'level':
            try:
                s.setsockopt(sol, SO_TSCF_ENCLEVEL, struct.pack('=i', int(arg)))
                out(level=int(arg), errno=0)
            except OSError as e:
                out(level=int(arg), errno=errno.errorcode[e.errno])
        elif op in ('send', 'echo'):
            try:
                if typ == socket.SOCK_STREAM and not connected:
                    s.connect(dst)
                    connected = True
                if typ == socket.SOCK_STREAM:
                    s.sendall(arg.encode())
                else:
                    s.sendto(arg.encode(), dst)
                out(send=arg, errno=0)
            except OSError as e:
                out(send=arg, errno=errno.errorcode.get(e.errno, str(e)))
                continue
            if op == 'echo':
                try:
                    got = s.recv(65536).decode()
                except OSError:
                    got = None
                out(recv=got, ok=got == 'echo:' + arg)
        elif op == 'recv':
            try:
                out(recv=s.recv(65536).decode())
            except OSError:
                out(recv=None)
        elif op == 'path':
            lvl = struct.unpack('=i', s.getsockopt(sol, SO_TSCF_ENCLEVEL, 4))[0]
            path = struct.unpack('=i', s.getsockopt(sol, SO_TSCF_PATH, 4))[0]
            out(path=['clear', 'encrypted', 'blocked'][path], level=lvl)
        elif op == 'wait':
            end = time.time() + 60
            while not os.path.exists(arg) and time.time() < end:
                time.sleep(0.05)
            out(waited=arg, ok=os.path.exists(arg))
        elif op == 'waitpath':
            want = ['clear', 'encrypted', 'blocked'].index(arg)
            end = time.time() + 60
            while time.time() < end:
                if struct.unpack('=i', s.getsockopt(sol, SO_TSCF_PATH, 4))[0] == want:
                    break
                time.sleep(0.05)
            out(waitpath=arg, ok=time.time() < end)
        elif op == 'sleep':
            time.sleep(float(arg))
    return 0


if __name__ == '__main__':
    sys.exit(main())
