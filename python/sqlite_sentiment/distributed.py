"""sqlite_sentiment.distributed — sentiment_scan over a Dask cluster.

    python3 -m sqlite_sentiment.distributed SRC.db "SELECT id, text FROM reviews" OUT.db OUT_TABLE \\
        [--scheduler tcp://HOST:8786 | --local-workers N] [--model NAME_OR_FOLDER] [--batch-rows N]

    from sqlite_sentiment.distributed import score_table
    score_table("src.db", "SELECT id, text FROM reviews", "out.db", "scored", client=client)

The data flow:

    SRC.db ─► coordinator: (key, text) in batches ─► client.submit ─► Dask worker: the batch into
    an in-memory table, SELECT * FROM sentiment_scan(...) ─► (key, label, score, n_tokens,
    truncated, logits) ─► coordinator: INSERT OR REPLACE into OUT.db's OUT_TABLE, one
    transaction per batch, as batches complete

- The query runs on SRC.db opened read-only; its first column is the key, its
  second the text (further columns are ignored), exactly as sentiment_scan
  takes them. Text is shipped as its bytes (a TEXT value as a BLOB of the same
  bytes, which the extension scores as the same text), so invalid UTF-8
  reaches the worker unchanged.
- Workers need the extension and the model folder (or the embedded default),
  never the database. Each worker process loads the extension once (the
  WorkerPlugin below keeps its connections, and with them the model, for the
  life of the worker).
- At most `in_flight` batches are out at a time (default: twice the workers'
  threads, plus one), so memory stays bounded on both sides.
- Nothing lost, nothing twice: a batch is written in one transaction, so
  OUT_TABLE holds whole batches only; a worker that dies has its task rerun by
  Dask; a coordinator started again with the same arguments skips the keys
  already in OUT_TABLE (an anti-join against OUT.db, attached to the source
  connection). Rows whose key is NULL cannot be told apart: a restart deletes
  them from OUT_TABLE and scores them again. A key that occurs more than once
  is one row of OUT_TABLE (its primary key), the result of the last of its
  rows written; sentiment_scan itself returns every row.
"""
import argparse
import os
import signal
import sqlite3
import sys
import threading
import time
import urllib.parse

import sqlite_sentiment

COLUMNS = ("key", "label", "score", "n_tokens", "truncated", "logits")
PLUGIN_NAME = "sqlite_sentiment"
MODEL_NAME = "distributed"   # the name a model folder gets on the workers' connections


# ---- worker side ----------------------------------------------------------

try:
    from distributed import WorkerPlugin as _PluginBase
except ImportError:          # the coordinator says what is missing
    _PluginBase = object


class SentimentPlugin(_PluginBase):
    """Keeps, per worker process, connections with the extension loaded: one
    opened at setup (which checks that the extension loads on this worker and
    keeps it and its models in memory), more only if the worker runs several
    tasks at once. Each connection remembers the model folders it registered."""
    name = PLUGIN_NAME

    def setup(self, worker=None):
        self._lock = threading.Lock()
        self._free = [self._open()]
        self.version = self._free[0][0].execute("SELECT sentiment_version()").fetchone()[0]

    def teardown(self, worker=None):
        with self._lock:
            for conn, _ in self._free:
                conn.close()
            self._free = []

    @staticmethod
    def _open():
        conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        sqlite_sentiment.load(conn, interruptible=False)   # no Ctrl-C on a worker
        conn.execute("CREATE TEMP TABLE batch(k, t)")   # no affinity: values stay as sent
        return conn, {}

    def acquire(self):
        with self._lock:
            if self._free:
                return self._free.pop()
        return self._open()

    def release(self, item):
        with self._lock:
            self._free.append(item)


def _model_arg(conn, folders, model):
    """The name to give sentiment_scan for `model` (None, a name, or a folder
    path), registering a folder on this connection the first time."""
    if model is None:
        return "default"
    if not (os.sep in model or os.path.isdir(model)):
        return model
    if folders.get(MODEL_NAME) != model:
        conn.execute("INSERT OR REPLACE INTO sentiment_models(name, path) VALUES (?, ?)",
                     (MODEL_NAME, model))
        folders[MODEL_NAME] = model
    return MODEL_NAME


