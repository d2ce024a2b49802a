#!/usr/bin/env python3
"""diff-bench.py PORTC - `make bench-diff`: portc diff on group-heavy estates.

For each size (BENCH_SIZES, default 1000,10000) an estate of genestate.py
and two changes of it:
  - changed: one rule in a hundred edited (a port moved by one, or allow
    and deny swapped), as a pull request would;
  - reordered: every pair of adjacent rules that share no protocol (one
    all TCP, the other all UDP) swapped, which changes nothing.
Each is diffed against the estate: seconds and peak MiB of `portc diff`,
its exit status and change count, and, as the baseline measured in the
same run, the time of `portc check` on both files (reading, checking and
lowering them, which a diff must do first) with the diff's ratio to it.
Targets (issue 21): 10k under 2 s for both.
"""
import os
import random
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peakrun import peak_run  # noqa: E402

PORTC = sys.argv[1] if len(sys.argv) > 1 else "build/portc"
PEAKRSS = os.path.join(os.path.dirname(PORTC), "bench", "peakrss")
SIZES = [int(x) for x in os.environ.get("BENCH_SIZES", "1000,10000").split(",")]
HERE = os.path.dirname(os.path.abspath(__file__))


def rule_lines(lines):
    return [i for i, l in enumerate(lines) if l.startswith("    allow ") or l.startswith("    deny ")]


def changed(lines, seed):
    rng = random.Random(seed)
    out = list(lines)
    idx = rule_lines(out)
    for i in rng.sample(idx, max(1, len(idx) // 100)):
        l = out[i]
        m = re.search(r"(tcp|udp) (\d+)", l)
        if m and rng.random() < 0.5:
            out[i] = l[:m.start(2)] + str(int(m.group(2)) + 1) + l[m.end(2):]
        elif l.startswith("    allow "):
            out[i] = "    deny " + l[len("    allow "):]
        else:
            out[i] = "    allow " + l[len("    deny "):]
    return out


def reordered(lines):
    out = list(lines)
    idx = rule_lines(out)
    k, swaps = 0, 0
    while k + 1 < len(idx):
        a, b = idx[k], idx[k + 1]
        pa, pb = set(re.findall(r"\b(tcp|udp)\b", out[a])), set(re.findall(r"\b(tcp|udp)\b", out[b]))
        if pa and pb and not (pa & pb):
            out[a], out[b] = out[b], out[a]
            swaps += 1
            k += 2
        else:
            k += 1
    return out, swaps


def timed(args, err):
    r = peak_run(PEAKRSS, args, err, limit=300)
    if r is None:
        return None
    return r


def main():
    print("diff bench: %d cores; genestate.py seed 1" % os.cpu_count())
    rows = []
    with tempfile.TemporaryDirectory() as d:
        err = os.path.join(d, "err")
        for n in SIZES:
            base = subprocess.run([sys.executable, os.path.join(HERE, "genestate.py"), str(n), "1"],
                                  capture_output=True, text=True, check=True).stdout
            lines = base.split("\n")
            files = {"estate": lines, "changed": changed(lines, 7)}
            files["reordered"], swaps = reordered(lines)
            for name, text in files.items():
                with open(os.path.join(d, "%s-%d.pol" % (name, n)), "w") as f:
                    f.write("\n".join(text))
            old = os.path.join(d, "estate-%d.pol" % n)
            for name in ("changed", "reordered"):
                new = os.path.join(d, "%s-%d.pol" % (name, n))
                r = timed([PORTC, "diff", old, new], err)
                c = timed([PORTC, "check", old, new], err)
                if r is None:
                    rows.append((n, name, ">300", "", "", "", "", ""))
                    continue
                secs, kib, status, _, _ = r
                out = subprocess.run([PORTC, "diff", "--format=json", old, new], capture_output=True, text=True)
                nchanges = out.stdout.count('"kind":')
                what = "%d changes" % nchanges if name == "changed" else "%d swaps, %s" % (
                    swaps, "equivalent" if status == 0 else "NOT equivalent")
                rows.append((n, name, "%.2f" % secs, "%d" % (kib // 1024), str(status), what,
                             "%.2f" % c[0], "%.1fx" % (secs / c[0]) if c[0] > 0 else ""))
                print("  %d %s: %.2f s, %d MiB, exit %d, %s" % (n, name, secs, kib // 1024, status, what), flush=True)
    print()
    print("| rules | change | diff s | diff MiB | exit | result | check both s | diff / check |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(str(x) for x in row) + " |")
    print()
    print("targets (issue 21): 10k rules with 1% changed under 2 s; 10k against a reordering of its "
          "disjoint rules under 2 s (proved equivalent)")
    bad = [r for r in rows if r[1] == "reordered" and r[4] != "0"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
