#!/usr/bin/env python3
"""run.py BUILD - portc diff, against brute force and against portc query.

Generates small policies over every form the diff sees (IPv4, IPv6 and
both; groups, except, any; tcp and udp with ports, lists, ranges and
source ports; icmp and icmpv6 with and without types; other protocols; no
service; allow, deny, reject; dscp; log; every default, with log) and for
each one:

- meaning-preserving rewrites (portc fmt, a group split into rules, a port
  list split into rules, two disjoint rules swapped, a literal named): portc
  diff must exit 0 and diffcheck (brute force over every boundary packet)
  must agree;
- mutations (one port, one prefix length, one action, one DSCP, the
  default): portc diff must exit 1 exactly when brute force finds a packet
  decided differently, and diffcheck must find the difference exact;
- every witness of every change is asked of both files by portc query,
  which must give the verdict, rule and DSCP the change claims.

Exit 0 when all hold. PORTC_DIFF_CASES sets the number of policies (40).
"""
import json
import os
import random
import re
import subprocess
import sys
import tempfile

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
PORTC = os.path.join(BUILD, "portc")
CHECK = os.path.join(BUILD, "tests", "diffcheck")
CASES = int(os.environ.get("PORTC_DIFF_CASES", "40"))

V4 = ["198.18.0.0/29", "198.18.0.0/30", "198.18.0.4/30", "198.18.0.4/31", "198.18.0.2",
      "198.18.0.7", "198.18.0.0/31", "198.18.0.6/31"]
V6 = ["2001:db8::/125", "2001:db8::/126", "2001:db8::4/126", "2001:db8::2", "2001:db8::7"]
DSCP = ["ef", "af41", "cs3", "24"]


def net(rng, fam):
    """A side: any, one prefix, a group, a group with except."""
    r = rng.random()
    if r < 0.2:
        return "any"
    pools = {4: V4, 6: V6, 46: None}[fam]
    if fam == 46:
        return "{ %s, %s }" % (rng.choice(V4), rng.choice(V6))
    if r < 0.55:
        return rng.choice(pools)
    if r < 0.85:
        items = rng.sample(pools, rng.randint(2, 3))
        return "{ %s }" % ", ".join(items)
    wide = [p for p in pools if "/" in p and int(p.split("/")[1]) in (29, 30, 125, 126)]
    outer = rng.choice(wide)
    inner = outer.split("/")[0]
    return "%s except %s" % (outer, inner)


def ports(rng):
    r = rng.random()
    if r < 0.4:
        return str(rng.randint(1, 6))
    if r < 0.7:
        lo = rng.randint(1, 5)
        return "%d-%d" % (lo, lo + rng.randint(1, 3))
    return ", ".join(str(p) for p in sorted(rng.sample(range(1, 8), rng.randint(2, 3))))


def service(rng, fam):
    """(text, kinds): kinds says which protocol classes it names."""
    r = rng.random()
    if r < 0.12:
        return "", {"all"}
    if r < 0.55:
        proto = rng.choice(["tcp", "udp"])
        return "%s %s" % (proto, ports(rng)), {proto}
    if r < 0.65:
        return "tcp %s, udp %s" % (ports(rng), ports(rng)), {"tcp", "udp"}
    if r < 0.72:
        proto = rng.choice(["tcp", "udp"])
        return proto, {proto}
    icmp = "icmp" if fam == 4 else "icmpv6" if fam == 6 else None
    if r < 0.88 and icmp:
        if rng.random() < 0.5:
            return icmp, {icmp}
        return "%s type %s" % (icmp, rng.choice(["echo-request", "echo-reply", "3" if fam == 4 else "1"])), {icmp}
    return "proto gre", {"gre"}


def gen_rule(rng):
    fam = rng.choice([4, 4, 6, 46])
    src, dst = net(rng, fam), net(rng, fam)
    if fam == 46 and "{" not in src and "{" not in dst:
        src = "{ %s, %s }" % (rng.choice(V4), rng.choice(V6))
    svc, kinds = service(rng, fam)
    opts = []
    if kinds <= {"tcp", "udp"} and rng.random() < 0.2:
        opts.append("sport %s" % ports(rng))
    action = rng.choice(["allow", "allow", "deny", "reject"])
    if action == "allow" and rng.random() < 0.3:
        opts.append("dscp %s" % rng.choice(DSCP))
    if rng.random() < 0.15:
        opts.append("log")
    return {"action": action, "src": src, "dst": dst, "svc": svc, "kinds": kinds, "opts": opts,
            "note": "r%d" % rng.randint(1, 999)}


