"""Teachers for distillation, and the classical baseline the student must beat.

Usage: /usr/bin/python3 train/teacher.py IMDB_DB MULTI_DB train/cache

TF-IDF word uni+bigrams (sublinear tf, min_df 2, max_df 0.9, accents stripped) + logistic
regression (liblinear, C = TEACHER_C, default 8), fitted on labeled rows outside every validation
slice (slices.py); the vocabulary and idf are fitted on all non-validation texts, unlabeled
IMDb included. Two fits:
  baseline  IMDb train + every reviews-multi source, one model, no weighting (make eval-baseline)
  imdb      IMDb train only
Each text's distillation target P(positive) (<cache>/teacher.npz, aligned with tokens.npz) comes
from the fit with the better validation accuracy on that text's corpus. Per-source validation
accuracy of both fits -> <cache>/teacher.json. Also reports, for the IMDb-only fit, how much a
random cut of IMDb train (id % 10 == 0) overstates the film-block cut.
"""
import json
import os
import sys
import time

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from slices import imdb_is_random_val, load_rows  # noqa: E402


def clean(text):
    return text.replace("<br />", " ")


def fit_lr(X, y, C):
    clf = LogisticRegression(C=C, max_iter=2000, solver="liblinear")
    clf.fit(X, y)
    return clf


def per_source(p, rows, sel):
    out = {}
    for i in np.nonzero(sel)[0]:
        s = rows[i][2]
        ok, n = out.get(s, (0, 0))
        out[s] = (ok + int((p[i] > 0.5) == (rows[i][3] == 1)), n + 1)
    return {s: round(ok / n, 4) for s, (ok, n) in out.items()}


def main():
    imdb_db, multi_db, out = sys.argv[1], sys.argv[2], sys.argv[3]
    C = float(os.environ.get("TEACHER_C", "8"))
    t0 = time.time()
    rows = load_rows(imdb_db, multi_db)
    texts = [clean(r[5]) for r in rows]
    corpus = np.array([r[0] == "multi" for r in rows])
    label = np.array([r[3] for r in rows])
    val = np.array([r[4] for r in rows])
    labeled = label >= 0
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, max_df=0.9, strip_accents="unicode")
    vec.fit([t for t, v in zip(texts, val) if not v])
    X = vec.transform(texts)
    print("features %d, %.0f s" % (len(vec.vocabulary_), time.time() - t0), flush=True)

    fits = {}
    for name, use in (("baseline", labeled & ~val), ("imdb", labeled & ~val & ~corpus)):
        clf = fit_lr(X[use], label[use], C)
        fits[name] = clf.predict_proba(X)[:, 1].astype(np.float32)
        print("%s fitted on %d, %.0f s" % (name, use.sum(), time.time() - t0), flush=True)

    report = {"C": C, "features": len(vec.vocabulary_), "val": {}, "chosen": {}}
    for name, p in fits.items():
        report["val"][name] = per_source(p, rows, val & labeled)
    p_pos = np.empty(len(rows), dtype=np.float32)
    for cname, sel in (("imdb", ~corpus), ("multi", corpus)):
        accs = {name: float(((p[sel & val & labeled] > 0.5) == (label[sel & val & labeled] == 1)).mean())
                for name, p in fits.items()}
        best = max(accs, key=accs.get)
        report["chosen"][cname] = {"fit": best, "val_accuracy": accs}
        p_pos[sel] = fits[best][sel]

    # How much does a random cut overstate the film-block cut? Refit the IMDb-only model with the
    # random slice held out instead and score that slice.
    rnd = np.array([r[0] == "imdb" and imdb_is_random_val("train" if r[3] >= 0 else "unsup", r[1])
                    for r in rows])
    use = labeled & ~corpus & ~rnd
    p_rnd = fit_lr(X[use], label[use], C).predict_proba(X[rnd])[:, 1]
    report["imdb_random_cut_accuracy"] = round(float(((p_rnd > 0.5) == (label[rnd] == 1)).mean()), 4)
    report["imdb_block_cut_accuracy"] = report["val"]["imdb"]["imdb"]
    report["seconds"] = round(time.time() - t0, 1)
    np.savez(os.path.join(out, "teacher.npz"), p_pos=p_pos,
             rid=np.array([r[1] for r in rows], dtype=np.int64),
             corpus=corpus.astype(np.int8))
    with open(os.path.join(out, "teacher.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
