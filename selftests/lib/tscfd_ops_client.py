#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A client for tscfd's operations tests (44-49, 61-69): one session that
stays up while the test looks at the server from outside.

  tscfd_ops_client.py hold --addr A --port N --state FILE [--transport tcp|udp]
                           [--dtte --ca FILE] [--packets K] [--seconds S]

Opens a clear tunnel (and with --dtte an encrypted one), sends K inner UDP
packets to the echo service and waits for their echoes, then writes a JSON
state file (tsid, enc, ip4, peer port, echoes) and holds the session,
answering nothing, until the server closes it or S seconds pass.  Prints
one JSON line: the state plus how the session ended ("closed by the
server" or "timeout").
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tscf_client import (SUCCESS, Fail, Tunnel, check, expect_inner, get,  # noqa: E402
                         udp4)
import struct  # noqa: E402


def hold(a):
    c = Tunnel(a.transport, a.addr, a.port)
    code, m = c.config()
    check(code == SUCCESS, f"config code {code}")
    mtu = get(m, 'MTU')
    state = {'tsid': f'{c.tsid:016x}', 'ip4': c.ip4, 'transport': a.transport,
             'port': c.s.getsockname()[1], 'enc': None,
             'mtu': struct.unpack('!H', mtu)[0] if mtu else None}
    e = None
    if a.dtte:
        m = c.enable_dtte()
        reserved = struct.unpack('!Q', get(m, 'RESERVED_TSID'))[0]
        e = Tunnel('tls', a.addr, a.port + 1, ca=a.ca)
        code, _ = e.encrypted(c, reserved, c.dtte_secret)
        check(code == SUCCESS, f"encrypted config code {code}")
        state['enc'] = f'{e.tsid:016x}'
        state['enc_port'] = e.s.getsockname()[1]
    echoes = 0
    for i in range(a.packets):
        c.send(udp4(c.ip4, '10.100.0.1', 6000, 7000, b'ops-%d' % i))
        echoes += expect_inner(c, b'echo:ops-%d' % i)
    state['echoes'] = echoes
    with open(a.state + '.tmp', 'w') as f:
        json.dump(state, f)
    os.rename(a.state + '.tmp', a.state)
    end, how = time.time() + a.seconds, 'timeout'
    while time.time() < end:
        try:
            f = c.recv(0.2)
        except OSError:
            how = 'closed by the server'
            break
        if f == b'':
            how = 'closed by the server'
            break
    state['ended'] = how
    return state


def main():
    p = argparse.ArgumentParser()
    p.add_argument('scenario', choices=['hold'])
    p.add_argument('--addr', required=True)
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--transport', default='tcp', choices=['tcp', 'udp'])
    p.add_argument('--state', required=True)
    p.add_argument('--dtte', action='store_true')
    p.add_argument('--ca')
    p.add_argument('--packets', type=int, default=3)
    p.add_argument('--seconds', type=float, default=30)
    a = p.parse_args()
    try:
        print(json.dumps(hold(a)))
    except (Fail, OSError) as e:
        print(f"tscfd_ops_client: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    main()
