#!/usr/bin/env python3
"""make_corpus.py — the fuzz seeds in tests/fuzz/corpus_*/, from the golden file.

    python3 tests/fuzz/make_corpus.py [SHARED_DIR]

corpus_tokenize/   short golden texts (edge cases first), byte 0 = max_len selector
corpus_vocab_txt/  small vocab.txt files: the specials + the pieces of a few cases
corpus_vocab_json/ the same vocabularies in tokenizer.json form
Small on purpose (a few KB each): libFuzzer grows its own corpus under build/fuzz/.
"""
import hashlib
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "..", "shared")
cases = [json.loads(l) for l in open(os.path.join(shared, "golden/tokenizer/bert-base-uncased.jsonl"), encoding="utf-8")]
tj = json.load(open(os.path.join(shared, "vocab/bert-base-uncased/tokenizer.json"), encoding="utf-8"))


def put(folder, data):
    os.makedirs(os.path.join(here, folder), exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(here, folder, name), "wb") as f:
        f.write(data)


edge = [c for c in cases if c["source"] == "edge" and len(c["text"].encode()) <= 400]
rand = [c for c in cases if c["source"] == "random" and len(c["text"].encode()) <= 400][:20]
imdb = [c for c in cases if c["source"] == "imdb-train" and len(c["text"].encode()) <= 1200][:5]
for i, c in enumerate(edge + rand + imdb):
    put("corpus_tokenize", bytes([i % 10]) + c["text"].encode("utf-8", "surrogatepass"))
put("corpus_tokenize", b"\x00ab\xffcd \xc3 \xed\xa0\x80 \xf4\x90\x80\x80 [SEP\xff] x\x00y")

specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
for k, c in enumerate(edge[:12:2] + imdb[:2]):
    pieces = list(dict.fromkeys(t for t in c["tokens"] if t not in specials))
    vocab = specials + pieces
    put("corpus_vocab_txt", ("\n".join(vocab) + "\n").encode())
    doc = {
        "version": "1.0",
        "added_tokens": tj["added_tokens"],
        "normalizer": tj["normalizer"],
        "pre_tokenizer": tj["pre_tokenizer"],
        "model": dict(tj["model"], vocab={p: i for i, p in enumerate(vocab)}),
    }
    put("corpus_vocab_json", json.dumps(doc, ensure_ascii=k % 2 == 0).encode())
put("corpus_vocab_txt", b"\xef\xbb\xbf[UNK]\r\n[CLS]\r\n[SEP]\r\nhel\r\n##lo\r\nhello")
