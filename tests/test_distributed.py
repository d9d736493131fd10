#!/usr/bin/python3
"""tests/test_distributed.py — sqlite_sentiment.distributed on Dask clusters.

Every run is compared with sentiment_scan run locally on the same rows (labels,
token counts and truncation equal, scores and logits within 1e-6), each key
once. In order: a LocalCluster of 2 worker processes over 2,000 rows (NULL
texts, NULL, duplicate, text, blob and real keys, invalid UTF-8, a truncated
text), resumed; a worker process killed while it holds tasks; errors; a model
folder; then a real `dask scheduler` with two `dask worker` processes on
127.0.0.1, driven by the command line, which is SIGKILLed and resumed, and a
--local-workers run stopped with SIGINT and resumed.
"""
import json
import logging
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("SENTIMENT_SHARED", os.path.join(ROOT, "..", "shared"))
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pycheck import Checks  # noqa: E402
ENV = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"), SENTIMENT_THREADS="1")
ENV.pop("SENTIMENT_MODEL", None)
os.environ.pop("SENTIMENT_MODEL", None)
T0 = time.time()
T = Checks("test_distributed")
check, skip = T.check, T.skip


def phase(what):
    print("test_distributed: %5.1f s %s" % (time.time() - T0, what))


CLEAN = 1200
WORDS = ("good bad awful great movie film plot acting boring loved hated it was the a "
         "not very fine superb dull cast story ending").split()


