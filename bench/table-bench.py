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
BENCH_SIZES=1000,10000 runs fewer.
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

print(f"portc matching tables: {os.cpu_count()} cores; 1,000,000 packets per set; "
      "Mlps = millions of lookups per second (1 thread / 2 threads)")
fmt = "{:<11} {:>6} | {:>7} {:>7} {:>13} {:>5} | {:>13} | {:>7} {:>7} {:>13} {:>5} | {:>8} {:>8} | {}"
print(fmt.format("set", "rules", "build s", "MB", "portc Mlps", "ns", "linear Mlps", "build s", "MB",
                 "rte_acl Mlps", "ns", "x linear", "x acl", "mismatches"))
rows = []
failed = False
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
        r = subprocess.run(args, capture_output=True, text=True)
        if r.returncode not in (0, 1) or not r.stdout.strip():
            sys.exit(f"table-bench: {' '.join(args)} failed:\n{r.stderr}")
        sys.stderr.write(r.stderr)
        f = r.stdout.split()
        label, rules = f[0], int(f[1])
        pb, psz, p1, p2 = float(f[4]), int(f[5]), float(f[6]), float(f[7])
        l1, l2 = float(f[8]), float(f[9])
        ab, asz, a1, a2 = float(f[10]), int(f[11]), float(f[12]), float(f[13])
        bad, neval = int(f[14]), int(f[15])
        failed |= bad != 0
        rows.append((label, rules, pb, psz, p1, l1, a1))
        print(fmt.format(label, rules, f"{pb:.3f}", f"{psz / 2**20:.1f}", f"{p1:.2f} / {p2:.2f}",
                         f"{1e3 / p1:.0f}", f"{l1:.3f} / {l2:.3f}", f"{ab:.3f}", f"{asz / 2**20:.1f}",
                         f"{a1:.2f} / {a2:.2f}", f"{1e3 / a1:.0f}", f"{p1 / l1:.0f}x",
                         f"{p1 / a1:.2f}x", f"{bad} (evaluator on {neval:,})"), flush=True)

print("targets at 10k rules: 100x a linear scan; as fast as rte_acl on ACL; build < 2 s, table < 64 MB")
for label, rules, pb, psz, p1, l1, a1 in rows:
    if not label.endswith("_10k"):
        continue
    checks = [f"{p1 / l1:.0f}x linear: {'met' if p1 / l1 >= 100 else 'MISSED'}",
              f"build {pb:.2f} s, {psz / 2**20:.1f} MB: {'met' if pb < 2 and psz < 64 * 2**20 else 'MISSED'}"]
    if label.startswith("acl"):
        checks.append(f"{p1 / a1:.2f}x rte_acl: {'met' if p1 >= a1 else 'MISSED'}")
    print(f"  {label}: " + "; ".join(checks))
if failed:
    sys.exit("table-bench: the classifiers disagree")
