"""Tokenize every IMDb review once and cache the ids as numpy arrays.

Usage: /usr/bin/python3 train/prepare.py /tmp/imdb-train.db train/cache

Writes <cache>/tokens.npz with
  ids     int64[N]   review id (reviews.id)
  split   int8[N]    0 = train, 1 = unsup
  label   int8[N]    0/1, -1 for unsup
  offsets int64[N+1] start of each review in `flat`
  flat    uint16[M]  token ids, [CLS] + first 510 pieces + [SEP] (what the C engine sees)
and texts.npy is not stored: the teacher reads the text from the database.
Validation slice (never trained on): split = 'train' AND id % 10 == 0.
"""
import os
import sqlite3
import sys
import time
from multiprocessing import Pool

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wordpiece import WordPiece  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
VOCAB = os.path.join(HERE, "..", "models", "default", "vocab.txt")
if not os.path.exists(VOCAB):
    VOCAB = os.path.join(HERE, "..", "..", "shared", "vocab", "bert-base-uncased", "vocab.txt")

_tok = None


def _encode(text):
    global _tok
    if _tok is None:
        _tok = WordPiece(VOCAB)
    return np.asarray(_tok.encode(text, max_len=512), dtype=np.uint16)


def load_reviews(db):
    con = sqlite3.connect(db)
    rows = con.execute("SELECT id, split, label, text FROM reviews "
                       "WHERE split IN ('train','unsup') ORDER BY id").fetchall()
    con.close()
    return rows


def main():
    db = sys.argv[1] if len(sys.argv) > 1 else "/tmp/imdb-train.db"
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "cache")
    os.makedirs(out, exist_ok=True)
    t0 = time.time()
    rows = load_reviews(db)
    texts = [r[3] for r in rows]
    with Pool(2) as pool:
        enc = pool.map(_encode, texts, chunksize=500)
    lens = np.array([len(e) for e in enc], dtype=np.int64)
    offsets = np.zeros(len(enc) + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    np.savez(os.path.join(out, "tokens.npz"),
             ids=np.array([r[0] for r in rows], dtype=np.int64),
             split=np.array([0 if r[1] == "train" else 1 for r in rows], dtype=np.int8),
             label=np.array([-1 if r[2] is None else r[2] for r in rows], dtype=np.int8),
             offsets=offsets, flat=np.concatenate(enc))
    print("%d reviews, %d tokens (mean %.1f, %d at 512), %.1f s"
          % (len(enc), offsets[-1], lens.mean(), int((lens == 512).sum()), time.time() - t0))


if __name__ == "__main__":
    main()
