#!/usr/bin/python3
"""tests/test_explain.py — sentiment_explain and sentiment_highlight.

With the embedded default model: on crafted sentences the words that carry
the sentiment have the largest weight of their sign (properties a reasonable
retrained model keeps, not exact numbers); each weight is the change of
sentiment_score when the word is deleted; label_without is sentiment() of the
text without it; the three formats give the text back once their marks are
stripped. With the tiny golden models: words and offsets against
sentiment_tokens, truncation, the granularity the work budget picks. With a
small random model (bench/model/make_random.py, resized): a model without a
'positive' label. NULLs and error texts throughout.
"""
import html
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pycheck import Checks  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("SENTIMENT_SHARED", os.path.join(ROOT, "..", "shared"))
checks = Checks("test_explain")
check, skip = checks.check, checks.skip


def connect():
    db = sqlite3.connect(":memory:")
    db.enable_load_extension(True)
    db.load_extension(os.path.join(ROOT, "sentiment"))
    db.enable_load_extension(False)
    return db


def explain(db, text, *args):
    q = "SELECT word, start, end, weight, label, pieces, label_without, unit FROM sentiment_explain(?%s)"
    return db.execute(q % (", ?" * len(args)), (text,) + args).fetchall()


def error(db, sql, params=()):
    try:
        db.execute(sql, params).fetchall()
    except sqlite3.Error as e:
        return str(e)
    return None


def without(text, start, end):
    """text with bytes [start, end) replaced by one space."""
    b = text.encode()
    return (b[:start] + b" " + b[end:]).decode()


# (sentence, the word pushing most toward positive, the word pushing most toward negative)
CRAFTED = [
    ("The acting was wonderful but the plot was dull.", "wonderful", "dull"),
    ("The music is beautiful, but the ending is awful.", "beautiful", "awful"),
    ("Great performances, horrible dialogue.", "Great", "horrible"),
    ("An excellent film with a stupid title.", "excellent", "stupid"),
    ("The food was bad but the service was excellent.", "excellent", "bad"),
]


def test_default(db):
    if db.execute("SELECT model_type IS NULL FROM sentiment_models WHERE name = 'default'").fetchone()[0]:
        skip("this build embeds no default model (models/default/): crafted sentences not checked")
        return
    for text, pos, neg in CRAFTED:
        rows = explain(db, text)
        check([r[0] for r in rows] == re.findall(r"\w+|[^\w\s]", text), "%r: words %r" % (text, rows))
        top = max(rows, key=lambda r: r[3])
        bottom = min(rows, key=lambda r: r[3])
        check(top[0] == pos and top[3] > 0, "%r: most positive %r, want %r" % (text, top, pos))
        check(bottom[0] == neg and bottom[3] < 0, "%r: most negative %r, want %r" % (text, bottom, neg))
        check(all(r[4] == "positive" and r[7] == "word" for r in rows), "%r: label/unit %r" % (text, rows))
    # One clear word carries a one-sided sentence.
    for text, word, sign in (("I loved this movie.", "loved", 1), ("What a boring movie.", "boring", -1)):
        rows = explain(db, text)
        top = max(rows, key=lambda r: sign * r[3])
        check(top[0] == word and sign * top[3] > 0.05, "%r: top %r, want %r" % (text, top, word))

    # weight = P(positive | text) − P(positive | text without the word), the
    # sentiment_score of the deleted text (one sequence vs a packed batch: 1e-5).
    text = CRAFTED[0][0]
    score = db.execute("SELECT sentiment_score(?)", (text,)).fetchone()[0]
    worst = 0
    for w, s, e, weight, _, _, lw, _ in explain(db, text):
        t2 = without(text, s, e)
        s2, l2 = db.execute("SELECT sentiment_score(?), sentiment(?)", (t2, t2)).fetchone()
        worst = max(worst, abs(weight - (score - s2)))
        check(lw == l2, "label_without of %r: %s, sentiment() of the rest %s" % (w, lw, l2))
    check(worst < 1e-5, "weights vs sentiment_score of the deleted texts: max diff %g" % worst)

    # Highlight: the text comes back once the marks are stripped.
    text = 'Wonderful <acting> & "awful" plot: 5*s_tars [sic] | done.'
    out = db.execute("SELECT sentiment_highlight(?, 'default', 'html')", (text,)).fetchone()[0]
    marks = re.findall(r'<mark style="background:#[0-9a-f]{6}" title="[+-]\d\.\d{3}">', out)
    check(marks and html.unescape(re.sub(r"<mark [^>]*>|</mark>", "", out)) == text and "<acting>" not in out,
          "html: %r" % out)
    check(re.search(r'title="\+[^"]*">Wonderful</mark>', out) and re.search(r'title="-[^"]*">awful</mark>', out),
          "html: Wonderful green, awful red: %r" % out)
    out = db.execute("SELECT sentiment_highlight(?)", (text,)).fetchone()[0]  # ansi by default
    codes = re.findall(r"\x1b\[[0-9;]*m", out)
    check(codes and re.sub(r"\x1b\[[0-9;]*m", "", out) == text and codes.count("\x1b[0m") * 2 == len(codes),
          "ansi: %r" % out)
    check(re.search(r"\x1b\[\d+;48;5;(22|28|34|40|46)mWonderful\x1b\[0m", out)
          and re.search(r"\x1b\[\d+;48;5;(52|88|124|160|196)mawful\x1b\[0m", out), "ansi colours: %r" % out)
    out = db.execute("SELECT sentiment_highlight(?, 'default', 'MarkDown')", (CRAFTED[1][0],)).fetchone()[0]
    check(re.search(r"\*\*beautiful\*\*\(\+0\.\d\d\)", out) and re.search(r"~~awful~~\(-0\.\d\d\)", out),
          "markdown: %r" % out)
    check(re.sub(r"\*\*|~~|\([+-]\d\.\d\d\)", "", out) == CRAFTED[1][0], "markdown text: %r" % out)
    out = db.execute("SELECT sentiment_highlight(?, 'default', 'markdown')", ("a*b_c `x` [y] <z> |",)).fetchone()[0]
    check(re.sub(r"\*\*(.*?)\*\*\([+-]\d\.\d\d\)|~~(.*?)~~\([+-]\d\.\d\d\)", r"\1\2", out)
          == r"a\*b\_c \`x\` \[y\] \<z\> \|", "markdown escapes: %r" % out)
    check(db.execute("SELECT sentiment_highlight('')").fetchone()[0] == "", "highlight of ''")

    # Sentences on request.
    rows = explain(db, "Great film. Awful ending!\nSee it?!", "default", "sentence")
    check([(r[0], r[1], r[2], r[7]) for r in rows]
          == [("Great film.", 0, 11, "sentence"), ("Awful ending!", 12, 25, "sentence"), ("See it?!", 26, 34, "sentence")],
          "sentences: %r" % rows)


