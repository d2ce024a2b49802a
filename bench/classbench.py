"""classbench.py - what the benchmark scripts share: the ClassBench sets
that are there, each converted once to a portc policy (classbench2pol.py)
and kept until its source changes."""
import os
import subprocess
import sys

KINDS = ("acl1", "fw1", "ipc1")
HERE = os.path.dirname(os.path.abspath(__file__))


def converted(cbdir, kind, n, work, who):
    """(filters, policy) for ClassBench KIND at N rules, or None (with a
    message) when the set is not in CBDIR."""
    src = os.path.join(cbdir, f"{kind}_{n}")
    if not os.path.exists(src):
        print(f"{who}: {src} not found; ClassBench {kind} {n} skipped")
        return None
    dst = os.path.join(work, f"{kind}_{n}.portc")
    if not os.path.exists(dst) or os.path.getmtime(dst) < os.path.getmtime(src):
        with open(dst + ".tmp", "w") as f:
            subprocess.run([sys.executable, os.path.join(HERE, "classbench2pol.py"), src],
                           stdout=f, check=True)
        os.replace(dst + ".tmp", dst)
    return src, dst
