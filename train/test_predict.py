"""train_student.predict and predict_p_pos: texts batched by length under a token budget, the
results returned in the caller's order, equal to scoring each text alone.

  /usr/bin/python3 train/test_predict.py      (a few seconds, no ../shared needed)
"""
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from pycheck import Checks  # noqa: E402
import modeling  # noqa: E402
import train_student  # noqa: E402
from test_student_init import tiny_config  # noqa: E402


def main():
    checks = Checks("test_predict")
    check = checks.check
    cfg = tiny_config()
    torch.manual_seed(1)
    model = modeling.build(cfg)
    rng = np.random.default_rng(0)
    seqs = [np.concatenate([[101], rng.integers(1000, 2000, n), [102]]) for n in rng.integers(1, 60, 40)]
    idx = rng.permutation(len(seqs))[:25]  # a subset, out of order
    model.eval()
    with torch.no_grad():
        alone = np.concatenate([model(*modeling.pad_batch([seqs[i]])).numpy() for i in idx])
    for budget in (64, 16384):  # many small batches, then one
        got = train_student.predict(model, seqs, idx, budget=budget)
        check(got.shape == (len(idx), 2), "budget %d: shape %s" % (budget, got.shape))
        worst = float(np.abs(got - alone).max())
        check(worst < 1e-5, "budget %d: batched logits equal each text alone, max |diff| %g" % (budget, worst))
    check(model.training, "predict leaves the model in training mode")
    p = train_student.predict_p_pos(model, seqs, idx)
    want = np.exp(alone[:, 1]) / np.exp(alone).sum(1)
    check(p.shape == (len(idx),) and float(np.abs(p - want).max()) < 1e-5,
          "predict_p_pos is the softmax's positive column")
    checks.finish()


if __name__ == "__main__":
    main()
