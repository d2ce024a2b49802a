#!/usr/bin/env python3
"""run-help.py PORTC - the help, this reference and the man page agree.

What `portc --help` and `portc help COMMAND` print comes from the command
table (src/main.c) and the backend registry (include/backends.def); this
checks that docs/cli.md and docs/portc.1 say the same: every command has
its section and its row, every long option of a command is in its
section, every -t target in both, `portc help help` answers, the
command list keeps a summary's second line under its first, and every
diagnostic of include/warnings.def has its section in docs/lint.md.
"""
import re
import subprocess
import sys

portc = sys.argv[1]
failures = 0
checked = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL " + msg)


def out(*args):
    r = subprocess.run([portc, *args], capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


cli = open("docs/cli.md").read()
man = open("docs/portc.1").read()
rc, main = out("--help")
commands = re.findall(r"^  ([a-z]+) ", main.split("commands:", 1)[1], re.M)
if "help" in commands:
    commands.remove("help")
if len(commands) < 6:
    fail(f"portc --help lists {commands}")
for line in main.split("commands:", 1)[1].splitlines():
    if line and not line.startswith(" ") and not line.startswith("portc") and not line.startswith("("):
        fail(f"portc --help: a line at column 0 in the command list: {line!r}")
rc, h = out("help", "help")
if rc != 0 or "usage: portc help" not in h:
    fail(f"portc help help: exit {rc}: {h.strip()}")
for cmd in commands:
    checked += 1
    rc, h = out("help", cmd)
    if rc != 0:
        fail(f"portc help {cmd}: exit {rc}")
        continue
    m = re.search(r"^## portc %s\n(.*?)(?=^## |\Z)" % cmd, cli, re.M | re.S)
    if not m:
        fail(f"docs/cli.md has no section '## portc {cmd}'")
        continue
    section = m.group(1)
    if f"(#portc-{cmd})" not in cli:
        fail(f"docs/cli.md's command table has no row for {cmd}")
    if not re.search(r"^\.B %s$" % cmd, man, re.M):
        fail(f"docs/portc.1 has no entry for {cmd}")
    for opt in sorted(set(re.findall(r"^  (?:-\w, )?(--[a-z][a-z-]*)", h, re.M))):
        if opt == "--color":
            continue  # a common option, in its own section
        if opt not in section:
            fail(f"portc help {cmd} lists {opt}, docs/cli.md's section does not")
rc, h = out("help", "compile")
targets = re.findall(r"^                       ([a-z0-9_]+) ", h, re.M)
if not targets:
    fail("portc help compile lists no targets")
for t in targets:
    checked += 1
    if f"-t {t}" not in cli:
        fail(f"target {t} is in 'portc help compile' but not in docs/cli.md")
    if not re.search(r"\b%s\b" % re.escape(t), man.split(".B compile", 1)[-1][:4000]):
        fail(f"target {t} is in 'portc help compile' but not in docs/portc.1's compile")
rc, h = out("lnit", "x.pol")
if "did you mean 'lint'" not in h:
    fail(f"a misspelt command gets no suggestion: {h.strip()}")
# every named diagnostic has its section in docs/lint.md
lint_md = open("docs/lint.md").read()
for name in re.findall(r'^W\(\w+,\s*"([a-z-]+)"', open("include/warnings.def").read(), re.M):
    checked += 1
    if not re.search(r"^## %s$" % re.escape(name), lint_md, re.M):
        fail(f"warning '{name}' (include/warnings.def) has no section in docs/lint.md")
# every vendor ruleset and parameter is in docs/stdlib.md's reference, with
# its kind and default
import glob
stdlib_md = open("docs/stdlib.md").read()
for path in sorted(glob.glob("stdlib/vendor/*.pol")):
    text = open(path).read()
    for m in re.finditer(r"^ruleset (\w+)\s*\((.*?)\)\s*\{", text, re.M | re.S):
        name, sig = m.group(1), m.group(2)
        params = re.findall(r'(\w+)\s*:\s*(\w+)(?:\s*=\s*(unresolved\s+"[^"]*"|[^,\n]+))?', sig)
        checked += 1
        head = re.search(r"^### `%s\((.*?)\)`" % name, stdlib_md, re.M)
        if not head:
            fail(f"docs/stdlib.md has no reference section for ruleset {name} ({path})")
            continue
        if [p.strip() for p in head.group(1).split(",") if p.strip()] != [p[0] for p in params]:
            fail(f"docs/stdlib.md: {name}'s parameters are {[p[0] for p in params]}, not {head.group(1)}")
        section = stdlib_md[head.end():].split("\n### ", 1)[0]
        for pname, kind, default in params:
            row = re.search(r"^\| `%s` \| (\w+) \|([^|]*)\|" % pname, section, re.M)
            if not row:
                fail(f"docs/stdlib.md: no row for {name}'s parameter {pname}")
                continue
            if row.group(1) != kind:
                fail(f"docs/stdlib.md: {name}.{pname} is {kind}, the page says {row.group(1)}")
            shown = row.group(2).strip()
            want = "" if not default else ("unresolved" if default.startswith("unresolved") else default.strip())
            if (want == "" and shown) or (want and want not in shown):
                fail(f"docs/stdlib.md: {name}.{pname} defaults to {want or 'nothing'}, the page says {shown!r}")
# every file of this repository the docs name exists (a doc once cited
# tests/run-docs.sh, which is run-docs.py)
import os
for doc in ["README.md", "docs/language.md", "docs/cli.md", "docs/lint.md", "docs/stdlib.md",
            "docs/table-format.md", "bench/README.md"]:
    for ref in sorted(set(re.findall(r"`((?:tests|scripts|src|include|bench|docs|stdlib|policies|grammar)/[A-Za-z0-9_./-]+\.(?:sh|py|c|h|def|md|pol|l|y|1))`", open(doc).read()))):
        checked += 1
        if "*" not in ref and "NAME" not in ref and not os.path.exists(ref):
            fail(f"{doc} names {ref}, which does not exist")
print(f"help: {checked} commands, targets, diagnostics, rulesets and file references checked, {failures} failed")
sys.exit(1 if failures else 0)
