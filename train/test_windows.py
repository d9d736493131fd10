"""windows.py (windows of training reviews) and train_student.Data's --windows, on synthetic rows.

  /usr/bin/python3 train/test_windows.py      (< 1 s, no ../shared needed)
"""
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from pycheck import Checks  # noqa: E402
import train_student  # noqa: E402
import windows  # noqa: E402

CHECKS = Checks("test_windows")
check = CHECKS.check


REVIEW = ("The plot was thin. The acting, though, was superb!<br /><br />I laughed a lot at the jokes. "
          "Would I see it again? Yes, with my friends.")


def test_sentences():
    s = windows.sentences(REVIEW)
    check(s == ["The plot was thin.", "The acting, though, was superb!", "I laughed a lot at the jokes.",
                "Would I see it again?", "Yes, with my friends."], "sentences: got %r" % s)
    check(windows.sentences("no stop at all") == ["no stop at all"], "one sentence")
    check(windows.sentences("") == [], "empty text")


def test_windows_of():
    w = windows.windows_of("imdb", 7, REVIEW)
    check(w == windows.windows_of("imdb", 7, REVIEW), "deterministic for one (corpus, id)")
    check(len(w) == windows.PER_REVIEW["imdb"], "PER_REVIEW windows of a 5-sentence review, got %d" % len(w))
    check(len(windows.windows_of("multi", 7, REVIEW)) == windows.PER_REVIEW["multi"], "multi: its own count")
    check(len(set(w)) == len(w), "distinct windows")
    sent = windows.sentences(REVIEW)
    runs = {" ".join(sent[a:a + n]) for n in range(1, windows.MAX_SENTENCES + 1) for a in range(len(sent) - n + 1)}
    check(all(x in runs for x in w), "each window is a run of 1-%d whole sentences" % windows.MAX_SENTENCES)
    check(all(len(x.split()) >= windows.MIN_WORDS for x in w), "no window under MIN_WORDS words")
    check(windows.windows_of("imdb", 7, "A single sentence that is long enough.") == [], "one sentence: none")
    two = "Too short. Ok."
    check(windows.windows_of("imdb", 1, two) == [], "windows under MIN_WORDS are dropped, got %r"
          % windows.windows_of("imdb", 1, two))
    check(all("<br" not in x for x in w), "no markup inside a window")


def test_review_windows():
    rows = [("imdb", 1, "imdb", 1, False, REVIEW), ("imdb", 2, "imdb", 0, True, REVIEW),
            ("multi", 3, "cr", 1, False, "Short."), ("multi", 4, "yelp", -1, False, REVIEW)]
    w = windows.review_windows(rows)
    parents = [i for i, _ in w]
    check(1 not in parents, "a validation row gives no windows")
    check(parents == sorted(parents), "windows in row order")
    check(parents.count(0) == windows.PER_REVIEW["imdb"] and parents.count(3) == windows.PER_REVIEW["multi"],
          "per-corpus counts, got %r" % parents)


def save(path, seqs, **arrays):
    lens = [len(x) for x in seqs]
    np.savez(path, offsets=np.concatenate([[0], np.cumsum(lens)]).astype(np.int64),
             flat=np.concatenate(seqs).astype(np.uint16), **arrays)


def test_data():
    """Data(cache, windows=True) appends the windows as unlabeled, non-validation texts of their own
    corpus, with the teacher's window targets; without windows it is the rows alone."""
    with tempfile.TemporaryDirectory() as cache:
        seqs = [np.array([101, 7 + i, 102]) for i in range(4)]
        save(os.path.join(cache, "tokens.npz"), seqs, corpus=np.array([0, 0, 1, 1], np.int8),
             rid=np.arange(4, dtype=np.int64) + 10, source=np.array([0, 0, 1, 1], np.int16),
             label=np.array([1, 0, 1, -1], np.int8), val=np.array([False, True, False, False]))
        save(os.path.join(cache, "windows.npz"), [np.array([101, 5, 102]), np.array([101, 6, 6, 102])],
             parent=np.array([0, 3], np.int64))
        with open(os.path.join(cache, "sources.json"), "w") as f:
            f.write('["imdb", "cr"]')
        np.savez(os.path.join(cache, "teacher.npz"), p_pos=np.array([0.9, 0.2, 0.8, 0.6], np.float32),
                 rid=np.arange(4, dtype=np.int64) + 10, p_window=np.array([0.3, 0.7], np.float32),
                 window_parent=np.array([0, 3], np.int64))
        d = train_student.Data(cache)
        check(len(d.seqs) == 4 and d.sources == ["imdb", "cr"], "without --windows: the rows only")
        d = train_student.Data(cache, windows=True)
        check(len(d.seqs) == 6 and list(d.lens[4:]) == [3, 4], "windows appended after the rows")
        check(d.sources[-1] == "window" and (d.source[4:] == 2).all(), "source 'window'")
        check((d.label[4:] == -1).all() and not d.val[4:].any(), "windows unlabeled, never validation")
        check(np.allclose(d.p_pos[4:], [0.3, 0.7]) and list(d.rid[4:]) == [10, 13], "targets and parent ids")
        check((d.corpus[4:] == train_student.Data.WINDOW).all(), "corpus WINDOW")
        ix, _ = train_student.epoch_texts(d, np.nonzero(~d.val)[0], 2, 0, 8)
        counts = np.bincount(ix, minlength=6)
        check(list(counts) == [1, 0, 2, 2, 1, 1], "windows once an epoch, not repeated as reviews-multi texts: %s"
              % list(counts))
        np.savez(os.path.join(cache, "teacher.npz"), p_pos=np.array([0.9, 0.2, 0.8, 0.6], np.float32),
                 rid=np.arange(4, dtype=np.int64) + 10)
        try:
            train_student.Data(cache, windows=True)
            check(False, "a teacher.npz without window targets is refused")
        except SystemExit as e:
            check("windows" in str(e), "the refusal names the windows: %s" % e)


def main():
    test_sentences()
    test_windows_of()
    test_review_windows()
    test_data()
    CHECKS.finish()


if __name__ == "__main__":
    main()
