"""Check models/default: HF layout, config fields, and that val_logits.jsonl is what PyTorch
computes from the committed model.safetensors for those reviews (tokenized here, from the
IMDb database, by train/wordpiece.py), and that the recorded validation accuracy holds.

Usage: /usr/bin/python3 train/test_export.py [model_folder] [--all]
  default: 300 reviews spread over the slice (about 15 s); --all: every validation review.
Skips without the IMDb database (/tmp/imdb-train.db or ../shared/data/imdb-train.db.xz).
"""
import json
import lzma
import os
import shutil
import sqlite3
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import modeling  # noqa: E402
from safetensors_io import load_numpy  # noqa: E402
from wordpiece import WordPiece  # noqa: E402

SHARED = os.environ.get("SHARED", os.path.join(HERE, "..", "..", "shared"))
TOL = 1e-4


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    folder = args[0] if args else os.path.join(HERE, "..", "models", "default")
    full = "--all" in sys.argv
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        passed, failed = passed + bool(ok), failed + (not ok)
        if not ok:
            print("FAIL", what)

    for f in ("config.json", "vocab.txt", "model.safetensors", "val_logits.jsonl"):
        check(os.path.exists(os.path.join(folder, f)), "missing %s/%s" % (folder, f))
    if failed:
        print("%d passed, %d failed" % (passed, failed))
        return 1
    cfg = modeling.load_config(folder)
    check(cfg["model_type"] == "distilbert" and cfg["architectures"] == ["DistilBertForSequenceClassification"],
          "architecture")
    check(cfg["id2label"] == {"0": "negative", "1": "positive"}, "id2label")
    check(cfg["max_position_embeddings"] == 512 and cfg["vocab_size"] == 30522, "sizes")
    check(os.path.getsize(os.path.join(folder, "model.safetensors")) <= 32 * 1024 * 1024, "model over 32 MB")
    tensors, _ = load_numpy(os.path.join(folder, "model.safetensors"))
    check(all(v.dtype.name in ("float32", "float16") for v in tensors.values()), "dtype")

    db = "/tmp/imdb-train.db"
    xz = os.path.join(SHARED, "data/imdb-train.db.xz")
    td = None
    if not os.path.exists(db):
        if not os.path.exists(xz):
            print("SKIP logits check: IMDb database not found")
            print("%d passed, %d failed" % (passed, failed))
            return 1 if failed else 0
        td = tempfile.mkdtemp()
        db = os.path.join(td, "imdb.db")
        with lzma.open(xz) as src, open(db, "wb") as dst:
            shutil.copyfileobj(src, dst)
    try:
        con = sqlite3.connect(db)
        rows = {i: (l, t) for i, l, t in con.execute(
            "SELECT id, label, text FROM reviews WHERE split = 'train' AND id % 10 = 0")}
        con.close()
    finally:
        if td:
            shutil.rmtree(td, ignore_errors=True)
    with open(os.path.join(folder, "val_logits.jsonl")) as f:
        recs = [json.loads(l) for l in f]
    check(sorted(r["id"] for r in recs) == sorted(rows), "val_logits ids are not the validation slice")
    acc = sum((r["label"] == "positive") == (rows[r["id"]][0] == 1) for r in recs) / len(recs)
    print("validation accuracy from val_logits.jsonl: %.4f (%d reviews)" % (acc, len(recs)))
    info = os.path.join(folder, "train_info.json")
    if os.path.exists(info):
        with open(info) as f:
            rec = json.load(f).get("val_acc")
        if rec is not None:
            check(abs(rec - acc) < 1e-9, "train_info val_acc %.4f != %.4f" % (rec, acc))
    check(acc >= 0.88, "validation accuracy %.4f below 0.88" % acc)

    sample = recs if full else recs[:: max(1, len(recs) // 300)]
    model, _, _ = modeling.from_pretrained(folder)
    model.eval()
    tok = WordPiece(os.path.join(folder, "vocab.txt"))
    worst = 0.0
    with torch.no_grad():
        for r in sample:
            ids = tok.encode(rows[r["id"]][1], max_len=512)
            check(len(ids) == r["ids_len"], "id %d: %d tokens, file says %d" % (r["id"], len(ids), r["ids_len"]))
            got = model(torch.tensor([ids]))[0]
            d = (got - torch.tensor(r["logits"])).abs().max().item()
            worst = max(worst, d)
            check(d <= TOL, "id %d: logits %s vs %s" % (r["id"], got.tolist(), r["logits"]))
    print("logits of %d reviews, max |diff| %.3g" % (len(sample), worst))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