def gen_policy(rng):
    rules = [gen_rule(rng) for _ in range(rng.randint(1, 7))]
    default = rng.choice(["deny", "allow", "reject"]) + (" log" if rng.random() < 0.2 else "")
    return {"default": default, "rules": rules, "names": {}}


def render(pol):
    out = ["network %s = %s;" % (k, v) for k, v in pol["names"].items()]
    out.append("policy p {")
    out.append("    default %s;" % pol["default"])
    for r in pol["rules"]:
        parts = [r["action"], r["src"], "->", r["dst"]]
        if r["svc"]:
            parts.append(r["svc"])
        parts += r["opts"]
        parts.append('"%s"' % r["note"])
        out.append("    " + " ".join(parts) + ";")
    out.append("}")
    return "\n".join(out) + "\n"


def copy(pol):
    return json.loads(json.dumps({**pol, "rules": [{**r, "kinds": sorted(r["kinds"])} for r in pol["rules"]]}))


# ---- rewrites that keep the meaning ------------------------------------------

def split_group(pol, rng):
    for i, r in enumerate(pol["rules"]):
        if r["src"].startswith("{") and "except" not in r["src"]:
            items = [x.strip() for x in r["src"].strip("{} ").split(",")]
            pol["rules"][i:i + 1] = [{**r, "src": x} for x in items]
            return True
    return False


def split_ports(pol, rng):
    for i, r in enumerate(pol["rules"]):
        words = r["svc"].split(" ", 1)
        if len(words) == 2 and words[0] in ("tcp", "udp") and "," in words[1] and "udp" not in words[1] \
                and "tcp" not in words[1]:
            items = [x.strip() for x in words[1].split(",")]
            pol["rules"][i:i + 1] = [{**r, "svc": "%s %s" % (words[0], x)} for x in items]
            return True
    return False


def swap_disjoint(pol, rng):
    rules = pol["rules"]
    for i in range(len(rules) - 1):
        a, b = set(rules[i]["kinds"]), set(rules[i + 1]["kinds"])
        if "all" not in a and "all" not in b and not (a & b):
            rules[i], rules[i + 1] = rules[i + 1], rules[i]
            return True
    return False


def name_literal(pol, rng):
    for r in pol["rules"]:
        if r["dst"] not in ("any",) and "except" not in r["dst"]:
            pol["names"]["n_dst"] = r["dst"] if r["dst"].startswith("{") else "{ %s }" % r["dst"]
            r["dst"] = "n_dst"
            return True
    return False


REWRITES = [split_group, split_ports, swap_disjoint, name_literal]

# ---- mutations ---------------------------------------------------------------


def m_port(pol, rng):
    for r in pol["rules"]:
        if r["svc"].startswith(("tcp ", "udp ")):
            m = re.search(r"\b(\d+)\b", r["svc"])
            v = int(m.group(1))
            r["svc"] = r["svc"][:m.start()] + str(v % 7 + 1) + r["svc"][m.end():]
            if re.search(r"\b(\d+)-(\d+)\b", r["svc"]) and any(
                    int(a) > int(b) for a, b in re.findall(r"\b(\d+)-(\d+)\b", r["svc"])):
                r["svc"] = r["svc"].split(" ")[0] + " " + str(v % 7 + 1)
            return True
    return False


def m_prefix(pol, rng):
    for r in pol["rules"]:
        for side in ("src", "dst"):
            for old, new in (("/30", "/29"), ("/31", "/30"), ("/126", "/125"), ("/29", "/30")):
                if old in r[side]:
                    text = r[side].replace(old, new, 1)
                    # a longer prefix must stay aligned: 198.18.0.4/29 is not
                    if new in ("/29", "/125") and not (text.startswith("198.18.0.0/") or
                                                        text.startswith("2001:db8::/") or "{" in text):
                        continue
                    r[side] = text
                    return True
    return False


