"""Teachers for distillation, and the classical baseline the student must beat.

Usage: /usr/bin/python3 train/teacher.py [--target pairs|domain] [--cross-fit K] IMDB_DB MULTI_DB train/cache
       /usr/bin/python3 train/teacher.py --baseline-only IMDB_DB MULTI_DB build/baseline
                (make eval-baseline: the baseline fit and its teacher.json only, about 2 minutes)

TF-IDF word uni+bigrams (sublinear tf, min_df 2, max_df 0.9, accents stripped) + logistic
regression (liblinear, C = TEACHER_C, default 8), fitted on labeled rows outside every validation
slice (slices.py); the vocabulary and idf are fitted on all non-validation texts, unlabeled
IMDb included. Fits:
  baseline    IMDb train + every reviews-multi source, one model, no weighting (make eval-baseline)
  imdb        IMDb train only
  nbsvm-imdb  IMDb train only: binary word uni+bi+trigrams (min_df 2) scaled by NBSVM's
              log-count ratio (Wang & Manning 2012), logistic regression (C = 1)
  chars-multi the reviews-multi sources only: TF-IDF character 2-5-grams inside word boundaries
              (min_df 3) beside word uni+bigrams, logistic regression (C = 4)
  domain      IMDb train + every source, the baseline's features beside one copy of them per
              source, each text's in its own source's block (Daume 2007, "frustratingly easy
              domain adaptation"): a weight shared by every source plus one per source (C = 4).
              The teacher knows a text's source; the student never needs to.
Distillation target P(positive) (<cache>/teacher.npz, aligned with tokens.npz), --target:
  pairs (the default): for IMDb texts the mean of imdb and nbsvm-imdb, for the rest the mean of
              baseline and chars-multi (validation, 2026-12-02: IMDb 87.23% -> 88.67% for the
              pair; other sources, pooled 92.06% -> 92.82%, macro mean 86.57% -> 86.95%; NBSVM
              on the other sources did not help);
  domain      for IMDb texts the mean of imdb, nbsvm-imdb and domain, for the rest domain alone
              (validation, 2026-12-03: IMDb 88.67%, as the pair; the other 18 sources, macro
              mean, 87.87%; domain's mean with chars-multi scored 87.53%).
The windows of training reviews (windows.py) get the target of their review's corpus
(teacher.npz: p_window, window_parent), scored by fits that never saw them.
--cross-fit K (default 0, off): every fit scores each labeled training text with the fit of the
K - 1 folds it is not in, so that its target says how the teacher reads an unseen text, not
its in-sample fit (99.6-100% on the training texts: train/README.md); validation, unlabeled
and window texts keep the full fit's score. A fold keeps together what the validation cut
keeps together: an IMDb text goes by its film block, an SST-2 phrase by its smallest root
sentence, any other text by its id (fold_of). The vocabularies, idf and features are fitted
once; the NB ratios and weights are refitted per fold: about K + 1 times the fits' time.
teacher.json's "train" holds each target's accuracy on the labeled training texts (in-sample,
or cross-fitted with --cross-fit).
Per-source validation accuracy of every fit and of the teacher -> <cache>/teacher.json. Also
reports, for the IMDb-only fit, how much a random cut of IMDb train (id % 10 == 0) overstates
the film-block cut.
"""
import json
import os
import sys
import time

import numpy as np
import scipy.sparse
try:
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
except ImportError:  # test_teacher.py checks the helpers without it; main() needs it
    CountVectorizer = TfidfVectorizer = LogisticRegression = None

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from slices import SST2, imdb_film_blocks, imdb_is_random_val, load_rows, sst2_root_of  # noqa: E402
from windows import review_windows  # noqa: E402


def clean(text):
    return text.replace("<br />", " ")


def fit_lr(X, y, C):
    clf = LogisticRegression(C=C, max_iter=2000, solver="liblinear")
    clf.fit(X, y)
    return clf


def nb_ratio(X, y):
    """NBSVM's log-count ratio per feature (Wang & Manning 2012), add-one smoothed, from binary
    features X of labeled rows y."""
    pos = np.asarray(X[y == 1].sum(0)).ravel() + 1.0
    neg = np.asarray(X[y == 0].sum(0)).ravel() + 1.0
    return np.log((pos / pos.sum()) / (neg / neg.sum())).astype(np.float32)


def lr_fit(X, label, C):
    """fit(rows) -> P(positive) of every row of X from a logistic regression trained on `rows`."""
    return lambda rows: fit_lr(X[rows], label[rows], C).predict_proba(X)[:, 1].astype(np.float32)


