"""The validation slices: the SQL forms in slices.py select exactly the rows the Python forms do,
the IMDb slice is about a tenth of IMDb train in whole blocks, and no training text is in it;
no sst2-train validation phrase occurs inside a training phrase (the random cut it replaced put
78% of them there), and the sentence cut itself and sst2_root_of on a hand-made tree of phrases.

Usage: /usr/bin/python3 train/test_slices.py      (skips without the databases)
"""
import os
import sqlite3
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from pycheck import Checks  # noqa: E402
import slices  # noqa: E402

SHARED = os.environ.get("SHARED", os.path.join(HERE, "..", "..", "shared"))


def test_tree(check):
    """The sentence cut on a tree: roots 10 (in the slice), 11 (not) and 24; 'the film' is in 10 and 11."""
    tree = {10: "the film is a delight", 11: "the film drags", 20: "is a delight", 21: "a delight",
            22: "the film", 23: "drags", 24: "delight the"}
    check(slices.sst2_val_ids(tree) == {10, 20, 21}, "sst2_val_ids on the tree: %r" % slices.sst2_val_ids(tree))
    want = {10: 10, 11: 11, 20: 10, 21: 10, 22: 10, 23: 11, 24: 24}
    check(slices.sst2_root_of(tree) == want, "sst2_root_of on the tree: %r" % slices.sst2_root_of(tree))


def main():
    checks = Checks("test_slices")
    check = checks.check
    test_tree(check)  # needs no database

    imdb, multi = slices.find_db("imdb-train", SHARED), slices.find_db("reviews-multi", SHARED)
    if imdb is None or multi is None:
        checks.skip_shared("databases not found")
        checks.finish()
    con = sqlite3.connect(imdb)
    rows = con.execute("SELECT id, split, file FROM reviews").fetchall()
    sql = {i for (i,) in con.execute("SELECT id FROM reviews WHERE " + slices.IMDB_VAL_SQL)}
    py = {i for i, s, f in rows if slices.imdb_is_val(s, f)}
    check(sql == py, "IMDb: SQL slice (%d) != Python slice (%d)" % (len(sql), len(py)))
    n_imdb = len(py)
    n_train = sum(s == "train" for _, s, _ in rows)
    check(0.08 * n_train < len(py) < 0.12 * n_train, "IMDb slice holds %d of %d" % (len(py), n_train))
    nums = sorted(slices.imdb_file_number(f) for i, s, f in rows if i in py)
    check(all((n // slices.IMDB_BLOCK) % 10 == 0 for n in nums), "IMDb slice outside its blocks")
    con.close()
    con = sqlite3.connect(multi)
    val_sql = slices.multi_val_sql(con)
    py = {r[1] for r in slices.load_rows(imdb, multi) if r[0] == "multi" and r[4]}
    sql = {i for (i,) in con.execute("SELECT id FROM reviews WHERE " + val_sql)}
    check(sql == py, "multi: SQL slice (%d) != load_rows' slice (%d)" % (len(sql), len(py)))
    per_source = dict(con.execute("SELECT source, count(*) FROM reviews WHERE " + val_sql
                                  + " GROUP BY source").fetchall())
    check(len(per_source) == 18 and min(per_source.values()) >= 10, "multi: every source in the slice %r"
          % per_source)
    n_sst2 = con.execute("SELECT count(*) FROM reviews WHERE source = ?", (slices.SST2,)).fetchone()[0]
    check(0.07 * n_sst2 < per_source[slices.SST2] < 0.11 * n_sst2,
          "sst2 slice holds %d of %d" % (per_source[slices.SST2], n_sst2))
    phrases = dict(con.execute("SELECT id, text FROM reviews WHERE source = ?", (slices.SST2,)))
    train_text = "\n".join(" %s " % " ".join(t.split()) for i, t in phrases.items() if i not in py)
    inside = [i for i in phrases if i in py and " %s " % " ".join(phrases[i].split()) in train_text]
    check(not inside, "sst2: %d validation phrases occur inside training phrases (first: %r)"
          % (len(inside), phrases[inside[0]] if inside else ""))
    proof = {i for (i,) in con.execute("SELECT id FROM reviews WHERE " + slices.multi_proof_sql(val_sql))}
    check(proof <= py and len(proof) > len(py) / 10, "proof slice: %d of the %d" % (len(proof), len(py)))
    con.close()

    print("IMDb slice %d reviews, multi slice %d texts in %d sources" % (n_imdb, len(py), len(per_source)))
    checks.finish()


if __name__ == "__main__":
    sys.exit(main())
