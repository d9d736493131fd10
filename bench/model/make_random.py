#!/usr/bin/python3
"""bench/model/make_random.py — a DistilBERT-base-sized sequence classifier
with random weights, in HuggingFace layout, for `make bench-model`.

    /usr/bin/python3 bench/model/make_random.py OUT_DIR [VOCAB_TXT]

Writes OUT_DIR/config.json, vocab.txt (VOCAB_TXT copied when given and
present, else 30,522 placeholder pieces) and model.safetensors (F32, 8-byte
aligned header, 66,955,010 parameters, 268 MB). Shapes are those of
distilbert-base-uncased + a 2-label head; values are N(0, 0.02) weights,
LayerNorm weights 1, biases 0 (numpy seed 0), so the logits are meaningless
but the work per token is exactly the real model's. Never commit the output.
"""
import json
import os
import shutil
import struct
import sys

import numpy as np

V, P, D, H, F, L, C = 30522, 512, 768, 12, 3072, 6, 2


def tensors():
    """(name, shape, kind) in HF's order; kind: w (random), one, zero."""
    yield "distilbert.embeddings.word_embeddings.weight", (V, D), "w"
    yield "distilbert.embeddings.position_embeddings.weight", (P, D), "w"
    yield "distilbert.embeddings.LayerNorm.weight", (D,), "one"
    yield "distilbert.embeddings.LayerNorm.bias", (D,), "zero"
    for i in range(L):
        p = f"distilbert.transformer.layer.{i}."
        for lin in ("q_lin", "k_lin", "v_lin", "out_lin"):
            yield p + f"attention.{lin}.weight", (D, D), "w"
            yield p + f"attention.{lin}.bias", (D,), "zero"
        yield p + "sa_layer_norm.weight", (D,), "one"
        yield p + "sa_layer_norm.bias", (D,), "zero"
        yield p + "ffn.lin1.weight", (F, D), "w"
        yield p + "ffn.lin1.bias", (F,), "zero"
        yield p + "ffn.lin2.weight", (D, F), "w"
        yield p + "ffn.lin2.bias", (D,), "zero"
        yield p + "output_layer_norm.weight", (D,), "one"
        yield p + "output_layer_norm.bias", (D,), "zero"
    yield "pre_classifier.weight", (D, D), "w"
    yield "pre_classifier.bias", (D,), "zero"
    yield "classifier.weight", (C, D), "w"
    yield "classifier.bias", (C,), "zero"


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    vocab = sys.argv[2] if len(sys.argv) > 2 else ""
    os.makedirs(out, exist_ok=True)
    config = {
        "architectures": ["DistilBertForSequenceClassification"],
        "model_type": "distilbert", "activation": "gelu", "dim": D, "n_layers": L,
        "n_heads": H, "hidden_dim": F, "max_position_embeddings": P, "vocab_size": V,
        "pad_token_id": 0, "sinusoidal_pos_embds": False,
        "id2label": {"0": "NEGATIVE", "1": "POSITIVE"},
        "label2id": {"NEGATIVE": 0, "POSITIVE": 1},
    }
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    if vocab and os.path.isfile(vocab):
        shutil.copyfile(vocab, os.path.join(out, "vocab.txt"))
    else:
        pieces = ["[PAD]"] + [f"[unused{i}]" for i in range(99)] + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        pieces += [f"w{i}" for i in range(V - len(pieces))]
        with open(os.path.join(out, "vocab.txt"), "w") as f:
            f.write("\n".join(pieces) + "\n")

    header, off = {"__metadata__": {"format": "pt"}}, 0
    for name, shape, _ in tensors():
        n = 4 * int(np.prod(shape))
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [off, off + n]}
        off += n
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    rng = np.random.default_rng(0)
    tmp = os.path.join(out, "model.safetensors.tmp")
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for name, shape, kind in tensors():
            if kind == "w":
                a = (rng.standard_normal(shape, dtype=np.float32) * np.float32(0.02))
            else:
                a = np.full(shape, 1.0 if kind == "one" else 0.0, dtype=np.float32)
            f.write(a.astype("<f4").tobytes())
    os.replace(tmp, os.path.join(out, "model.safetensors"))
    print(f"{out}: {off // 4:,} parameters, {off + 8 + len(h):,} bytes")


if __name__ == "__main__":
    main()
