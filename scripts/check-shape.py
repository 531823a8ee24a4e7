#!/usr/bin/env python3
"""The shape rules for sfu/ and signaling/: no source file over 600 lines, no function over
80 lines (signature to closing brace). Functions are found in clang-formatted code: a
definition whose body opens at the end of a line indented 0 (namespace level) or 4 (a
member defined in its class). Prints the offenders and exits 1 if there are any."""
import re
import subprocess
import sys
from pathlib import Path

MAX_FILE, MAX_FUNCTION = 600, 80
NOT_FUNCTIONS = re.compile(r"^\s*(namespace|class|struct|enum|union|extern|if|for|while|switch|else|do|try|catch)\b")
STRINGS = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'')


def code(line):
    return STRINGS.sub('""', line.split("//")[0]).rstrip()


def functions(lines):
    i = 0
    while i < len(lines):
        text = code(lines[i])
        indent = len(lines[i]) - len(lines[i].lstrip())
        if text.endswith("{") and indent in (0, 4) and ")" in text or (text.endswith("{") and indent in (0, 4) and text.strip().startswith(":")) :
            start = i
            while start > 0 and code(lines[start - 1]).strip() and not code(lines[start - 1]).rstrip().endswith((";", "}", "{")) \
                    and not lines[start - 1].lstrip().startswith(("//", "#")):
                start -= 1
            header = " ".join(code(l).strip() for l in lines[start:i + 1])
            if "(" in header and not NOT_FUNCTIONS.match(header) and "=" not in header.split("(")[0]:
                depth, j = 0, i
                while j < len(lines):
                    depth += code(lines[j]).count("{") - code(lines[j]).count("}")
                    if depth <= 0:
                        break
                    j += 1
                yield header.split("(")[0].split()[-1], start + 1, j - start + 1
                i = j
        i += 1


def main():
    root = Path(__file__).resolve().parent.parent
    files = [root / f for f in subprocess.run(["git", "ls-files", "sfu", "signaling"], cwd=root,
                                               capture_output=True, text=True, check=True).stdout.split()
             if f.endswith((".cpp", ".hpp"))]
    bad = []
    longest = (0, "")
    for path in files:
        lines = path.read_text().splitlines()
        rel = path.relative_to(root)
        if len(lines) > MAX_FILE:
            bad.append(f"{rel}: {len(lines)} lines (at most {MAX_FILE})")
        for name, line, length in functions(lines):
            longest = max(longest, (length, f"{rel}:{line} {name}"))
            if length > MAX_FUNCTION:
                bad.append(f"{rel}:{line}: {name} is {length} lines (at most {MAX_FUNCTION})")
    for b in bad:
        print(b)
    print(f"shape: {len(files)} files; longest function {longest[0]} lines ({longest[1]})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
