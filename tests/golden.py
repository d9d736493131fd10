"""tests/golden.py — score the golden texts of both tiny models
(../shared/golden/models/tiny-*/expected.jsonl) on a sqlite3 connection that
has the extension loaded: the check every package test makes of the library
it installed."""
import json
import os


def models_dir(shared):
    """The golden models' folder, or None when ../shared is absent."""
    d = os.path.join(shared, "golden", "models")
    return d if os.path.isdir(d) else None


def score(db, models):
    """(texts whose label or P(positive) differs from expected.jsonl by more
    than 1e-4, texts scored). Registers the models as tiny-distilbert and
    tiny-bert on db."""
    bad = total = 0
    for name in ("tiny-distilbert", "tiny-bert"):
        folder = os.path.join(models, name)
        db.execute("INSERT OR REPLACE INTO sentiment_models(name, path) VALUES (?, ?)", (name, folder))
        for line in open(os.path.join(folder, "expected.jsonl"), encoding="utf-8"):
            r = json.loads(line)
            label, p = db.execute("SELECT sentiment(?1, ?2), sentiment_score(?1, ?2)",
                                  (r["text"], name)).fetchone()
            total += 1
            bad += label != r["label"] or abs(p - r["probs"][1]) > 1e-4
    return bad, total
