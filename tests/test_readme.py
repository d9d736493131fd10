#!/usr/bin/python3
"""tests/test_readme.py — runs every sqlite3 transcript in README.md and
compares its output with the text (make readme-check; make test runs it).

A transcript is a ```sql block whose first line starts with "sqlite> ". In it,
a line "sqlite> ..." starts an input (a statement or a dot-command), lines
"   ...> ..." continue it, and the lines after it up to the next prompt are
the output it must print, exactly (trailing spaces aside) but for the last
digits of decimal numbers (within 1e-6 + 1e-5 relative: float32 logits move
with the CPU's BLAS kernels). Each block is one
session: a fresh `sqlite3 :memory:` in the repository root, run with the
environment's SENTIMENT_* variables removed. Errors are compared as the
interactive shell prints them ("Runtime error: ...", the batch shell's
"near line N" dropped).

    tests/test_readme.py            check; "test_readme: N passed, N failed"
    tests/test_readme.py --update   rewrite the outputs in README.md from a
                                    real run (make readme-update), e.g. after
                                    a new default model; read the diff after
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pycheck import Checks  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
SQLITE3 = os.environ.get("SQLITE3", "sqlite3")
PROMPT, CONT = "sqlite> ", "   ...> "
MARK = "-- readme-check: end of input --"


def transcripts(lines):
    """(first, last) line indexes of each transcript's body, fences excluded."""
    out, i = [], 0
    while i < len(lines):
        if lines[i].rstrip() == "```sql" and i + 1 < len(lines) and lines[i + 1].startswith(PROMPT):
            j = i + 1
            while j < len(lines) and lines[j].rstrip() != "```":
                j += 1
            out.append((i + 1, j))
            i = j
        i += 1
    return out


def parse(body, first):
    """[(input lines, expected output lines, README line number)] of one
    transcript whose body starts at line index first."""
    steps = []
    for i, line in enumerate(body):
        if line.startswith(PROMPT):
            steps.append(([line[len(PROMPT):]], [], first + i + 1))
        elif line.startswith(CONT) and not steps[-1][1]:
            steps[-1][0].append(line[len(CONT):])
        else:
            steps[-1][1].append(line.rstrip())
    return steps


def run(steps):
    """The output of each input, from one sqlite3 session."""
    script = "".join("\n".join(inp) + "\n.print " + MARK + "\n" for inp, _, _ in steps)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTIMENT_")}
    # Line-buffered stdout, so that stderr (errors) interleaves in order.
    p = subprocess.run(["stdbuf", "-oL", "-eL", SQLITE3, "-batch", ":memory:"], input=script,
                       capture_output=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, cwd=ROOT, env=env)
    text = re.sub(r"^(Parse|Runtime) error near line \d+:", r"\1 error:", p.stdout, flags=re.M)
    chunks = text.split(MARK + "\n")
    got = [[l.rstrip() for l in c.splitlines()] for c in chunks[:len(steps)]]
    while len(got) < len(steps):
        got.append(["(no output: the session ended early)"])
    if chunks[len(steps):] and "".join(chunks[len(steps):]).strip():
        got[-1] += ["(after the last input) " + "".join(chunks[len(steps):]).strip()]
    return got


NUMBER = re.compile(r"-?\d+\.\d+(?:[eE][-+]?\d+)?")


def same_output(want, got):
    """Equal line for line, but each decimal number within 1e-6 + 1e-5 * |want|:
    the last digits of a float32 logit move with the CPU's BLAS kernels."""
    if len(want) != len(got):
        return False
    for w, g in zip(want, got):
        if NUMBER.split(w) != NUMBER.split(g):
            return False
        for x, y in zip(NUMBER.findall(w), NUMBER.findall(g)):
            if abs(float(x) - float(y)) > 1e-6 + 1e-5 * abs(float(x)):
                return False
    return True


def main():
    update = "--update" in sys.argv[1:]
    T = Checks("test_readme")
    if not os.path.exists(os.path.join(ROOT, "sentiment.so")):
        T.check(False, "no sentiment.so (run make)")
        T.finish()
    lines = open(README, encoding="utf-8").read().split("\n")
    blocks = transcripts(lines)
    T.check(len(blocks) > 0, "README.md has no sqlite3 transcript (```sql + sqlite> )")
    new = list(lines)
    for first, last in reversed(blocks):  # from the end: indexes stay valid
        steps = parse(lines[first:last], first)
        got = run(steps)
        body = []
        for (inp, want, line), out in zip(steps, got):
            ok = same_output(want, out)
            T.check(ok or update, "README.md line %d: %s\n  expected: %r\n  got:      %r"
                    % (line, inp[0], want, out))
            body += [PROMPT + inp[0]] + [CONT + l for l in inp[1:]] + (want if ok else out)
        new[first:last] = body
    if update:
        if new != lines:
            open(README, "w", encoding="utf-8").write("\n".join(new))
            print("test_readme: README.md rewritten from a real run: read `git diff README.md`")
        else:
            print("test_readme: README.md already matches")
    elif T.failed:
        print("FAIL test_readme: README.md's transcripts differ from a real run; if that is "
              "expected (a new default model, say), run `make readme-update` and read "
              "`git diff README.md`")
    T.finish()


main()
