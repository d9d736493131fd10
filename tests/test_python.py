#!/usr/bin/python3
"""tests/test_python.py — sentiment.so from Python's own sqlite3 module.

Debian's /usr/bin/python3 (its sqlite3 module can load extensions): load the
library as a Python user would, score every golden text with both tiny
models, and check labels, probabilities (1e-4), the tokens, the errors, and
that threads of one process share a model.
"""
import json
import os
import sqlite3
import sys
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("SENTIMENT_SHARED", os.path.join(ROOT, "..", "shared"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pycheck import Checks  # noqa: E402

T = Checks("test_python")
check, skip = T.check, T.skip


def connect():
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.enable_load_extension(True)
    db.load_extension(os.path.join(ROOT, "sentiment"))  # sentiment.so
    db.enable_load_extension(False)
    return db


def main():
    os.environ.pop("SENTIMENT_MODEL", None)
    db = connect()
    check(db.execute("SELECT sentiment_version()").fetchone()[0].count(".") == 2, "version")
    check(db.execute("SELECT sentiment(NULL)").fetchone()[0] is None, "NULL in, NULL out")
    try:
        db.execute("SELECT sentiment('x', 'nope')").fetchone()
        check(False, "unknown model: no error")
    except sqlite3.OperationalError as e:
        check(str(e) == "sentiment(): no model named 'nope' (see SELECT name FROM sentiment_models)",
              "unknown model error: %s" % e)

    models = os.path.join(SHARED, "golden", "models")
    if not os.path.isdir(models):
        T.skip_shared("no shared folder at %s: golden checks skipped" % SHARED)
        return
    for name in ("tiny-distilbert", "tiny-bert"):
        folder = os.path.join(models, name)
        db.execute("INSERT INTO sentiment_models(name, path) VALUES (?, ?)", (name, folder))
        labels = json.loads(db.execute("SELECT labels FROM sentiment_models WHERE name = ?",
                                       (name,)).fetchone()[0])
        rows = [json.loads(line) for line in open(os.path.join(folder, "expected.jsonl"), encoding="utf-8")]
        bad_label = bad_prob = bad_ids = 0
        for r in rows:
            label, score, scores, logits = db.execute(
                "SELECT sentiment(?1, ?2), sentiment_score(?1, ?2), sentiment_scores(?1, ?2), "
                "sentiment_logits(?1, ?2)", (r["text"], name)).fetchone()
            scores, logits = json.loads(scores), json.loads(logits)
            ids = [i for (i,) in db.execute(
                "SELECT id FROM sentiment_tokens(?, ?) ORDER BY pos", (r["text"], name))]
            bad_label += label != r["label"]
            bad_prob += (abs(score - r["probs"][1]) > 1e-4
                         or any(abs(scores[l] - p) > 1e-4 for l, p in zip(labels, r["probs"]))
                         or any(abs(a - b) > 1e-4 for a, b in zip(logits, r["logits"])))
            bad_ids += ids != r["ids"]
        check(bad_label == 0, "%s: %d of %d labels differ" % (name, bad_label, len(rows)))
        check(bad_prob == 0, "%s: %d of %d texts have a probability or logit off by > 1e-4"
              % (name, bad_prob, len(rows)))
        check(bad_ids == 0, "%s: %d of %d token id lists differ" % (name, bad_ids, len(rows)))

    # Errors reach Python as sqlite3 exceptions with the extension's text.
    try:
        db.execute("INSERT INTO sentiment_models(name, path) VALUES ('x', '/nonexistent')")
        check(False, "bad path: no error")
    except sqlite3.OperationalError as e:
        check(str(e) == "sentiment_models: cannot open model '/nonexistent': No such file or directory",
              "bad path error: %s" % e)

    # Threads, each with its own connection: same answers, one load per model.
    texts = [json.loads(l)["text"] for l in open(os.path.join(models, "tiny-bert", "expected.jsonl"),
                                                    encoding="utf-8")][:40]
    want = [db.execute("SELECT sentiment_logits(?, 'tiny-bert')", (t,)).fetchone()[0] for t in texts]
    results = {}

    def work(k):
        c = connect()
        c.execute("INSERT INTO sentiment_models(name, path) VALUES ('m', ?)",
                  (os.path.join(models, "tiny-bert"),))
        results[k] = [c.execute("SELECT sentiment_logits(?, 'm')", (t,)).fetchone()[0] for t in texts]
        c.close()

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(all(results.get(k) == want for k in range(4)), "threads gave different logits")
    loads = db.execute("SELECT loads FROM sentiment_models WHERE name = 'tiny-bert'").fetchone()[0]
    check(loads == 1, "tiny-bert loaded %d times, want 1" % loads)


main()
T.finish()
