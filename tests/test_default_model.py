#!/usr/bin/python3
"""tests/test_default_model.py — the embedded default model is the one PyTorch trained.

models/default/val_logits.jsonl holds PyTorch's float32 logits (6 significant digits) and token
count for every IMDb validation review and the validation texts of reviews-multi whose
id % 50 == 0 (never trained on; train/slices.py). Here sentiment.so scores the same texts from
../shared/data/*.db.xz with its embedded model: the token counts must be equal, logits within
1e-3, argmax agreement >= 99.9%, accuracy floors below the shipped model's figures: IMDb
slice >= 86% (86.79%), the other sources' texts pooled >= 92.5% (92.53%), and model.safetensors
within the 32 MB the repository allows (19.2 MB, F16). Needs ../shared
(skips loudly without it; fails instead when SENTIMENT_REQUIRE_SHARED=1).
"""
import json
import lzma
import os
import shutil
import sqlite3
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("SENTIMENT_SHARED", os.path.join(ROOT, "..", "shared"))


def unpacked(name):
    """build/NAME.db, unpacked from SHARED/data/NAME.db.xz on first use; None without it."""
    xz = os.path.join(SHARED, "data", name + ".db.xz")
    db = os.path.join(ROOT, "build", name + ".db")
    if not os.path.exists(db):
        if not os.path.exists(xz):
            return None
        os.makedirs(os.path.dirname(db), exist_ok=True)
        with lzma.open(xz) as src, open(db + ".tmp", "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        os.replace(db + ".tmp", db)
    return db


def main():
    dbs = {"imdb": unpacked("imdb-train"), "multi": unpacked("reviews-multi")}
    if None in dbs.values():
        required = os.environ.get("SENTIMENT_REQUIRE_SHARED") == "1"
        print("%s test_default_model: %s/data/*.db.xz absent: the default model is NOT checked against PyTorch"
              % ("FAIL" if required else "SKIP", SHARED))
        print("test_default_model: 0 passed, %d failed, %d skipped" % (required, not required))
        return 1 if required else 0
    want = [json.loads(l) for l in open(os.path.join(ROOT, "models", "default", "val_logits.jsonl"))]
    env_model = os.environ.pop("SENTIMENT_MODEL", None)  # the embedded model, not an override
    con = sqlite3.connect(":memory:")
    con.enable_load_extension(True)
    con.load_extension(os.path.join(ROOT, "sentiment"))
    if env_model is not None:
        os.environ["SENTIMENT_MODEL"] = env_model
    for key, path in dbs.items():
        con.execute("ATTACH ? AS %s" % key, ("file:%s?mode=ro" % path,))
    passed = failed = 0
    agree = 0
    correct = {}
    max_diff = 0.0
    for w in want:
        text, label = con.execute("SELECT text, label FROM %s.reviews WHERE id = ?" % w["db"], (w["id"],)).fetchone()
        n_tok = con.execute("SELECT count(*) FROM sentiment_tokens(?)", (text,)).fetchone()[0]
        logits = json.loads(con.execute("SELECT sentiment_logits(?)", (text,)).fetchone()[0])
        pred = con.execute("SELECT sentiment(?)", (text,)).fetchone()[0]
        diff = max(abs(a - b) for a, b in zip(logits, w["logits"]))
        max_diff = max(max_diff, diff)
        if n_tok == w["ids_len"] and diff <= 1e-3:
            passed += 1
        else:
            failed += 1
            print("FAIL test_default_model: %s %d: %d tokens (PyTorch %d), logits %s vs %s"
                  % (w["db"], w["id"], n_tok, w["ids_len"], logits, w["logits"]))
        agree += pred == w["label"]
        ok, n = correct.get(w["source"], (0, 0))
        correct[w["source"]] = (ok + (pred == ("positive" if label == 1 else "negative")), n + 1)
    n = len(want)
    n_imdb = correct.get("imdb", (0, 0))[1]
    acc_imdb = correct["imdb"][0] / n_imdb if n_imdb else 0.0
    other = [v for k, v in correct.items() if k != "imdb"]
    n_other = sum(n for _, n in other)
    acc_other = sum(ok for ok, _ in other) / n_other if n_other else 0.0
    weights = os.path.getsize(os.path.join(ROOT, "models", "default", "model.safetensors"))
    for cond, what in ((weights <= 32 * 10**6, "model.safetensors is %d bytes (<= 32 MB committed)" % weights),
                       (n_imdb >= 2000, "IMDb validation slice has %d reviews" % n_imdb),
                       (agree >= 0.999 * n, "argmax agreement %d/%d" % (agree, n)),
                       (acc_imdb >= 0.86, "IMDb accuracy %.2f%% (>= 86%%)" % (100.0 * acc_imdb)),
                       (n_other >= 4000, "other sources' slice has %d texts" % n_other),
                       (acc_other >= 0.925, "other sources' accuracy %.2f%% (>= 92.5%%)" % (100.0 * acc_other))):
        if cond:
            passed += 1
        else:
            failed += 1
            print("FAIL test_default_model:", what)
    print("test_default_model: %d texts, argmax agreement %d/%d, max |dlogit| %.2e, IMDb accuracy %.2f%%, "
          "other sources %.2f%%" % (n, agree, n, max_diff, 100.0 * acc_imdb, 100.0 * acc_other))
    print("test_default_model: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