def make_source(path):
    """Table r: 2,000 rows with every kind of bad row; table clean: 1,200
    rows with unique integer keys, to stop midway and resume."""
    rnd = random.Random(16)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE r(id, t)")          # no affinity: keys keep their types
    rows = []
    for i in range(2000):
        key, text = i, " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(3, 25)))
        if i % 97 == 5:
            key = None
        elif i % 89 == 7:
            key = "k%d" % i
        elif i % 101 == 3:
            key = i - 1                          # a duplicate key...
            if i % 2:
                text = rows[-1][1]               # ...half of them with the same text
        if i % 83 == 2:
            text = None
        rows.append((key, text))
    rows[10] = ("11", rows[10][1])               # text '11' beside integer 11
    rows[50] = (b"\x00\x01", rows[50][1])
    rows[60] = (2.5, rows[60][1])
    rows[70] = (70, 42)
    rows[80] = (80, b"good \xff movie")
    rows[100] = (100, "good " * 600)             # truncated at 512 tokens
    rows[110] = (110, "")
    db.executemany("INSERT INTO r VALUES (?, ?)", rows)
    db.execute("UPDATE r SET t = CAST(x'6c6f766564ff206974' AS TEXT) WHERE id = 90")
    db.execute("CREATE TABLE clean(id INTEGER PRIMARY KEY, t TEXT)")
    db.executemany("INSERT INTO clean VALUES (?, ?)",
                   [(i, " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(10, 30))))
                    for i in range(CLEAN)])
    db.commit()
    db.close()


def connect(path):
    db = sqlite3.connect(path, timeout=30)
    db.enable_load_extension(True)
    db.load_extension(os.path.join(ROOT, "sentiment"))
    db.enable_load_extension(False)
    return db


def local_scan(src, query, model=None):
    db = connect(src)
    name = "default"
    if model:
        db.execute("INSERT INTO sentiment_models(name, path) VALUES ('m', ?)", (model,))
        name = "m"
    rows = db.execute("SELECT key, label, score, n_tokens, truncated, logits "
                      "FROM sentiment_scan(?, ?)", (query, name)).fetchall()
    db.close()
    return rows


def read_out(out, table):
    db = sqlite3.connect(out, timeout=30)
    rows = db.execute('SELECT key, label, score, n_tokens, truncated, logits FROM "%s"' % table).fetchall()
    db.close()
    return rows


def same_row(a, b):
    """Equal but for float rounding: label, n_tokens, truncated exact, score
    and logits within 1e-5 (all NULL for a NULL text). Workers batch other
    texts together than the local scan does, and OpenBLAS rounds a product
    differently with more rows: 1.3e-6 seen (Zen 4, OpenBLAS Haswell kernels)."""
    if a[1] != b[1] or a[3] != b[3] or a[4] != b[4]:
        return False
    if a[2] is None or b[2] is None:
        return a[2] is None and b[2] is None and a[5] is None and b[5] is None
    la, lb = json.loads(a[5]), json.loads(b[5])
    return (abs(a[2] - b[2]) <= 1e-5 and len(la) == len(lb)
            and all(abs(x - y) <= 1e-5 for x, y in zip(la, lb)))


def compare(what, got, want):
    """got: OUT_TABLE's rows; want: the local scan's. One row per non-NULL
    key, equal to one of that key's rows (to all of them when they share a
    text), of the same type; the NULL-key rows, as many and equal."""
    by_key = {}
    for r in want:
        if r[0] is not None:
            by_key.setdefault((type(r[0]), r[0]), []).append(r)
    got_keys = [(type(r[0]), r[0]) for r in got if r[0] is not None]
    check(len(got_keys) == len(set(got_keys)), "%s: a key is in the table twice" % what)
    check(set(got_keys) == set(by_key), "%s: keys differ: %d missing, %d extra" % (
        what, len(set(by_key) - set(got_keys)), len(set(got_keys) - set(by_key))))
    bad = [r for r in got if r[0] is not None and not any(
        same_row(r, w) for w in by_key.get((type(r[0]), r[0]), []))]
    check(not bad, "%s: %d rows differ from the local scan, e.g. %r, local %r" % (
        what, len(bad), bad[:1], bad and by_key.get((type(bad[0][0]), bad[0][0]))))
    nulls = sorted((r for r in got if r[0] is None), key=lambda r: (r[3] or 0, r[2] or 0))
    wnull = sorted((r for r in want if r[0] is None), key=lambda r: (r[3] or 0, r[2] or 0))
    check(len(nulls) == len(wnull) and all(same_row(a, b) for a, b in zip(nulls, wnull)),
          "%s: the %d NULL-key rows differ from the local scan's %d" % (what, len(nulls), len(wnull)))


def cli(args, **kw):
    return subprocess.Popen([sys.executable, "-m", "sqlite_sentiment.distributed"] + args,
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, **kw)


def count_rows(out, table):
    try:
        db = sqlite3.connect(out, timeout=30)
        try:
            return db.execute('SELECT count(*) FROM "%s"' % table).fetchone()[0]
        finally:
            db.close()
    except sqlite3.OperationalError:
        return 0                                 # not created yet


def wait_rows(proc, out, table, n, limit=60):
    """Wait until the table has at least n rows while proc runs."""
    end = time.time() + limit
    while time.time() < end and proc.poll() is None:
        if count_rows(out, table) >= n:
            return True
        time.sleep(0.05)
    return False


def stop(procs):
    """End the process groups this test started: SIGTERM, then SIGKILL."""
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def dask_command(role):
    if shutil.which("dask"):
        return ["dask", role]                    # dask >= 2022.10
    return ["dask-" + role]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_local_cluster(tmp, src, want, want_clean):
    from distributed import Client, LocalCluster
    from sqlite_sentiment.distributed import score_table

    query = "SELECT id, t FROM r"
    out = os.path.join(tmp, "out.db")
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.WARNING)
    client = Client(cluster)
    phase("LocalCluster of 2 workers up")
    try:
        r = score_table(src, query, out, "scored", client=client, batch_rows=100, threads=1)
        compare("LocalCluster, 2 workers", read_out(out, "scored"), want)
        check(r["rows"] == 2000 and r["skipped"] == 0, "first run: %r" % r)
        phase("2,000 rows scored on it")
        # Again: only the NULL-key rows (which cannot be told apart) are scored.
        r2 = score_table(src, query, out, "scored", client=client, batch_rows=100, threads=1)
        nulls = sum(1 for w in want if w[0] is None)
        check(nulls > 0 and r2["rows"] == nulls and r2["skipped"] == r["keys"] - nulls
              and r2["keys"] == r["keys"], "second run: %r, want only the %d NULL-key rows scored"
              % (r2, nulls))
        compare("LocalCluster, run again", read_out(out, "scored"), want)

        phase("run again")
        # A worker process killed while it holds tasks (at the first batch
        # written when one does): Dask reruns them.
        killed = []

        def kill_one(done, total):
            if killed:
                return
            busy = [a for a, keys in client.processing().items() if keys]
            if busy:
                pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                os.kill(pid, signal.SIGKILL)
                killed.append(done)

        r = score_table(src, "SELECT id, t FROM clean", out, "killed", client=client,
                        batch_rows=20, threads=1, progress=kill_one)
        check(killed and killed[0] < CLEAN, "no worker held a task when one was to be killed")
        check(r["rows"] == CLEAN, "worker killed: %d rows written, want %d" % (r["rows"], CLEAN))
        compare("worker killed", read_out(out, "killed"), want_clean)

        phase("a worker killed")
        # Errors name the cause; nothing is written.
        for args, text in [
                (("SELECT id FROM r",), "the query must return (key, text): it returns 1 column"),
                (("SELECT id, t FROM nope",), "the query failed: no such table: nope"),
                (("DELETE FROM r",), "the query failed: near \"DELETE\": syntax error")]:
            try:
                score_table(src, args[0], out, "errors", client=client)
                check(False, "%s: no error" % args[0])
            except ValueError as e:
                check(str(e) == text, "%s: error %r, want %r" % (args[0], str(e), text))
        sqlite3.connect(out).execute("CREATE TABLE wrong(key, label)").connection.commit()
        try:
            score_table(src, query, out, "wrong", client=client)
            check(False, "wrong table: no error")
        except ValueError as e:
            check("exists without the columns key, label, score" in str(e), "wrong table: %s" % e)
        try:
            score_table(src, query, out, "errors", client=client, model="nope")
            check(False, "unknown model: no error")
        except sqlite3.OperationalError as e:
            check(str(e).startswith("sentiment_scan(): no model named 'nope'"), "unknown model: %s" % e)
        check(count_rows(out, "errors") == 0, "a failed run wrote rows")

        folder = os.path.join(SHARED, "golden", "models", "tiny-bert")
        if os.path.isdir(folder):
            q = "SELECT id, t FROM r WHERE rowid <= 300"
            score_table(src, q, out, "tiny", client=client, model=folder, threads=1)
            compare("model folder", read_out(out, "tiny"), local_scan(src, q, folder))
        else:
            T.skip_shared("no shared folder at %s: the model-folder run is not checked" % SHARED)
    finally:
        client.close()
        cluster.close()


