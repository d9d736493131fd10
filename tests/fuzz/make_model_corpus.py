#!/usr/bin/env python3
"""tests/fuzz/make_model_corpus.py — (re)write the seed corpora of the model-file
fuzz targets (issue 7): corpus_json/, corpus_config/, corpus_safetensors/.

Seeds are small: the two golden config.json files and variants, JSON edge
cases, the safetensors header of ../shared/golden/models/tiny-distilbert with
its data cut off, and a valid miniature of it (every shape capped at 2).
Run from the repository root: python3 tests/fuzz/make_model_corpus.py
"""
import json, os, struct, sys

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
