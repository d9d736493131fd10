#!/usr/bin/env bash
# tests/test_install.sh — make install / uninstall with DESTDIR, then, in a
# mount namespace where the installed tree is /usr/local/lib and the loader's
# cache (/etc/ld.so.cache) is one that ldconfig wrote for it — what
# `make install` as root does for real — `.load sentiment` without a path
# works in sqlite3 and in Python, from an empty folder. Nothing outside the
# temporary folder is written (ldconfig -i -X -C: no links, no aux-cache, a cache of its own).
set -u
cd "$(dirname "$0")/.."
NAME=test_install
. tests/shcheck.sh
VERSION=$(cat VERSION)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

if ! make -s install DESTDIR="$T/root" PREFIX=/usr/local >"$T/log" 2>&1; then
  fail "make install failed: $(tail -5 "$T/log")"; finish
fi
L=$T/root/usr/local/lib
check "no $L/libsentiment.so.$VERSION" [ -f "$L/libsentiment.so.$VERSION" ]
check "$L/sentiment.so is not a link to libsentiment.so.$VERSION" \
  [ "$(readlink "$L/sentiment.so")" = "libsentiment.so.$VERSION" ]
check "no LICENSE in share/doc/sentiment" [ -f "$T/root/usr/local/share/doc/sentiment/LICENSE" ]

if ! unshare -m --propagation private true 2>/dev/null || [ ! -d /usr/local/lib ]; then
  skip "unshare -m is not permitted here (or no /usr/local/lib): .load sentiment after make install was NOT checked"
else
  mkdir -p "$T/run"
  cat > "$T/ns.sh" <<SH
set -e
mount --bind "$L" /usr/local/lib
ldconfig -i -X -C "$T/ld.so.cache"
mount --bind "$T/ld.so.cache" /etc/ld.so.cache
cd "$T/run"
echo "sqlite3: \$(sqlite3 :memory: '.load sentiment' "SELECT sentiment_version()" 2>&1)"
/usr/bin/python3 -c '
import sqlite3
db = sqlite3.connect(":memory:")
db.enable_load_extension(True)
db.load_extension("sentiment")
print("python:", db.execute("SELECT sentiment_version()").fetchone()[0])'
SH
  out=$(unshare -m --propagation private bash "$T/ns.sh" 2>&1)
  echo "$out" | grep -q "^sqlite3: $VERSION" && ok || fail ".load sentiment in sqlite3: $out"
  echo "$out" | grep -q "^python: $VERSION" && ok || fail "load_extension('sentiment') in Python: $out"
  # The control: the same tree without the loader's cache is not found.
  out=$(unshare -m --propagation private bash -c "mount --bind '$L' /usr/local/lib && cd '$T/run' && sqlite3 :memory: '.load sentiment' 'SELECT 1'" 2>&1)
  case $out in *"cannot open shared object"*|*"No such file"*) ok ;; *) fail "control: found without ldconfig's cache: $out" ;; esac
fi
# The real cache was not touched: no entry for sentiment.so unless installed for real.
ldconfig -p | grep -q "sentiment.so " && [ ! -e /usr/local/lib/sentiment.so ] && fail "/etc/ld.so.cache lists sentiment.so"

make -s uninstall DESTDIR="$T/root" PREFIX=/usr/local >"$T/log" 2>&1 || fail "make uninstall failed: $(tail -5 "$T/log")"
left=$(find "$T/root" -type f -o -type l | sed "s|$T/root||" | tr '\n' ' ')
check "make uninstall left: $left" [ -z "$left" ]
finish
