"""Does a student add anything to its teacher? Selection scores of the student, the teacher and
their mean P(positive) on the validation slices.

Usage: /usr/bin/python3 train/ensemble_check.py MODEL_FOLDER [--cache train/cache]

A mean that scores no higher than the teacher says the student's errors are the teacher's: a
second-generation teacher that includes the student would teach nothing new (train/README.md,
"Windows of training reviews"). About 80 s for the dim-256 student at one thread.
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--cache", default=os.path.join(HERE, "cache"))
    a = ap.parse_args()
    torch.set_num_threads(1)
    d = train_student.Data(a.cache)
    va = np.nonzero(train_student.labeled_validation(d))[0]
    model, _, _ = modeling.from_pretrained(a.model)
    student = train_student.predict_p_pos(model, d.seqs, va)
    teacher = d.p_pos[va]
    for name, p in (("student", student), ("teacher", teacher), ("mean", 0.5 * (student + teacher))):
        acc = train_student.per_source_accuracy(d, np.stack([1 - p, p], 1), va)
        other = np.mean([v for k, v in acc.items() if k != "imdb"])
        print("%-8s IMDb %.2f%%  other 18 %.2f%%  selection score %.2f"
              % (name, 100 * acc["imdb"], 100 * other, 100 * train_student.selection_score(acc)))


if __name__ == "__main__":
    main()
