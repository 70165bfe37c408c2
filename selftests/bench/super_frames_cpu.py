#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""super_frames_cpu.py LIBDIR TSCFD_PID MB (selftests/bench/super-frames-cpu.sh)."""
import os
import sys
import time
sys.path.insert(0, sys.argv[1])
import tscf_client as tc  # noqa: E402
import super_frames as sf  # noqa: E402
pid, MB = int(sys.argv[2]), int(sys.argv[3])
def cpu():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
c = tc.Tunnel('tcp', '10.10.0.2', 4000)
code, m = c.config()
assert tc.get(m, 'SUPER_FRAMES')
for size in (1399, 20040):
    pay = bytes(size - 40)
    frame = sf.tcp4(c.ip4, '10.201.0.2', 5000, 9, 1, 1, 0x10, pay, bad_sum=True)
    n = MB * 1000000 // len(pay)
    burst = frame * 64
    t0, w0 = cpu(), time.time()
    for _ in range(n // 64):
        c.s.sendall(burst)
    time.sleep(3.0)   # tscfd drains
    t1 = cpu()
    print(f"frame {size:5d} B: {n // 64 * 64} frames, {MB} MB payload, tscfd cpu {t1 - t0:.2f} s, {1000 * (t1 - t0) / MB:.1f} ms/MB, wall {time.time() - w0 - 3:.1f} s")
