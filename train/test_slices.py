"""The validation slices: the SQL forms in slices.py select exactly the rows the Python forms do,
the IMDb slice is about a tenth of IMDb train in whole blocks, and no training text is in it.

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


def main():
    checks = Checks("test_slices")
    check = checks.check

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
    sql = {i for (i,) in con.execute("SELECT id FROM reviews WHERE " + slices.MULTI_VAL_SQL)}
    py = {i for (i,) in con.execute("SELECT id FROM reviews") if slices.multi_is_val(i)}
    check(sql == py, "multi: SQL slice != Python slice")
    per_source = dict(con.execute("SELECT source, count(*) FROM reviews WHERE " + slices.MULTI_VAL_SQL
                                  + " GROUP BY source").fetchall())
    check(len(per_source) == 18 and min(per_source.values()) >= 10, "multi: every source in the slice %r"
          % per_source)
    con.close()
    print("IMDb slice %d reviews, multi slice %d texts in %d sources" % (n_imdb, len(py), len(per_source)))
    checks.finish()


if __name__ == "__main__":
    sys.exit(main())
