#!/usr/bin/env python3
"""set-bench.py PORTC - set building at scale: time and peak memory.

Three shapes that a large estate produces, each at 1,024, 2,048, ... 65,536
elements (SET_BENCH_SIZES to change):

    group    network g = { n scattered /32s in 198.18.0.0/15 }
    ports    allow ... tcp p1, p2, ... (n single ports, shuffled)
    except   198.0.0.0/8 except { n scattered /32s }

Each policy is checked, compiled to nftables, iptables and a matching
table, and linted, under bench/peakrss.c (wall time and peak RSS of the
command alone; the median of three runs). The table prints each figure
and, per shape, the ratio of its time at n to its time at n/2: n log n
growth is a little over 2, a quadratic one near 4; then each command's
growth from the smallest size to the largest, beside n log n's. Times of
a few milliseconds are mostly process start-up, so the small sizes'
ratios say little. The targets (on 2 cores): every command under 1 s
and 200 MB at the largest size; the run fails when one is missed, so a
regression cannot pass unnoticed.
"""
import math
import os
import random
import subprocess
import sys
import tempfile

portc = os.path.abspath(sys.argv[1])
peakrss = os.path.join(os.path.dirname(portc), "bench", "peakrss")
SIZES = [int(x) for x in os.environ.get(
    "SET_BENCH_SIZES", "1024,2048,4096,8192,16384,32768,65536").split(",")]
MAX_SECONDS = float(os.environ.get("SET_BENCH_MAX_SECONDS", "1.0"))
MAX_MIB = float(os.environ.get("SET_BENCH_MAX_MIB", "200"))


def hosts(rng, n):
    """n distinct, non-adjacent /32s of 198.18.0.0/15 (131,072 addresses):
    every other address, so no two merge and the set keeps n intervals."""
    picks = rng.sample(range(65536), n)
    base = (198 << 24) | (18 << 16)
    return ["%d.%d.%d.%d" % ((a >> 24) & 255, (a >> 16) & 255, (a >> 8) & 255, a & 255)
            for a in (base + 2 * p for p in picks)]


def policy(shape, n, rng):
    if shape == "group":
        return ("network g = { %s };\npolicy p {\n    default deny;\n"
                "    allow g -> 192.0.2.0/24 tcp 443;\n}\n" % ", ".join(hosts(rng, n)))
    if shape == "ports":
        # single ports, every other one so none merge: at most 32,768 of them
        ports = rng.sample(range(1, 65536, 2), min(n, 32768))
        return ("policy p {\n    default deny;\n    allow 198.18.0.0/15 -> 192.0.2.0/24 "
                "tcp %s;\n}\n" % ", ".join(map(str, ports)))
    if shape == "except":
        return ("network g = 198.0.0.0/8 except { %s };\npolicy p {\n    default deny;\n"
                "    allow g -> 192.0.2.0/24 tcp 443;\n}\n" % ", ".join(hosts(rng, n)))
    raise ValueError(shape)


def run_once(args):
    p = subprocess.run([peakrss, portc] + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    last = p.stderr.rstrip(b"\n").rpartition(b"\n")[2]
    secs, kib, status = last.split()
    if int(status) not in (0, 1):
        sys.exit("set-bench: %s exited with %s:\n%s" % (" ".join(args), status.decode(),
                                                          p.stderr.decode(errors="replace")[-2000:]))
    return float(secs), int(kib) / 1024.0


def run(args):
    """The median time of three runs, and the largest peak."""
    runs = [run_once(args) for _ in range(3)]
    return sorted(r[0] for r in runs)[1], max(r[1] for r in runs)


def main():
    rng = random.Random(18)
    work = tempfile.mkdtemp(prefix="set-bench.")
    cmds = [
        ("check", lambda f, o: ["check", f]),
        ("nft", lambda f, o: ["compile", "-t", "nftables", "-o", o + ".nft", f]),
        ("ipt", lambda f, o: ["compile", "-t", "iptables", "-o", o, f]),
        ("table", lambda f, o: ["compile", "-t", "table", "-o", o + ".ptab", f]),
        ("lint", lambda f, o: ["lint", f]),
    ]
    print("set building: %d cores; time in s, peak memory in MiB; 'x' is time at n over "
          "time at n/2 (n log n: a little over 2; quadratic: 4)" % os.cpu_count())
    print("%-7s %6s" % ("shape", "n") + "".join("  %-22s" % c for c, _ in cmds))
    missed = []
    growth = []
    for shape in ("group", "ports", "except"):
        prev = {}
        first = {}
        for n in SIZES:
            if shape == "ports" and n > 32768:
                n = 32768
                if n in prev.get("_sizes", ()):
                    continue
            prev.setdefault("_sizes", []).append(n)
            f = os.path.join(work, "%s-%d.pol" % (shape, n))
            with open(f, "w") as fh:
                fh.write(policy(shape, n, rng))
            cells = []
            for name, mk in cmds:
                secs, mib = run(mk(f, os.path.join(work, "out")))
                ratio = ""
                if name in prev and prev[name] > 0.005:
                    ratio = "%.1fx" % (secs / prev[name])
                prev[name] = secs
                first.setdefault(name, (n, secs))
                last_n = n
                first[name + "/last"] = (n, secs)
                cells.append("%6.3f %6.1f %6s" % (secs, mib, ratio))
                if n == SIZES[-1] or (shape == "ports" and n == 32768):
                    if secs > MAX_SECONDS or mib > MAX_MIB:
                        missed.append("%s %d %s: %.2f s, %.0f MiB" % (shape, n, name, secs, mib))
            print("%-7s %6d" % (shape, n) + "".join("  %-22s" % c for c in cells), flush=True)
        n0 = first[cmds[0][0]][0]
        nlogn = (last_n * math.log(last_n)) / (n0 * math.log(n0))
        growth.append("%-7s %d -> %d: n log n grows %.0fx; " % (shape, n0, last_n, nlogn) +
                      ", ".join("%s %.0fx" % (c, first[c + "/last"][1] / max(first[c][1], 1e-4))
                                for c, _ in cmds))
    print("growth of the median time, smallest to largest size (quadratic would be %.0fx):"
          % ((SIZES[-1] / SIZES[0]) ** 2))
    for g in growth:
        print("  " + g)
    if missed:
        print("set-bench: targets (%.1f s, %.0f MiB) missed: %s" % (MAX_SECONDS, MAX_MIB,
                                                                   "; ".join(missed)))
        sys.exit(1)
    print("set-bench: every command under %.1f s and %.0f MiB at the largest size"
          % (MAX_SECONDS, MAX_MIB))


main()
