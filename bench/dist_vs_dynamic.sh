#!/usr/bin/env bash
# bench/dist_vs_dynamic.sh — the self-contained build (dist/sentiment.so,
# OpenBLAS and utf8proc linked in) against the plain one (./sentiment.so,
# linked to Debian's shared libraries): bench/sql_bench timing
# SELECT sentiment(text) over N IMDb validation reviews, the two builds
# alternating, RUNS times each; prints every run and the medians.
#
#   make sentiment.so dist/sentiment.so build/bench/sql_bench build/imdb-train.db
#   bench/dist_vs_dynamic.sh [N=300] [RUNS=5]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-300} RUNS=${2:-5}
DB=build/imdb-train.db
Q="SELECT sentiment(text) FROM reviews WHERE split = 'train' AND id % 10 = 0 LIMIT $N"
R=$(mktemp)
trap 'rm -f "$R"' EXIT
for i in $(seq "$RUNS"); do
  for so in ./sentiment.so ./dist/sentiment.so; do
    s=$(build/bench/sql_bench "$DB" "$so" "SELECT sentiment('warm up')" "$Q" | sed -E 's/.*"seconds": ([0-9.]+).*/\1/')
    echo "$so $s" | tee -a "$R"
  done
done
for so in ./sentiment.so ./dist/sentiment.so; do
  m=$(awk -v so="$so" '$1 == so { print $2 }' "$R" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
  awk -v so="$so" -v m="$m" -v n="$N" -v k="$RUNS" 'BEGIN { printf "%-20s median %.3f s over %d runs, %.1f reviews/s\n", so, m, k, n / m }'
done
