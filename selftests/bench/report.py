#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make bench, host side: turn the VM's output into the report.

    report.py DIR

reads DIR/vm.log (what selftests/bench/bench.sh printed in the VM) and
DIR/vm.rc (vm-run's exit status), and writes
    DIR/results.json  every run as measured, plus where and when
    DIR/bench.md      the table: median (min-max) per cell, ratios to veth
    DIR/ratios.png    TCP and RTP-172 ratios to veth per path (gnuplot)
Exits 1 when a measurement failed (its cell says FAILED), when the VM
run failed, or when the chart cannot be drawn.  See docs/BENCH.md.
"""
import json
import os
import platform
import statistics
import subprocess
import sys

ROWS = [
    ("veth", "bare veth"),
    ("wireguard", "WireGuard"),
    ("openvpn-udp", "OpenVPN UDP, no cipher"),
    ("openvpn-udp-aes", "OpenVPN UDP, AES-256-GCM"),
    ("tscf0-udp", "tscf0 over UDP"),
    ("tscf0-udp-user", "tscf0 over UDP, userspace tscfd"),
    ("tscf0-tcp", "tscf0 over TCP"),
    ("tscf0-tcp-user", "tscf0 over TCP, userspace tscfd"),
    ("tscf0s-ktls", "tscf0s kTLS"),
    ("tscf0s-ktls-user", "tscf0s kTLS, userspace tscfd"),
    ("tscf0s-dtls", "tscf0s DTLS"),
]
ALL_ROWS = list(ROWS)
METRICS = ["tcp_mbps", "rr_p50_us", "rtp172_pps", "cpu_ms_per_mb"]
RATIO_METRICS = ["tcp_mbps", "rtp172_pps"]


def between(lines, begin, end):
    """The lines strictly between the first BEGIN and the next END."""
    try:
        i = lines.index(begin)
        j = lines.index(end, i + 1)
    except ValueError:
        return None
    return lines[i + 1:j]


def git_commit(top):
    try:
        rev = subprocess.run(["git", "-C", top, "describe", "--always", "--dirty",
                              "--abbrev=12"], capture_output=True, text=True,
                             check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        rev = "unknown"
    return rev


def host_cpu():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


class Cell:
    """The runs of one path and metric."""

    def __init__(self, runs):
        # Nothing measured is a failure, not a number: a 0 Mbit/s or
        # 0 pkt/s run means the path carried nothing.
        runs = [dict(r, value=None, error=r.get("error") or "measured 0")
                if r["value"] is not None and r["value"] <= 0 else r for r in runs]
        self.values = [r["value"] for r in runs if r["value"] is not None]
        self.errors = [r.get("error", "") for r in runs if r["value"] is None]
        self.n = len(runs)

    @property
    def ok(self):
        return self.n > 0 and not self.errors

    @property
    def median(self):
        return statistics.median(self.values) if self.ok else None

    def text(self, fmt):
        if self.n == 0:
            return "FAILED (not run)"
        if not self.ok:
            return f"FAILED ({len(self.errors)} of {self.n} runs)"
        lo, hi = min(self.values), max(self.values)
        return f"{fmt(self.median)} ({fmt(lo)}–{fmt(hi)})"


def number(v):
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def ratio_text(cell, ref):
    if not cell.ok or ref is None or not ref.ok or not ref.median:
        return "FAILED" if not cell.ok else "n/a"
    return f"{cell.median / ref.median:.3f}"


def cells(runs):
    out = {}
    for row, _ in ALL_ROWS:
        for m in METRICS:
            out[row, m] = Cell([r for r in runs if r["row"] == row and r["metric"] == m])
    return out


def table(c):
    lines = [
        "| path | TCP Mbit/s | x veth | UDP RR p50 µs | RTP-172 pkt/s | x veth | CPU ms per MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row, label in ROWS:
        tcp, rr, rtp, cpu = (c[row, m] for m in METRICS)
        lines.append(" | ".join([
            f"| {label}", tcp.text(number), ratio_text(tcp, c["veth", "tcp_mbps"]),
            rr.text(number), rtp.text(number), ratio_text(rtp, c["veth", "rtp172_pps"]),
            cpu.text(number)]) + " |")
    return lines


def failures(c):
    out = []
    for row, label in ROWS:
        for m in METRICS:
            for e in c[row, m].errors:
                out.append(f"- {label}, {m}: {e}")
            if c[row, m].n == 0:
                out.append(f"- {label}, {m}: no run recorded")
    return out


def chart(c, outdir):
    """ratios.png: one cluster per path, TCP and RTP-172 ratios to veth."""
    dat = os.path.join(outdir, "ratios.dat")
    with open(dat, "w") as f:
        for row, _ in ROWS:
            vals = []
            for m in RATIO_METRICS:
                cell, ref = c[row, m], c["veth", m]
                ok = cell.ok and ref.ok and ref.median
                vals.append(f"{cell.median / ref.median:.4f}" if ok else "?")
            f.write(f"{row} {' '.join(vals)}\n")
    script = f"""
set terminal pngcairo size 1000,560 noenhanced
set output '{os.path.join(outdir, "ratios.png")}'
set title 'make bench: ratio to bare veth (median of the rounds; no bar = FAILED)'
set datafile missing '?'
set style fill solid 0.8 border -1
set boxwidth 0.38
set key top right
set ylabel 'ratio to veth'
set yrange [0:1.15]
set xrange [-0.6:{len(ROWS) - 0.4}]
set grid ytics
set xtics rotate by -20
plot '{dat}' using ($0 - 0.2):2:xtic(1) with boxes title 'TCP throughput', \\
     '' using ($0 + 0.2):3 with boxes title 'RTP-172 pkt/s', \\
     '' using ($0 - 0.2):2:(sprintf('%.3f', $2)) with labels offset 0,0.7 notitle, \\
     '' using ($0 + 0.2):3:(sprintf('%.3f', $3)) with labels offset 0,0.7 notitle
"""
    r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    if r.returncode != 0:
        print(f"report: gnuplot failed: {r.stderr.strip()}", file=sys.stderr)
        return False
    return True


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: report.py DIR")
    outdir = sys.argv[1]
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    lines = open(os.path.join(outdir, "vm.log"), errors="replace").read().splitlines()
    try:
        vm_rc = int(open(os.path.join(outdir, "vm.rc")).read().strip() or 1)
    except (OSError, ValueError):
        vm_rc = 1
    raw = between(lines, "BENCH-JSON-BEGIN", "BENCH-JSON-END")
    md = between(lines, "BENCH-MD-BEGIN", "BENCH-MD-END")
    if raw is None:
        with open(os.path.join(outdir, "bench.md"), "w") as f:
            f.write("# make bench: FAILED\n\nThe VM run printed no results "
                    f"(exit {vm_rc}); the end of its output:\n\n```\n")
            f.write("\n".join(lines[-40:]) + "\n```\n")
        print(f"report: FAILED, no results in {outdir}/vm.log", file=sys.stderr)
        return 1
    data = json.loads("\n".join(raw))
    meta = data["meta"]
    try:    # the tree as the VM ran it (make bench writes it before the boot)
        commit = open(os.path.join(outdir, "commit")).read().strip() or git_commit(top)
    except OSError:
        commit = git_commit(top)
    meta.update({"commit": commit, "host_cpu": host_cpu(),
                 "host_nproc": os.cpu_count(), "vm_exit": vm_rc})
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    # BENCH_ROWS may have selected fewer rows; the default is all of them.
    global ROWS
    ROWS = [r for r in ROWS if r[0] in meta.get("rows", [r[0] for r in ROWS])]
    c = cells(data["runs"])
    fails = failures(c)
    # Not a cell: a row's teardown that hung (bench.sh records it).
    labels = dict(ALL_ROWS)
    fails += [f"- {labels.get(r['row'], r['row'])}, {r['metric']} (round {r['round']}): "
              f"{r.get('error', '')}" for r in data["runs"]
              if r["metric"] not in METRICS and r["value"] is None]
    out = [
        "# make bench",
        "",
        f"- kernel: {meta['kernel']} (in the VM)",
        f"- CPU: {meta['cpu']}, {meta['nproc']} vCPUs (host: {meta['host_cpu']}, "
        f"{meta['host_nproc']} CPUs)",
        f"- qemu: {meta['accel']}" + (" (software emulation: absolute numbers are"
                                      " far below hardware; compare ratios)"
                                      if meta["accel"] == "TCG" else ""),
        f"- kernel crypto: {meta.get('crypto', 'not recorded')}",
        f"- date: {meta['date']}",
        f"- tscf commit: {meta['commit']}",
        f"- {meta['rounds']} interleaved rounds, {meta['seconds']} s per measurement;"
        " each cell: median (min–max)",
        "",
    ]
    out += table(c)
    out += ["", "![ratios to veth](ratios.png)", ""]
    if fails:
        out += ["## Failures", ""] + fails + [""]
    if md is not None:
        out += md
    elif vm_rc == 0:
        out += ["(The latency and memory sections are missing.)"]
    with open(os.path.join(outdir, "bench.md"), "w") as f:
        f.write("\n".join(out) + "\n")
    drawn = chart(c, outdir)
    print("\n".join(table(c)))
    if fails:
        print(f"report: {len(fails)} measurements FAILED (see {outdir}/bench.md)",
              file=sys.stderr)
    if vm_rc != 0:
        print(f"report: the VM run exited {vm_rc}", file=sys.stderr)
    return 0 if drawn and not fails and vm_rc == 0 and md is not None else 1


if __name__ == "__main__":
    sys.exit(main())
