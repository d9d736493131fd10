#!/usr/bin/env python3
"""tests/fuzz/make_model_corpus.py — (re)write the seed corpora of the model-file
fuzz targets (issue 7): corpus_json/, corpus_config/, corpus_safetensors/,
corpus_model/.

Seeds are small: the two golden config.json files and variants, JSON edge
cases, the safetensors header of ../shared/golden/models/tiny-distilbert with
its data cut off, a valid miniature of it (every shape capped at 2), and whole
micro models (config + vocab + weights, under 12 KB each) for fuzz_model.
Run from the repository root: /usr/bin/python3 tests/fuzz/make_model_corpus.py
(numpy, for the micro models' weights).
"""
import json, os, struct, sys

import numpy as np

GOLD = os.path.join(os.path.dirname(__file__), "../../../shared/golden/models")
OUT = os.path.dirname(os.path.abspath(__file__))


def put(d, name, data):
    os.makedirs(os.path.join(OUT, d), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(OUT, d, name), "wb") as f:
        f.write(data)


configs = {}
for m in ("tiny-distilbert", "tiny-bert"):
    with open(os.path.join(GOLD, m, "config.json"), "rb") as f:
        configs[m] = f.read()
    put("corpus_config", m, configs[m])
    put("corpus_json", m, configs[m])

db = json.loads(configs["tiny-distilbert"])
v = dict(db, activation="relu", id2label={"0": "neg", "1": "neu", "2": "pos"}, num_labels=3)
put("corpus_config", "distilbert-relu-3labels", json.dumps(v))
bb = json.loads(configs["tiny-bert"])
v = dict(bb, hidden_act="gelu_new", layer_norm_eps=1e-5, pad_token_id=3)
v.pop("id2label", None)
put("corpus_config", "bert-no-labels", json.dumps(v))

for i, t in enumerate([
    '{"a":[1,-2.5e+3,0.0,1E-400,9223372036854775807,-9223372036854775808,1e309],"b":{"c":null}}',
    '["\\u0041\\u00e9\\ud83d\\ude00\\n\\t\\"\\\\\\/\\u0000x", "", {}]',
    '{"k":1,"k":2," \\ud800":true,"":false}',
    '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]',
    ' \t\r\n123 ',
]):
    put("corpus_json", "edge%d" % i, t)

with open(os.path.join(GOLD, "tiny-distilbert", "model.safetensors"), "rb") as f:
    head = f.read(8)
    n = struct.unpack("<Q", head)[0]
    hdr = f.read(n)
    data = f.read(64)
put("corpus_safetensors", "tiny-distilbert-truncated", head + hdr + data)

h = json.loads(hdr)
small, off, blob = {}, 0, b""
for name, t in h.items():
    if name == "__metadata__":
        small[name] = t
        continue
    shape = [min(d, 2) for d in t["shape"]]
    numel = 1
    for d in shape:
        numel *= d
    dt = t["dtype"]
    nb = numel * {"F32": 4, "F16": 2, "BF16": 2, "I64": 8}[dt]
    small[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + nb]}
    blob += bytes((i * 37 + off) & 0x7f for i in range(nb))
    off += nb
hj = json.dumps(small, separators=(",", ":")).encode()
hj += b" " * (-len(hj) % 8)
put("corpus_safetensors", "tiny-distilbert-mini", struct.pack("<Q", len(hj)) + hj + blob)

mixed = {"__metadata__": {"format": "pt"},
         "a": {"dtype": "F16", "shape": [3], "data_offsets": [0, 6]},
         "b": {"dtype": "BF16", "shape": [1, 1], "data_offsets": [6, 8]},
         "c": {"dtype": "I64", "shape": [1], "data_offsets": [8, 16]},
         "e": {"dtype": "F32", "shape": [0, 4], "data_offsets": [16, 16]},
         "f": {"dtype": "BOOL", "shape": [], "data_offsets": [16, 17]}}
hj = json.dumps(mixed).encode()
put("corpus_safetensors", "mixed-dtypes",
    struct.pack("<Q", len(hj)) + hj + bytes([0, 60, 0, 188, 255, 124, 128, 63]) + bytes(8) + b"\x01")

# ---- corpus_model: whole micro models for fuzz_model.c ----------------------
# An input is: u32 LE config length, u32 LE vocab length, config.json,
# vocab.txt, model.safetensors. Each seed stays under 12 KB (run.sh's
# -max_len is 16384): V 40, D 8, H 2, F 16, Pm 16, C 2 unless given.

MICRO_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "a", "movie", "film",
               "was", "is", "it", "i", "not", "good", "great", "bad", "love", "hate", "fun",
               "bor", "plot", "act", "story", "and", "but", "very", "##ing", "##d", "##s",
               "##or", "##ed", "!", ",", ".", "?", "'", "-", "x", "##x"]
V = len(MICRO_VOCAB)
assert V == 40


