#!/usr/bin/env bash
# tests/test_wheel.sh — the wheel (make wheel) installed with pip into a fresh
# venv of Debian's python3 (offline: --no-index), then tests/test_pypkg.py run
# by the venv's python against the installed package (golden texts, Ctrl-C,
# the sqlite-utils hook), the plugin's entry point as sqlite-utils >= 3.34
# finds it, and Debian's sqlite-utils CLI (3.30: no plugin hooks yet) with
# --load-extension "$(python -m sqlite_sentiment)".
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
NAME=test_wheel
. tests/shcheck.sh
VERSION=$(cat VERSION)
WHL=dist/sqlite_sentiment-$VERSION-py3-none-linux_x86_64.whl
[ -f "$WHL" ] || { fail "$WHL is missing (make wheel)"; finish; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# The venv without its own pip (ensurepip takes 40 s on a busy machine):
# Debian's pip installs into it (pip --python, pip >= 22.3).
if ! /usr/bin/python3 -m venv --without-pip "$T/venv" >"$T/log" 2>&1; then
  fail "python3 -m venv failed (python3-venv): $(tail -3 "$T/log")"; finish
fi
PY=$T/venv/bin/python
if ! /usr/bin/python3 -m pip --python "$PY" install -q --no-index --no-deps "$WHL" >"$T/log" 2>&1; then
  fail "pip install $WHL failed: $(tail -5 "$T/log")"; finish
fi
ok

# The package's own test, against the installed wheel; its counts join ours.
out=$(cd "$T" && SNT_PYPKG_INSTALLED=1 SENTIMENT_SHARED=${SENTIMENT_SHARED:-$ROOT/../shared} \
      "$PY" "$ROOT/tests/test_pypkg.py" 2>&1)
merge "$out" test_pypkg_wheel

# The entry point sqlite-utils >= 3.34 loads (group "sqlite_utils"), and its hook.
out=$("$PY" -c '
import sqlite3
from importlib.metadata import entry_points
eps = [e for e in entry_points(group="sqlite_utils") if e.name == "sentiment"]
mod = eps[0].load()
db = sqlite3.connect(":memory:")
mod.prepare_connection(db)
print(eps[0].value, db.execute("SELECT sentiment_version()").fetchone()[0])' 2>&1)
check "sqlite_utils entry point: $out" sh -c "echo '$out' | grep -q '^sqlite_sentiment.sqlite_utils_plugin $VERSION'"

# Debian's sqlite-utils: the same answer as the Python API gives.
if command -v sqlite-utils >/dev/null; then
  so=$("$PY" -m sqlite_sentiment)
  text="A wonderful film, I loved it."
  want=$("$PY" -c 'import sqlite3, sys, sqlite_sentiment as s
db = sqlite3.connect(":memory:"); s.load(db)
print(db.execute("SELECT sentiment(?)", (sys.argv[1],)).fetchone()[0])' "$text")
  sqlite3 "$T/r.db" "CREATE TABLE r(t TEXT); INSERT INTO r VALUES ('$text')"
  got=$(cd "$T" && sqlite-utils query r.db "SELECT sentiment(t) AS s FROM r" --load-extension "$so" 2>&1)
  check "sqlite-utils query: '$got', want [{\"s\": \"$want\"}]" [ "$got" = "[{\"s\": \"$want\"}]" ]
  echo "test_wheel: sqlite-utils $(sqlite-utils --version | sed 's/.*version //')"
else
  skip "sqlite-utils is not installed (bash .ci/deps): the CLI was not checked"
fi
finish