def score_batch(rows, model=None, threads=0):
    """On a worker: sentiment_scan over rows [(key, text), ...]; returns
    [(key, label, score, n_tokens, truncated, logits), ...] in the same order."""
    from distributed import get_worker
    plugin = get_worker().plugins[PLUGIN_NAME]
    item = plugin.acquire()
    conn, folders = item
    try:
        conn.execute("SELECT sentiment_threads(?)", (threads,))
        name = _model_arg(conn, folders, model)
        conn.execute("DELETE FROM batch")
        conn.executemany("INSERT INTO batch(k, t) VALUES (?, ?)", rows)
        out = conn.execute("SELECT %s FROM sentiment_scan('SELECT k, t FROM batch ORDER BY rowid', ?)"
                           % ", ".join(COLUMNS), (name,)).fetchall()
        conn.execute("DELETE FROM batch")
        return out
    finally:
        plugin.release(item)


# ---- coordinator side -----------------------------------------------------

def _quote(name):
    return '"%s"' % name.replace('"', '""')


def _same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _open(src, out, table):
    """One connection: SRC.db read-only as main, OUT.db attached as `out`
    (or, when they are one file, that file read-write as main). Returns the
    connection and the qualified name of the output table."""
    if not os.path.isfile(src):
        raise FileNotFoundError("%s: no such database file" % src)
    if _same_file(src, out):
        conn = sqlite3.connect(src, isolation_level=None)
        schema = "main"
    else:
        uri = "file:%s?mode=ro" % urllib.parse.quote(os.path.abspath(src))
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
        conn.execute("ATTACH DATABASE ? AS out", (out,))
        schema = "out"
    conn.execute("PRAGMA %s.busy_timeout = 10000" % schema)
    target = "%s.%s" % (schema, _quote(table))
    conn.execute("CREATE TABLE IF NOT EXISTS %s(key PRIMARY KEY, label TEXT, score REAL, "
                 "n_tokens INTEGER, truncated INTEGER, logits TEXT)" % target)
    info = {r[1]: r[5] for r in conn.execute("PRAGMA %s.table_info(%s)" % (schema, _quote(table)))}
    if any(c not in info for c in COLUMNS) or info["key"] != 1 or max(info.values()) > 1:
        conn.close()
        raise ValueError("table %s in %s exists without the columns %s and key as its primary key"
                         % (table, out, ", ".join(COLUMNS)))
    return conn, target


def _todo_sql(conn, query, target):
    """SQL over the query's rows whose key is not yet in the output table."""
    try:
        probe = conn.execute("SELECT * FROM (%s) LIMIT 0" % query)
        ncol = len(probe.description)
        probe.close()
    except sqlite3.Error as e:
        raise ValueError("the query failed: %s" % e) from None
    if ncol < 2:
        raise ValueError("the query must return (key, text): it returns %d column" % ncol)
    cols = ", ".join("c%d" % i for i in range(ncol))
    # +q.c0: no affinity on the probe, so the primary-key index answers it.
    return ("WITH q(%s) AS (%s) SELECT %%s FROM q WHERE NOT EXISTS "
            "(SELECT 1 FROM %s o WHERE o.key = +q.c0)" % (cols, query, target))


def _progress_bar(total, show):
    if not show:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="row", smoothing=0.1, dynamic_ncols=True)


