"""Word embeddings for the student from co-occurrence counts (PPMI + truncated SVD), a cheap
alternative to masked-LM pretraining.

Usage: /usr/bin/python3 train/embed_init.py [--cache train/cache] [--out train/runs-svd]
       then train_student.py --init train/runs-svd/encoder.pt ...

Counts: every pair of WordPieces at most --window apart inside one training text (val == 0,
labeled or not), weighted 1/distance, both directions. Positive PMI with the context
distribution smoothed by 0.75 (Levy, Goldberg & Dagan 2015), rank-D truncated SVD,
E = U sqrt(S), rescaled to the random initialisation's standard deviation (0.02). Pieces seen
fewer than --min-count times keep their random rows. Output: <out>/encoder.pt, the student's
DistilBertModel state_dict as train_student.py would initialise it (seed 42) with the word
embeddings replaced, and <out>/embed.json (counts, seconds). One BLAS thread, so the same
file every time (30 s here).
"""
import os

# One BLAS thread, set before numpy loads OpenBLAS: the singular vectors ARPACK returns (their
# signs) change with the thread count, and `make train` must give the same encoder.pt each time.
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse  # noqa: E402
import scipy.sparse.linalg  # noqa: E402
import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import modeling  # noqa: E402
from train_student import add_model_args, student_config  # noqa: E402

V = 30522


def cooccurrence(flat, doc, window):
    """Symmetric (V, V) CSR of 1/distance-weighted pair counts within one text."""
    C = scipy.sparse.csr_matrix((V, V), dtype=np.float32)
    for d in range(1, window + 1):
        same = doc[:-d] == doc[d:]
        a, b = flat[:-d][same].astype(np.int32), flat[d:][same].astype(np.int32)
        w = np.full(len(a), 1.0 / d, dtype=np.float32)
        M = scipy.sparse.coo_matrix((w, (a, b)), shape=(V, V)).tocsr()
        C = C + M + M.T
    return C


def ppmi(C, alpha=0.75):
    """Positive PMI of C (rows words, columns contexts), context counts raised to alpha."""
    C = C.tocoo()
    row = np.asarray(C.sum(1)).ravel()
    col = np.asarray(C.sum(0)).ravel() ** alpha
    total = C.data.sum()
    pmi = np.log(C.data) + np.log(total) - np.log(row[C.row]) - np.log(col[C.col] / col.sum() * total)
    keep = pmi > 0
    return scipy.sparse.csr_matrix((pmi[keep].astype(np.float32), (C.row[keep], C.col[keep])), shape=C.shape)


def run(argv=None):
    """Write <out>/encoder.pt and <out>/embed.json as the command line says; returns the report."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", default=os.path.join(HERE, "cache"))
    ap.add_argument("--out", default=os.path.join(HERE, "runs-svd"))
    ap.add_argument("--window", type=int, default=4)
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument("--seed", type=int, default=42)
    add_model_args(ap)
    a = ap.parse_args(argv)
    t0 = time.time()
    tok = np.load(os.path.join(a.cache, "tokens.npz"))
    off, flat, val = tok["offsets"], tok["flat"], tok["val"]
    lens = np.diff(off)
    doc = np.repeat(np.arange(len(lens)), lens)
    train = ~val[doc]
    flat, doc = flat[train], doc[train]
    counts = np.bincount(flat, minlength=V)
    C = cooccurrence(flat, doc, a.window)
    print("%d training tokens, %d pieces seen, %d co-occurring pairs, %.0f s"
          % (len(flat), int((counts > 0).sum()), C.nnz, time.time() - t0), flush=True)
    P = ppmi(C)
    torch.manual_seed(a.seed)  # the student's own random initialisation, as train_student.py draws it
    model = modeling.build(student_config(a))
    D = model.distilbert.embeddings.word_embeddings.weight.shape[1]
    U, S, _ = scipy.sparse.linalg.svds(P, k=D, random_state=a.seed)
    E = U * np.sqrt(S)
    seen = counts >= a.min_count
    E = E / E[seen].std() * 0.02
    print("PPMI nnz %d, SVD rank %d, %.0f s" % (P.nnz, D, time.time() - t0), flush=True)
    with torch.no_grad():
        w = model.distilbert.embeddings.word_embeddings.weight
        w[torch.from_numpy(np.nonzero(seen)[0])] = torch.from_numpy(E[seen].astype(np.float32))
    os.makedirs(a.out, exist_ok=True)
    torch.save(model.distilbert.state_dict(), os.path.join(a.out, "encoder.pt"))
    report = {"args": vars(a), "tokens": int(len(flat)), "pieces_replaced": int(seen.sum()),
              "pairs": int(C.nnz), "ppmi_nnz": int(P.nnz), "seconds": round(time.time() - t0, 1)}
    with open(os.path.join(a.out, "embed.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report), flush=True)
    return report


if __name__ == "__main__":
    run()
