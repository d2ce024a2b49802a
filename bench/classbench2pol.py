#!/usr/bin/env python3
"""classbench2pol.py [--ipv6] FILTERS [POLICY_NAME] - a ClassBench filter set as a portc policy.

Each filter line
    @SRC/LEN  DST/LEN  SPLO : SPHI  DPLO : DPHI  PROTO/MASK  FLAGS/MASK
becomes one rule of one policy, in the same order, so first match is kept.
ClassBench rules carry no action; as is common, rule N (1-based line
number) gets one from a fixed hash of N, so that both first match and the
anomaly checks have something to decide. The TCP flags field is ignored
(portc does not match flags). The default is deny.

The mapping:
  protocol 0x00/0x00  -> no protocol option (any protocol); ClassBench
                         never gives ports on these
  0x06/0xFF, 0x11/0xFF -> tcp / udp with the destination port range
                         (or 0-65535) and `sport` unless it is 0-65535
  0x01/0xFF           -> icmp (ClassBench gives no ports on it)
  other N/0xFF        -> proto N
  address 0.0.0.0/0   -> any4 (the sets are IPv4 only; `any` would
                         also take IPv6)
Any other mask, or ports on a protocol without ports, is an error: the
converter refuses input it cannot carry over exactly.

--ipv6 writes the same set in IPv6, for timing IPv6 lookups: an address
A.B.C.D/LEN becomes 2001:db8:AABB:CCDD::/(32 + LEN), 0.0.0.0/0 becomes
2001:db8::/32, and icmp becomes icmpv6 (bench/ab.c --ipv6 maps the trace
the same way).
"""
import sys


def action_of(n):
    # Knuth's multiplicative hash; a fixed, well-mixed choice per line.
    h = (n * 2654435761) & 0xFFFFFFFF
    return ("allow", "deny", "allow", "reject")[(h >> 16) & 3]


IPV6 = False


def addr(text, where):
    ip, _, length = text.partition("/")
    if not length.isdigit() or int(length) > 32:
        sys.exit(f"{where}: bad prefix {text!r}")
    if int(length) == 0:
        return "2001:db8::/32" if IPV6 else "any4"
    # ClassBench prefixes may have host bits set; keep the network only,
    # which is what a classifier matches on.
    parts = [int(p) for p in ip.split(".")]
    value = (parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]
    plen = int(length)
    value &= (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF
    if IPV6:
        return f"2001:db8:{value >> 16:x}:{value & 0xFFFF:x}::/{32 + plen}"
    quad = ".".join(str((value >> s) & 255) for s in (24, 16, 8, 0))
    return quad if plen == 32 else f"{quad}/{plen}"


def port_range(text, where):
    lo, _, hi = text.partition(":")
    lo, hi = int(lo), int(hi)
    if not (0 <= lo <= hi <= 65535):
        sys.exit(f"{where}: bad port range {text!r}")
    return lo, hi


def ports(lo, hi):
    return str(lo) if lo == hi else f"{lo}-{hi}"


def convert(lines, name):
    out = [f"# converted by bench/classbench2pol.py from a ClassBench filter set",
           f"policy {name} {{", "    default deny;"]
    n = 0
    for lineno, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        where = f"line {lineno}"
        if not line.startswith("@"):
            sys.exit(f"{where}: a filter starts with '@'")
        f = line[1:].split("\t")
        if len(f) < 5:
            sys.exit(f"{where}: expected at least 5 tab-separated fields")
        n += 1
        src, dst = addr(f[0], where), addr(f[1], where)
        sp, dp = port_range(f[2], where), port_range(f[3], where)
        proto, _, mask = f[4].partition("/")
        proto, mask = int(proto, 16), int(mask, 16)
        full = (0, 65535)
        opts = []
        if mask == 0 and proto == 0:
            if sp != full or dp != full:
                sys.exit(f"{where}: ports on 'any protocol' cannot be expressed")
        elif mask == 0xFF and proto in (6, 17):
            opts.append(("tcp " if proto == 6 else "udp ") + ports(*dp))
            if sp != full:
                opts.append("sport " + ports(*sp))
        elif mask == 0xFF:
            if sp != full or dp != full:
                sys.exit(f"{where}: ports on protocol {proto}")
            opts.append(("icmpv6" if IPV6 else "icmp") if proto == 1 else f"proto {proto}")
        else:
            sys.exit(f"{where}: protocol mask {f[4]!r} is neither exact nor wildcard")
        opt = (" " + " ".join(opts)) if opts else ""
        out.append(f"    {action_of(n)} {src} -> {dst}{opt};")
    out.append("}")
    return "\n".join(out) + "\n"


def main():
    global IPV6
    args = sys.argv[1:]
    if args[:1] == ["--ipv6"]:
        IPV6 = True
        args = args[1:]
    if len(args) not in (1, 2):
        sys.exit(__doc__.splitlines()[0])
    name = args[1] if len(args) == 2 else "classbench"
    with open(args[0]) as fh:
        sys.stdout.write(convert(fh, name))


if __name__ == "__main__":
    main()
