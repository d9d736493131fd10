"""train/embed_init.py on a synthetic token cache: pieces that share contexts get similar
vectors, pieces of disjoint contexts near-orthogonal ones; validation rows are never counted;
rare and unseen pieces, and every tensor but the word embeddings, keep the student's own
random initialisation; train_student.py --init accepts the file.

Usage: /usr/bin/python3 train/test_embed_init.py      (about 5 s; needs no data)
"""
import os
import shutil
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from pycheck import Checks  # noqa: E402
import embed_init  # noqa: E402
import modeling  # noqa: E402
import train_student  # noqa: E402

TINY = ["--dim", "16", "--layers", "1", "--heads", "2", "--hidden-dim", "32"]
GROUP_A, GROUP_B = list(range(2000, 2010)), list(range(3000, 3010))
RARE = 2500       # in 2 training texts: under --min-count 5
VAL_TOKEN = 4242  # only the validation rows contain it
CLS, SEP = 101, 102


def synthetic_cache(folder, n=300, n_val=20):
    """tokens.npz: each training text 20 random pieces of group A or of group B (never mixed),
    two of them with RARE; n_val validation rows of VAL_TOKEN and group A."""
    rng = np.random.default_rng(3)
    seqs = []
    for i in range(n):
        group = GROUP_A if i % 2 else GROUP_B
        seqs.append([CLS] + list(rng.choice(group, 20)) + ([RARE] if i < 2 else []) + [SEP])
    seqs += [[CLS] + [VAL_TOKEN, GROUP_A[0]] * 10 + [SEP]] * n_val
    val = np.array([False] * n + [True] * n_val)
    off = np.concatenate([[0], np.cumsum([len(s) for s in seqs])]).astype(np.int64)
    os.makedirs(folder, exist_ok=True)
    np.savez(os.path.join(folder, "tokens.npz"), offsets=off, flat=np.concatenate(seqs).astype(np.uint16),
             val=val)


def mean_cos(E, xs, ys):
    unit = {i: E[i] / np.linalg.norm(E[i]) for i in set(xs) | set(ys)}
    return float(np.mean([unit[x] @ unit[y] for x in xs for y in ys if x != y]))


def main():
    checks = Checks("test_embed_init")
    check = checks.check
    td = tempfile.mkdtemp(prefix="embed-init-test-")
    try:
        cache, out = os.path.join(td, "cache"), os.path.join(td, "out")
        synthetic_cache(cache)
        report = embed_init.run(["--cache", cache, "--out", out] + TINY)
        sd = torch.load(os.path.join(out, "encoder.pt"))
        a = embed_init.argparse.Namespace(**report["args"])
        torch.manual_seed(42)
        ref = modeling.build(train_student.student_config(a)).distilbert.state_dict()
        E, E0 = sd["embeddings.word_embeddings.weight"].numpy(), ref["embeddings.word_embeddings.weight"].numpy()

        check(set(sd) == set(ref), "encoder.pt has the student's DistilBertModel tensors")
        same = [k for k in ref if k != "embeddings.word_embeddings.weight" and torch.equal(sd[k], ref[k])]
        check(len(same) == len(ref) - 1, "every tensor but the word embeddings is the seed-42 initialisation "
              "(%d of %d)" % (len(same), len(ref) - 1))
        seen = GROUP_A + GROUP_B + [CLS, SEP]
        check(all(not np.array_equal(E[i], E0[i]) for i in seen), "every frequent piece got a new row")
        check(report["pieces_replaced"] == len(seen),
              "only the frequent pieces were replaced (%d)" % report["pieces_replaced"])
        for name, i in (("rare", RARE), ("validation-only", VAL_TOKEN), ("unseen", 7000)):
            check(np.array_equal(E[i], E0[i]), "the %s piece keeps its random row" % name)
        check(report["tokens"] == 300 * 22 + 2, "validation rows are not counted (%d tokens)" % report["tokens"])
        std = float(E[seen].std())
        check(abs(std - 0.02) < 1e-3, "new rows have the random rows' scale (std %.4f)" % std)
        within = 0.5 * (mean_cos(E, GROUP_A, GROUP_A) + mean_cos(E, GROUP_B, GROUP_B))
        across = mean_cos(E, GROUP_A, GROUP_B)
        print("cos within groups %.3f, across %.3f" % (within, across))
        check(within > 0.5 and abs(across) < 0.2, "shared contexts give similar vectors, disjoint ones not "
              "(cos within groups %.3f, across %.3f)" % (within, across))
        student = modeling.build(train_student.student_config(a))
        train_student.init_encoder(student, os.path.join(out, "encoder.pt"))
        loaded = student.distilbert.embeddings.word_embeddings.weight
        check(torch.equal(loaded, sd["embeddings.word_embeddings.weight"]), "train_student --init loads it")
    finally:
        shutil.rmtree(td, ignore_errors=True)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
