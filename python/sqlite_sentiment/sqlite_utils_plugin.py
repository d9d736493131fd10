"""The sqlite-utils plugin: every connection sqlite-utils opens gets the
extension, so that

    sqlite-utils query reviews.db "SELECT sentiment(text) FROM reviews LIMIT 3"

works without --load-extension. sqlite-utils finds it through the entry point
group "sqlite_utils" (pyproject.toml). Plugin hooks exist from sqlite-utils
3.34; older versions (Debian 12 ships 3.30) never call it: there, use
`--load-extension "$(python3 -m sqlite_sentiment)"`.
"""
import sqlite_sentiment

try:
    from sqlite_utils import hookimpl
except ImportError:  # sqlite-utils < 3.34, or not installed: nothing calls the hook

    def hookimpl(fn):
        return fn


@hookimpl
def prepare_connection(conn):
    sqlite_sentiment.load(conn)
