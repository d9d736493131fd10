#!/usr/bin/python3
"""tests/test_provenance.py — which weights a score came from.

sentiment_version() is "VERSION (model sha256:<16 hex>)" with the library's
VERSION and the SHA-256 of the embedded model (models/default/model.safetensors
as built in), and sentiment_models.sha256 is the SHA-256 of each name's
model.safetensors (of the embedded bytes for the built-in default), compared
here with Python's hashlib on the files. The column follows a file rewritten
in place, and is NULL for a folder without model.safetensors. Prints what
the first hash of the embedded model costs.
"""
import hashlib
import os
import shutil
import sqlite3
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("SENTIMENT_SHARED", os.path.join(ROOT, "..", "shared"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pycheck import Checks  # noqa: E402

T = Checks("test_provenance")


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def connect():
    db = sqlite3.connect(":memory:")
    db.enable_load_extension(True)
    db.load_extension(os.path.join(ROOT, "sentiment"))
    db.enable_load_extension(False)
    return db


def main():
    os.environ.pop("SENTIMENT_MODEL", None)
    version = open(os.path.join(ROOT, "VERSION")).read().strip()
    weights = os.path.join(ROOT, "models", "default", "model.safetensors")
    db = connect()
    t0 = time.perf_counter()
    got = db.execute("SELECT sentiment_version()").fetchone()[0]
    ms = (time.perf_counter() - t0) * 1000
    if os.path.isfile(weights):
        want = sha(weights)
        T.check(got == "%s (model sha256:%s)" % (version, want[:16]),
                "sentiment_version() = %r, want %s (model sha256:%s)" % (got, version, want[:16]))
        row = db.execute("SELECT path, sha256 FROM sentiment_models WHERE name = 'default'").fetchone()
        T.check(row == (None, want), "default: %r, want (None, %s)" % (row, want))
        print("test_provenance: the first sentiment_version() (hashing %.1f MB) took %.0f ms"
              % (os.path.getsize(weights) / 1e6, ms))
    else:
        T.check(got == "%s (no embedded model)" % version, "sentiment_version() = %r" % got)

    models = os.path.join(SHARED, "golden", "models")
    if not os.path.isdir(models):
        T.skip_shared("no shared folder at %s: folder hashes not checked" % SHARED)
        return
    tiny = os.path.join(models, "tiny-bert")
    db.execute("INSERT INTO sentiment_models(name, path) VALUES ('tiny', ?)", (tiny,))
    got = db.execute("SELECT sha256 FROM sentiment_models WHERE name = 'tiny'").fetchone()[0]
    T.check(got == sha(os.path.join(tiny, "model.safetensors")), "tiny-bert: %s" % got)

    with tempfile.TemporaryDirectory() as d:
        for f in ("config.json", "vocab.txt", "model.safetensors"):
            shutil.copy(os.path.join(tiny, f), d)
        db.execute("INSERT INTO sentiment_models(name, path) VALUES ('copy', ?)", (d,))
        q = "SELECT sha256 FROM sentiment_models WHERE name = 'copy'"
        before = db.execute(q).fetchone()[0]
        T.check(before == sha(os.path.join(tiny, "model.safetensors")), "copy: %s" % before)
        with open(os.path.join(d, "model.safetensors"), "ab") as f:  # rewritten in place
            f.write(b" ")
        after = db.execute(q).fetchone()[0]
        T.check(after == sha(os.path.join(d, "model.safetensors")) and after != before,
                "after a rewrite: %s (before %s)" % (after, before))
        os.unlink(os.path.join(d, "model.safetensors"))
        T.check(db.execute(q).fetchone()[0] is None, "no model.safetensors: not NULL")

    # SENTIMENT_MODEL makes the default a folder: its file's hash.
    os.environ["SENTIMENT_MODEL"] = tiny
    db2 = connect()
    row = db2.execute("SELECT path, sha256 FROM sentiment_models WHERE name = 'default'").fetchone()
    T.check(row[1] == sha(os.path.join(tiny, "model.safetensors")), "SENTIMENT_MODEL default: %r" % (row,))
    os.environ.pop("SENTIMENT_MODEL")


main()
T.finish()
