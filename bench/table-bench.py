#!/usr/bin/env python3
"""table-bench.py BUILD [CLASSBENCH_DIR] - portc's matching tables against a
linear first-match scan and DPDK's rte_acl, in one run.

For each ClassBench set (ACL1, FW1, IPC1 at 1k, 10k and 100k rules), runs
BUILD/bench/table-bench (table-bench.c), which times 1,000,000 packets
(the bundled trace, repeated, at 10k; packets made inside random rules, as
ClassBench makes its traces, elsewhere) and checks another 1,000,000 (the
trace once, then points inside random rules and points at or just past
their edges). It prints one table: build time, size, millions of lookups
per second on one thread and on both cores, ns per lookup, for portc's
table, the linear scan and rte_acl, with the ratios; and the packets on
which they disagree, which must be none: portc, rte_acl and portc's
reference evaluator on every checked packet, the linear scan on the timed
packets its budget of 2e9 rule checks allows. The evaluator makes the
100k sets slow (minutes each); BENCH_EVAL_BUDGET=N caps its rule checks.
BENCH_SIZES=1000,10000 runs fewer. The sets of up to 10k rules are timed
BENCH_REPEAT times (default 3; the answers checked in the first), and the
table shows the medians.
"""
import os
import subprocess
import sys

import classbench

build = sys.argv[1]
cbdir = sys.argv[2] if len(sys.argv) > 2 else os.path.join("..", "shared", "bench", "classbench")
work = os.path.join(build, "bench")
os.makedirs(work, exist_ok=True)
tool = os.path.join(build, "bench", "table-bench")
sizes = [int(x) for x in os.environ.get("BENCH_SIZES", "1000,10000,100000").split(",")]
repeat = max(1, int(os.environ.get("BENCH_REPEAT", "3")))


def run(args):
    """One run of table-bench: its output line's fields, by name."""
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode not in (0, 1) or not r.stdout.strip():
        sys.exit(f"table-bench: {' '.join(args)} failed:\n{r.stderr}")
    sys.stderr.write(r.stderr)
    f = r.stdout.split()
    return {"label": f[0], "rules": int(f[1]), "pb": float(f[4]), "psz": int(f[5]),
            "p1": float(f[6]), "p2": float(f[7]), "l1": float(f[8]), "l2": float(f[9]),
            "ab": float(f[10]), "asz": int(f[11]), "a1": float(f[12]), "a2": float(f[13]),
            "bad": int(f[14]), "neval": int(f[15])}


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2


# The first run of every set checks the answers; the sets of up to 10k
# rules are then timed again (--time-only) BENCH_REPEAT - 1 times, each
# repeat after all the sets' previous ones, so that the runs of one set
# lie minutes apart: this machine's slow spells last seconds to minutes,
# and a median of runs spread over them says more than one run.
jobs = []
for kind in classbench.KINDS:
    for n in sizes:
        got = classbench.converted(cbdir, kind, n, work, "table-bench")
        if not got:
            continue
        filters, policy = got
        trace = os.path.join(cbdir, f"{kind}_{n}_trace")
        args = [tool, f"{kind}_{n // 1000}k", filters, policy]
        if os.path.exists(trace):
            args.append(trace)
        jobs.append((n, args))
runs = {}
for k in range(repeat):
    for n, args in jobs:
        if k and n > 10000:
            continue
        r = run(args + (["--time-only"] if k else []))
        runs.setdefault(r["label"], []).append(r)
        print(f"table-bench: {r['label']} run {k + 1}: portc {r['p1']:.2f} Mlps, linear "
              f"{r['l1']:.3f}, rte_acl {r['a1']:.2f}", file=sys.stderr, flush=True)

print(f"portc matching tables: {os.cpu_count()} cores; 1,000,000 packets per set; "
      "Mlps = millions of lookups per second (1 thread / 2 threads)")
if repeat > 1:
    print(f"sets of up to 10k rules: the median of {repeat} runs (speeds and ratios each); "
          "100k: one run")
fmt = "{:<11} {:>6} | {:>7} {:>7} {:>13} {:>5} | {:>13} | {:>7} {:>7} {:>13} {:>5} | {:>8} {:>8} | {}"
print(fmt.format("set", "rules", "build s", "MB", "portc Mlps", "ns", "linear Mlps", "build s", "MB",
                 "rte_acl Mlps", "ns", "x linear", "x acl", "mismatches"))
rows = []
failed = False
for label, rs in runs.items():
    m = {k: median([r[k] for r in rs]) for k in ("pb", "p1", "p2", "l1", "l2", "ab", "a1", "a2")}
    xlin = [r["p1"] / r["l1"] for r in rs]
    xacl = [r["p1"] / r["a1"] for r in rs]
    first = rs[0]
    bad = sum(r["bad"] for r in rs)
    failed |= bad != 0
    rows.append((label, m["pb"], first["psz"], median(xlin), median(xacl), xlin, xacl))
    print(fmt.format(label, first["rules"], f"{m['pb']:.3f}", f"{first['psz'] / 2**20:.1f}",
                     f"{m['p1']:.2f} / {m['p2']:.2f}", f"{1e3 / m['p1']:.0f}",
                     f"{m['l1']:.3f} / {m['l2']:.3f}", f"{m['ab']:.3f}", f"{first['asz'] / 2**20:.1f}",
                     f"{m['a1']:.2f} / {m['a2']:.2f}", f"{1e3 / m['a1']:.0f}", f"{median(xlin):.0f}x",
                     f"{median(xacl):.2f}x", f"{bad} (evaluator on {first['neval']:,})"))
if any(len(xlin) > 1 for *_, xlin, xacl in rows):
    print("each run (one thread), x linear | x rte_acl:")
    for label, pb, psz, xl, xa, xlin, xacl in rows:
        if len(xlin) > 1:
            print(f"  {label:<10} " + " ".join(f"{x:.0f}x" for x in xlin) + " | " +
                  " ".join(f"{x:.2f}x" for x in xacl))

print("targets at 10k rules: 100x a linear scan; as fast as rte_acl on ACL; build < 2 s, table < 64 MB")
for label, pb, psz, xl, xa, xlin, xacl in rows:
    if not label.endswith("_10k"):
        continue
    checks = [f"{xl:.0f}x linear: {'met' if xl >= 100 else 'MISSED'}",
              f"build {pb:.2f} s, {psz / 2**20:.1f} MB: {'met' if pb < 2 and psz < 64 * 2**20 else 'MISSED'}"]
    if label.startswith("acl"):
        checks.append(f"{xa:.2f}x rte_acl: {'met' if xa >= 1 else 'MISSED'}")
    print(f"  {label}: " + "; ".join(checks))
if failed:
    sys.exit("table-bench: the classifiers disagree")
