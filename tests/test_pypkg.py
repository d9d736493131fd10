#!/usr/bin/python3
"""tests/test_pypkg.py — the Python package sqlite_sentiment (python/).

By default it imports the package from the source tree (python/, with the
checkout's ./sentiment.so). tests/test_wheel.sh runs it again with a venv's
python and SNT_PYPKG_INSTALLED=1: the package then comes from the installed
wheel and must carry its own sentiment.so.

Checks: __version__ is the library's, load() defines the functions on a
sqlite3.Connection, the golden texts of both tiny models score as
expected.jsonl says (1e-4), the sqlite-utils hook loads the extension, and
Ctrl-C (SIGINT to a child scanning a long table) stops the statement within
a second; the latency is printed.
"""
import os
import signal
import sqlite3
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("SENTIMENT_SHARED", os.path.join(ROOT, "..", "shared"))
INSTALLED = os.environ.get("SNT_PYPKG_INSTALLED") == "1"
NAME = "test_pypkg_wheel" if INSTALLED else "test_pypkg"
if not INSTALLED:
    sys.path.insert(0, os.path.join(ROOT, "python"))
import sqlite_sentiment  # noqa: E402
from sqlite_sentiment import load, loadable_path  # noqa: E402  (the API distributed.py uses)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pycheck import Checks  # noqa: E402
import golden  # noqa: E402

T = Checks(NAME)
check, skip = T.check, T.skip


CHILD = r"""
import sqlite3, sys, time
import sqlite_sentiment
db = sqlite3.connect(":memory:")
sqlite_sentiment.load(db)
text = "the film was long and I did not care for the actors but the music was fine " * 4
print("ready", flush=True)
try:
    db.execute("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000000) "
               "SELECT count(sentiment(x || ' ' || ?)) FROM c", (text,)).fetchone()
    print("finished")
except sqlite3.OperationalError as e:
    print("stopped %r %.6f" % (str(e), time.monotonic()), flush=True)
"""


def ctrl_c():
    """SIGINT a child that runs a scan of minutes; it must stop within 1 s."""
    env = dict(os.environ)
    if not INSTALLED:
        env["PYTHONPATH"] = os.path.join(ROOT, "python")
    # A child started from a background job inherits SIGINT ignored: Python
    # then installs no KeyboardInterrupt handler. Give it the default.
    p = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True, env=env,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        check(p.stdout.readline().strip() == "ready", "Ctrl-C child did not start")
        time.sleep(0.5)  # inside the scan
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        out, _ = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        check(False, "Ctrl-C: the scan was still running 30 s after SIGINT")
        return
    words = out.split()
    ok = len(words) == 3 and words[0] == "stopped" and words[1] == "'interrupted'"
    check(ok, "Ctrl-C: child printed %r, want stopped 'interrupted'" % out)
    if ok:
        ms = (float(words[2]) - t0) * 1000
        print("%s: Ctrl-C stopped the scan %.1f ms after SIGINT" % (NAME, ms))
        check(ms < 1000, "Ctrl-C took %.0f ms" % ms)


def main():
    os.environ.pop("SENTIMENT_MODEL", None)
    path = loadable_path()
    check(path.endswith("sentiment.so") and os.path.isfile(path), "loadable_path() = %r" % path)
    pkg_dir = os.path.dirname(os.path.abspath(sqlite_sentiment.__file__))
    if INSTALLED:
        check(os.path.dirname(path) == pkg_dir, "wheel: %s is not the package's own .so" % path)
        check("site-packages" in pkg_dir, "wheel: package imported from %s" % pkg_dir)
    else:
        check(os.path.samefile(path, os.path.join(ROOT, "sentiment.so")), "source tree: %s" % path)

    db = sqlite3.connect(":memory:")
    load(db)
    version = db.execute("SELECT sentiment_version()").fetchone()[0]
    check(version.split(" ")[0] == sqlite_sentiment.__version__,
          "__version__ %s, library says %r" % (sqlite_sentiment.__version__, version))
    try:
        db.execute("SELECT load_extension('x')").fetchone()
        check(False, "load() left extension loading enabled")
    except sqlite3.OperationalError as e:
        check("not authorized" in str(e), "load_extension after load(): %s" % e)
    check(db.execute("SELECT sentiment(NULL)").fetchone()[0] is None, "NULL in, NULL out")

    # The sqlite-utils hook, called as sqlite-utils >= 3.34 calls it.
    from sqlite_sentiment import sqlite_utils_plugin
    c2 = sqlite3.connect(":memory:")
    sqlite_utils_plugin.prepare_connection(c2)
    check(c2.execute("SELECT sentiment_version()").fetchone()[0] == version, "prepare_connection")

    models = golden.models_dir(SHARED)
    if models:
        bad, total = golden.score(db, models)
        check(total > 0 and bad == 0, "golden: %d of %d texts differ" % (bad, total))
    else:
        T.skip_shared("no shared folder at %s: golden texts not scored" % SHARED)
    ctrl_c()


main()
T.finish()