def test_scheduler(tmp, src, want, want_clean):
    """A real scheduler and two worker processes; the command line against
    them, SIGKILLed and resumed; --local-workers SIGINTed and resumed."""
    from distributed import Client

    port = free_port()
    addr = "tcp://127.0.0.1:%d" % port
    out = os.path.join(tmp, "cli.db")
    procs = [subprocess.Popen(dask_command("scheduler") + ["--host", "127.0.0.1", "--port", str(port),
                                                           "--no-dashboard"],
                              env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)]
    try:
        for _ in range(2):
            procs.append(subprocess.Popen(
                dask_command("worker") + [addr, "--nthreads", "1", "--no-nanny", "--host", "127.0.0.1",
                                          "--no-dashboard", "--death-timeout", "60"],
                env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True))
        client = Client(addr, timeout="60s")
        client.wait_for_workers(2, timeout=60)
        client.close()
        check(True, "scheduler and 2 workers up")
        phase("dask scheduler and 2 dask workers up")

        p = cli([src, "SELECT id, t FROM r", out, "scored", "--scheduler", addr, "--batch-rows", "128"])
        _, err = p.communicate(timeout=120)
        check(p.returncode == 0, "command line: exit %d: %s" % (p.returncode, err[-2000:]))
        check("2000 rows scored" in err, "command line summary: %s" % err[-500:])
        compare("dask scheduler + 2 dask workers", read_out(out, "scored"), want)

        phase("command line, 2,000 rows")
        query = "SELECT id, t FROM clean"
        p = cli([src, query, out, "clean", "--scheduler", addr, "--batch-rows", "20"])
        reached = wait_rows(p, out, "clean", 100)
        os.kill(p.pid, signal.SIGKILL)
        p.communicate()
        have = count_rows(out, "clean")
        check(reached and have < CLEAN, "SIGKILL came too late: %d of %d rows written" % (have, CLEAN))
        p = cli([src, query, out, "clean", "--scheduler", addr, "--batch-rows", "100"])
        _, err = p.communicate(timeout=120)
        check(p.returncode == 0 and "%d rows scored" % (CLEAN - have) in err
              and "%d keys were already there" % have in err,
              "resume after SIGKILL at %d rows: exit %d: %s" % (have, p.returncode, err[-2000:]))
        compare("SIGKILL and resume", read_out(out, "clean"), want_clean)

        phase("SIGKILL and resume")
        p = cli([src, query, out, "sigint", "--local-workers", "1", "--batch-rows", "20"])
        reached = wait_rows(p, out, "sigint", 100, limit=90)
        os.kill(p.pid, signal.SIGINT)
        try:
            _, err = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            stop([p])
            _, err = p.communicate()
        have = count_rows(out, "sigint")
        check(reached and p.returncode == 130 and "interrupted" in err and have < CLEAN,
              "SIGINT at %d rows: exit %s: %s" % (have, p.returncode, err[-2000:]))
        p = cli([src, query, out, "sigint", "--scheduler", addr, "--batch-rows", "100"])
        _, err = p.communicate(timeout=120)
        check(p.returncode == 0 and "%d rows scored" % (CLEAN - have) in err
              and "%d keys were already there" % have in err,
              "resume after SIGINT at %d rows: exit %d: %s" % (have, p.returncode, err[-2000:]))
        compare("SIGINT and resume", read_out(out, "sigint"), want_clean)
        phase("SIGINT and resume")
    finally:
        stop(procs[::-1])


def main():
    try:
        import distributed  # noqa: F401
    except ImportError:
        skip("Dask distributed is not installed (apt-get install python3-distributed, "
             "or bash .ci/deps): sqlite_sentiment.distributed is not tested")
        T.finish()
    logging.getLogger("distributed").setLevel(logging.CRITICAL)
    # Started in the background by a shell without job control (nohup, `cmd &`), this process
    # and so the coordinators it starts ignore SIGINT, and the Ctrl-C check cannot pass. A
    # Python handler here is reset to the default in the children at exec, as at a terminal.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    tmp = tempfile.mkdtemp(prefix="test_distributed.")
    try:
        src = os.path.join(tmp, "src.db")
        make_source(src)
        want = local_scan(src, "SELECT id, t FROM r")
        check(len(want) == 2000, "local scan: %d rows" % len(want))
        want_clean = local_scan(src, "SELECT id, t FROM clean")
        phase("reference scans")
        test_local_cluster(tmp, src, want, want_clean)
        test_scheduler(tmp, src, want, want_clean)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    T.finish()


# LocalCluster starts its workers with multiprocessing "spawn", which imports
# this file again in each of them: run only in the main process.
if __name__ == "__main__":
    main()