def test_tiny(db, models):
    tiny = os.path.join(models, "tiny-bert")
    db.execute("INSERT INTO sentiment_models(name, path) VALUES ('tb', ?)", (tiny,))
    # Words group the pieces of sentiment_tokens: offsets and piece counts.
    text = "Unbelievably good, isn't it? Naïve café… [SEP] 好的"
    rows = explain(db, text, "tb")
    toks = db.execute("SELECT start, end FROM sentiment_tokens(?, 'tb') WHERE start IS NOT NULL", (text,)).fetchall()
    check(sum(r[5] for r in rows) == len(toks), "pieces: %d, tokens %d" % (sum(r[5] for r in rows), len(toks)))
    at, ok = 0, True
    for r in rows:
        span = toks[at:at + r[5]]
        ok = ok and span[0][0] == r[1] and max(e for _, e in span) == r[2]
        ok = ok and r[0] == text.encode()[r[1]:r[2]].decode()
        at += r[5]
    check(ok, "words vs tokens: %r" % rows)
    check([r[0] for r in rows] == ["Unbelievably", "good", ",", "isn", "'", "t", "it", "?", "Naïve", "café", "…",
                                   "[SEP]", "好", "的"], "tiny-bert words: %r" % [r[0] for r in rows])
    check(rows[0][5] > 1, "a word of several pieces: %r" % (rows[0],))
    # Truncation: only what the model reads is explained.
    long_text = " ".join("word%d" % (i % 50) for i in range(600))
    rows = explain(db, long_text, "tb")
    last = db.execute("SELECT max(end) FROM sentiment_tokens(?, 'tb')", (long_text,)).fetchone()[0]
    check(sum(r[5] for r in rows) == 510 and rows[-1][2] == last and last < len(long_text),
          "truncated: %d pieces, last end %s, tokens end %s" % (sum(r[5] for r in rows), rows[-1][2], last))
    out = db.execute("SELECT sentiment_highlight(?, 'tb', 'ansi')", (long_text,)).fetchone()[0]
    check(re.sub(r"\x1b\[[0-9;]*m", "", out) == long_text and out.endswith(long_text[last:]),
          "highlight of a truncated text: the unread part is copied plain")
    check(db.execute("SELECT count(*) FROM sentiment_explain('', 'tb')").fetchone()[0] == 0, "empty text: no rows")


