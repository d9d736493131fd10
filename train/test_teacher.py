"""teacher.py's feature helpers on small matrices: domain_copies (one copy of the features per
source) and nb_ratio (NBSVM's log-count ratio).

  /usr/bin/python3 train/test_teacher.py      (< 1 s; needs neither ../shared nor scikit-learn)
"""
import os
import sys

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


def main():
    test_domain_copies()
    test_nb_ratio()
    CHECKS.finish()


if __name__ == "__main__":
    main()
