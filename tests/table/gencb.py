#!/usr/bin/env python3
"""gencb.py SEED RULES - a ClassBench-shaped filter set for the table tests.

The generated policies of tests/kernel/genpolicy.py keep to 198.18.0.0/15
and 2001:db8::/32, where packets are really sent; there a table's index on
the top bits of an address has one busy slot, so the builder never makes
one. The ClassBench sets of `make bench` spread their prefixes over the
whole IPv4 space, and so do these: mostly narrow sources and destinations
(/16 to /32, as in ACL sets), a fifth with a wide source or destination
(/0 to /15, as in FW sets), exact ports and ranges on TCP and UDP,
and rules for any protocol. They only ever reach tablecheck's in-process classifier, never a
network. Output: ClassBench's filter format, for bench/classbench2pol.py.
"""
import random
import sys

seed, n = int(sys.argv[1]), int(sys.argv[2])
rnd = random.Random(seed)

# a few hundred networks that rules cluster in, as real sets do
hubs = [rnd.getrandbits(32) for _ in range(max(8, n // 8))]


def prefix(lo, hi):
    length = rnd.randint(lo, hi)
    addr = rnd.choice(hubs) ^ rnd.getrandbits(8) if rnd.random() < 0.8 else rnd.getrandbits(32)
    addr &= (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF
    return f"{addr >> 24}.{addr >> 16 & 255}.{addr >> 8 & 255}.{addr & 255}/{length}"


def ports():
    kind = rnd.random()
    if kind < 0.4:
        return "0 : 65535"
    if kind < 0.8:
        p = rnd.choice([22, 53, 80, 443, 1521, 5060, 5061, rnd.randrange(65536)])
        return f"{p} : {p}"
    lo = rnd.choice([0, 1024, 8000, 16384, rnd.randrange(65536)])
    return f"{lo} : {rnd.randint(lo, 65535)}"


for _ in range(n):
    if rnd.random() < 0.2:
        src, dst = prefix(0, 15), prefix(16, 32)
        if rnd.random() < 0.5:
            src, dst = dst, src
        if rnd.random() < 0.3:
            dst = prefix(0, 15)
    else:
        src, dst = prefix(16, 32), prefix(16, 32)
    proto = rnd.choice(["0x06/0xFF", "0x11/0xFF", "0x06/0xFF", "0x00/0x00"])
    sp = "0 : 65535" if rnd.random() < 0.7 else ports()
    dp = ports()
    if proto == "0x00/0x00":  # any protocol: ClassBench gives no ports
        sp = dp = "0 : 65535"
    print(f"@{src}\t{dst}\t{sp}\t{dp}\t{proto}\t0x0000/0x0000")
