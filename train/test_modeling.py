"""train/modeling.py against the golden tiny models: every expected logit within 1e-4,
in float32 and float64, plus a safetensors write/read round trip.

Usage: /usr/bin/python3 train/test_modeling.py      (skips when ../shared is absent; a failure
                                                    when SENTIMENT_REQUIRE_SHARED=1, as in CI)
"""
import json
import os
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
import modeling  # noqa: E402
from pycheck import Checks  # noqa: E402
from safetensors_io import load_numpy, save_torch  # noqa: E402

SHARED = os.environ.get("SHARED", os.path.join(HERE, "..", "..", "shared"))
TOL = 1e-4


def check_model(checks, folder, dtype):
    model, cfg, _ = modeling.from_pretrained(folder, dtype=dtype)
    model.eval()
    worst = 0.0
    with open(os.path.join(folder, "expected.jsonl"), encoding="utf-8") as f:
        cases = [json.loads(l) for l in f]
    with torch.no_grad():
        for c in cases:
            ids = torch.tensor([c["ids"]])
            got = model(ids, torch.ones_like(ids))[0].double()
            want = torch.tensor(c["logits"], dtype=torch.float64)
            d = (got - want).abs().max().item()
            worst = max(worst, d)
            label = cfg["id2label"][str(int(got.argmax()))]
            checks.check(d <= TOL and label == c["label"], "%s %s: %r want %r" % (
                os.path.basename(folder), dtype, got.tolist(), c["logits"]))
    # a padded batch must give the same logits as the unpadded rows
    with torch.no_grad():
        rows = [c["ids"] for c in cases[:8]]
        ids, mask = modeling.pad_batch(rows)
        batched = model(ids, mask).double()
        for i, c in enumerate(cases[:8]):
            d = (batched[i] - torch.tensor(c["logits"], dtype=torch.float64)).abs().max().item()
            checks.check(d <= TOL, "%s %s padded batch row %d: diff %.3g" % (os.path.basename(folder), dtype, i, d))
    print("%-16s %-14s max |diff| %.3g" % (os.path.basename(folder), str(dtype), worst))


def check_roundtrip(checks, folder):
    src, _ = load_numpy(os.path.join(folder, "model.safetensors"))
    model, _, _ = modeling.from_pretrained(folder)
    with tempfile.TemporaryDirectory() as td:
        p = os.path.join(td, "m.safetensors")
        save_torch(model.state_dict(), p, dtype="F32", metadata={"format": "pt"})
        with open(p, "rb") as f:
            n = int.from_bytes(f.read(8), "little")
        back, meta = load_numpy(p)
    ok = (n % 8 == 0 and set(back) == set(src) and meta == {"format": "pt"}
          and all((back[k] == src[k]).all() and back[k].shape == src[k].shape for k in src))
    checks.check(ok, "safetensors round trip of %s" % folder)


def main():
    checks = Checks("test_modeling")
    folders = [os.path.join(SHARED, "golden/models", m) for m in ("tiny-distilbert", "tiny-bert")]
    if not all(os.path.isdir(f) for f in folders):
        checks.skip_shared("golden models not found under %s" % SHARED)
        checks.finish()
    for folder in folders:
        for dtype in (torch.float32, torch.float64):
            check_model(checks, folder, dtype)
        check_roundtrip(checks, folder)
    checks.finish()


if __name__ == "__main__":
    sys.exit(main())
