#!/usr/bin/env bash
# sql/eval.sh — accuracy, per-class precision/recall and throughput of a model
# over any table with a text column and a 0/1 label column (1 = positive).
#
#   sql/eval.sh DB TABLE TEXT_COL LABEL_COL [WHERE] [MODEL_NAME [MODEL_DIR]]
#
#   sql/eval.sh /tmp/imdb-train.db reviews text label "split = 'train' AND (CAST(substr(file, 11) AS INTEGER) / 250) % 10 = 0"
#   sql/eval.sh /tmp/imdb-train.db reviews text label "split = 'train' AND (CAST(substr(file, 11) AS INTEGER) / 250) % 10 = 0" imdb ~/models/imdb
#
# Without MODEL_NAME it scores with `default` (SENTIMENT_MODEL or the embedded
# model). With MODEL_DIR the folder is registered under MODEL_NAME first.
# Scoring runs through sentiment_scan (batched, all cores); a row counts as
# predicted positive when sentiment_score > 0.5. Nothing is written to the
# database: results go to TEMP tables.
set -euo pipefail
[ $# -ge 4 ] || { sed -n '2,15p' "$0"; exit 2; }
db=$1 table=$2 text=$3 label=$4 where=${5:-1} model=${6:-default} dir=${7:-}
here=$(cd "$(dirname "$0")/.." && pwd)
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g")"; }   # SQL string literal
inner="SELECT rowid, \"$text\" FROM \"$table\" WHERE $where"
{
  echo ".load $here/sentiment"
  [ -n "$dir" ] && echo "INSERT INTO sentiment_models(name, path) VALUES ($(q "$model"), $(q "$dir"));"
  cat <<SQL
CREATE TEMP TABLE t0 AS SELECT julianday('now') AS t;
CREATE TEMP TABLE pred AS
  SELECT key AS rid, score > 0.5 AS p, n_tokens FROM sentiment_scan($(q "$inner"), $(q "$model"));
CREATE TEMP TABLE t1 AS SELECT julianday('now') AS t;
CREATE TEMP TABLE ev AS
  SELECT pred.p AS p, r."$label" AS y, n_tokens FROM pred JOIN "$table" AS r ON r.rowid = pred.rid
  WHERE r."$label" IN (0, 1);
.mode line
SELECT $(q "$model") AS model,
       count(*) AS reviews,
       printf('%.2f%%', 100.0 * avg(p = y)) AS accuracy,
       printf('%.4f', 1.0 * sum(p AND y) / nullif(sum(p), 0)) AS precision_positive,
       printf('%.4f', 1.0 * sum(p AND y) / nullif(sum(y), 0)) AS recall_positive,
       printf('%.4f', 1.0 * sum(NOT p AND NOT y) / nullif(sum(NOT p), 0)) AS precision_negative,
       printf('%.4f', 1.0 * sum(NOT p AND NOT y) / nullif(sum(NOT y), 0)) AS recall_negative,
       printf('%.1f', (SELECT (t1.t - t0.t) * 86400 FROM t0, t1)) AS seconds,
       printf('%.1f', count(*) / (SELECT (t1.t - t0.t) * 86400 FROM t0, t1)) AS reviews_per_s,
       printf('%.0f', sum(n_tokens) / (SELECT (t1.t - t0.t) * 86400 FROM t0, t1)) AS tokens_per_s
FROM ev;
SQL
} | sqlite3 -bail "$db"
