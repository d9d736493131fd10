"""The training data and its validation slices, defined once for every script in train/.

Two databases from ../shared/data (unpacked by train/run.sh):
  imdb-train.db    reviews(id, split, label, rating, file, text): split 'train' (labeled) or 'unsup'
  reviews-multi.db reviews(id, source, label, text): 18 labeled sources (reviews-multi.md)

Validation slices (never trained on, by the student, the teacher or the baseline):
  IMDb: labeled reviews whose file number falls in a validation block: (n // 250) % 10 == 0, where
        n is the number in train/{pos,neg}/n_r.txt. Neighbouring file numbers share a film (the
        archive lists a film's reviews one after another, up to 30 of them), so a random cut puts
        reviews of the same film on both sides; blocks of 250 keep all but the films at a block's
        edge on one side. (The old slice, id % 10 == 0, is kept as `imdb-random` for comparison.)
  multi: id % 10 == 0 inside every source (rows are shuffled within a source), except sst2-train.
  sst2-train: SST-2's training split holds every phrase of a sentence's parse tree beside the
        sentence, so a random cut put 78% of its validation phrases verbatim inside training
        phrases (3,610 of 4,633). The cut is by sentence instead: a root is a phrase that no other
        phrase contains (as a run of whole tokens); a root is in the slice when its id % 10 == 0,
        and any phrase is in the slice when every root containing it is (sst2_val_ids). No
        validation phrase then occurs inside a training phrase; phrases shared by sentences on
        both sides ("the film", "bad") train.
"""
import re

IMDB_BLOCK = 250
# The same slices as SQL, for tests and `make eval` (file 'train/pos/123_8.txt': the number at 11).
IMDB_VAL_SQL = "split = 'train' AND (CAST(substr(file, 11) AS INTEGER) / 250) % 10 = 0"
SST2 = "sst2-train"
SOURCES_IMDB = ("imdb", "imdb-unsup")


def imdb_file_number(path):
    m = re.match(r"(?:train|unsup)/(?:pos|neg|unsup)/(\d+)_", path)
    if not m:
        raise ValueError("unexpected IMDb file name %r" % path)
    return int(m.group(1))


def imdb_is_val(split, path):
    return split == "train" and (imdb_file_number(path) // IMDB_BLOCK) % 10 == 0


def imdb_film_blocks(imdb_db):
    """{row id: n // IMDB_BLOCK} for IMDb's labeled reviews: the block of file numbers that keeps
    a film's reviews together (the unit of the validation cut)."""
    import sqlite3
    con = sqlite3.connect(imdb_db)
    out = {rid: imdb_file_number(path) // IMDB_BLOCK
           for rid, path in con.execute("SELECT id, file FROM reviews WHERE split = 'train'")}
    con.close()
    return out


def imdb_is_random_val(split, rid):
    return split == "train" and rid % 10 == 0


def _runs(words):
    """Every run of consecutive tokens of `words` (a tuple), `words` itself included."""
    return (words[a:b] for a in range(len(words)) for b in range(a + 1, len(words) + 1))


def _sst2_roots(phrases):
    """{id: tokens} of every phrase of {id: text}, and the ids of the roots (phrases no other
    phrase contains as a run of whole tokens)."""
    words = {i: tuple(t.split()) for i, t in phrases.items()}
    inside = {r for w in words.values() for r in _runs(w) if len(r) < len(w)}  # proper parts
    return words, sorted(i for i, w in words.items() if w not in inside)


def sst2_val_ids(phrases):
    """The sst2-train validation slice from {id: text} (texts tokenized, tokens split by spaces)."""
    words, roots = _sst2_roots(phrases)
    only_val_roots = {}  # run of tokens -> every root containing it is in the slice
    for i in roots:
        for r in _runs(words[i]):
            only_val_roots[r] = only_val_roots.get(r, True) and i % 10 == 0
    return {i for i, w in words.items() if only_val_roots[w]}


def sst2_root_of(phrases):
    """{id: the smallest id of a root containing the phrase} for every phrase of {id: text}: the
    sentence a phrase is grouped with when texts of one sentence must stay together."""
    words, roots = _sst2_roots(phrases)
    first = {}
    for i in roots:  # ascending, so the first root to claim a run is the smallest
        for r in _runs(words[i]):
            first.setdefault(r, i)
    return {i: first[w] for i, w in words.items()}


def multi_val_ids(con):
    """Row ids of reviews-multi's validation slice, given a connection to it."""
    return {i for (i,) in con.execute("SELECT id FROM reviews WHERE " + multi_val_sql(con))}


def multi_val_sql(con):
    """The same slice as an SQL condition on reviews-multi's `reviews` (ids listed: sst2's cut
    needs every phrase of the source at once)."""
    sst2 = sorted(sst2_val_ids(dict(con.execute("SELECT id, text FROM reviews WHERE source = ?", (SST2,)))))
    return "((source <> '%s' AND id %% 10 = 0) OR id IN (%s))" % (SST2, ",".join(map(str, sst2)))


def multi_proof_sql(val_sql):
    """val_logits.jsonl (the export proof) covers the whole IMDb slice and, of the others, the
    validation texts whose id % 50 == 0 (export.py): that condition, from multi_val_sql's."""
    return "(%s AND id %% 50 = 0)" % val_sql


def load_rows(imdb_db, multi_db):
    """Every text with (corpus, row id, source, label or -1, is_val, text), IMDb first."""
    import sqlite3
    rows = []
    con = sqlite3.connect(imdb_db)
    for rid, split, label, path, text in con.execute(
            "SELECT id, split, label, file, text FROM reviews WHERE split IN ('train','unsup') ORDER BY id"):
        rows.append(("imdb", rid, "imdb" if split == "train" else "imdb-unsup",
                     -1 if label is None else int(label), imdb_is_val(split, path), text))
    con.close()
    con = sqlite3.connect(multi_db)
    val = multi_val_ids(con)
    for rid, source, label, text in con.execute("SELECT id, source, label, text FROM reviews ORDER BY id"):
        rows.append(("multi", rid, source, int(label), rid in val, text))
    con.close()
    return rows


def find_db(name, shared):
    """Path of imdb-train.db / reviews-multi.db: $IMDB_DB / $MULTI_DB, /tmp/NAME.db, or unpacked
    from SHARED/data/NAME.db.xz into /tmp. None when neither exists."""
    import lzma
    import os
    import shutil
    env = os.environ.get({"imdb-train": "IMDB_DB", "reviews-multi": "MULTI_DB"}[name])
    for p in (env, "/tmp/%s.db" % name):
        if p and os.path.exists(p):
            return p
    xz = os.path.join(shared, "data", name + ".db.xz")
    if not os.path.exists(xz):
        return None
    dst = env or "/tmp/%s.db" % name
    with lzma.open(xz) as src, open(dst + ".tmp", "wb") as out:
        shutil.copyfileobj(src, out, 1 << 20)
    os.replace(dst + ".tmp", dst)
    return dst
