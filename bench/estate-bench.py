#!/usr/bin/env python3
"""estate-bench.py PORTC - `make bench-estate`: portc on group-heavy estates,
against Capirca on the same estates in the same run.

For each size in BENCH_SIZES (default 1000,3000,10000,100000) the estate of
genestate.py (seed 1; and, at the sizes in EXCEPT_SIZES, default 1000,3000,
the same with exclusions) is

  - linted by portc: wall time and peak memory (bench/peakrss);
  - compiled to nftables by portc: time, peak memory, and --stats (emitted
    rules, set elements, the share of rules merged into lookups);
  - loaded with `nft -f` into a fresh network namespace, and compiled to
    iptables and loaded with its loader (`sh OUT.sh`: ipset restore, then
    iptables-restore --noflush) into another (root only; said when skipped);
  - compiled by Capirca's aclgen (Debian's python3-capirca, iptables
    target), and at the sizes in SHADE_SIZES (default 1000,3000) checked
    with `aclgen --shade_check`, Capirca's nearest to lint.

Ratios are Capirca's CPU time over portc's (user plus system, the
command's and its waited-for children's, from wait4): CPU, not wall, since
on a 2-core machine wall time carries whatever else the machine does, and
the targets of issue 20 are stated in CPU for compile. Every step is stopped
after STEP_TIMEOUT seconds (default 300) and then shows as ">N". The targets
are checked against the figures at the end (met / MISSED); the run does not
fail on them.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from peakrun import peak_run

portc = os.path.abspath(sys.argv[1])
here = os.path.dirname(os.path.abspath(__file__))
peakrss = os.path.join(os.path.dirname(portc), "bench", "peakrss")
SIZES = [int(x) for x in os.environ.get("BENCH_SIZES", "1000,3000,10000,100000").split(",")]
EXCEPT_SIZES = {int(x) for x in os.environ.get("EXCEPT_SIZES", "1000,3000").split(",") if x}
SHADE_SIZES = {int(x) for x in os.environ.get("SHADE_SIZES", "1000,3000").split(",") if x}
LIMIT = float(os.environ.get("STEP_TIMEOUT", "300"))
work = tempfile.mkdtemp(prefix="portc-estate-")
root = os.geteuid() == 0 and shutil.which("ip") and shutil.which("nft")


def run(args, cwd=None):
    """(seconds, peak MiB, status, stderr, CPU seconds) under peakrss, or
    None past LIMIT."""
    r = peak_run(peakrss, args, os.path.join(work, "stderr.txt"), LIMIT, cwd)
    return None if r is None else (r[0], r[1] / 1024, r[2], r[3], r[4])


def netns_load(cmd):
    """Seconds `cmd` takes in a fresh network namespace, or None."""
    ns = f"pcbench{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        r = run(["ip", "netns", "exec", ns] + cmd)
        if r is not None and r[2] != 0:
            sys.exit(f"estate-bench: {' '.join(cmd)} failed: {r[3].decode(errors='replace')[-500:]}")
        return r
    finally:
        subprocess.run(["ip", "netns", "del", ns])


def fmt(r, what="s"):
    """A step's wall seconds ("s"), CPU seconds ("cpu") or peak MiB ("m")."""
    if r is None:
        return f">{LIMIT:.0f}" if what != "m" else "-"
    return {"s": f"{r[0]:.2f}", "cpu": f"{r[4]:.2f}", "m": f"{r[1]:.0f}"}[what]


def cpu_ratio(base, ours):
    """Capirca's CPU seconds over portc's, and whether that is only a lower
    bound (Capirca stopped at LIMIT); None when portc's step stopped."""
    if ours is None:
        return None
    return (LIMIT if base is None else base[4]) / max(ours[4], 0.001), base is None


def ratio(base, ours):
    q = cpu_ratio(base, ours)
    if q is None:
        return "-"
    return f">{q[0]:.0f}x" if q[1] else f"{q[0]:.1f}x"