def score_table(src, query, out, table, client=None, model=None, batch_rows=512,
                threads=0, in_flight=None, progress=None, show_progress=None):
    """Score the rows of `query` over SRC.db on the Dask cluster behind
    `client` (None: a LocalCluster of one worker process on this machine) into
    `table` of OUT.db. Resumes: keys already in the table are not scored again.

    model      a name known to the workers' connections ('default', the
               default) or a model folder that exists on every worker
    threads    sentiment_threads() on the workers (0: each worker's
               $SENTIMENT_THREADS or its CPU count)
    progress   called as progress(rows_done, rows_total) after each batch
    show_progress  a tqdm bar on stderr (default: when stderr is a terminal)

    Returns a dict: rows (scored now), skipped (keys already there), keys
    (rows of the table at the end), seconds."""
    from distributed import Client, as_completed

    if batch_rows < 1:
        raise ValueError("batch_rows must be at least 1")
    if model is not None and os.path.isdir(model):
        model = os.path.abspath(model)
    own_client = client is None
    if own_client:
        client = Client(n_workers=1, threads_per_worker=1, processes=True,
                        dashboard_address=None)
    conn = cur = futures = bar = None
    done = 0
    try:
        conn, target = _open(src, out, table)
        todo = _todo_sql(conn, query, target)
        client.register_worker_plugin(SentimentPlugin(), name=PLUGIN_NAME)
        t0 = time.time()
        conn.execute("DELETE FROM %s WHERE key IS NULL" % target)
        keys0 = conn.execute("SELECT count(*) FROM %s" % target).fetchone()[0]
        total = conn.execute(todo % "count(*)").fetchone()[0]
        cur = conn.execute(todo % "c0, CASE WHEN typeof(c1) = 'text' THEN CAST(c1 AS BLOB) ELSE c1 END")
        if show_progress is None:
            show_progress = sys.stderr.isatty()
        bar = _progress_bar(total, show_progress)
        if in_flight is None:
            in_flight = 2 * max(1, sum(client.nthreads().values())) + 1
        insert = "INSERT OR REPLACE INTO %s(%s) VALUES (?, ?, ?, ?, ?, ?)" % (target, ", ".join(COLUMNS))

        def submit():
            rows = cur.fetchmany(batch_rows)
            if rows:
                futures.add(client.submit(score_batch, rows, model, threads, pure=False))
            return bool(rows)

        futures = as_completed(loop=client.loop)
        more = True
        while more and futures.count() < in_flight:
            more = submit()
        for fut in futures:
            result = fut.result()
            fut.release()
            conn.execute("BEGIN")
            try:
                conn.executemany(insert, result)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            done += len(result)
            if bar is not None:
                bar.update(len(result))
            if progress is not None:
                progress(done, total)
            if more:
                more = submit()
        keys = conn.execute("SELECT count(*) FROM %s" % target).fetchone()[0]
        return {"rows": done, "skipped": keys0, "keys": keys, "seconds": time.time() - t0}
    finally:
        if bar is not None:
            bar.close()
        if futures is not None:
            for fut in list(futures.futures):
                fut.cancel()
        # The cursor first: a statement left open (say, held by a traceback)
        # would keep the connection, and its locks on OUT.db, alive.
        if cur is not None:
            cur.close()
        if conn is not None:
            conn.close()
        if own_client:
            cluster = client.cluster
            client.close()
            cluster.close()


# ---- command line ---------------------------------------------------------

def _parse(argv):
    p = argparse.ArgumentParser(
        prog="python3 -m sqlite_sentiment.distributed",
        description="Score the rows of QUERY over SRC.db with sentiment_scan on a Dask cluster "
                    "and write them into OUT_TABLE of OUT.db (created if absent, key as primary "
                    "key). Run it again with the same arguments to resume.")
    p.add_argument("src", metavar="SRC.db")
    p.add_argument("query", metavar="QUERY", help="a SELECT returning (key, text, ...)")
    p.add_argument("out", metavar="OUT.db")
    p.add_argument("table", metavar="OUT_TABLE")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="tcp://HOST:8786",
                       help="a running Dask scheduler (its workers need this package, "
                            "sentiment.so and the model; see README.md)")
    where.add_argument("--local-workers", type=int, metavar="N",
                       help="start N worker processes on this machine (default 1)")
    p.add_argument("--model", metavar="NAME_OR_FOLDER",
                   help="a model folder present on every worker, or a name (default: 'default')")
    p.add_argument("--batch-rows", type=int, default=512, metavar="N",
                   help="rows per task (default 512)")
    args = p.parse_args(argv)
    if args.batch_rows < 1:
        p.error("--batch-rows must be at least 1")
    if args.local_workers is not None and args.local_workers < 1:
        p.error("--local-workers must be at least 1")
    return args


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None):
    args = _parse(argv)
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        sys.exit("sqlite_sentiment.distributed needs Dask distributed "
                 "(Debian: apt-get install python3-distributed)")
    signal.signal(signal.SIGTERM, _interrupt)
    client = cluster = None
    threads = 0
    try:
        if args.scheduler:
            client = Client(args.scheduler, timeout="30s")
        else:
            n = args.local_workers or 1
            threads = max(1, (os.cpu_count() or 1) // n)
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)
        r = score_table(args.src, args.query, args.out, args.table, client=client,
                        model=args.model, batch_rows=args.batch_rows, threads=threads)
        print("%s: %d rows scored in %.1f s (%.1f rows/s), %d keys were already there; "
              "%s now holds %d keys" % (args.out, r["rows"], r["seconds"],
                                        r["rows"] / max(r["seconds"], 1e-9), r["skipped"],
                                        args.table, r["keys"]), file=sys.stderr)
        return 0
    except KeyboardInterrupt:
        print("interrupted: the batches written so far stay in %s; run the same command again "
              "to score the rest" % args.out, file=sys.stderr)
        return 130
    except (sqlite3.Error, OSError, ValueError) as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


if __name__ == "__main__":
    sys.exit(main())
