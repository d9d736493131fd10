"""train_student.py's epoch composition (--multi-repeat, --source-floor), its input masking
(--token-drop), the arguments a run records (recipe_args) and fit_check.py's sample of training
texts, on synthetic rows.

  /usr/bin/python3 train/test_student_data.py      (< 1 s, no ../shared needed)
"""
import os
import sys
import types

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from pycheck import Checks  # noqa: E402
import fit_check  # noqa: E402
import train_student  # noqa: E402

CHECKS = Checks("test_student_data")
check = CHECKS.check


def synthetic():
    """IMDb rows 0-99 (corpus 0); reviews-multi: a big source of 1,000 rows and a small one of 50."""
    corpus = np.array([0] * 100 + [1] * 1050, dtype=np.int8)
    source = np.array([0] * 100 + [1] * 1000 + [2] * 50)
    return types.SimpleNamespace(corpus=corpus, source=source, sources=["imdb", "big", "small"])


def main():
    d = synthetic()
    tr = np.arange(len(d.corpus))
    old = np.concatenate([tr] + [tr[d.corpus == 1]] * (2 - 1))  # the epoch before --source-floor

    ix, rep = train_student.epoch_texts(d, tr, 2, 0, 8)
    check(np.array_equal(ix, old), "floor 0 keeps the old epoch, element for element")
    check(rep == {"big": 2, "small": 2}, "floor 0: every source multi_repeat times, got %s" % rep)

    ix, rep = train_student.epoch_texts(d, tr, 2, 300, 8)
    check(rep == {"big": 2, "small": 6}, "floor 300: the 50-row source 6 times, got %s" % rep)
    counts = np.bincount(ix, minlength=len(tr))
    check((counts[:100] == 1).all(), "IMDb rows once an epoch")
    check((counts[100:1100] == 2).all(), "the big source multi_repeat times")
    check((counts[1100:] == 6).all(), "the small source its own repeat count")
    check(np.array_equal(ix[:len(old)], old), "the old epoch is a prefix: extra repeats only append")

    _, rep = train_student.epoch_texts(d, tr, 2, 10000, 8)
    check(rep == {"big": 8, "small": 8}, "repeat_max caps every source, got %s" % rep)
    _, rep = train_student.epoch_texts(d, tr, 3, 60, 8)
    check(rep == {"big": 3, "small": 3}, "never fewer than multi_repeat, got %s" % rep)

    # fit_check's training side: labeled, non-validation, at most per_source a source, seeded
    d.label = np.where(np.arange(len(d.source)) % 7 == 0, -1, np.arange(len(d.source)) % 2)
    d.val = np.arange(len(d.source)) % 10 == 0
    ix = fit_check.training_sample(d, 40)
    check(not d.val[ix].any() and (d.label[ix] >= 0).all(), "the sample: labeled training texts only")
    have = np.bincount(d.source[~d.val & (d.label >= 0)])  # 39 in the small source
    check(np.array_equal(np.bincount(d.source[ix]), np.minimum(have, 40)),
          "at most 40 a source, all of a smaller one: got %s of %s" % (np.bincount(d.source[ix]), have))
    check(len(np.unique(ix)) == len(ix), "no text twice")
    check(np.array_equal(ix, fit_check.training_sample(d, 40)), "the same sample every run")
    small = fit_check.training_sample(d, 1000)
    check(np.array_equal(small, np.nonzero(~d.val & (d.label >= 0))[0]), "a larger cap takes every training text")

    check_token_drop()
    check_recipe_args()
    CHECKS.finish()


def check_token_drop():
    """drop_tokens: about p of the WordPieces become [MASK], special ids never, seeded."""
    torch.manual_seed(1)
    ids = torch.randint(999, 30522, (256, 200))          # 38 k WordPieces: the share within 0.01 (4.5 sd)
    ids[:, 0], ids[:, 150], ids[:, 151:] = 101, 102, 0      # [CLS] ... [SEP] [PAD]...
    ids[::2, 7], ids[1::2, 7] = 100, 103                    # an [UNK] and a [MASK] in each row
    torch.manual_seed(7)
    got = train_student.drop_tokens(ids, 0.25)
    torch.manual_seed(7)
    check(torch.equal(got, train_student.drop_tokens(ids, 0.25)), "the same seed masks the same tokens")
    special = torch.isin(ids, torch.tensor([0, 100, 101, 102, 103]))
    check(torch.equal(got[special], ids[special]), "[PAD] [UNK] [CLS] [SEP] [MASK] are never replaced")
    changed = got != ids
    check(bool((got[changed] == 103).all()), "a dropped piece becomes [MASK]")
    share = changed[~special].float().mean().item()
    check(abs(share - 0.25) < 0.01, "p 0.25 replaces %.3f of the WordPieces" % share)
    check(torch.equal(train_student.drop_tokens(ids, 0.0), ids), "p 0 changes nothing")



def check_recipe_args():
    """recipe_args: a flag in only_when_given is recorded only when it is not the parser's default,
    so a run without it records the arguments of the runs made before it existed."""
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--token-drop", type=float, default=0.0)
    ap.add_argument("--device", default="cpu")
    given = ("token_drop", "device")
    check(train_student.recipe_args(ap.parse_args([]), ap, given) == {"lr": 1e-3},
          "defaults of the only-when-given flags are not recorded")
    got = train_student.recipe_args(ap.parse_args(["--token-drop", "0.1", "--device", "cuda"]), ap, given)
    check(got == {"lr": 1e-3, "token_drop": 0.1, "device": "cuda"}, "given values are recorded, got %s" % got)
    check(train_student.recipe_args(ap.parse_args(["--lr", "1e-3"]), ap, ()) == {"lr": 1e-3, "token_drop": 0.0,
          "device": "cpu"}, "every other argument is recorded, default or not")


if __name__ == "__main__":
    main()