def nbsvm_fit(texts, label, fit_vocab):
    """fit(rows) for an NB-scaled binary trigram LR (C = 1); the ratio comes from `rows` only."""
    vec = CountVectorizer(ngram_range=(1, 3), binary=True, min_df=2, strip_accents="unicode")
    vec.fit([t for t, f in zip(texts, fit_vocab) if f])
    X = vec.transform(texts).astype(np.float32)

    def fit(rows):
        Xr = X.multiply(nb_ratio(X[rows], label[rows])).tocsr()
        return lr_fit(Xr, label, 1.0)(rows)
    return fit, X.shape[1]


def chars_fit(texts, label, fit_vocab):
    """fit(rows) for a character 2-5-gram + word uni+bigram TF-IDF LR (C = 4)."""
    vecs = [TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=3, max_df=0.9,
                            strip_accents="unicode"),
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, max_df=0.9, strip_accents="unicode")]
    fit_texts = [t for t, f in zip(texts, fit_vocab) if f]
    X = scipy.sparse.hstack([v.fit(fit_texts).transform(texts) for v in vecs]).tocsr()
    return lr_fit(X, label, 4.0), X.shape[1]


def fold_of(key, k):
    """The cross-fit fold of a text from its grouping key (IMDb film block, SST-2 root id, row id),
    a key whose % 10 == 0 marks the validation slice: (key // 10) % k, so that every fold holds
    about as many training texts."""
    return (np.asarray(key) // 10) % k


def cross_fit_keys(rows, imdb_db):
    """fold_of's grouping key of every row: an IMDb labeled review's film block, an SST-2
    phrase's smallest root id, another labeled text's row id; -1 for the unlabeled."""
    film = imdb_film_blocks(imdb_db)
    root = sst2_root_of({r[1]: r[5] for r in rows if r[2] == SST2})
    return np.array([-1 if r[3] < 0 else film[r[1]] if r[0] == "imdb" else root[r[1]] if r[2] == SST2
                     else r[1] for r in rows])


def cross_fitted(fit, use, fold, k):
    """P(positive) of every text from fit(use); with k > 0, a text of `use` in fold f gets
    fit(use minus fold f)'s instead."""
    p = fit(use)
    for f in range(k):
        out = use & (fold == f)
        if out.any():
            p[out] = fit(use & ~out)[out]
    return p


def domain_copies(X, block):
    """X beside one copy of X per block, row i's features in block[i]'s copy only (the rest
    zero): shape (n, F * (1 + number of blocks))."""
    Xc = X.tocoo()
    n, F = X.shape
    copies = scipy.sparse.csr_matrix((Xc.data, (Xc.row, Xc.col + block[Xc.row] * F)),
                                     shape=(n, F * (int(block.max()) + 1)))
    return scipy.sparse.hstack([X, copies]).tocsr()


def per_source(p, rows, sel):
    out = {}
    for i in np.nonzero(sel)[0]:
        s = rows[i][2]
        ok, n = out.get(s, (0, 0))
        out[s] = (ok + int((p[i] > 0.5) == (rows[i][3] == 1)), n + 1)
    return {s: round(ok / n, 4) for s, (ok, n) in out.items()}


def write_report(out, report):
    with open(os.path.join(out, "teacher.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report, indent=1))


def main():
    if LogisticRegression is None:
        raise SystemExit("teacher.py needs scikit-learn: apt-get install python3-sklearn")
    argv = sys.argv[1:]
    baseline_only = argv[:1] == ["--baseline-only"]
    target, k = "pairs", 0
    while argv[:1] in (["--target"], ["--cross-fit"]) and len(argv) > 1:
        if argv[0] == "--target":
            target = argv[1]
        elif not argv[1].isdigit() or int(argv[1]) == 1:
            raise SystemExit("--cross-fit: a number of folds, 2 or more (0: off), not %r" % argv[1])
        else:
            k = int(argv[1])
        argv = argv[2:]
    if target not in ("pairs", "domain"):
        raise SystemExit("--target: pairs or domain, not %r" % target)
    imdb_db, multi_db, out = argv[1:] if baseline_only else argv
    C = float(os.environ.get("TEACHER_C", "8"))
    t0 = time.time()
    rows = load_rows(imdb_db, multi_db)
    # windows of training reviews (windows.py) are scored too, after the rows; they fit nothing:
    # no vocabulary, idf, NB ratio or weight sees them, so the rows' scores are what they were
    win = [] if baseline_only else review_windows(rows)
    n, parent = len(rows), np.array([i for i, _ in win], dtype=np.int64)
    texts = [clean(r[5]) for r in rows] + [w for _, w in win]
    corpus = np.array([r[0] == "multi" for r in rows])
    corpus = np.concatenate([corpus, corpus[parent]])
    label = np.array([r[3] for r in rows] + [-1] * len(win))
    val = np.array([r[4] for r in rows] + [False] * len(win))
    fit_vocab = ~val & (np.arange(len(texts)) < n)
    labeled = label >= 0
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, max_df=0.9, strip_accents="unicode")
    vec.fit([t for t, f in zip(texts, fit_vocab) if f])
    X = vec.transform(texts)
    print("features %d, %d windows, %.0f s" % (len(vec.vocabulary_), len(win), time.time() - t0), flush=True)

    fits = {}
    if baseline_only:
        fits["baseline"] = lr_fit(X, label, C)(labeled & ~val)
        report = {"C": C, "features": len(vec.vocabulary_),
                  "val": {"baseline": per_source(fits["baseline"], rows, val[:n] & labeled[:n])},
                  "seconds": round(time.time() - t0, 1)}
        write_report(out, report)
        return
    fold = np.full(len(texts), -1)
    if k:
        key = cross_fit_keys(rows, imdb_db)
        fold[:n] = np.where(key >= 0, fold_of(key, k), -1)
    train = labeled & ~val

    def log_fitted(name, n_used, detail=""):
        print("%s fitted on %d%s%s, %.0f s" % (name, n_used, detail, ", %d folds" % k if k else "",
                                               time.time() - t0), flush=True)

    def fitted(name, fit, use):
        fits[name] = cross_fitted(fit, use, fold, k)
        log_fitted(name, use.sum())

    fitted("baseline", lr_fit(X, label, C), train)
    fitted("imdb", lr_fit(X, label, C), train & ~corpus)
    imdb, multi = np.nonzero(~corpus)[0], np.nonzero(corpus)[0]
    n_features = {}
    for name, make_fit, sub in (("nbsvm-imdb", nbsvm_fit, imdb), ("chars-multi", chars_fit, multi)):
        fit, n_features[name] = make_fit([texts[i] for i in sub], label[sub], fit_vocab[sub])
        fits[name] = np.full(len(texts), np.nan, dtype=np.float32)  # scored on its corpus only
        fits[name][sub] = cross_fitted(fit, train[sub], fold[sub], k)
        log_fitted(name, train[sub].sum(), " (%d features)" % n_features[name])

    # a text's source for the domain fit: a window's is its review's; IMDb's unlabeled are IMDb
    source = ["imdb" if r[2] == "imdb-unsup" else r[2] for r in rows]
    names = sorted(set(source))
    block = np.array([names.index(s) for s in source])
    block = np.concatenate([block, block[parent]])
    fitted("domain", lr_fit(domain_copies(X, block), label, 4.0), train)

    pairs = np.empty(len(texts), dtype=np.float32)
    pairs[imdb] = 0.5 * (fits["imdb"][imdb] + fits["nbsvm-imdb"][imdb])
    pairs[multi] = 0.5 * (fits["baseline"][multi] + fits["chars-multi"][multi])
    domain = np.empty(len(texts), dtype=np.float32)
    domain[imdb] = (fits["imdb"][imdb] + fits["nbsvm-imdb"][imdb] + fits["domain"][imdb]) / 3
    domain[multi] = fits["domain"][multi]  # alone: its mean with chars-multi scored lower
    fits["teacher-pairs"], fits["teacher-domain"] = pairs, domain
    p_pos = fits["teacher"] = {"pairs": pairs, "domain": domain}[target]
    report = {"C": C, "target": target, "features": len(vec.vocabulary_), "val": {}, "windows": len(win),
              **{"%s_features" % name.replace("-", "_"): n for name, n in n_features.items()}}
    report["cross_fit_folds"], report["train"] = k, {}
    for name, p in fits.items():
        scored = ~np.isnan(p[:n])
        report["val"][name] = per_source(p[:n], rows, val[:n] & labeled[:n] & scored)
        report["train"][name] = per_source(p[:n], rows, train[:n] & scored)

    # How much does a random cut overstate the film-block cut? Refit the IMDb-only model with the
    # random slice held out instead and score that slice.
    rnd = np.array([r[0] == "imdb" and imdb_is_random_val("train" if r[3] >= 0 else "unsup", r[1])
                    for r in rows] + [False] * len(win))
    use = labeled & ~corpus & ~rnd
    p_rnd = fit_lr(X[use], label[use], C).predict_proba(X[rnd])[:, 1]
    report["imdb_random_cut_accuracy"] = round(float(((p_rnd > 0.5) == (label[rnd] == 1)).mean()), 4)
    report["imdb_block_cut_accuracy"] = report["val"]["imdb"]["imdb"]
    report["seconds"] = round(time.time() - t0, 1)
    np.savez(os.path.join(out, "teacher.npz"), p_pos=p_pos[:n],
             rid=np.array([r[1] for r in rows], dtype=np.int64),
             corpus=corpus[:n].astype(np.int8), p_window=p_pos[n:], window_parent=parent)
    write_report(out, report)


if __name__ == "__main__":
    main()
