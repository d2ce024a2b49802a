#!/usr/bin/env python3
"""lint-bench.py PORTC [CLASSBENCH_DIR] - lint time and peak memory at scale.

For each rule set (ClassBench ACL, FW and IPC filter sets at 1k, 10k and
100k rules, converted by classbench2pol.py; synthetic estates of 1k, 10k
and 100k rules from gensynth.py), runs

    portc lint --stats SET            the indexed engine, and
    portc lint --stats --brute-force SET   the baseline: every pair of rules

in the same run, on the same machine, and prints one table: wall time and
peak resident memory (measured by bench/peakrss.c, which see), the baseline's time and the
ratio. The baseline gets BASELINE_TIMEOUT seconds (default 60); past that
it is stopped and the ratio is printed as a lower bound (">"). Where the
baseline finishes, its findings must equal the engine's byte for byte, or
the run fails: a fast answer that is wrong is no answer.

Small sets are timed three times (the median is shown); 100k sets once.
"""
import hashlib
import os
import platform
import subprocess
import sys

import classbench
from peakrun import peak_run

portc = os.path.abspath(sys.argv[1])
peakrss = os.path.join(os.path.dirname(portc), "bench", "peakrss")
cbdir = sys.argv[2] if len(sys.argv) > 2 else os.path.join("..", "shared", "bench", "classbench")
here = os.path.dirname(os.path.abspath(__file__))
work = os.path.join("build", "bench")
os.makedirs(work, exist_ok=True)
timeout = float(os.environ.get("BASELINE_TIMEOUT", "60"))
# BENCH_SIZES=1000,10000 for a quicker run
SIZES = [int(x) for x in os.environ.get("BENCH_SIZES", "1000,10000,100000").split(",")]


def run(args, limit=None):
    """Runs args under peakrss; returns (seconds, peak KiB, exit status,
    stderr bytes), or None when it ran past limit seconds."""
    r = peak_run(peakrss, args, os.path.join(work, "stderr.txt"), limit)
    if r is not None and r[2] not in (0, 1):
        sys.exit(f"lint-bench: {' '.join(args)} exited with {r[2]}")
    return None if r is None else (r[0], r[1], r[2], r[3] + b"\n")


def findings(text):
    """The findings, without the --stats line (whose counts differ by engine)."""
    return b"".join(l for l in text.splitlines(True) if not l.startswith(b"lint: "))


def stats(text):
    for l in text.splitlines():
        if l.startswith(b"lint: "):
            return l.decode()[6:]
    return ""


def sets():
    out = []
    for kind in classbench.KINDS:
        for n in SIZES:
            got = classbench.converted(cbdir, kind, n, work, "lint-bench")
            if got:
                out.append((f"classbench {kind}", n, got[1]))
    for n in SIZES:
        dst = os.path.join(work, f"synth_{n}.portc")
        with open(dst + ".tmp", "w") as f:
            subprocess.run([sys.executable, os.path.join(here, "gensynth.py"), str(n), "1"],
                           stdout=f, check=True)
        os.replace(dst + ".tmp", dst)
        out.append(("synthetic estate", n, dst))
    return out


def cpu():
    try:
        with open("/proc/cpuinfo") as f:
            for l in f:
                if l.startswith("model name"):
                    return l.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown cpu"


print(f"portc lint benchmark: {os.cpu_count()} cores ({cpu()}), "
      f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB; "
      f"baseline: --brute-force (every pair), same run, timeout {timeout:.0f} s")
head = ("set", "rules", "lint s", "peak MB", "baseline s", "base MB", "speedup", "findings vs base")
fmt = "{:<17} {:>7} {:>8} {:>8} {:>11} {:>8} {:>8}  {}"
print(fmt.format(*head))
rows = []
failed = False
for label, n, path in sets():
    reps = 3 if n <= 10000 else 1
    times = []
    for _ in range(reps):
        secs, kib, status, text = run([portc, "lint", "--stats", path])
        times.append((secs, kib))
    times.sort()
    secs, kib = times[len(times) // 2]
    base = run([portc, "lint", "--stats", "--brute-force", path], timeout)
    if base is None:
        bsecs, bmb, ratio, same = None, None, f">{timeout / secs:.0f}x", "timeout"
    else:
        bsecs, bkib, _, btext = base
        bmb = bkib / 1024
        ratio = f"{bsecs / secs:.1f}x"
        same = "equal" if findings(btext) == findings(text) else "DIFFER"
        if same == "DIFFER":
            failed = True
    nfind = sum(1 for l in findings(text).splitlines() if b": warning: " in l or b": error: " in l)
    mb = kib / 1024
    rows.append((label, n, secs, mb))
    print(fmt.format(label, n, f"{secs:.3f}", f"{mb:.0f}",
                     f"{bsecs:.2f}" if bsecs is not None else f">{timeout:.0f}",
                     f"{bmb:.0f}" if bmb is not None else "-", ratio,
                     f"{same} ({nfind} findings; {stats(text)})"))

print("targets (this machine): 10k rules under 1 s; 100k rules under 10 s and 2 GB")
for label, n, secs, mb in rows:
    if n == 10000:
        ok = secs < 1
    elif n == 100000:
        ok = secs < 10 and mb < 2048
    else:
        continue
    print(f"  {label} {n // 1000}k: {'met' if ok else 'MISSED'} ({secs:.2f} s, {mb:.0f} MB)")
if failed:
    sys.exit("lint-bench: the engine's findings differ from the baseline's")
