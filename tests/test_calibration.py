#!/usr/bin/python3
"""tests/test_calibration.py — sql/eval_slices.py's reliability table (--calibration).

Synthetic (confidence, right) pairs with a known answer: which bin a confidence falls in (the
bins are [lo, hi), the last one closed), each bin's mean confidence and share right, and the
expected calibration error; no model, no ../shared.
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "sql"))
from pycheck import Checks  # noqa: E402
import eval_slices  # noqa: E402

T = Checks("test_calibration")


def close(a, b):
    return abs(a - b) < 1e-12


def main():
    # 0.5 and 0.55 in the first bin (one right), 0.6 opens the second, 1.0 closes the last
    table, ece = eval_slices.calibration([(0.5, 1), (0.55, 0), (0.6, 1), (1.0, 1), (0.995, 1)])
    got = [(lo, hi, n) for lo, hi, n, _, _ in table]
    T.check(got == [(0.5, 0.6, 2), (0.6, 0.7, 1), (0.99, 1.0, 2)], "bins [lo, hi), the last closed: %s" % got)
    T.check(close(table[0][3], 0.525) and close(table[0][4], 0.5), "mean confidence and share right of a bin")
    want = (2 * abs(0.525 - 0.5) + abs(0.6 - 1) + 2 * abs(0.9975 - 1)) / 5
    T.check(close(ece, want), "expected calibration error %.6f, want %.6f" % (ece, want))
    table, ece = eval_slices.calibration([(0.75, 1), (0.75, 1), (0.75, 1), (0.75, 0)])
    T.check(len(table) == 1 and close(ece, 0.0), "75%% confident and 75%% right: calibrated, got %.6f" % ece)
    table, ece = eval_slices.calibration([(0.97, 0)] * 3)
    T.check(close(ece, 0.97), "confident and always wrong: error 0.97, got %.6f" % ece)
    T.finish()


if __name__ == "__main__":
    main()
