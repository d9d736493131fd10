#!/usr/bin/python3
"""bench/distributed/bench.py — sqlite_sentiment.distributed against a local
sentiment_scan, and the coordinator's own limits (docs/distributed.md).

    make bench-distributed                # = bench/distributed/bench.py build/imdb-train.db
    BENCH_N=1000 bench/distributed/bench.py build/imdb-train.db

On the first BENCH_N IMDb reviews (the default model), in one run:
  1. sentiment_scan on one connection (all cores), rows/s;
  2. score_table on a LocalCluster of 1 worker process (all cores) and of 2
     (1 core each), rows/s of the scoring alone (the cluster already up) —
     then 1. again, to bracket the machine's load;
  3. bytes shipped per row: the pickled batches of 512 rows, there and back;
  4. what one coordinator can do, with no model in the way: the source read
     through the resume anti-join, INSERT OR REPLACE into OUT.db (one
     transaction per 512-row batch, rollback journal and WAL), and Dask round
     trips of 512-row batches through a LocalCluster whose task returns at once.
Prints one line per figure and a JSON object at the end.
"""
import json
import logging
import os
import pickle
import sqlite3
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))

import sqlite_sentiment  # noqa: E402
from sqlite_sentiment.distributed import _open, _todo_sql, score_table  # noqa: E402

BATCH = 512


def local_scan(src, query, threads):
    db = sqlite3.connect(src)
    sqlite_sentiment.load(db)
    db.execute("SELECT sentiment_threads(?)", (threads,))
    t = time.time()
    rows = db.execute("SELECT * FROM sentiment_scan(?)", (query,)).fetchall()
    dt = time.time() - t
    db.close()
    return rows, dt


def echo(rows):
    """A task that scores nothing: the batch's keys back, with result-sized values."""
    return [(k, "positive", 0.5, 100, 0, "[-1.28412235,0.799717128]") for k, _ in rows]


def main():
    from distributed import Client, LocalCluster

    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "imdb-train.db")
    n = int(os.environ.get("BENCH_N", "1000"))
    query = "SELECT id, text FROM reviews WHERE id <= %d" % n
    tmp = tempfile.mkdtemp(prefix="bench_distributed.")
    res = {"n": n, "cpus": os.cpu_count(), "load_before": os.getloadavg()[0]}

    def say(key, value, what):
        res[key] = value
        print("%-40s %s" % (what, value), flush=True)

    want, dt = local_scan(src, query, 0)
    tokens = sum(r[3] for r in want)
    say("tokens", tokens, "tokens in the %d reviews" % n)
    say("local_rows_s", round(n / dt, 1), "sentiment_scan, all cores: rows/s")

    for workers in (1, 2):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)
        client = Client(cluster)
        out = os.path.join(tmp, "out%d.db" % workers)
        threads = max(1, (os.cpu_count() or 1) // workers)
        score_table(src, "SELECT id, text FROM reviews WHERE id <= 64", out, "warm", client=client,
                    threads=threads, batch_rows=64 // workers)   # each worker loads the model
        r = score_table(src, query, out, "scored", client=client, threads=threads, batch_rows=BATCH)
        say("dask%d_rows_s" % workers, round(r["rows"] / r["seconds"], 1),
            "score_table, %d local worker(s): rows/s" % workers)
        got = {row[0]: row for row in sqlite3.connect(out).execute("SELECT * FROM scored")}
        worst = max(abs(got[w[0]][2] - w[2]) for w in want)
        same = all(got[w[0]][1] == w[1] for w in want)
        say("dask%d_check" % workers, "labels equal: %s, max |d score| %.1e" % (same, worst),
            "  against sentiment_scan")
        client.close()
        cluster.close()

    _, dt = local_scan(src, query, 0)
    say("local_rows_s_again", round(n / dt, 1), "sentiment_scan again: rows/s")

    # Bytes per row: what client.submit ships (the pickled rows) and what
    # comes back (the pickled results); Dask's framing adds a few hundred
    # bytes per task.
    conn, target = _open(src, os.path.join(tmp, "bytes.db"), "t")
    rows = conn.execute(_todo_sql(conn, query, target) %
                        "c0, CASE WHEN typeof(c1) = 'text' THEN CAST(c1 AS BLOB) ELSE c1 END").fetchall()
    conn.close()
    text_bytes = sum(len(r[1]) for r in rows)
    sent = sum(len(pickle.dumps(rows[i:i + BATCH], protocol=5)) for i in range(0, len(rows), BATCH))
    back = sum(len(pickle.dumps(want[i:i + BATCH], protocol=5)) for i in range(0, len(want), BATCH))
    say("text_bytes_row", round(text_bytes / n), "text bytes per row")
    say("sent_bytes_row", round(sent / n), "bytes shipped per row, to the worker")
    say("back_bytes_row", round(back / n), "bytes shipped per row, back")

    # The coordinator alone. Write rate: result rows like the real ones.
    m = 100000
    fake = [(i, "positive", 0.5 + i * 1e-7, 100 + i % 400, 0, "[-1.28412235,0.799717128]")
            for i in range(m)]
    for mode in ("delete", "wal"):
        path = os.path.join(tmp, "write_%s.db" % mode)
        conn, target = _open(src, path, "t")
        conn.execute("PRAGMA out.journal_mode = %s" % mode)
        insert = "INSERT OR REPLACE INTO %s VALUES (?, ?, ?, ?, ?, ?)" % target
        t = time.time()
        for i in range(0, m, BATCH):
            conn.execute("BEGIN")
            conn.executemany(insert, fake[i:i + BATCH])
            conn.execute("COMMIT")
        dt = time.time() - t
        say("write_rows_s_%s" % mode, round(m / dt),
            "OUT.db writes (%s journal), rows/s" % mode)
        conn.close()

    # Read rate: the whole IMDb table through the anti-join (against an
    # OUT_TABLE holding the first n keys), text as bytes.
    conn, target = _open(src, os.path.join(tmp, "write_delete.db"), "t")
    conn.execute("DELETE FROM %s WHERE key > %d" % (target, n))
    sql = _todo_sql(conn, "SELECT id, text FROM reviews", target)
    t = time.time()
    cur = conn.execute(sql % "c0, CASE WHEN typeof(c1) = 'text' THEN CAST(c1 AS BLOB) ELSE c1 END")
    got = nbytes = 0
    while True:
        batch = cur.fetchmany(BATCH)
        if not batch:
            break
        got += len(batch)
        nbytes += sum(len(r[1]) for r in batch)
    dt = time.time() - t
    conn.close()
    say("read_rows_s", round(got / dt), "source reads through the anti-join, rows/s")
    say("read_mb_s", round(nbytes / dt / 1e6, 1), "  text MB/s")

    # Dask round trips with nothing to score: 512-row batches of real texts.
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.ERROR)
    client = Client(cluster)
    batches = [rows[i:i + BATCH] for i in range(0, len(rows), BATCH)] * max(1, 40 * BATCH // n)
    client.submit(echo, batches[0], pure=False).result()
    t = time.time()
    futures = [client.submit(echo, b, pure=False) for b in batches]
    total = sum(len(f.result()) for f in futures)
    dt = time.time() - t
    say("dask_tasks_s", round(len(batches) / dt, 1), "Dask round trips of 512-row batches, tasks/s")
    say("dask_rows_s", round(total / dt), "  rows/s")
    client.close()
    cluster.close()

    res["load_after"] = os.getloadavg()[0]
    print(json.dumps(res))


if __name__ == "__main__":
    main()
