"""Fine-tune a pretrained HF DistilBERT/BERT folder on IMDb and export it (model card recipe).

For users who have a real pretrained checkpoint, e.g. distilbert-base-uncased
(config.json + vocab.txt + model.safetensors): this reaches the ~93% of the published IMDb
models, which a from-scratch model trained on 2 CPU cores cannot.

  /usr/bin/python3 train/finetune.py --init path/to/distilbert-base-uncased --out models/imdb \
      [--db /tmp/imdb-train.db] [--epochs 5] [--max-steps N] [--limit N]

Recipe (HF Trainer defaults as used by the IMDb model cards): train split minus the validation
slice (train/slices.py), lr 2e-5, batch 16, Adam beta (0.9, 0.999), eps 1e-8, no weight decay,
linear decay to 0 without warmup, 5 epochs, seed 42, inputs [CLS] + first 510 pieces + [SEP].
A checkpoint without a classification head (a base model) gets a fresh 2-label head;
labels are always id2label {0: negative, 1: positive}.
"""
import argparse
import json
import os
import random
import sqlite3
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import export  # noqa: E402
import modeling  # noqa: E402
from safetensors_io import load_torch  # noqa: E402
from slices import imdb_is_val  # noqa: E402
from wordpiece import WordPiece  # noqa: E402


def parse(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--init", required=True, help="HF folder: config.json, vocab.txt, model.safetensors")
    ap.add_argument("--out", required=True, help="output folder (HF layout)")
    ap.add_argument("--db", default="/tmp/imdb-train.db")
    ap.add_argument("--epochs", type=float, default=5)
    ap.add_argument("--max-steps", type=int, default=0, help="stop after N optimizer steps (0: no limit)")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N training reviews (tests)")
    ap.add_argument("--eval-limit", type=int, default=-1, help="validation reviews to score (-1: all, 0: none)")
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--f16", action="store_true", help="export F16 weights")
    return ap.parse_args(argv)


def load_split(db, tok, limit=0, val_limit=-1):
    if not os.path.exists(db):
        raise SystemExit("%s not found: xz -dkc ../shared/data/imdb-train.db.xz > %s" % (db, db))
    con = sqlite3.connect(db)
    rows = con.execute("SELECT id, label, file, text FROM reviews WHERE split = 'train' ORDER BY id").fetchall()
    con.close()
    tr = [(l, t) for i, l, f, t in rows if not imdb_is_val("train", f)][: limit or None]
    va = [(i, l, t) for i, l, f, t in rows if imdb_is_val("train", f)][: None if val_limit < 0 else val_limit]
    train = [(tok.encode(t, max_len=512), l) for l, t in tr]
    val = [(i, tok.encode(t, max_len=512), l) for i, l, t in va]
    return train, val


def run(argv=None):
    a = parse(argv)
    torch.set_num_threads(a.threads)
    random.seed(a.seed)
    np.random.seed(a.seed)
    torch.manual_seed(a.seed)

    cfg = modeling.load_config(a.init)
    cfg["id2label"] = {"0": "negative", "1": "positive"}
    cfg["label2id"] = {"negative": 0, "positive": 1}
    cfg["architectures"] = ["DistilBertForSequenceClassification" if cfg["model_type"] == "distilbert"
                            else "BertForSequenceClassification"]
    model = modeling.build(cfg)
    sd = load_torch(os.path.join(a.init, "model.safetensors"), dtype=torch.float32)
    own = model.state_dict()
    usable = {k: v for k, v in sd.items() if k in own and tuple(v.shape) == tuple(own[k].shape)}
    missing, _ = model.load_state_dict(usable, strict=False)
    body_missing = [k for k in missing if not k.startswith(("classifier", "pre_classifier", "bert.pooler"))]
    if body_missing:
        raise SystemExit("checkpoint lacks encoder weights: %s" % ", ".join(body_missing[:5]))
    if missing:
        print("fresh weights for: %s" % ", ".join(missing))

    tok = WordPiece(os.path.join(a.init, "vocab.txt"))
    t0 = time.time()
    train, val = load_split(a.db, tok, a.limit, a.eval_limit)
    print("tokenized %d train / %d val reviews in %.1fs" % (len(train), len(val), time.time() - t0), flush=True)

    steps_per_epoch = (len(train) + a.batch - 1) // a.batch
    total = int(round(a.epochs * steps_per_epoch))
    if a.max_steps:
        total = min(total, a.max_steps)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, (total - s) / max(1, total)))
    g = torch.Generator().manual_seed(a.seed)
    model.train()
    step, t0 = 0, time.time()
    while step < total:
        for bi in torch.randperm(len(train), generator=g).split(a.batch):
            if step >= total:
                break
            x, mask = modeling.pad_batch([train[i][0] for i in bi.tolist()])
            y = torch.tensor([train[i][1] for i in bi.tolist()])
            loss = F.cross_entropy(model(x, mask), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # HF Trainer max_grad_norm
            opt.step()
            sched.step()
            step += 1
            if step % 50 == 0 or step == total:
                print("step %d/%d loss %.4f %.1f min" % (step, total, loss.item(), (time.time() - t0) / 60), flush=True)
    model.eval()

    info = {"recipe": "finetune.py", "init": os.path.abspath(a.init), "steps": step, "epochs": a.epochs,
            "lr": a.lr, "batch": a.batch, "seed": a.seed, "train_reviews": len(train)}
    n_eval = len(val) if a.eval_limit < 0 else min(a.eval_limit, len(val))
    if n_eval:
        correct = 0
        with torch.no_grad():
            for _, ids, l in val[:n_eval]:
                correct += int(model(torch.tensor([ids]))[0].argmax()) == l
        info["val_acc"] = correct / n_eval
        info["val_reviews"] = n_eval
        print("validation accuracy %.4f on %d reviews" % (info["val_acc"], n_eval), flush=True)
    export.export(model, cfg, a.out, train_info=info, f16=a.f16, vocab=os.path.join(a.init, "vocab.txt"),
                  val_logits=False)
    print("exported to %s" % a.out)
    return model, cfg


if __name__ == "__main__":
    run()
