"""sqlite_sentiment — the `sentiment` SQLite extension for Python's sqlite3.

    import sqlite3, sqlite_sentiment
    db = sqlite3.connect("reviews.db")
    sqlite_sentiment.load(db)
    db.execute("SELECT sentiment('A masterpiece.')").fetchone()   # ('positive',)

loadable_path() is the path of the library (sentiment.so) for hosts that load
it themselves: sqlite3's Connection.load_extension, `sqlite3 -cmd '.load …'`,
`sqlite-utils --load-extension`. The wheel carries a self-contained build
(OpenBLAS and utf8proc linked in: it needs only glibc); from a source checkout
(python/ on sys.path) it is the checkout's own ./sentiment.so (`make`).
"""
import os
import sqlite3

__version__ = "0.2.0"

__all__ = ["__version__", "load", "loadable_path"]

_HERE = os.path.dirname(os.path.abspath(__file__))

# How many SQLite virtual-machine steps run between two calls of the progress
# handler that load() installs: the Ctrl-C check (docs/packages.md has the
# measured latency and cost).
PROGRESS_STEPS = 100


def loadable_path():
    """The path of sentiment.so: the one inside this package (a wheel), else
    the source checkout's ./sentiment.so. FileNotFoundError if neither exists."""
    candidates = [
        os.path.join(_HERE, "sentiment.so"),
        os.path.join(os.path.dirname(os.path.dirname(_HERE)), "sentiment.so"),
    ]
    for path in candidates:
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(
        "sqlite_sentiment: no sentiment.so at %s (install the wheel, or run `make` in the "
        "source checkout)" % " or ".join(candidates))


def _progress():
    # Calling this Python function is the point: the interpreter runs pending
    # signal handlers on entry, so a Ctrl-C raises KeyboardInterrupt here,
    # which makes SQLite stop the statement ("interrupted").
    return 0


def load(conn, interruptible=True):
    """Load the extension into conn (a sqlite3.Connection): sentiment(),
    sentiment_score(), … are then defined on it. Extension loading is enabled
    for the call only and disabled again afterwards.

    interruptible: install a progress handler (Connection.set_progress_handler,
    every PROGRESS_STEPS steps) so that Ctrl-C stops a long statement:
    it raises sqlite3.OperationalError('interrupted') at once instead of
    KeyboardInterrupt after the scan has finished. It replaces a progress
    handler set before; pass interruptible=False to keep yours."""
    if not hasattr(conn, "enable_load_extension"):
        raise RuntimeError(
            "sqlite_sentiment: this Python's sqlite3 cannot load extensions "
            "(built without SQLITE_ENABLE_LOAD_EXTENSION); Debian's /usr/bin/python3 can")
    path = loadable_path()
    conn.enable_load_extension(True)
    try:
        conn.load_extension(path)
    finally:
        conn.enable_load_extension(False)
    if interruptible:
        conn.set_progress_handler(_progress, PROGRESS_STEPS)
