"""Windows of long reviews as extra, teacher-labeled training texts.

A review of ten sentences trains the student once, as a whole. Its sentences, read alone, are
what short inputs look like (SST-2 phrases, SemEval and CR sentences, Yelp sentences): a window
of 1-3 consecutive sentences of a training review is an extra text, scored by the same teacher
as its review (teacher.py) and trained on the teacher's P(positive) only (a sentence of a
positive review may well be negative, so the review's label does not carry over).

review_windows(rows) is deterministic (a generator seeded by each review's corpus and row id),
so prepare.py (which tokenizes the windows) and teacher.py (which scores them) see the same
windows without storing text. Validation texts give no windows.
"""
import re

import numpy as np

# Windows per review: IMDb's 72 k reviews are long (230 words on average); reviews-multi's long
# texts are fewer, so each gives more.
PER_REVIEW = {"imdb": 2, "multi": 3}
MAX_SENTENCES = 3
MIN_WORDS = 4
MAX_CHARS = 600  # a window past this (a run-on "sentence") is skipped
_SPLIT = re.compile(r"(?<=[.!?])\s+|<br\s*/?>(?:\s*<br\s*/?>)*", re.I)


def sentences(text):
    """The sentences of a review: split after . ! ? before whitespace, and at <br /> runs."""
    return [s.strip() for s in _SPLIT.split(text) if s and s.strip()]


def windows_of(corpus, rid, text):
    """Up to PER_REVIEW[corpus] distinct windows of 1-MAX_SENTENCES consecutive sentences of a
    review of at least 2 sentences, each a proper part of it. A list of strings."""
    sent = sentences(text)
    if len(sent) < 2:
        return []
    rng = np.random.default_rng([0 if corpus == "imdb" else 1, rid])
    out, seen = [], set()
    for _ in range(4 * PER_REVIEW[corpus]):  # a few tries: short reviews have few distinct windows
        if len(out) == PER_REVIEW[corpus]:
            break
        n = int(rng.integers(1, min(MAX_SENTENCES, len(sent) - 1) + 1))
        start = int(rng.integers(0, len(sent) - n + 1))
        if (start, n) in seen:
            continue
        seen.add((start, n))
        w = " ".join(sent[start:start + n])
        if len(w.split()) >= MIN_WORDS and len(w) <= MAX_CHARS:
            out.append(w)
    return out


def review_windows(rows):
    """[(index into rows, window text)] for every training (non-validation) row of
    slices.load_rows, labeled or not, in row order."""
    out = []
    for i, (corpus, rid, _source, _label, is_val, text) in enumerate(rows):
        if not is_val:
            out += [(i, w) for w in windows_of(corpus, rid, text)]
    return out
