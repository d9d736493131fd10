"""python3 -m sqlite_sentiment: print loadable_path() (for shells:
`sqlite3 -cmd ".load $(python3 -m sqlite_sentiment)"`); --version: __version__."""
import sys

import sqlite_sentiment

if sys.argv[1:] == ["--version"]:
    print(sqlite_sentiment.__version__)
else:
    print(sqlite_sentiment.loadable_path())
