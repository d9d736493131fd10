"""Check models/default: HF layout, config fields, and that val_logits.jsonl is what PyTorch
computes from the committed model.safetensors for those reviews (tokenized here, from the
IMDb and reviews-multi databases, by train/wordpiece.py), and that the recorded IMDb validation
accuracy holds.

Usage: /usr/bin/python3 train/test_export.py [model_folder] [--all]
  default: 300 reviews spread over the slice (about 15 s); --all: every validation review.
Skips without the databases ($IMDB_DB/$MULTI_DB, /tmp/NAME.db or ../shared/data/NAME.db.xz).
"""
import json
import os
import sqlite3
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from pycheck import Checks  # noqa: E402
import modeling  # noqa: E402
import slices  # noqa: E402
from safetensors_io import load_numpy  # noqa: E402
from wordpiece import WordPiece  # noqa: E402

SHARED = os.environ.get("SHARED", os.path.join(HERE, "..", "..", "shared"))
TOL = 1e-4


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    folder = args[0] if args else os.path.join(HERE, "..", "models", "default")
    full = "--all" in sys.argv
    checks = Checks("test_export")
    check = checks.check

    for f in ("config.json", "vocab.txt", "model.safetensors", "val_logits.jsonl"):
        check(os.path.exists(os.path.join(folder, f)), "missing %s/%s" % (folder, f))
    if checks.failed:
        checks.finish()
    cfg = modeling.load_config(folder)
    check(cfg["model_type"] == "distilbert" and cfg["architectures"] == ["DistilBertForSequenceClassification"],
          "architecture")
    check(cfg["id2label"] == {"0": "negative", "1": "positive"}, "id2label")
    check(cfg["max_position_embeddings"] == 512 and cfg["vocab_size"] == 30522, "sizes")
    check(os.path.getsize(os.path.join(folder, "model.safetensors")) <= 32 * 1024 * 1024, "model over 32 MB")
    tensors, _ = load_numpy(os.path.join(folder, "model.safetensors"))
    check(all(v.dtype.name in ("float32", "float16") for v in tensors.values()), "dtype")

    rows = {}
    for name in ("imdb-train", "reviews-multi"):
        db = slices.find_db(name, SHARED)
        if db is None:
            checks.skip("logits check: %s database not found" % name)
            checks.finish()
        con = sqlite3.connect(db)
        where = (slices.IMDB_VAL_SQL if name == "imdb-train"
                 else slices.multi_proof_sql(slices.multi_val_sql(con)))
        key = "imdb" if name == "imdb-train" else "multi"
        rows.update({(key, i): (l, t) for i, l, t in con.execute(
            "SELECT id, label, text FROM reviews WHERE label IN (0, 1) AND " + where)})
        con.close()
    with open(os.path.join(folder, "val_logits.jsonl")) as f:
        recs = [json.loads(l) for l in f]
    check(sorted((r["db"], r["id"]) for r in recs) == sorted(rows), "val_logits ids are not the validation slices")
    acc = {}
    for r in recs:
        ok, n = acc.get(r["source"], (0, 0))
        acc[r["source"]] = (ok + ((r["label"] == "positive") == (rows[(r["db"], r["id"])][0] == 1)), n + 1)
    acc = {s: ok / n for s, (ok, n) in acc.items()}
    print("IMDb validation accuracy from val_logits.jsonl: %.4f (%d reviews)"
          % (acc["imdb"], sum(r["db"] == "imdb" for r in recs)))
    info = os.path.join(folder, "train_info.json")
    if os.path.exists(info):
        with open(info) as f:
            rec = json.load(f).get("val_acc", {}).get("imdb")
        if rec is not None:
            check(abs(rec - acc["imdb"]) < 1e-4, "train_info IMDb val_acc %.4f != %.4f" % (rec, acc["imdb"]))
    check(acc["imdb"] >= 0.86, "IMDb validation accuracy %.4f below 0.86" % acc["imdb"])

    sample = recs if full else recs[:: max(1, len(recs) // 300)]
    model, _, _ = modeling.from_pretrained(folder)
    model.eval()
    tok = WordPiece(os.path.join(folder, "vocab.txt"))
    worst = 0.0
    with torch.no_grad():
        for r in sample:
            ids = tok.encode(rows[(r["db"], r["id"])][1], max_len=512)
            check(len(ids) == r["ids_len"], "id %d: %d tokens, file says %d" % (r["id"], len(ids), r["ids_len"]))
            got = model(torch.tensor([ids]))[0]
            d = (got - torch.tensor(r["logits"])).abs().max().item()
            worst = max(worst, d)
            check(d <= TOL, "id %d: logits %s vs %s" % (r["id"], got.tolist(), r["logits"]))
    print("logits of %d reviews, max |diff| %.3g" % (len(sample), worst))
    checks.finish()


if __name__ == "__main__":
    sys.exit(main())