def test_auto(db):
    """tiny-bert (dim 32, FFN 64, 2 layers): one pass over the 102 tokens of
    this text is 6.0e6 FLOPs, so a budget of 4e8 pays for its 50 words (and
    the whole text), 1.5e8 for its 10 sentences, 3e7 (4.99 passes) for 3 runs of them; the
    least is 2 runs."""
    text = "\n".join(" ".join("w%d" % (5 * i + j) for j in range(5)) for i in range(10))  # 10 lines, 50 words, 100 pieces
    got = {}
    for budget in ("4e8", "1.5e8", "3e7", "1"):
        os.environ["SENTIMENT_EXPLAIN_BUDGET"] = budget
        rows = explain(db, text, "tb")
        got[budget] = (len(rows), rows[0][7], rows[0][0].count("w"), sum(r[5] for r in rows))
    os.environ.pop("SENTIMENT_EXPLAIN_BUDGET")
    n = sum(1 for _ in db.execute("SELECT * FROM sentiment_tokens(?, 'tb')", (text,))) - 2
    want = {"4e8": (50, "word", 1, n), "1.5e8": (10, "sentence", 5, n), "3e7": (3, "sentences", 20, n),
            "1": (2, "sentences", 25, n)}
    check(got == want, "granularity by budget: %r, want %r" % (got, want))
    os.environ["SENTIMENT_EXPLAIN_BUDGET"] = "1"
    check(len(explain(db, text, "tb", "word")) == 50, "'word' is not bounded by the budget")
    os.environ.pop("SENTIMENT_EXPLAIN_BUDGET")


def test_no_positive(db, tmp):
    """A random model (bench/model/make_random.py, resized) with three labels, none 'positive'."""
    sys.path.insert(0, os.path.join(ROOT, "bench", "model"))
    import make_random
    make_random.V, make_random.D, make_random.H, make_random.F, make_random.L, make_random.C = 200, 32, 2, 64, 1, 3
    out = os.path.join(tmp, "three")
    argv, stdout, sys.argv = sys.argv, sys.stdout, ["make_random.py", out]
    try:
        with open(os.devnull, "w") as sys.stdout:
            make_random.main()
    finally:
        sys.stdout, sys.argv = stdout, argv
    with open(os.path.join(out, "config.json")) as f:
        config = json.load(f)
    config["id2label"] = {"0": "sad", "1": "calm", "2": "glad"}
    config["label2id"] = {v: int(k) for k, v in config["id2label"].items()}
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f)
    db.execute("INSERT INTO sentiment_models(name, path) VALUES ('three', ?)", (out,))
    text = "w1 w2 w3 w4"
    rows = explain(db, text, "three")
    pred = db.execute("SELECT sentiment(?, 'three')", (text,)).fetchone()[0]
    check(len(rows) == 4 and all(r[4] == pred for r in rows),
          "no positive label: the weights measure the predicted label %s: %r" % (pred, rows))
    check(db.execute("SELECT sentiment_score('x', 'three')").fetchone()[0] is None, "three: no positive label")


def test_nulls_errors(db):
    check(explain(db, None) == [] and explain(db, "x", None) == [] and explain(db, "x", "default", None) == [],
          "NULL arguments: no rows")
    check(db.execute("SELECT sentiment_highlight(NULL), sentiment_highlight('x', NULL), "
                     "sentiment_highlight('x', 'default', NULL)").fetchone() == (None, None, None),
          "highlight: NULL in, NULL out")
    e = error(db, "SELECT sentiment_highlight('x', 'default', 'pdf')")
    check(e == "sentiment_highlight(): unknown format 'pdf': use 'ansi', 'html' or 'markdown'", "format: %s" % e)
    e = error(db, "SELECT sentiment_highlight('x', 'nope')")
    check(e == "sentiment_highlight(): no model named 'nope' (see SELECT name FROM sentiment_models)", e)
    e = error(db, "SELECT * FROM sentiment_explain('x', 'nope')")
    check(e == "sentiment_explain(): no model named 'nope' (see SELECT name FROM sentiment_models)", e)
    e = error(db, "SELECT * FROM sentiment_explain('x', 'default', 'letter')")
    check(e == "sentiment_explain(): granularity 'letter': use 'auto', 'word' or 'sentence'", e)
    e = error(db, "SELECT * FROM sentiment_explain")
    check(e == "sentiment_explain(): needs a text: SELECT * FROM sentiment_explain('some text' [, model "
               "[, granularity]])", e)
    # In a join, one explanation per row; NULL rows give none.
    db.execute("CREATE TEMP TABLE r(id INTEGER PRIMARY KEY, t TEXT)")
    db.executemany("INSERT INTO r(t) VALUES (?)", [("Good.",), (None,), ("Bad movie",)])
    got = db.execute("SELECT r.id, count(e.word) FROM r LEFT JOIN sentiment_explain(r.t) e "
                     "GROUP BY r.id ORDER BY r.id").fetchall()
    check(got == [(1, 2), (2, 0), (3, 2)], "join: %r" % got)


def main():
    os.environ.pop("SENTIMENT_MODEL", None)
    db = connect()
    test_nulls_errors(db)
    test_default(db)
    models = os.path.join(SHARED, "golden", "models")
    if os.path.isdir(models):
        test_tiny(db, os.path.realpath(models))
        test_auto(db)
    else:
        checks.skip_shared("no shared folder at %s: tiny-model checks skipped" % SHARED)
    try:
        import numpy  # noqa: F401  (make_random.py needs it; .ci/deps installs python3-numpy)
    except ImportError:
        skip("no numpy: a model without a positive label is not checked")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            test_no_positive(db, tmp)
    checks.finish()


if __name__ == "__main__":
    main()
