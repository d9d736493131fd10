"""teacher.py's helpers on small inputs: domain_copies (one copy of the features per source),
nb_ratio (NBSVM's log-count ratio), and --cross-fit's folds (cross_fit_keys, fold_of) and
cross_fitted.

  /usr/bin/python3 train/test_teacher.py      (< 1 s; needs neither ../shared nor scikit-learn)
"""
import os
import sqlite3
import sys
import tempfile

import numpy as np
import scipy.sparse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from pycheck import Checks  # noqa: E402
import teacher  # noqa: E402

CHECKS = Checks("test_teacher")
check = CHECKS.check


def test_domain_copies():
    X = scipy.sparse.csr_matrix(np.array([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0], [4.0, 5.0, 0.0]]))
    block = np.array([0, 1, 0])
    D = teacher.domain_copies(X, block).toarray()
    check(D.shape == (3, 3 * 3), "shared block + one per source: got %s" % (D.shape,))
    check(np.array_equal(D[:, :3], X.toarray()), "the first block is X itself")
    want = np.zeros((3, 6))
    want[0, 0:3], want[1, 3:6], want[2, 0:3] = X.toarray()[0], X.toarray()[1], X.toarray()[2]
    check(np.array_equal(D[:, 3:], want), "each row's copy sits in its own source's block only")
    check(teacher.domain_copies(X, np.array([0, 0, 0])).shape == (3, 6), "one source: one copy")


def test_nb_ratio():
    X = scipy.sparse.csr_matrix(np.array([[1, 0], [1, 1], [0, 1], [0, 1]], dtype=np.float32))
    y = np.array([1, 1, 0, 0])
    r = teacher.nb_ratio(X, y)
    # feature 0: pos count 2+1, neg 0+1; feature 1: pos 1+1, neg 2+1; each side normalised
    want = np.log(np.array([3 / 5, 2 / 5]) / np.array([1 / 4, 3 / 4]))
    check(np.allclose(r, want), "log-count ratio, add-one smoothed: got %s, want %s" % (r, want))


def test_folds():
    key = np.arange(200)
    fold = teacher.fold_of(key, 5)
    check(np.array_equal(fold[:50], np.repeat(np.arange(5), 10)), "keys 0-49: folds 0-4, ten keys each")
    train = key % 10 != 0  # the validation slice's rule
    check(len(set(np.bincount(fold[train], minlength=5))) == 1, "every fold as many training keys")

    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "imdb.db")
        con = sqlite3.connect(db)
        con.execute("CREATE TABLE reviews(id, split, label, rating, file, text)")
        con.executemany("INSERT INTO reviews VALUES (?, ?, ?, 0, ?, '')",
                        [(1, "train", 1, "train/pos/0_9.txt"), (2, "train", 0, "train/neg/749_1.txt"),
                         (3, "train", 1, "train/pos/2600_8.txt"), (4, "unsup", None, "unsup/unsup/5_0.txt")])
        con.commit()
        con.close()
        rows = [("imdb", 1, "imdb", 1, True, ""), ("imdb", 2, "imdb", 0, False, ""),
                ("imdb", 3, "imdb", 1, False, ""), ("imdb", 4, "imdb-unsup", -1, False, ""),
                ("multi", 7, teacher.SST2, 1, False, "a delight"),
                ("multi", 5, teacher.SST2, 1, False, "the film is a delight"),
                ("multi", 9, teacher.SST2, 0, False, "the film drags"),
                ("multi", 123, "cr", 0, False, "meh")]
        key = teacher.cross_fit_keys(rows, db)
    check(list(key) == [0, 2, 10, -1, 5, 5, 9, 123],
          "keys: IMDb film block, -1 unlabeled, SST-2 smallest root, else the id: got %s" % list(key))


def test_cross_fitted():
    use = np.array([True, True, True, True, False, True])
    fold = np.array([0, 1, 0, 1, -1, 1])

    def fit(rows):  # each text's "P(positive)": the sum of the training rows' ids, as a float
        return np.full(len(rows), float(np.nonzero(rows)[0].sum()), dtype=np.float32)
    full = float(np.nonzero(use)[0].sum())
    check(np.array_equal(teacher.cross_fitted(fit, use, fold, 0), np.full(6, full)), "k = 0: the full fit")
    p = teacher.cross_fitted(fit, use, fold, 2)
    want = np.array([1 + 3 + 5, 0 + 2, 1 + 3 + 5, 0 + 2, full, 0 + 2], dtype=np.float32)
    check(np.array_equal(p, want), "each fold's texts from the fit without their fold, the rest from "
          "the full fit: got %s, want %s" % (p, want))


def main():
    test_domain_copies()
    test_nb_ratio()
    test_folds()
    test_cross_fitted()
    CHECKS.finish()


if __name__ == "__main__":
    main()
