#!/usr/bin/env bash
# bench/tokenizer/run.sh — `make bench-tokenizer`: core/wordpiece.c against
# HuggingFace tokenizers (Rust) on the 75k IMDb reviews, single-threaded, in
# one run, then ids compared on every review.
# `run.sh probe` (`make probe-tokenizer`): ids compared on every Unicode code
# point and 50k random strings (probe.mjs).
#
#   REPS=3     passes of the C tokenizer (the best is reported)
#   HF_REPS=1  passes of each HF variant (one takes about a minute)
#   SENTIMENT_SHARED=../shared
#
# Needs node + npm (installs @anush008/tokenizers into bench/tokenizer/
# node_modules on first run) and decompresses ../shared/data/imdb-train.db.xz
# into build/bench/ (the same copy bench/run.sh uses).
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${SENTIMENT_SHARED:-../shared}
REPS=${REPS:-3}
HF_REPS=${HF_REPS:-1}
OUT=build/bench-tokenizer
DB=build/bench/imdb-train.db
mkdir -p "$OUT" build/bench

if [ ! -d bench/tokenizer/node_modules/@anush008/tokenizers ]; then
  (cd bench/tokenizer && npm ci --no-audit --no-fund)
fi
if [ "${1:-}" = probe ]; then
  TOKENIZERS_PARALLELISM=false RAYON_NUM_THREADS=1 UV_THREADPOOL_SIZE=1 \
    node bench/tokenizer/probe.mjs "$SHARED/vocab/bert-base-uncased/tokenizer.json" \
    "$SHARED/vocab/bert-base-uncased/vocab.txt" "$OUT/tokenize_file" "$OUT"
  exit
fi

if [ ! -f "$DB" ]; then
  echo "decompressing $SHARED/data/imdb-train.db.xz into $DB"
  xz -dc "$SHARED/data/imdb-train.db.xz" > "$DB.tmp.$$"
  mv "$DB.tmp.$$" "$DB"
fi

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$OUT/bench_tokenizer" "$DB" "$SHARED/vocab/bert-base-uncased/vocab.txt" "$OUT" "$REPS"
RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false UV_THREADPOOL_SIZE=1 \
  node bench/tokenizer/hf_bench.mjs "$SHARED/vocab/bert-base-uncased/tokenizer.json" "$OUT" "$HF_REPS"
echo "machine after: load average $(cut -d' ' -f1-3 /proc/loadavg)"
