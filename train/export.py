"""Export a trained model to the HuggingFace layout the C engine loads.

  <folder>/config.json         HF DistilBertConfig / BertConfig fields
  <folder>/vocab.txt           bert-base-uncased vocabulary (30,522 entries)
  <folder>/model.safetensors   F32 (or F16 with --f16), HF tensor names
  <folder>/val_logits.jsonl    {"db", "id", "source", "ids_len", "logits", "label"}: float32
                               PyTorch logits for every IMDb validation review and the
                               validation texts of reviews-multi with id % 50 == 0
                               (slices.multi_proof_sql), so a C-side test
                               can check that the engine's predictions equal PyTorch's
  <folder>/train_info.json     how the model was made and its validation accuracy

Usage:
  /usr/bin/python3 train/export.py train/runs/best.pt models/default [--f16] [--db /tmp/imdb-train.db]
"""
import argparse
import json
import os
import shutil
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import modeling  # noqa: E402
from safetensors_io import save_torch  # noqa: E402

SHARED_VOCAB = os.path.join(HERE, "..", "..", "shared", "vocab", "bert-base-uncased", "vocab.txt")
CACHE = os.path.join(HERE, "cache")


def _vocab_source(folder):
    for p in (os.path.join(folder, "vocab.txt"), os.path.join(HERE, "..", "models", "default", "vocab.txt"),
              SHARED_VOCAB):
        if os.path.exists(p):
            return p
    raise FileNotFoundError("no vocab.txt found")


def export(model, cfg, folder, train_info=None, f16=False, vocab=None, val_logits=True, cache=CACHE):
    """Write config.json, vocab.txt, model.safetensors (+ val_logits.jsonl, train_info.json)."""
    os.makedirs(folder, exist_ok=True)
    vocab = vocab or _vocab_source(folder)
    dst_vocab = os.path.join(folder, "vocab.txt")
    if os.path.abspath(vocab) != os.path.abspath(dst_vocab):
        shutil.copyfile(vocab, dst_vocab)
    cfg = dict(cfg)
    cfg["torch_dtype"] = "float16" if f16 else "float32"
    tmp = os.path.join(folder, "model.safetensors.tmp")
    save_torch(model.state_dict(), tmp, dtype="F16" if f16 else "F32", metadata={"format": "pt"})
    os.replace(tmp, os.path.join(folder, "model.safetensors"))
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    if train_info is not None:
        with open(os.path.join(folder, "train_info.json"), "w") as f:
            json.dump(train_info, f, indent=1)
            f.write("\n")
    if val_logits and os.path.exists(os.path.join(cache, "tokens.npz")):
        write_val_logits(folder, cache)


def write_val_logits(folder, cache=CACHE):
    """Reload the exported folder (so the logits are those of the file, F16 rounding included)
    and write float32 logits for every validation review."""
    model, cfg, _ = modeling.from_pretrained(folder)
    model.eval()
    tok = np.load(os.path.join(cache, "tokens.npz"))
    with open(os.path.join(cache, "sources.json")) as f:
        sources = json.load(f)
    corpus, rid, src, off, flat = tok["corpus"], tok["rid"], tok["source"], tok["offsets"], tok["flat"]
    proof = tok["val"] & (tok["label"] >= 0) & ((corpus == 0) | (rid % 50 == 0))
    lines = []
    with torch.no_grad():
        for i in np.nonzero(proof)[0]:
            x = torch.from_numpy(flat[off[i]:off[i + 1]].astype(np.int64))[None]
            lg = model(x)[0].tolist()
            lines.append(json.dumps({"db": "imdb" if corpus[i] == 0 else "multi", "id": int(rid[i]),
                                     "source": sources[src[i]], "ids_len": int(x.shape[1]),
                                     "logits": [float("%.6g" % v) for v in lg],
                                     "label": cfg["id2label"][str(int(np.argmax(lg)))]}))
    tmp = os.path.join(folder, "val_logits.jsonl.tmp")
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, os.path.join(folder, "val_logits.jsonl"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint", help="train/runs/best.pt (from train_student.py)")
    ap.add_argument("folder", nargs="?", default=os.path.join(HERE, "..", "models", "default"))
    ap.add_argument("--f16", action="store_true")
    a = ap.parse_args()
    ck = torch.load(a.checkpoint, map_location="cpu")
    model = modeling.build(ck["config"])
    model.load_state_dict(ck["state_dict"])
    info = dict(ck.get("eval") or {})
    info["params"] = sum(p.numel() for p in model.parameters())
    export(model, ck["config"], a.folder, train_info=info, f16=a.f16)
    print("exported %s (%s) to %s" % (a.checkpoint, "F16" if a.f16 else "F32", a.folder))


if __name__ == "__main__":
    main()
