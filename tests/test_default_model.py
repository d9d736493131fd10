#!/usr/bin/python3
"""tests/test_default_model.py — the embedded default model is the one PyTorch trained.

For every review of the validation slice (split='train' AND id % 10 = 0, never
trained on) models/default/val_logits.jsonl holds PyTorch's float32 logits
(6 significant digits) and token count. Here sentiment.so scores the same
texts from ../shared/data/imdb-train.db.xz with its embedded model: the token
counts must be equal, logits within 1e-3, argmax agreement >= 99.9%, and the
accuracy on the slice >= 88%. Needs ../shared (skips loudly without it).
"""
import json
import lzma
import os
import shutil
import sqlite3
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("SENTIMENT_SHARED", os.path.join(ROOT, "..", "shared"))
XZ = os.path.join(SHARED, "data", "imdb-train.db.xz")
DB = os.path.join(ROOT, "build", "imdb-train.db")


def main():
    if not os.path.exists(XZ):
        if os.environ.get("SENTIMENT_REQUIRE_SHARED") == "1":
            print("FAIL test_default_model: %s absent, and SENTIMENT_REQUIRE_SHARED=1" % XZ)
            print("test_default_model: 0 passed, 1 failed")
            return 1
        print("SKIP test_default_model: %s absent: the default model is NOT checked against PyTorch" % XZ)
        print("test_default_model: 0 passed, 0 failed, 1 skipped")
        return 0
    if not os.path.exists(DB):
        os.makedirs(os.path.dirname(DB), exist_ok=True)
        with lzma.open(XZ) as src, open(DB + ".tmp", "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        os.replace(DB + ".tmp", DB)
    want = [json.loads(l) for l in open(os.path.join(ROOT, "models", "default", "val_logits.jsonl"))]
    env_model = os.environ.pop("SENTIMENT_MODEL", None)  # the embedded model, not an override
    db = sqlite3.connect("file:%s?mode=ro" % DB, uri=True)
    db.enable_load_extension(True)
    db.load_extension(os.path.join(ROOT, "sentiment"))
    if env_model is not None:
        os.environ["SENTIMENT_MODEL"] = env_model
    passed = failed = 0
    agree = correct = 0
    max_diff = 0.0
    for w in want:
        text, label = db.execute("SELECT text, label FROM reviews WHERE id = ?", (w["id"],)).fetchone()
        n_tok = db.execute("SELECT count(*) FROM sentiment_tokens(?)", (text,)).fetchone()[0]
        logits = json.loads(db.execute("SELECT sentiment_logits(?)", (text,)).fetchone()[0])
        pred = db.execute("SELECT sentiment(?)", (text,)).fetchone()[0]
        diff = max(abs(a - b) for a, b in zip(logits, w["logits"]))
        max_diff = max(max_diff, diff)
        ok = n_tok == w["ids_len"] and diff <= 1e-3
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAIL test_default_model: review %d: %d tokens (PyTorch %d), logits %s vs %s"
                  % (w["id"], n_tok, w["ids_len"], logits, w["logits"]))
        agree += pred == w["label"]
        correct += pred == ("positive" if label == 1 else "negative")
    n = len(want)
    for cond, what in ((n >= 2400, "validation slice has %d reviews" % n),
                       (agree >= 0.999 * n, "argmax agreement %d/%d" % (agree, n)),
                       (correct >= 0.88 * n, "accuracy %.2f%% (>= 88%%)" % (100.0 * correct / n))):
        if cond:
            passed += 1
        else:
            failed += 1
            print("FAIL test_default_model:", what)
    print("test_default_model: %d reviews, argmax agreement %d/%d, max |dlogit| %.2e, accuracy %.2f%%"
          % (n, agree, n, max_diff, 100.0 * correct / n))
    print("test_default_model: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
