#!/usr/bin/env python3
"""run-lint.py PORTC - lint beyond the golden files.

1. Every witness packet lint prints is replayed with `portc query --all`
   and must behave as the finding claims (who matches it, who decides it,
   and what would decide it without the rule).
2. On generated policies of up to 2,000 rules, with several seeds, the
   findings equal those of the brute-force pairwise oracle
   (`portc lint --brute-force`) exactly.
3. `--format=sarif` validates against the SARIF 2.1.0 schema
   (tests/sarif/, checked with Debian's python3-jsonschema).
"""
import glob
import json
import random
import os
import subprocess
import sys

portc = os.path.abspath(sys.argv[1])
env = dict(os.environ, NO_COLOR="1")
env.pop("PORTC_PATH", None)
failures = 0
checked = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL " + msg)


def run(args, check=False):
    r = subprocess.run([portc, *args], capture_output=True, text=True, env=env)
    return r


def lint_json(path, args=(), brute=False):
    r = run(["lint", "--format=json", "-Wno-unenforceable", *args,
             *(["--brute-force"] if brute else []), path])
    if r.returncode > 1:
        fail(f"lint {path}: exit {r.returncode}: {r.stderr}")
        return []
    return json.loads(r.stdout)["findings"]


def where(loc):
    return None if loc is None else (loc["file"], loc["line"], loc["column"])


def query_args(packet):
    # "tcp 10.0.0.1:40000 -> 192.0.2.2:443", "icmp a -> b type echo-request"
    words = packet.split()
    proto, rest = (words[1], words[2:]) if words[0] == "proto" else (words[0], words[1:])
    src, dst = rest[0], rest[2]
    extra = ["--icmp-type=" + rest[4]] if len(rest) > 4 and rest[3] == "type" else []
    return [*extra, proto, src, dst]


def check_witnesses(path, args=(), limit=150):
    global checked
    for f in lint_json(path, args)[:limit]:
        w = f.get("witness")
        if not w:
            continue
        checked += 1
        r = run(["query", "--all", "--format=json", "-Wno-unenforceable",
                 # the policy's first match, as lint sees it: no prologue
                 "--no-loopback", "--no-ndp", *args, path,
                 *query_args(w["packet"])])
        if r.returncode != 0:
            fail(f"{path}: query for witness {w['packet']!r} failed: {r.stderr}")
            continue
        q = json.loads(r.stdout)
        ms = [where(m) for m in q["matches"]]
        got = where(q["rule"]) if q["rule"] else None
        name = f["name"]
        tag = f"{path}: {name} at line {f['location']['line']}: witness {w['packet']}"
        if got != where(w["decided_by"]):
            fail(f"{tag}: decided by {got}, lint said {where(w['decided_by'])}")
            continue
        mine = where(w["matches"])
        if mine not in ms:
            fail(f"{tag}: does not match the rule it is said to match")
            continue
        entry = q["matches"][ms.index(mine)]
        decider = q["matches"][ms.index(got)] if got in ms else None
        if w["same_without"]:
            # decided by the rule; without it, the next rule (or the default) says the same
            after = [m for m in q["matches"][ms.index(mine) + 1:] if where(m) != mine]
            if after:
                same = after[0]["verdict"] == entry["verdict"] and after[0]["dscp"] == entry["dscp"]
            else:
                same = q["default"] == entry["verdict"] and entry["dscp"] is None
            if got != mine or not same:
                fail(f"{tag}: without the rule the verdict would change")
        elif w["also_matches"] is not None:
            # a pairwise finding: the other rule matches it too, and the two
            # differ as the finding says
            other = where(w["also_matches"])
            if other not in ms:
                fail(f"{tag}: the other rule does not match it")
                continue
            oentry = q["matches"][ms.index(other)]
            if name in ("shadowed", "redundant"):
                # this rule never decides it: something before it does
                if got is None or ms.index(got) >= ms.index(mine):
                    fail(f"{tag}: the rule decides it, yet it is said never to match")
            if name in ("shadowed", "correlated", "generalization") and oentry["verdict"] == entry["verdict"]:
                fail(f"{tag}: the two rules do not differ in action")
            if name == "redundant" and oentry["verdict"] != entry["verdict"]:
                fail(f"{tag}: the two rules differ in action")
            if name == "qos-conflict" and oentry["dscp"] == entry["dscp"]:
                fail(f"{tag}: the two rules do not mark differently")