def micro_tensors(arch, L, D, F, pm, C, types, gamma_beta):
    """[(name, shape)] in model.c's table order; LayerNorm .gamma/.beta if asked."""
    ln = (".gamma", ".beta") if gamma_beta else (".weight", ".bias")
    if arch == "distilbert":
        e, p = "distilbert.embeddings.", "distilbert.transformer.layer.%d."
        t = [(e + "word_embeddings.weight", [V, D]), (e + "position_embeddings.weight", [pm, D])]
        sub = [("attention.q_lin", D, D), ("attention.k_lin", D, D), ("attention.v_lin", D, D),
               ("attention.out_lin", D, D), ("sa_layer_norm", 0, 0), ("ffn.lin1", F, D),
               ("ffn.lin2", D, F), ("output_layer_norm", 0, 0)]
        head = "pre_classifier"
    else:
        e, p = "bert.embeddings.", "bert.encoder.layer.%d."
        t = [(e + "word_embeddings.weight", [V, D]), (e + "position_embeddings.weight", [pm, D]),
             (e + "token_type_embeddings.weight", [types, D])]
        sub = [("attention.self.query", D, D), ("attention.self.key", D, D),
               ("attention.self.value", D, D), ("attention.output.dense", D, D),
               ("attention.output.LayerNorm", 0, 0), ("intermediate.dense", F, D),
               ("output.dense", D, F), ("output.LayerNorm", 0, 0)]
        head = "bert.pooler.dense"
    t += [(e + "LayerNorm" + s, [D]) for s in ln]
    for l in range(L):
        for name, out, inp in sub:
            if out == 0:  # LayerNorm (D)
                t += [(p % l + name + s, [D]) for s in ln]
            else:  # nn.Linear: weight (out, in), bias (out)
                t += [(p % l + name + ".weight", [out, inp]), (p % l + name + ".bias", [out])]
    t += [(head + ".weight", [D, D]), (head + ".bias", [D]),
          ("classifier.weight", [C, D]), ("classifier.bias", [C])]
    return t


def micro_safetensors(tensors, dtype, rng, align=True):
    """The file: 8-byte LE header length, JSON header, data; weights ~N(0, 0.5),
    LayerNorm scales ~1. Unaligned: the header length is 8k + 2, so F32 data
    sits 2 bytes off a 4-byte boundary (model.c converts it)."""
    hdr, blob = {"__metadata__": {"format": "pt"}}, b""
    for name, shape in tensors:
        a = rng.normal(0, 0.5, size=shape).astype("<f4")
        if name.endswith((".gamma", "LayerNorm.weight", "layer_norm.weight")):
            a = (a * 0.2 + 1).astype("<f4")
        if dtype == "F16":
            raw = a.astype("<f2").tobytes()
        elif dtype == "BF16":
            raw = (a.view("<u4") >> 16).astype("<u2").tobytes()
        else:
            raw = a.tobytes()
        hdr[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    hj = json.dumps(hdr, separators=(",", ":")).encode()
    hj += b" " * ((-len(hj) % 8) + (0 if align else 2))
    return struct.pack("<Q", len(hj)) + hj + blob


def micro_model(name, arch, L, dtype, act, D=8, H=2, F=16, pm=16, C=2, types=2,
                gamma_beta=False, align=True, extra=None):
    cfg = {"model_type": arch, "vocab_size": V, "max_position_embeddings": pm}
    if arch == "distilbert":
        cfg.update(dim=D, n_layers=L, n_heads=H, hidden_dim=F, activation=act)
    else:
        cfg.update(hidden_size=D, num_hidden_layers=L, num_attention_heads=H,
                   intermediate_size=F, hidden_act=act, type_vocab_size=types)
    if C != 2:
        cfg["num_labels"] = C
    cfg.update(extra or {})
    cj = json.dumps(cfg, separators=(",", ":")).encode()
    vt = ("\n".join(MICRO_VOCAB) + "\n").encode()
    rng = np.random.default_rng(sum(name.encode()))
    st = micro_safetensors(micro_tensors(arch, L, D, F, pm, C, types, gamma_beta), dtype, rng, align)
    data = struct.pack("<II", len(cj), len(vt)) + cj + vt + st
    assert len(data) < 12 * 1024, (name, len(data))
    put("corpus_model", name, data)


micro_model("distilbert-f32", "distilbert", 1, "F32", "gelu",
            extra={"id2label": {"0": "NEGATIVE", "1": "POSITIVE"}})
micro_model("distilbert-f16-relu-2layers", "distilbert", 2, "F16", "relu")
micro_model("bert-f32-unaligned", "bert", 1, "F32", "gelu", align=False,
            extra={"layer_norm_eps": 1e-5})
micro_model("bert-bf16-gamma-beta-2layers", "bert", 2, "BF16", "relu", C=3, gamma_beta=True,
            extra={"id2label": {"0": "neg", "1": "neu", "2": "pos"}})
# Other shapes: one-wide heads and one label; three four-wide heads, one token type.
micro_model("distilbert-d4-h4-1label", "distilbert", 1, "F32", "gelu", D=4, H=4, F=4, pm=8, C=1)
micro_model("bert-d12-h3-1type", "bert", 1, "F16", "gelu", D=12, H=3, F=8, pm=8, types=1)
# The shortest models: Pm 2 runs [CLS] [SEP] only (every text truncated); Pm 1
# fits no input and is refused by config.c (it used to open, and then every
# snt_tokenize at snt_model_max_len failed: caught by fuzz_model).
micro_model("bert-max-pos-2", "bert", 1, "F16", "gelu", pm=2)
micro_model("distilbert-max-pos-1", "distilbert", 1, "F32", "gelu", pm=1)