def m_action(pol, rng):
    r = rng.choice(pol["rules"])
    r["action"] = {"allow": "deny", "deny": "reject", "reject": "allow"}[r["action"]]
    if r["action"] != "allow":
        r["opts"] = [o for o in r["opts"] if not o.startswith("dscp")]
    return True


def m_dscp(pol, rng):
    for r in pol["rules"]:
        if r["action"] == "allow":
            d = [o for o in r["opts"] if o.startswith("dscp")]
            r["opts"] = [o for o in r["opts"] if not o.startswith("dscp")]
            r["opts"].append("dscp cs1" if not d or d[0] != "dscp cs1" else "dscp cs2")
            return True
    return False


def m_default(pol, rng):
    pol["default"] = {"deny": "allow", "allow": "reject", "reject": "deny"}[pol["default"].split()[0]]
    return True


MUTATIONS = [m_port, m_prefix, m_action, m_dscp, m_default]

# ---- the checks ----------------------------------------------------------------

failures = 0
stats = {"pairs": 0, "equivalent": 0, "different": 0, "witnesses": 0, "expect_holds": 0, "expect_fails": 0}
by_kind = {}


def fail(msg):
    global failures
    failures += 1
    if failures <= 20:
        print("diff: FAIL: " + msg)


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


def query(path, w, args=()):
    proto = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmpv6"}.get(w["protocol"], str(w["protocol"]))
    def ep(a, p):
        a = "[%s]" % a if ":" in a else a
        return "%s:%d" % (a, p) if p is not None else a
    cmd = [PORTC, "query", "--format=json", "--no-loopback", "--no-ndp"] + list(args) + [path, proto,
           ep(w["source"], w["sport"]), ep(w["destination"], w["dport"])]
    if w["icmp_type"] is not None:
        cmd.insert(2, "--icmp-type=%d" % w["icmp_type"])
    r = run(cmd)
    if r.returncode != 0:
        fail("query failed: %s: %s" % (" ".join(cmd), r.stderr.strip()))
        return None
    return json.loads(r.stdout)


def agrees(answer, side):
    if answer is None:
        return False
    rule = answer["rule"]["number"] if answer["rule"] else None
    want = side["rule"]["number"] if side["rule"] else None
    return answer["verdict"] == side["verdict"] and answer["dscp"] == side["dscp"] and rule == want


def compare(old_text, new_text, why, expect_equal=None, where=None, args=()):
    """where: the directory to write the two files in (a bundled policy's,
    for its imports); brute force runs only on the generated ones, whose
    boundary packets are few enough. For the bundled ones, expect_equal
    says what the answer must be."""
    stats["pairs"] += 1
    with tempfile.TemporaryDirectory(dir=where) as d:
        a, b = os.path.join(d, "old.pol"), os.path.join(d, "new.pol")
        open(a, "w").write(old_text)
        open(b, "w").write(new_text)
        if where is None:
            brute = run([CHECK, a, b])
            if brute.returncode != 0:
                fail("%s: diffcheck: %s%s\n--- old\n%s--- new\n%s" % (why, brute.stdout, brute.stderr, old_text, new_text))
                return
            differ = int(brute.stdout.split(" decided differently")[0].rsplit(" ", 1)[1]) > 0
        else:
            differ = not expect_equal
        r = run([PORTC, "diff", "--format=json"] + list(args) + [a, b])
        if r.returncode not in (0, 1):
            fail("%s: portc diff exit %d: %s" % (why, r.returncode, r.stderr))
            return
        doc = json.loads(r.stdout)
        if (r.returncode == 1) != differ or doc["equivalent"] == differ:
            fail("%s: portc diff exit %d, brute force: %s\n--- old\n%s--- new\n%s"
                 % (why, r.returncode, "different" if differ else "alike", old_text, new_text))
        if expect_equal is True and differ:
            fail("%s: a rewrite that keeps the meaning changed it:\n--- old\n%s--- new\n%s" % (why, old_text, new_text))
        stats["different" if differ else "equivalent"] += 1
        kind = why.split(": ", 1)[1]
        seen = by_kind.setdefault(kind, [0, 0])
        seen[1 if differ else 0] += 1
        for c in doc["changes"]:
            w = c["witness"]
            stats["witnesses"] += 1
            qa, qb = query(a, w, args), query(b, w, args)
            if not agrees(qa, c["old"]) or not agrees(qb, c["new"]):
                fail("%s: witness %s: portc query says %s / %s, the change says %s / %s"
                     % (why, w["text"], qa and qa["verdict"], qb and qb["verdict"], c["old"]["verdict"],
                        c["new"]["verdict"]))
        # the text format says as much: one located line per change
        t = run([PORTC, "diff"] + list(args) + [a, b])
        located = [l for l in t.stdout.splitlines()
                   if re.match(r"^.*\.pol:\d+:\d+: (opened|closed|remarked|other): ", l)]
        if len(located) != len(doc["changes"]) or t.returncode != r.returncode:
            fail("%s: text output has %d changes, JSON %d" % (why, len(located), len(doc["changes"])))


GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")
FORMATS = {"text": "txt", "json": "json", "markdown": "md", "sarif": "sarif"}


def golden():
    """Each golden pair in each format, against its reviewed output
    (PORTC_DIFF_REGEN=1 rewrites them); SARIF against the 2.1.0 schema."""
    regen = os.environ.get("PORTC_DIFF_REGEN") == "1"
    schema = None
    try:
        import jsonschema
        here = os.path.dirname(os.path.abspath(__file__))
        schema = json.load(open(os.path.join(here, "..", "sarif", "sarif-schema-2.1.0.json")))
    except ImportError:
        print("diff: the SARIF schema check needs python3-jsonschema: skipped")
    n = 0
    for name in sorted(f[:-len("-old.pol")] for f in os.listdir(GOLDEN) if f.endswith("-old.pol")):
        old = os.path.relpath(os.path.join(GOLDEN, name + "-old.pol"))
        new = os.path.relpath(os.path.join(GOLDEN, name + "-new.pol"))
        for fmt, ext in FORMATS.items():
            n += 1
            r = run([PORTC, "diff", "--format=" + fmt, old, new])
            want_path = os.path.join(GOLDEN, "%s.%s" % (name, ext))
            if regen:
                open(want_path, "w").write(r.stdout)
            want = open(want_path).read() if os.path.exists(want_path) else None
            if r.stdout != want:
                fail("golden %s (%s): output differs from %s" % (name, fmt, want_path))
            if r.returncode != 1:
                fail("golden %s (%s): exit %d" % (name, fmt, r.returncode))
            if fmt == "sarif" and schema:
                jsonschema.validate(json.loads(r.stdout), schema)
    print("diff: %d golden outputs compared" % n)


# ---- expectations, against portc diff -------------------------------------------

def expectation_case(pol, rng, case):
    """An expectation of a random region and kind, appended to pol: portc
    check must fail it exactly when portc diff (itself checked against brute
    force above) finds, against pol with that region's rule put first, a
    packet whose old decision breaks it."""
    e = gen_rule(rng)
    kind = rng.choice(["allow", "allow", "deny", "reject", "none"])
    opts = [o for o in e["opts"] if not o.startswith(("dscp", "log"))]
    dscp = None
    if kind == "allow" and rng.random() < 0.4:
        dscp = rng.choice(["ef", "cs3", "24"])
        opts.append("dscp " + dscp)
    region = " ".join(x for x in [e["src"], "->", e["dst"], e["svc"]] + opts if x)
    first = {"allow": "allow", "deny": "deny", "reject": "reject", "none": "deny"}[kind]
    p2 = copy(pol)
    p2["rules"].insert(0, {**e, "action": first, "opts": opts, "note": "first"})
    base = render(pol)
    with_expect = base.rstrip().rstrip("}") + "    expect %s %s;\n}\n" % (kind, region)
    want_dscp = {"ef": 46, "cs3": 24, "24": 24}.get(dscp)
    with tempfile.TemporaryDirectory() as d:
        a, b, x = (os.path.join(d, n) for n in ("p.pol", "first.pol", "expect.pol"))
        open(a, "w").write(base)
        open(b, "w").write(render(p2))
        open(x, "w").write(with_expect)
        r = run([PORTC, "diff", "--format=json", a, b])
        if r.returncode not in (0, 1):
            fail("expect case %d: diff exit %d: %s" % (case, r.returncode, r.stderr))
            return None
        doc = json.loads(r.stdout)

        def ok(old):
            v = old["verdict"]
            if kind == "allow":
                return v == "allow" and (want_dscp is None or old["dscp"] == want_dscp)
            if kind == "none":
                return v != "allow"
            return v == kind
        holds = all(ok(c["old"]) for c in doc["changes"])
        c = run([PORTC, "check", x])
        if c.returncode != (0 if holds else 1):
            fail("expect case %d: portc check exit %d, but the expectation %s:\n%s%s"
                 % (case, c.returncode, "holds" if holds else "fails", with_expect, c.stderr))
        elif not holds:
            m = re.search(r"expectation fails: (\S+) (\S+) -> (\S+)(?: type (\S+))? is (\w+)", c.stderr)
            if not m:
                fail("expect case %d: no witness in: %s" % (case, c.stderr))
            else:
                proto, src, dst, icmp_type, verdict = m.groups()
                extra = ["--icmp-type=" + icmp_type] if icmp_type else []
                q = run([PORTC, "query", "--format=json", "--no-loopback", "--no-ndp"] + extra +
                        [a, proto, src, dst])
                got = json.loads(q.stdout)["verdict"] if q.returncode == 0 else None
                said = {"allowed": "allow", "denied": "deny", "rejected": "reject"}[verdict]
                if got != said:
                    fail("expect case %d: the witness %s %s -> %s is %s by portc query, not %s"
                         % (case, proto, src, dst, got, said))
        return holds


