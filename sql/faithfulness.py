#!/usr/bin/python3
"""sql/faithfulness.py — are sentiment_explain's weights faithful to the model?

    sql/faithfulness.py DB [N] [MODEL_NAME [MODEL_DIR]]
    sql/faithfulness.py build/imdb-train.db 250        # make faithfulness

For each of the first N reviews (by id) of the default model's IMDb validation
slice (train/slices.py: whole blocks of film), with the text cut to what the
model reads:

  y        the predicted label, p = P(y | text)
  top 3    the 3 words with the largest weight toward y (the weights measure
           P(label), sentiment_explain's label column: negated when that is not
           y — a two-label model)
  random 3 3 distinct words drawn at random (seeded with the review id)
  drop     p − P(y | text with those words deleted), each deleted word's bytes
           replaced by one space (so its neighbours stay separate words)

and counts the reviews where deleting the top 3 lowers p more than deleting
the random 3 (strictly), against one random draw and against the mean of 10.
The target is at least 90% of reviews. Words are sentiment_explain's units at
granularity 'word' (punctuation marks are words too, as BERT splits them).
Prints one line per 50 reviews, then the summary; exits 1 below 90%.
Needs Debian's /usr/bin/python3 (its sqlite3 module can load extensions) and
the built sentiment.so beside this folder.
"""
import os
import random
import sqlite3
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "train"))
from slices import IMDB_VAL_SQL  # noqa: E402
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = 0.90


def main():
    if len(sys.argv) < 2:
        print(__doc__.strip().split("\n\n")[1])
        return 2
    path = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 250
    model = sys.argv[3] if len(sys.argv) > 3 else "default"
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db.enable_load_extension(True)
    db.load_extension(os.path.join(HERE, "..", "sentiment"))
    db.enable_load_extension(False)
    if len(sys.argv) > 4:
        db.execute("INSERT INTO sentiment_models(name, path) VALUES (?, ?)", (model, sys.argv[4]))

    def prob(text, label):
        return db.execute("SELECT sentiment_scores(?, ?) ->> ?", (text, model, f'$."{label}"')).fetchone()[0]

    def delete(data, units):
        out, at = [], 0
        for s, e in sorted(units):
            out += [data[at:s], b" "]
            at = e
        out.append(data[at:])
        return b"".join(out).decode("utf-8", "surrogateescape")

    rows = db.execute(
        "SELECT id, text FROM reviews WHERE " + IMDB_VAL_SQL + " ORDER BY id LIMIT ?", (n,)).fetchall()
    wins1 = wins10 = counted = 0
    d_top, d_rand = [], []
    t0 = time.time()
    for i, (rid, text) in enumerate(rows, 1):
        units = db.execute("SELECT start, end, weight, label FROM sentiment_explain(?, ?, 'word')",
                           (text, model)).fetchall()
        if len(units) < 6:
            continue
        data = text.encode("utf-8", "surrogateescape")[: max(u[1] for u in units)]  # what the model reads
        read = data.decode("utf-8", "surrogateescape")
        y = db.execute("SELECT sentiment(?, ?)", (read, model)).fetchone()[0]
        p = prob(read, y)
        sign = 1 if units[0][3] == y else -1  # weights measure P(label): toward y, or away (2 labels)
        top = sorted(units, key=lambda u: -sign * u[2])[:3]
        drop_top = p - prob(delete(data, [u[:2] for u in top]), y)
        rng = random.Random(rid)
        drops = [p - prob(delete(data, [u[:2] for u in rng.sample(units, 3)]), y) for _ in range(10)]
        counted += 1
        wins1 += drop_top > drops[0]
        wins10 += drop_top > statistics.mean(drops)
        d_top.append(drop_top)
        d_rand.append(drops[0])
        if i % 50 == 0:
            print(f"{i} reviews, {time.time() - t0:.0f} s: top-3 beats 1 random draw in {wins1}/{counted}",
                  flush=True)
    print(f"model {model}: {counted} reviews (of {len(rows)}; fewer than 6 words skipped), {time.time() - t0:.0f} s")
    print(f"top-3 deletion lowers P(predicted label) more than 3 random words: "
          f"{wins1}/{counted} = {100 * wins1 / counted:.1f}% (one random draw), "
          f"{wins10}/{counted} = {100 * wins10 / counted:.1f}% (mean of 10 draws); target {100 * TARGET:.0f}%")
    print(f"median drop: top-3 {statistics.median(d_top):.4f}, random 3 {statistics.median(d_rand):.4f}")
    return 0 if wins1 >= TARGET * counted else 1


if __name__ == "__main__":
    sys.exit(main())