# 1. witnesses: the golden lint cases, the bundled policies, generated ones
for path in sorted(glob.glob("tests/golden/lint/*.pol")):
    check_witnesses(path)
check_witnesses("policies/webex-calling.pol", ["-D", "site=198.18.0.0/16", "-D", "dns=192.0.2.53"])
check_witnesses("tests/vendor/webex-roles.pol")
check_witnesses("policies/branch-office.pol")

tmp = os.path.join("build", "lint-gen")
os.makedirs(tmp, exist_ok=True)


def classbench_like(seed, n, path):
    """A firewall-like set in ClassBench's format, through the bench's
    converter: mostly narrow rules, and a quarter wide ones (any source
    port, a /0 or /8 on one side). A wide rule meets many earlier rules
    yet decides most of its own packets, so lint takes its sampling path
    (analyze_live) for it, which the generated sets above rarely reach."""
    rnd = random.Random(seed)
    lines = []

    def prefix(lengths):
        return (f"198.{18 + rnd.randrange(2)}.{rnd.randrange(256)}.{rnd.randrange(256)}"
                f"/{rnd.choice(lengths)}")

    def ports():
        lo = rnd.choice([0, 53, 80, 443, 1024, 5060])
        hi = rnd.choice([lo, min(65535, lo + 1000)])
        return f"{lo} : {hi}"

    for _ in range(n):
        proto = rnd.choice(["0x06/0xFF", "0x11/0xFF"])
        if rnd.random() < 0.25:
            src, dst = prefix([0, 8]), prefix([16, 24])
            if rnd.random() < 0.5:
                src, dst = dst, src
            sp, dp = "0 : 65535", ports()
        else:
            src, dst = prefix([16, 24, 28, 32]), prefix([16, 24, 28, 32])
            sp, dp = ports(), ports()
        lines.append(f"@{src}\t{dst}\t{sp}\t{dp}\t{proto}\t0x0000/0x0000")
    src = path + ".cb"
    with open(src, "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(path, "w") as out:
        subprocess.run([sys.executable, "bench/classbench2pol.py", src], stdout=out, check=True)


# seeds over 20: group-heavy estates (bench/genestate.py: sides of up to 50
# overlapping prefixes, several services; exclusions for the odd seeds),
# up to 2,000 rules like the others: the oracle pairs every product of one
# rule with every product of another, and a product is a whole group
sizes = [(1, 200), (2, 500), (3, 1000), (4, 2000), (5, 2000), (11, 2000), (12, 2000),
         (21, 150), (22, 500), (23, 1000), (24, 2000), (25, 2000), (26, 2000)]
for seed, n in sizes:
    path = os.path.join(tmp, f"gen-{seed}-{n}.pol")
    if seed > 20:
        with open(path, "w") as out:
            subprocess.run([sys.executable, "bench/genestate.py", str(n), str(seed)] +
                           (["--except"] if seed % 2 else []), stdout=out, check=True)
    elif seed > 10:
        classbench_like(seed, n, path)
    else:
        with open(path, "w") as out:
            subprocess.run([sys.executable, "tests/kernel/genpolicy.py", str(seed), str(n)],
                           stdout=out, check=True)
    if seed in (1, 2, 11, 22, 25):
        check_witnesses(path)
    # 2. the oracle
    fast = lint_json(path)
    slow = lint_json(path, brute=True)
    key = lambda f: (f["name"], where(f["location"]), [where(x["location"]) for x in f["notes"]],
                     (f["witness"] or {}).get("packet"))
    a, b = [key(f) for f in fast], [key(f) for f in slow]
    if a != b:
        only_a = [x for x in a if x not in b][:3]
        only_b = [x for x in b if x not in a][:3]
        fail(f"{path}: {len(a)} findings, the oracle {len(b)}; only lint: {only_a}; only oracle: {only_b}")
    else:
        print(f"  {path}: {len(a)} findings, the same as the pairwise oracle")

# 3. SARIF against the schema
try:
    import jsonschema
except ImportError:
    jsonschema = None
if jsonschema is None:
    fail("python3-jsonschema is not installed: cannot validate SARIF")
else:
    schema = json.load(open("tests/sarif/sarif-schema-2.1.0.json"))
    for path in sorted(glob.glob("tests/golden/lint/*.pol")) + ["policies/branch-office.pol"]:
        r = run(["lint", "--format=sarif", path])
        doc = json.loads(r.stdout)
        try:
            jsonschema.validate(doc, schema)
        except jsonschema.ValidationError as e:
            fail(f"{path}: SARIF does not validate: {e.message}")
            continue
        for res in doc["runs"][0]["results"]:
            region = res["locations"][0]["physicalLocation"]["region"]
            if region.get("startLine", 0) < 1 or region.get("startColumn", 0) < 1:
                fail(f"{path}: a SARIF result without line and column")
        checked += 1

# 4. A file name that is not UTF-8 (and one with a space and a '#'): JSON
# and SARIF keep every field, escaped, and the SARIF URI is percent-encoded
# (jansson refuses such a string, and the fields used to vanish silently).
import shutil
import tempfile
tmpd = tempfile.mkdtemp()
try:
    src = os.path.join(tmpd, "src.pol")
    with open(src, "w") as fh:
        fh.write("policy p {\n    default deny;\n"
                 "    allow 192.0.2.0/24 -> 198.18.0.0/15 tcp 22 \"ssh\";\n"
                 "    allow 192.0.2.0/25 -> 198.18.0.0/16 tcp 22 \"shadowed\";\n}\n")
    for raw, shown, uri in ((b"caf\xe9 #1.pol", "caf\\xe9 #1.pol", "caf%E9%20%231.pol"),):
        bpath = os.path.join(tmpd.encode(), raw)
        shutil.copy(src, bpath)
        r = subprocess.run([portc.encode(), b"lint", b"--format=json", b"-Wno-unenforceable", bpath],
                           capture_output=True, env=env)
        findings = json.loads(r.stdout)["findings"]
        if not findings:
            fail(f"lint --format=json on a non-UTF-8 name: no findings (exit {r.returncode})")
        for f in findings:
            if f.get("location") is None or "notes" not in f or "witness" not in f:
                fail(f"lint --format=json on a non-UTF-8 name lost a field: {sorted(f)}")
                break
            if not f["location"]["file"].endswith(shown):
                fail(f"lint --format=json: file {f['location']['file']!r}, not ...{shown!r}")
                break
        r = subprocess.run([portc.encode(), b"lint", b"--format=sarif", bpath], capture_output=True, env=env)
        doc = json.loads(r.stdout)
        if jsonschema is not None:
            try:
                jsonschema.validate(doc, schema)
            except jsonschema.ValidationError as e:
                fail(f"SARIF for a non-UTF-8 name does not validate: {e.message}")
        results = doc["runs"][0]["results"]
        if not results or any(not res.get("locations") for res in results):
            fail("SARIF for a non-UTF-8 name lost its locations")
        elif not results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(uri):
            fail("SARIF uri not percent-encoded: " +
                 results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
        r = subprocess.run([portc.encode(), b"query", b"--format=json", bpath, b"tcp",
                            b"192.0.2.1:40000", b"198.18.0.1:22"], capture_output=True, env=env)
        q = json.loads(r.stdout)
        if not q.get("rule") or not q["rule"].get("file", "").endswith(shown):
            fail(f"query --format=json on a non-UTF-8 name: {q.get('rule')}")
        checked += 1
finally:
    shutil.rmtree(tmpd)

print(f"lint: {checked} witnesses and SARIF documents checked, {failures} failed")
sys.exit(1 if failures else 0)
