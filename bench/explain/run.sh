#!/usr/bin/env bash
# bench/explain/run.sh — time and memory of sentiment_explain on one
# 300-word review, on the default model and on a DistilBERT-base-shaped model.
#
#   bench/explain/run.sh [DB [BASE_DIR]]      (make bench-explain)
#   BENCH_EXPLAIN_BASE_WORDS=1 bench/explain/run.sh   also DistilBERT-base word
#                                                     by word (minutes)
#
# DB is the IMDb database (build/imdb-train.db, make eval unpacks it); BASE_DIR
# a DistilBERT-base-sized model with random weights (bench/model/make_random.py,
# make bench-model writes build/bench-model/distilbert-base). The review is id
# 670 of the validation slice: 297 words by spaces, 364 pre-tokenizer words
# (punctuation counts), 367 tokens. Each line is one sqlite3 process:
# wall and user CPU time and peak RSS from /usr/bin/time (the model's load
# and mapping included), the rows, the unit auto chose, the pieces explained.
set -euo pipefail
cd "$(dirname "$0")/../.."
db=${1:-build/imdb-train.db} base=${2:-build/bench-model/distilbert-base}
id=670
run() { # model granularity
  /usr/bin/time -f "  %e s wall, %U s user CPU, %M KB peak RSS" sqlite3 -bail :memory: ".load ./sentiment" \
    "ATTACH 'file:$db?mode=ro' AS imdb" "INSERT INTO sentiment_models(name, path) VALUES ('base', '$base')" \
    "SELECT '$1 $2:', count(*) || ' rows', 'unit ' || unit, sum(pieces) || ' pieces'
     FROM sentiment_explain((SELECT text FROM imdb.reviews WHERE id = $id), '$1', '$2') GROUP BY unit"
}
echo "review $id: $(sqlite3 "file:$db?mode=ro" ".load ./sentiment" \
  "SELECT count(*) - 2 FROM sentiment_tokens((SELECT text FROM reviews WHERE id = $id))") pieces; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
run default auto
run base auto
run base sentence
[ "${BENCH_EXPLAIN_BASE_WORDS:-0}" = 1 ] && run base word
exit 0
