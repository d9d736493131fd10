"""End-to-end test of train/finetune.py: fine-tune the golden tiny-distilbert for a few steps
on IMDb reviews, export to a temp folder, reload it, and require identical logits.

Usage: /usr/bin/python3 train/test_finetune.py          (about 20 s; skips without ../shared)
Uses /tmp/imdb-train.db when present, else unpacks ../shared/data/imdb-train.db.xz to a temp dir.
"""
import json
import lzma
import os
import shutil
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from pycheck import Checks  # noqa: E402
import finetune  # noqa: E402
import modeling  # noqa: E402
from safetensors_io import load_numpy  # noqa: E402
from wordpiece import WordPiece  # noqa: E402

SHARED = os.environ.get("SHARED", os.path.join(HERE, "..", "..", "shared"))
TEXTS = ["A wonderful, moving film. The cast is superb!", "Dull, predictable and far too long.", "",
         "hello [SEP] world", "x " * 700]


def main():
    checks = Checks("test_finetune")
    init = os.path.join(SHARED, "golden/models/tiny-distilbert")
    xz = os.path.join(SHARED, "data/imdb-train.db.xz")
    if not os.path.isdir(init) or not (os.path.exists("/tmp/imdb-train.db") or os.path.exists(xz)):
        checks.skip("../shared golden model or IMDb data not found")
        checks.finish()
    check = checks.check

    td = tempfile.mkdtemp(prefix="finetune-test-")
    try:
        db = "/tmp/imdb-train.db"
        if not os.path.exists(db):
            db = os.path.join(td, "imdb.db")
            with lzma.open(xz) as src, open(db, "wb") as dst:
                shutil.copyfileobj(src, dst)
        out = os.path.join(td, "out")
        model, cfg = finetune.run(["--init", init, "--out", out, "--db", db, "--max-steps", "4",
                                   "--limit", "64", "--eval-limit", "16", "--lr", "1e-3", "--threads", "1"])
        for f in ("config.json", "vocab.txt", "model.safetensors", "train_info.json"):
            check(os.path.exists(os.path.join(out, f)), "missing " + f)
        with open(os.path.join(out, "config.json")) as f:
            c = json.load(f)
        check(c["model_type"] == "distilbert" and c["architectures"] == ["DistilBertForSequenceClassification"],
              "config architecture")
        check(c["id2label"] == {"0": "negative", "1": "positive"}, "id2label")
        before, _ = load_numpy(os.path.join(init, "model.safetensors"))
        after, _ = load_numpy(os.path.join(out, "model.safetensors"))
        check(set(before) == set(after), "tensor names differ from the HF checkpoint")
        check(all(before[k].shape == after[k].shape and after[k].dtype == before[k].dtype for k in before),
              "tensor shapes/dtypes differ")
        check(any((before[k] != after[k]).any() for k in before), "weights did not change")

        reloaded, _, _ = modeling.from_pretrained(out)
        reloaded.eval()
        model.eval()
        tok = WordPiece(os.path.join(out, "vocab.txt"))
        with torch.no_grad():
            for t in TEXTS:
                x = torch.tensor([tok.encode(t, max_len=512)])
                a, b = model(x), reloaded(x)
                check(torch.equal(a, b), "logits differ after reload for %r: %s vs %s" % (t[:30], a, b))
    finally:
        shutil.rmtree(td, ignore_errors=True)
    checks.finish()


if __name__ == "__main__":
    sys.exit(main())
