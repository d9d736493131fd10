"""Teacher for knowledge distillation: TF-IDF word uni+bigrams + logistic regression.

Usage: /usr/bin/python3 train/teacher.py /tmp/imdb-train.db train/cache

Fits on split='train' minus the validation slice (id % 10 == 0), reports validation
accuracy, and writes <cache>/teacher.npz: ids (int64), p_pos (float32, P(positive)) for
every train + unsup review. The student learns from these probabilities.
"""
import json
import os
import sqlite3
import sys
import time

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression


def main():
    db = sys.argv[1] if len(sys.argv) > 1 else "/tmp/imdb-train.db"
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "cache")
    C = float(os.environ.get("TEACHER_C", "8"))
    os.makedirs(out, exist_ok=True)
    t0 = time.time()
    con = sqlite3.connect(db)
    rows = con.execute("SELECT id, split, label, text FROM reviews WHERE split IN ('train','unsup') ORDER BY id").fetchall()
    con.close()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    is_train = np.array([r[1] == "train" for r in rows])
    label = np.array([-1 if r[2] is None else r[2] for r in rows], dtype=np.int64)
    texts = [r[3].replace("<br />", " ") for r in rows]
    val = is_train & (ids % 10 == 0)
    fit = is_train & ~val

    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, max_df=0.9, strip_accents="unicode")
    vec.fit([t for t, v in zip(texts, val) if not v])  # vocabulary/idf: train + unsup, never validation
    X = vec.transform(texts)
    clf = LogisticRegression(C=C, max_iter=2000, solver="liblinear")
    clf.fit(X[fit], label[fit])
    p = clf.predict_proba(X)[:, 1].astype(np.float32)
    acc = float(((p[val] > 0.5) == (label[val] == 1)).mean())
    train_acc = float(((p[fit] > 0.5) == (label[fit] == 1)).mean())
    np.savez(os.path.join(out, "teacher.npz"), ids=ids, p_pos=p)
    report = {"C": C, "features": len(vec.vocabulary_), "n_fit": int(fit.sum()), "n_val": int(val.sum()),
              "val_accuracy": acc, "fit_accuracy": train_acc,
              "unsup_mean_p_pos": float(p[~is_train].mean()), "seconds": round(time.time() - t0, 1)}
    with open(os.path.join(out, "teacher.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
