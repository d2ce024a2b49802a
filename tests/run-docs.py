#!/usr/bin/env python3
"""run-docs.py PORTC DOC... - run the examples in the documentation.

A ```portc block must pass `portc check` (or, when its first line starts
with "# error", must be rejected with exit 1). A ```console block holds
commands after "$ " and the output they must print (stdout and stderr
together, exactly). Commands run from the top of the tree, with `portc`
meaning the binary under test.
"""
import os
import re
import shlex
import subprocess
import sys
import tempfile

portc = os.path.abspath(sys.argv[1])
# --update DOC: rewrite the outputs of DOC's console blocks (review the diff)
update = len(sys.argv) > 2 and sys.argv[2] == "--update"
if update:
    doc = sys.argv[3]
    env0 = dict(os.environ, NO_COLOR="1")
    env0.pop("PORTC_PATH", None)
    out, in_console = [], False
    for line in open(doc, encoding="utf-8").read().split("\n"):
        if line.startswith("```console"):
            in_console = True
            out.append(line)
            continue
        if in_console and line.startswith("```"):
            in_console = False
            out.append(line)
            continue
        if in_console:
            if line.startswith("$ "):
                out.append(line)
                argv = shlex.split(line[2:])
                argv[0] = portc
                r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, env=env0)
                out.extend(r.stdout.rstrip("\n").split("\n"))
            continue
        out.append(line)
    open(doc, "w", encoding="utf-8").write("\n".join(out))
    sys.exit(0)
failures = 0
runs = 0
scratch_dir = tempfile.TemporaryDirectory(prefix="portc-docs-")
scratch = scratch_dir.name
env = dict(os.environ, NO_COLOR="1")
env.pop("PORTC_PATH", None)


def blocks(path):
    lang = None
    start = 0
    lines = []
    with open(path, encoding="utf-8") as f:
        for no, line in enumerate(f, 1):
            m = re.match(r"^```(\w*)\s*$", line)
            if m and lang is None:
                lang, start, lines = m.group(1), no, []
            elif line.startswith("```") and lang is not None:
                yield lang, start, lines
                lang = None
            elif lang is not None:
                lines.append(line)


def fail(where, msg):
    global failures
    failures += 1
    print(f"FAIL {where}: {msg}")


for doc in sys.argv[2:]:
    for lang, line, body in blocks(doc):
        where = f"{doc}:{line}"
        if lang == "portc":
            runs += 1
            with tempfile.NamedTemporaryFile("w", suffix=".pol", delete=False, dir=os.path.dirname(portc)) as t:
                t.write("".join(body))
            r = subprocess.run([portc, "check", t.name], capture_output=True, text=True, env=env)
            os.unlink(t.name)
            want_error = body and body[0].startswith("# error")
            if want_error and r.returncode != 1:
                fail(where, f"expected rejection, got exit {r.returncode}")
            elif not want_error and r.returncode != 0:
                fail(where, f"exit {r.returncode}\n{r.stderr}")
        elif lang == "console":
            cmds = []
            for l in body:
                if l.startswith("$ "):
                    cmds.append([l[2:].rstrip("\n"), []])
                elif cmds:
                    cmds[-1][1].append(l)
            for cmd, expected in cmds:
                runs += 1
                argv = shlex.split(cmd)
                if argv[0] != "portc":
                    fail(where, f"not a portc command: {cmd}")
                    continue
                argv[0] = portc
                # "-o build/X": the file goes to a scratch directory, so the
                # run writes nothing into the tree and needs no build/ (make
                # check SANITIZE=1 has build-san/ only)
                for i in range(1, len(argv) - 1):
                    if argv[i] == "-o" and argv[i + 1] != "-":
                        argv[i + 1] = os.path.join(scratch, os.path.basename(argv[i + 1]))
                r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, env=env)
                if r.stdout != "".join(expected):
                    fail(where, f"$ {cmd}\n--- expected\n{''.join(expected)}--- got\n{r.stdout}")

print(f"docs: {runs} examples, {failures} failed")
sys.exit(1 if failures else 0)
