#!/usr/bin/python3
"""sql/eval_slices.py — per-source accuracy of a model on the default model's validation slices.

  sql/eval_slices.py [--model NAME [--dir FOLDER]] [--baseline build/baseline/teacher.json]
                     [--calibration]

Scores, through sentiment_scan (batched, all cores), the IMDb validation slice and the validation
slice of every reviews-multi source (train/slices.py: never trained on), with the embedded
default model or the model registered from FOLDER. A text counts as positive when its
P(positive) > 0.5. With --baseline it prints the TF-IDF+LR baseline's accuracy on the same slices
beside it (written by `make eval-baseline`). With --calibration it also prints how often the
predicted label is right at each confidence (P of the predicted label, in bins), for IMDb and
for the other sources' texts pooled, and the expected calibration error. Databases: $IMDB_DB / $MULTI_DB, /tmp/NAME.db, or
unpacked from ../shared/data.
"""
import argparse
import json
import os
import sqlite3
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "train"))
import slices  # noqa: E402

SHARED = os.environ.get("SHARED", os.path.join(ROOT, "..", "shared"))
CONFIDENCE_BINS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)


def calibration(pairs):
    """pairs: (P(predicted label), right 0/1) per text -> ([(lo, hi, texts, mean confidence,
    share right)] for the non-empty bins of CONFIDENCE_BINS, expected calibration error: the
    text-weighted mean of |mean confidence - share right| over those bins)."""
    table, ece = [], 0.0
    for lo, hi in zip(CONFIDENCE_BINS, CONFIDENCE_BINS[1:]):
        b = [(c, ok) for c, ok in pairs if lo <= c < hi or (hi == CONFIDENCE_BINS[-1] and c == hi)]
        if b:
            conf, acc = sum(c for c, _ in b) / len(b), sum(ok for _, ok in b) / len(b)
            table.append((lo, hi, len(b), conf, acc))
            ece += len(b) / len(pairs) * abs(conf - acc)
    return table, ece


def print_calibration(con, key, title):
    """The reliability table of the scores in pred_KEY against KEY.reviews' labels."""
    pairs = con.execute("SELECT max(p.score, 1 - p.score), (p.score > 0.5) = (r.label = 1) FROM pred_%s p "
                        "JOIN %s.reviews r ON r.id = p.key" % (key, key)).fetchall()
    table, ece = calibration(pairs)
    print("\n%s: %d texts\n\n| P(predicted label) | texts | mean confidence | right |\n|---|---:|---:|---:|"
          % (title, len(pairs)))
    for lo, hi, n, conf, acc in table:
        print("| %.2f-%.2f | %d | %.3f | %.1f%% |" % (lo, hi, n, conf, 100 * acc))
    print("\nexpected calibration error: %.4f" % ece)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="default")
    ap.add_argument("--dir")
    ap.add_argument("--baseline")
    ap.add_argument("--calibration", action="store_true")
    a = ap.parse_args()
    con = sqlite3.connect(":memory:")
    con.enable_load_extension(True)
    con.load_extension(os.path.join(ROOT, "sentiment"))
    if a.dir:
        con.execute("INSERT INTO sentiment_models(name, path) VALUES (?, ?)", (a.model, a.dir))
    base = {}
    if a.baseline:
        with open(a.baseline) as f:
            base = json.load(f)["val"]["baseline"]
    results = []
    for name, key in (("imdb-train", "imdb"), ("reviews-multi", "multi")):
        db = slices.find_db(name, SHARED)
        if db is None:
            sys.exit("%s database not found (../shared/data/%s.db.xz)" % (name, name))
        where = slices.IMDB_VAL_SQL
        if key == "multi":
            own = sqlite3.connect(db)
            where = slices.multi_val_sql(own)
            own.close()
        con.execute("ATTACH ? AS %s" % key, ("file:%s?mode=ro" % db,))
        src = "'imdb'" if key == "imdb" else "source"
        inner = "SELECT id, text FROM %s.reviews WHERE label IN (0, 1) AND %s" % (key, where)
        t0 = time.time()
        con.execute("CREATE TEMP TABLE pred_%s AS SELECT key, score FROM sentiment_scan(?, ?)" % key,
                    (inner, a.model))
        secs = time.time() - t0
        for s, n, acc in con.execute(
                "SELECT %s, count(*), avg((p.score > 0.5) = (r.label = 1)) FROM pred_%s p "
                "JOIN %s.reviews r ON r.id = p.key GROUP BY 1 ORDER BY 1" % (src, key, key)):
            results.append((s, n, acc))
        print("%s: %.1f s" % (key, secs), file=sys.stderr)
    print("| source | texts | %s |%s" % (a.model, " TF-IDF+LR |" if base else ""))
    print("|---|---:|---:|%s" % ("---:|" if base else ""))
    for s, n, acc in results:
        extra = " %.2f%% |" % (100 * base[s]) if s in base else (" |" if base else "")
        print("| %s | %d | %.2f%% |%s" % (s, n, 100 * acc, extra))
    others = [acc for s, n, acc in results if s != "imdb"]
    print("| mean of the %d other sources | | %.2f%% |%s" % (
        len(others), 100 * sum(others) / len(others),
        " %.2f%% |" % (100 * sum(v for k, v in base.items() if k not in ("imdb", "imdb-unsup")) /
                       max(1, len([k for k in base if k not in ("imdb", "imdb-unsup")]))) if base else ""))
    if a.calibration:
        print_calibration(con, "imdb", "IMDb validation slice")
        print_calibration(con, "multi", "the other sources' validation slices, pooled")


if __name__ == "__main__":
    main()
