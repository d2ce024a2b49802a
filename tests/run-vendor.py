#!/usr/bin/env python3
"""run-vendor.py PORTC - the vendor profiles against their documents.

Each tests/vendor/cases/*.txt names a policy (and its -D options) and holds:

  row CITATION
      a table row of the source document; some rule's note must end with
      "(CITATION)", and an expectation of the profile must cite it (its
      note "CITATION"), which portc check proves in the policy. The list is
      printed with the rules that encode each row.
  subnets DOC START .. END | PROTO SRC:SPORT DPORT | VERDICT DSCP | CITATION
      every address or prefix in the seed document DOC (tests/vendor/seeds/)
      between the lines START and END: a packet to its first and to its last
      address must get VERDICT and DSCP from a rule citing CITATION. This
      reads the vendor's own text, so a subnet left out fails.
  PROTO SRC DST | VERDICT DSCP [| CITATION]
      one packet, usually on the edge of a range or prefix, with the verdict
      and mark `portc query` must give, and the row its deciding rule cites.
"""
import glob
import ipaddress
import json
import os
import re
import shlex
import subprocess
import sys

portc = os.path.abspath(sys.argv[1])
env = dict(os.environ, NO_COLOR="1")
env.pop("PORTC_PATH", None)
failures = 0
checks = 0


def fail(where, msg):
    global failures
    failures += 1
    print(f"FAIL {where}: {msg}")


def cites(note, citation):
    return note is not None and note.endswith(f"({citation})")


def query(policy, args, proto, src, dst):
    cmd = [portc, "query", "--format=json", "-Wno-unenforceable", *args, policy, proto, src, dst]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        return None, r.stderr.strip()
    return json.loads(r.stdout), None


def endpoint(addr, port):
    a = ipaddress.ip_address(addr)
    return f"[{a}]:{port}" if a.version == 6 else f"{a}:{port}"


def check_packet(where, policy, args, proto, src, dst, want):
    global checks
    checks += 1
    verdict, dscp = want[0].split()
    citation = want[1] if len(want) > 1 else None
    got, err = query(policy, args, proto, src, dst)
    if got is None:
        fail(where, f"{proto} {src} {dst}: portc query failed: {err}")
        return
    gdscp = "-" if got["dscp"] is None else str(got["dscp"])
    note = got["rule"]["note"] if got["rule"] else None
    if got["verdict"] != verdict or gdscp != dscp:
        fail(where, f"{proto} {src} -> {dst}: wanted {verdict} {dscp}, got {got['verdict']} {gdscp} "
                    f"(rule: {note})")
    elif citation and not cites(note, citation):
        fail(where, f"{proto} {src} -> {dst}: decided by a rule citing {note!r}, not ({citation})")


def seed_entries(doc, start, end):
    path = glob.glob(f"tests/vendor/seeds/{doc}_*.txt")[0]
    lines = open(path, encoding="utf-8").read().split("\n")
    i = lines.index(start)
    j = lines.index(end, i + 1)
    nets = []
    for line in lines[i + 1:j]:
        line = line.strip()
        if re.fullmatch(r"[0-9a-fA-F:.]+(/\d+)?", line):
            nets.append(ipaddress.ip_network(line, strict=False))
    return nets


total_rows = 0
for case in sorted(glob.glob("tests/vendor/cases/*.txt")):
    policy, args = None, []
    rows = []
    for no, raw in enumerate(open(case, encoding="utf-8"), 1):
        line = raw.strip()
        where = f"{case}:{no}"
        if not line or line.startswith("#"):
            continue
        if line.startswith("policy "):
            policy = line.split(None, 1)[1]
            ir = subprocess.run([portc, "check", "--dump=ir", "-Wno-unenforceable", *args, policy],
                                capture_output=True, text=True, env=env)
        elif line.startswith("args "):
            args = shlex.split(line[5:])
            ir = subprocess.run([portc, "check", "--dump=ir", "-Wno-unenforceable", *args, policy],
                                capture_output=True, text=True, env=env)
        elif line.startswith("row "):
            citation = line[4:]
            rows.append(citation)
            total_rows += 1
            rules = sorted({m.group(1) for l in ir.stdout.split("\n")
                            if f'({citation})"' in l
                            for m in [re.search(r" at (\S+:\d+):\d+", l)] if m})
            if not rules:
                fail(where, f"no rule encodes the row ({citation})")
            else:
                print(f"  ({citation}) -> {', '.join(rules)}")
            # and the profile requires it of the site: an expectation that
            # cites the row, which portc check proves in this policy
            expects = [l for l in ir.stdout.split("\n")
                       if l.startswith("  expect ") and f'note "{citation}"' in l]
            if not expects:
                fail(where, f"no expectation requires the row ({citation})")
            elif ir.returncode != 0:
                fail(where, f"the policy does not check: {ir.stderr.strip()[:300]}")
        elif line.startswith("subnets "):
            head, probe, *want = [p.strip() for p in line[8:].split("|")]
            doc, rest = head.split(None, 1)
            start, end = [s.strip() for s in rest.split(" .. ")]
            proto, src, dport = probe.split()
            nets = seed_entries(doc, start, end)
            if not nets:
                fail(where, "no subnets found in the document between those lines")
            for net in nets:
                for addr in {net.network_address, net.broadcast_address}:
                    check_packet(f"{where} ({net})", policy, args, proto, src,
                                 endpoint(addr, dport), want)
            print(f"  {doc}: {len(nets)} subnets of \"{start}\" reach their rule")
        else:
            packet, *want = [p.strip() for p in line.split("|")]
            proto, src, dst = packet.split()
            check_packet(where, policy, args, proto, src, dst, want)

print(f"vendor: {total_rows} table rows, {checks} packets, {failures} failed")
sys.exit(1 if failures else 0)
