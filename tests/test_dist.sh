#!/usr/bin/env bash
# tests/test_dist.sh — the self-contained library (make dist): dist/sentiment.so
# needs only glibc, exports one symbol, and loads and scores the golden texts
# in a process that cannot see OpenBLAS, utf8proc, libgfortran or libquadmath
# (a mount namespace with those files covered by empty ones: unshare -m, as
# root). The control: ./sentiment.so (the dynamic build) fails to load there.
# The release tarball holds the .so and its documents, and SHA256SUMS checks.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
SHARED=${SENTIMENT_SHARED:-$ROOT/../shared}
VERSION=$(cat VERSION)
NAME=test_dist
. tests/shcheck.sh

SO=dist/sentiment.so
if [ ! -f "$SO" ]; then fail "$SO is missing (make dist)"; finish; fi

needed=$(readelf -d "$SO" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
extra=$(for n in $needed; do case $n in libc.so.6|libm.so.6|libpthread.so.0|libdl.so.2|ld-linux-x86-64.so.2) ;; *) echo "$n" ;; esac; done)
check "NEEDED beyond glibc: $extra (all: $needed)" [ -z "$extra" ]
check "no NEEDED entries at all?" [ -n "$needed" ]
exports=$(nm -D --defined-only "$SO" | awk '{print $3}' | tr '\n' ' ')
check "exports '$exports', want only sqlite3_sentiment_init" [ "$exports" = "sqlite3_sentiment_init " ]
soname=$(readelf -d "$SO" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
check "soname '$soname', want sentiment.so (make install relies on it)" [ "$soname" = sentiment.so ]

# The tarball: the six files, checksums that verify, the same .so.
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
TAR=dist/sentiment-$VERSION-linux-x86_64.tar.gz
if tar -xzf "$TAR" -C "$T" 2>/dev/null; then
  D=$T/sentiment-$VERSION-linux-x86_64
  files=$(cd "$D" && ls | tr '\n' ' ')
  check "tarball holds '$files'" [ "$files" = "CHANGELOG.md LICENSE README.md SHA256SUMS THIRD_PARTY_NOTICES sentiment.so " ]
  check "SHA256SUMS does not verify" sh -c "cd '$D' && sha256sum --quiet -c SHA256SUMS"
  check "the tarball's sentiment.so is not dist/sentiment.so" cmp -s "$D/sentiment.so" "$SO"
else
  fail "cannot unpack $TAR (make dist)"
fi

# The load test, in an empty folder of a namespace where the libraries that
# the dynamic build needs are empty files.
if ! unshare -m --propagation private true 2>/dev/null; then
  skip "unshare -m is not permitted here (needs root / CAP_SYS_ADMIN): the load without OpenBLAS/utf8proc was NOT checked"
  finish
fi
mkdir -p "$T/empty-dir" "$T/run"
: > "$T/empty-file"
cp "$SO" "$T/run/sentiment.so"
cat > "$T/hidden.sh" <<SH
set -e
for f in \$(ls -d /usr/lib/x86_64-linux-gnu/lib{openblas,blas,lapack,utf8proc,gfortran,quadmath}* 2>/dev/null); do
  t=\$(readlink -f "\$f"); [ -f "\$t" ] && mount --bind "$T/empty-file" "\$t"
done
for d in /usr/lib/x86_64-linux-gnu/openblas-pthread /usr/lib/x86_64-linux-gnu/openblas-openmp \
         /usr/lib/x86_64-linux-gnu/openblas-serial /usr/lib/x86_64-linux-gnu/blas /usr/lib/x86_64-linux-gnu/lapack; do
  [ -d "\$d" ] && mount --bind "$T/empty-dir" "\$d"
done
cd "$T/run"
exec "\$@"
SH
cat > "$T/load.py" <<'PY'
import os, sqlite3, sys
sys.path.insert(0, os.environ["SNT_TESTS"])
import golden
db = sqlite3.connect(":memory:")
db.enable_load_extension(True)
try:
    db.load_extension(sys.argv[1])
except sqlite3.OperationalError as e:
    print("LOAD-FAILED", e)
    sys.exit(0)
print("LOADED", db.execute("SELECT sentiment_version()").fetchone()[0])
m = golden.models_dir(os.environ["SNT_SHARED"])
if m:
    print("GOLDEN %d %d" % golden.score(db, m))
# What the process has mapped: none of the hidden libraries.
maps = open("/proc/self/maps").read()
print("MAPPED", " ".join(sorted({w for w in ("openblas", "utf8proc", "gfortran", "quadmath") if w in maps})) or "-")
PY
run_hidden() { SNT_TESTS=$ROOT/tests SNT_SHARED=$SHARED unshare -m --propagation private bash "$T/hidden.sh" /usr/bin/python3 "$T/load.py" "$1" 2>&1; }

out=$(run_hidden "$ROOT/sentiment.so")
case $out in
  *LOAD-FAILED*) ok ;;
  *) fail "control: the dynamic ./sentiment.so loaded where OpenBLAS is hidden (the hiding does not work): $out" ;;
esac
out=$(run_hidden ./sentiment.so)
echo "$out" | grep -q "^LOADED $VERSION" && ok || fail "dist/sentiment.so did not load without OpenBLAS/utf8proc: $out"
check "the process mapped a hidden library: $out" sh -c "echo '$out' | grep -qx 'MAPPED -'"
if [ -d "$SHARED/golden/models" ]; then
  g=$(echo "$out" | sed -n 's/^GOLDEN //p')
  bad=${g% *} total=${g#* }
  if [ -n "$g" ] && [ "$bad" = 0 ] && [ "$total" -gt 0 ]; then ok; else fail "golden texts: '$g' (bad total)"; fi
else
  skip_shared "no shared folder at $SHARED: golden texts not scored without OpenBLAS"
fi
finish
