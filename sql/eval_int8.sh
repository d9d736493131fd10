#!/usr/bin/env bash
# sql/eval_int8.sh — the int8 path against f32 on one model folder: label
# agreement, each precision's accuracy, max and mean |Δlogit|, and the time
# of each scan.
#
#   sql/eval_int8.sh DB TABLE TEXT_COL LABEL_COL WHERE MODEL_DIR
#   sql/eval_int8.sh build/imdb-train.db reviews text label "split='train' AND id % 10 = 0" models/default
#
# The folder is registered twice, as 'f32' and as 'int8' (precision 'int8'),
# and both score the rows through sentiment_scan. Nothing is written to the
# database: results go to TEMP tables. `make eval-int8` runs it on the
# default model over the validation slice.
set -euo pipefail
[ $# -ge 6 ] || { sed -n '2,13p' "$0"; exit 2; }
db=$1 table=$2 text=$3 label=$4 where=$5 dir=$6
here=$(cd "$(dirname "$0")/.." && pwd)
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g")"; }   # SQL string literal
inner="SELECT rowid, \"$text\" FROM \"$table\" WHERE $where"
{
  echo ".load $here/sentiment"
  cat <<SQL
INSERT INTO sentiment_models(name, path) VALUES ('f32', $(q "$dir"));
INSERT INTO sentiment_models(name, path, precision) VALUES ('int8', $(q "$dir"), 'int8');
SELECT sentiment('warm up', 'f32'), sentiment('warm up', 'int8');
CREATE TEMP TABLE t0 AS SELECT julianday('now') AS t;
CREATE TEMP TABLE a AS SELECT key, label, logits FROM sentiment_scan($(q "$inner"), 'f32');
CREATE TEMP TABLE t1 AS SELECT julianday('now') AS t;
CREATE TEMP TABLE b AS SELECT key, label, logits FROM sentiment_scan($(q "$inner"), 'int8');
CREATE TEMP TABLE t2 AS SELECT julianday('now') AS t;
CREATE TEMP TABLE d AS
  SELECT a.label = b.label AS same, r."$label" AS y,
         a.label = (SELECT json_extract(labels, '\$[1]') FROM sentiment_models WHERE name = 'f32') AS pa,
         b.label = (SELECT json_extract(labels, '\$[1]') FROM sentiment_models WHERE name = 'f32') AS pb,
         (SELECT max(abs(x.value - y.value)) FROM json_each(a.logits) x JOIN json_each(b.logits) y
            ON x.key = y.key) AS dmax,
         (SELECT avg(abs(x.value - y.value)) FROM json_each(a.logits) x JOIN json_each(b.logits) y
            ON x.key = y.key) AS dmean
  FROM a JOIN b ON a.key = b.key JOIN "$table" AS r ON r.rowid = a.key;
.mode line
SELECT count(*) AS reviews,
       printf('%.2f%% (%d differ)', 100.0 * avg(same), sum(NOT same)) AS label_agreement,
       printf('%.2f%%', 100.0 * avg(pa = y)) AS accuracy_f32,
       printf('%.2f%%', 100.0 * avg(pb = y)) AS accuracy_int8,
       printf('%.4g', max(dmax)) AS max_abs_dlogit,
       printf('%.4g', avg(dmean)) AS mean_abs_dlogit,
       printf('%.1f', (SELECT (t1.t - t0.t) * 86400 FROM t0, t1)) AS seconds_f32,
       printf('%.1f', (SELECT (t2.t - t1.t) * 86400 FROM t1, t2)) AS seconds_int8
FROM d WHERE y IN (0, 1);
SQL
} | sqlite3 -bail "$db"