def bundled():
    """The bundled policies (vendor profiles used with their own
    addresses): each against its fmt output (equivalent) and against a copy
    with its first allow made a deny, or its first port moved (different)."""
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "policies"))
    # their parameters, in the benchmarking range (as the kernel tests' hosts)
    params = {"webex-calling.pol": ["-D", "site=198.18.0.0/16"],
              "cisco-finesse.pol": ["-D", "finesse=198.18.10.0/29", "-D", "desktops=198.18.64.0/18",
                                    "-D", "ucce=198.18.20.0/28"]}
    for name in sorted(os.listdir(root)):
        if not name.endswith(".pol"):
            continue
        path = os.path.join(root, name)
        text = open(path).read()
        args = ["-Wno-unenforceable"] + params.get(name, [])
        fmt = run([PORTC, "fmt", path]).stdout
        compare(text, fmt, "bundled %s: fmt" % name, True, where=root, args=args)
        lines = text.split("\n")
        for i, l in enumerate(lines):
            if l.lstrip().startswith("allow "):
                mutated = list(lines)
                mutated[i] = l.replace("allow ", "deny ", 1)
                compare(text, "\n".join(mutated), "bundled %s: line %d denied" % (name, i + 1), False,
                        where=root, args=args)
                break


def main():
    golden()
    bundled()
    rng = random.Random(20261202)
    for case in range(CASES):
        pol = gen_policy(rng)
        text = render(pol)
        with tempfile.NamedTemporaryFile("w", suffix=".pol", delete=False) as f:
            f.write(text)
        ok = run([PORTC, "check", f.name])
        if ok.returncode != 0:
            os.unlink(f.name)
            fail("generated policy does not check: %s\n%s" % (ok.stderr, text))
            continue
        fmt = run([PORTC, "fmt", f.name])
        os.unlink(f.name)
        compare(text, fmt.stdout, "case %d: fmt" % case, True)
        for rw in REWRITES:
            p2 = copy(pol)
            if rw(p2, rng):
                compare(text, render(p2), "case %d: %s" % (case, rw.__name__), True)
        for mu in MUTATIONS:
            p2 = copy(pol)
            if mu(p2, rng):
                compare(text, render(p2), "case %d: %s" % (case, mu.__name__))
        # and two unrelated policies, for differences of every shape
        compare(text, render(gen_policy(rng)), "case %d: another policy" % case)
        for k in range(3):
            h = expectation_case(pol, rng, case)
            if h is not None:
                stats["expect_holds" if h else "expect_fails"] += 1
    print("diff: %d pairs (%d equivalent, %d different by brute force), %d witnesses asked of portc query, "
          "%d failures" % (stats["pairs"], stats["equivalent"], stats["different"], stats["witnesses"], failures))
    print("expect: %d expectations that hold, %d that fail, each as portc diff says" %
          (stats["expect_holds"], stats["expect_fails"]))
    print("diff: per kind (alike/different): " +
          ", ".join("%s %d/%d" % (k, v[0], v[1]) for k, v in sorted(by_kind.items())))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
