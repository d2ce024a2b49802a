#!/usr/bin/env python3
"""run-structure.py [SRC_DIR] - a shape rule of the code that the compiler
does not check: no function in src/ longer than LIMIT lines (signature to
closing brace) unless the comment just above it says why it must be one
piece (with the words "one piece").

Functions are found in the code's own style: a definition's opening brace
alone in column 0 and its closing brace alone in column 0; nothing else in
src/ puts a brace alone in column 0.
"""
import os
import re
import sys

LIMIT = 80


def functions(path):
    """(name, first line, length, comment above it) for each definition."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        if lines[i] != "{":
            i += 1
            continue
        start = i - 1	# back to the signature's first line, in column 0
        while start > 0 and lines[start][:1] in ("\t", " "):
            start -= 1
        name = re.search(r"(\w+)\s*\(", " ".join(lines[start:i]))
        end = i + 1
        while end < len(lines) and lines[end] != "}":
            end += 1
        k = start - 1
        while k >= 0 and (lines[k].startswith(("/*", " *")) or lines[k].endswith("*/")):
            k -= 1
        yield (name.group(1) if name else "?", start + 1, end - start + 1,
               "\n".join(lines[k + 1:start]))
        i = end + 1


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "src"
    bad = checked = 0
    for root, _, files in sorted(os.walk(src)):
        for name in sorted(f for f in files if f.endswith(".c")):
            path = os.path.join(root, name)
            for fn, line, length, above in functions(path):
                checked += 1
                if length > LIMIT and "one piece" not in above.lower():
                    print(f"{path}:{line}: {fn} is {length} lines, over {LIMIT}, and the "
                          "comment above it does not say why it must be one piece")
                    bad += 1
    print(f"structure: {checked} functions checked, {bad} over {LIMIT} lines without a reason")
    if checked < 500:	# a wrong directory, or a changed brace style
        print("structure: too few functions found to trust the count")
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
