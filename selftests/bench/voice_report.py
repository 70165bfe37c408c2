#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make bench-voice, host side: turn the VM's output into the report.

    voice_report.py DIR

reads DIR/voice-vm.log (what selftests/bench/voice.sh printed in the VM)
and DIR/voice-vm.rc (vm-run's exit status), and writes
    DIR/voice.json  every call as measured, plus where and when
    DIR/voice.md    one table row per path and outer loss
Exits 1 when a call failed (its row says FAILED) or the VM run failed.
See docs/BENCH.md, "make bench-voice".
"""
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import between, git_commit, host_cpu  # noqa: E402

ROWS = [
    ("veth", "bare veth"),
    ("tscf0-udp", "tscf0 over UDP (clear)"),
    ("tscf0s-dtls", "tscf0s DTLS"),
    ("tscf0s-ktls", "tscf0s kTLS (TCP)"),
    ("wireguard", "WireGuard"),
]
# (result key, column title, format)
COLUMNS = [
    ("lost", "lost", "{:.0f}"),
    ("late", "late > 60 ms", "{:.0f}"),
    ("lost_or_late_pct", "lost + late %", "{:.1f}"),
    ("p50_ms", "p50 ms", "{:.1f}"),
    ("p99_ms", "p99 ms", "{:.1f}"),
    ("max_ms", "max ms", "{:.1f}"),
    ("jitter_ms", "jitter ms", "{:.2f}"),
]


def cell(values, fmt):
    """Median, with the range when there is more than one round."""
    if not values:
        return "FAILED"
    text = fmt.format(statistics.median(values))
    if len(values) > 1:
        text += f" ({fmt.format(min(values))}–{fmt.format(max(values))})"
    return text


def results(calls, row, loss):
    ok, errors = [], []
    for c in calls:
        if c.get("row") != row or c.get("loss_pct") != loss:
            continue
        if "result" in c:
            r = dict(c["result"])
            r["lost_or_late_pct"] = 100.0 * r["lost_or_late"] / r["count"]
            ok.append(r)
        else:
            errors.append(c.get("error", "no result"))
    return ok, errors


def table(meta, calls):
    lines = [
        "| path | outer loss % | packets | " + " | ".join(t for _, t, _ in COLUMNS)
        + " | p99 − clear UDP ms |",
        "| --- | ---: | ---: | " + " | ".join("---:" for _ in COLUMNS) + " | ---: |",
    ]
    fails = []
    wanted = meta.get("rows", [r for r, _ in ROWS])
    skipped = {c["row"]: c["skipped"] for c in calls if "skipped" in c}
    for loss in meta["loss_pct"]:
        ref, _ = results(calls, "tscf0-udp", loss)
        ref_p99 = statistics.median([r["p99_ms"] for r in ref]) if ref else None
        for row, label in ROWS:
            if row not in wanted:
                continue
            if row in skipped:
                lines.append(f"| {label} | {loss:g} | skipped | " +
                             " | ".join("–" for _ in COLUMNS) + " | – |")
                continue
            ok, errors = results(calls, row, loss)
            fails += [f"- {label}, loss {loss:g}%: {e}" for e in errors]
            if errors or not ok:
                if not errors:
                    fails.append(f"- {label}, loss {loss:g}%: no call recorded")
                lines.append(f"| {label} | {loss:g} | FAILED ({len(errors)} of "
                             f"{len(ok) + len(errors)} calls) | " +
                             " | ".join("" for _ in COLUMNS) + " | |")
                continue
            p99 = statistics.median([r["p99_ms"] for r in ok])
            delta = "–" if ref_p99 is None or row == "tscf0-udp" else f"{p99 - ref_p99:+.1f}"
            lines.append(f"| {label} | {loss:g} | {ok[0]['count']} | " +
                         " | ".join(cell([r[k] for r in ok], f) for k, _, f in COLUMNS) +
                         f" | {delta} |")
    return lines, fails, skipped


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: voice_report.py DIR")
    outdir = sys.argv[1]
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    lines = open(os.path.join(outdir, "voice-vm.log"), errors="replace").read().splitlines()
    try:
        vm_rc = int(open(os.path.join(outdir, "voice-vm.rc")).read().strip() or 1)
    except (OSError, ValueError):
        vm_rc = 1
    raw = between(lines, "VOICE-JSON-BEGIN", "VOICE-JSON-END")
    if raw is None:
        with open(os.path.join(outdir, "voice.md"), "w") as f:
            f.write("# make bench-voice: FAILED\n\nThe VM run printed no results "
                    f"(exit {vm_rc}); the end of its output:\n\n```\n")
            f.write("\n".join(lines[-40:]) + "\n```\n")
        print(f"voice_report: FAILED, no results in {outdir}/voice-vm.log", file=sys.stderr)
        return 1
    data = json.loads("\n".join(raw))
    meta = data["meta"]
    try:
        commit = open(os.path.join(outdir, "voice-commit")).read().strip() or git_commit(top)
    except OSError:
        commit = git_commit(top)
    meta.update({"commit": commit, "host_cpu": host_cpu(),
                 "host_nproc": os.cpu_count(), "vm_exit": vm_rc})
    with open(os.path.join(outdir, "voice.json"), "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    rows, fails, skipped = table(meta, data["calls"])
    out = [
        "# make bench-voice",
        "",
        f"- kernel: {meta['kernel']} (in the VM)",
        f"- CPU: {meta['cpu']}, {meta['nproc']} vCPUs (host: {meta['host_cpu']}, "
        f"{meta['host_nproc']} CPUs)",
        f"- qemu: {meta['accel']}" + (" (software emulation: compare rows, not machines)"
                                      if meta["accel"] == "TCG" else ""),
        f"- date: {meta['date']}",
        f"- tscf commit: {meta['commit']}",
        f"- one call per path and loss per round ({meta['rounds']} round(s)): "
        f"{meta['payload']}-byte RTP packets, {meta['pps']} pps, {meta['seconds']} s; "
        f"netem on the outer veth, both directions: {meta['delay_ms']} ms delay and the "
        f"loss shown; a playout buffer of {meta['playout_ms']} ms",
        "",
    ]
    out += rows
    out.append("")
    for row, why in skipped.items():
        out.append(f"- {dict(ROWS).get(row, row)}: skipped: {why}")
    if skipped:
        out.append("")
    if fails:
        out += ["## Failures", ""] + fails + [""]
    with open(os.path.join(outdir, "voice.md"), "w") as f:
        f.write("\n".join(out) + "\n")
    print("\n".join(rows))
    if fails:
        print(f"voice_report: {len(fails)} calls FAILED (see {outdir}/voice.md)",
              file=sys.stderr)
    if vm_rc != 0:
        print(f"voice_report: the VM run exited {vm_rc}", file=sys.stderr)
    return 0 if not fails and vm_rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
