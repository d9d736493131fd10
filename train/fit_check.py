"""Underfitting or overfitting? Accuracy of a student and of its teacher on labeled texts they
trained on, beside the same on the validation slices, per source.

Usage: /usr/bin/python3 train/fit_check.py MODEL_FOLDER [--cache train/cache] [--per-source 1000]

The training side is a seeded sample of at most --per-source labeled non-validation texts of
each source (the teacher's figure there is its in-sample fit). A student well below its teacher
on texts both trained on is short of capacity or of steps; a student that fits them and still
trails on validation generalises worse. Last, how soft the teacher's targets are on each kind of
text (a teacher that fits its training texts gives them the labels, with a margin). About 2
minutes for the dim-256 student at one thread.
"""
import argparse
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import modeling  # noqa: E402
import train_student  # noqa: E402


def training_sample(d, per_source, seed=0):
    """Indices of at most per_source labeled non-validation texts of each source."""
    rng = np.random.default_rng(seed)
    trained = train_student.labeled_training(d)
    out = []
    for s in np.unique(d.source):
        idx = np.nonzero((d.source == s) & trained)[0]
        out.append(idx if len(idx) <= per_source else np.sort(rng.choice(idx, per_source, replace=False)))
    return np.concatenate(out)


def macro(acc):
    return 100 * float(np.mean([v for k, v in acc.items() if k != "imdb"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--cache", default=os.path.join(HERE, "cache"))
    ap.add_argument("--per-source", type=int, default=1000)
    a = ap.parse_args()
    torch.set_num_threads(1)
    d = train_student.Data(a.cache)
    model, _, _ = modeling.from_pretrained(a.model)
    validated = train_student.labeled_validation(d)
    sides = {"train": training_sample(d, a.per_source), "val": np.nonzero(validated)[0]}
    acc = {}
    for side, idx in sides.items():
        student = train_student.predict_p_pos(model, d.seqs, idx)
        for name, p in (("student", student), ("teacher", d.p_pos[idx])):
            acc[name, side] = train_student.per_source_accuracy(d, np.stack([1 - p, p], 1), idx)
    cols = [(n, s) for s in sides for n in ("student", "teacher")]
    print("%-22s" % "source" + "".join("%16s" % ("%s %s" % c) for c in cols))
    for src in sorted(acc["student", "val"]):
        print("%-22s" % src + "".join("%15.2f%%" % (100 * acc[c][src]) for c in cols))
    print("%-22s" % "mean of the others" + "".join("%15.2f%%" % macro(acc[c]) for c in cols))
    unsure = (d.p_pos > 0.1) & (d.p_pos < 0.9)  # how soft the targets are, over the whole cache
    print("teacher targets between 0.1 and 0.9: %.1f%% of the labeled training texts, %.1f%% of the "
          "validation texts, %.1f%% of the unlabeled texts" % tuple(
              100 * unsure[m].mean() for m in (train_student.labeled_training(d), validated, d.label < 0)))


if __name__ == "__main__":
    main()
