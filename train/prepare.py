"""Tokenize every training text once and cache the ids as numpy arrays.

Usage: /usr/bin/python3 train/prepare.py IMDB_DB MULTI_DB train/cache

Writes <cache>/tokens.npz with, per text (IMDb train + unsup, then reviews-multi; slices.py):
  corpus  int8[N]    0 = imdb-train.db, 1 = reviews-multi.db
  rid     int64[N]   the row id in its database
  source  int16[N]   index into <cache>/sources.json ("imdb", "imdb-unsup", then the multi sources)
  label   int8[N]    0/1, -1 for unlabeled
  val     bool[N]    in a validation slice (slices.py)
  offsets int64[N+1] start of each text in `flat`
  flat    uint16[M]  token ids, [CLS] + first 510 pieces + [SEP] (what the C engine sees)
and <cache>/windows.npz with the windows of training reviews (windows.py), per window:
  parent  int64[W]   its review's index in tokens.npz
  offsets int64[W+1], flat uint16[.]   token ids, as above
"""
import json
import os
import sys
import time
from multiprocessing import Pool

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from slices import load_rows  # noqa: E402
from windows import review_windows  # noqa: E402
from wordpiece import WordPiece  # noqa: E402

VOCAB = os.path.join(HERE, "..", "models", "default", "vocab.txt")
if not os.path.exists(VOCAB):
    VOCAB = os.path.join(HERE, "..", "..", "shared", "vocab", "bert-base-uncased", "vocab.txt")

_tok = None


def _encode(text):
    global _tok
    if _tok is None:
        _tok = WordPiece(VOCAB)
    return np.asarray(_tok.encode(text, max_len=512), dtype=np.uint16)


def save_tokens(path, enc, **arrays):
    """enc (a list of id arrays) as offsets + flat, beside the other arrays. Returns the lengths."""
    lens = np.array([len(e) for e in enc], dtype=np.int64)
    offsets = np.zeros(len(enc) + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    np.savez(path, offsets=offsets, flat=np.concatenate(enc), **arrays)
    return lens


def main():
    imdb_db, multi_db, out = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(out, exist_ok=True)
    t0 = time.time()
    rows = load_rows(imdb_db, multi_db)
    sources = []
    for r in rows:
        if r[2] not in sources:
            sources.append(r[2])
    win = review_windows(rows)
    with Pool(2) as pool:
        enc = pool.map(_encode, [r[5] for r in rows], chunksize=500)
        win_enc = pool.map(_encode, [w for _, w in win], chunksize=500)
    lens = save_tokens(os.path.join(out, "tokens.npz"), enc,
                       corpus=np.array([0 if r[0] == "imdb" else 1 for r in rows], dtype=np.int8),
                       rid=np.array([r[1] for r in rows], dtype=np.int64),
                       source=np.array([sources.index(r[2]) for r in rows], dtype=np.int16),
                       label=np.array([r[3] for r in rows], dtype=np.int8),
                       val=np.array([r[4] for r in rows], dtype=bool))
    win_lens = save_tokens(os.path.join(out, "windows.npz"), win_enc,
                           parent=np.array([i for i, _ in win], dtype=np.int64))
    with open(os.path.join(out, "sources.json"), "w") as f:
        json.dump(sources, f)
    print("%d texts, %d tokens (mean %.1f, %d at 512), %d sources; %d windows, %d tokens; %.1f s"
          % (len(enc), lens.sum(), lens.mean(), int((lens == 512).sum()), len(sources), len(win_enc),
             win_lens.sum(), time.time() - t0))


if __name__ == "__main__":
    main()