def check(results):
    """The targets of issue 20 against one run's figures: (target, figure,
    met) for each target whose size was run. results maps a label to the
    step results of that estate."""
    out = []

    def add(what, label, step, pick, limit, unit):
        r = results.get(label, {}).get(step, "absent")
        if r == "absent":
            return
        v = None if r is None else pick(r)
        shown = f">{LIMIT:.0f} s" if v is None else f"{v:.2f} {unit}"
        out.append((what, shown, v is not None and v < limit))

    def add_ratio(what, label, step, base, least):
        got = results.get(label)
        if not got or base not in got:
            return
        q = cpu_ratio(got[base], got[step])
        out.append((what, ratio(got[base], got[step]), q is not None and q[0] >= least))

    add("lint 10k wall < 2 s", "10000", "lint", lambda r: r[0], 2, "s")
    add("lint 10k CPU < 2 s", "10000", "lint", lambda r: r[4], 2, "s")
    add("lint 10k peak < 500 MiB", "10000", "lint", lambda r: r[1], 500, "MiB")
    add("lint 100k wall < 30 s", "100000", "lint", lambda r: r[0], 30, "s")
    add("lint 100k CPU < 30 s", "100000", "lint", lambda r: r[4], 30, "s")
    add("lint 100k peak < 4 GiB", "100000", "lint", lambda r: r[1], 4096, "MiB")
    for label in ("1000", "1000 except", "3000", "3000 except"):
        add_ratio(f"lint {label} >= 10x Capirca shade", label, "lint", "shade", 10)
    add("compile 10k CPU < 0.2 s", "10000", "nft", lambda r: r[4], 0.2, "s")
    add_ratio("compile 10k >= 50x Capirca", "10000", "nft", "cap", 50)
    add("nft -f 10k < 5 s", "10000", "nft_load", lambda r: r[0], 5, "s")
    add("nft -f 100k < 60 s", "100000", "nft_load", lambda r: r[0], 60, "s")
    add("iptables load 10k < 2 s", "10000", "ipt_load", lambda r: r[0], 2, "s")
    return out


ncpu = os.cpu_count()
print(f"estate bench: {ncpu} cores; genestate.py seed 1; Capirca aclgen "
      f"({'present' if shutil.which('aclgen') else 'absent'}); step timeout {LIMIT:.0f} s")
if not root:
    print("estate bench: not root (or no ip/nft): the nft -f and iptables load times are skipped")
rows = []
results = {}
for n in SIZES:
    for exc in ([False, True] if n in EXCEPT_SIZES else [False]):
        label = f"{n}{' except' if exc else ''}"
        d = os.path.join(work, label.replace(" ", "-"))
        os.makedirs(d)
        pol = os.path.join(d, "estate.pol")
        with open(pol, "w") as f:
            args = [sys.executable, os.path.join(here, "genestate.py"), str(n), "1", "--capirca", d]
            if exc:
                args.append("--except")
            subprocess.run(args, stdout=f, check=True)
        lint = run([portc, "lint", "--stats", pol])
        nft = run([portc, "compile", "-t", "nftables", "--stats", "--format=json", pol, "-o",
                   os.path.join(d, "out.nft")])
        st = {}
        if nft is not None:
            st = json.loads(nft[3].decode().strip().splitlines()[-1])
        ipt = run([portc, "compile", "-t", "iptables", pol, "-o", os.path.join(d, "rules")])
        nft_load = ipt_load = None
        if root and nft is not None:
            nft_load = netns_load(["nft", "-f", os.path.join(d, "out.nft")])
        if root and ipt is not None:
            ipt_load = netns_load(["sh", os.path.join(d, "rules.sh")])
        cap = shade = None
        if shutil.which("aclgen"):
            base = ["aclgen", "--base_directory=policies", "--definitions_directory=def"]
            cap = run(base + ["--output_directory=out"], cwd=d)
            if n in SHADE_SIZES:
                shade = run(base + ["--output_directory=out-shade", "--shade_check"], cwd=d)
        results[label] = {"lint": lint, "nft": nft}
        if root:
            results[label].update(nft_load=nft_load, ipt_load=ipt_load)
        if shutil.which("aclgen"):
            results[label]["cap"] = cap
            if n in SHADE_SIZES:
                results[label]["shade"] = shade
        merged = (f"{st['merged_rules']}/{st['placed_rules']}" if st else "-")
        rows.append((label, fmt(lint), fmt(lint, "cpu"), fmt(lint, "m"), fmt(nft, "cpu"),
                     str(st.get("emitted_rules", "-")),
                     str(st.get("set_elements", "-")), merged,
                     fmt(nft_load) if root else "skip", fmt(ipt_load) if root else "skip",
                     fmt(cap, "cpu") if shutil.which("aclgen") else "-",
                     ratio(cap, nft) if shutil.which("aclgen") else "-",
                     fmt(shade, "cpu") if n in SHADE_SIZES else "",
                     ratio(shade, lint) if n in SHADE_SIZES else ""))
        print("  " + " | ".join(rows[-1]), flush=True)

print()
print("| rules | lint s | lint CPU s | lint MiB | compile nft CPU s | emitted | set elements | "
      "merged | nft -f s | iptables load s | Capirca compile CPU s | compile ratio | "
      "Capirca shade CPU s | lint ratio |")
print("| --- " * 14 + "|")
for r in rows:
    print("| " + " | ".join(r) + " |")
print()
print("targets (issue 20), this run:")
for what, shown, met in check(results):
    print(f"  {'met   ' if met else 'MISSED'} {what}: {shown}")
shutil.rmtree(work)
