#!/usr/bin/env bash
# bench/run.sh — sentiment_scan against ONNX Runtime and PyTorch, in one run.
#
#   make bench                       (or: bash bench/run.sh)
#
# 1. a DistilBERT-base-sized model with random weights (dim 768, 6 layers,
#    12 heads, FFN 3072, vocab 30522) in HF layout, build/bench/distilbert-base/,
#    and its ONNX export (torch.onnx.export, opset 17, dynamic batch and
#    sequence axes) — bench/make_model.py with train/modeling.py;
# 2. build/bench/reviews.db: BENCH_N IMDb train reviews from
#    ../shared/data/imdb-train.db.xz (decompressed into build/bench/), and
#    their ids truncated to 512 tokens by the project's tokenizer
#    (build/bench/dump_ids), so every engine sees the same ids;
# 3. scores them at each of BENCH_THREADS with: sentiment_scan (the
#    extension, loaded into SQLite; the time includes reading the rows and
#    tokenizing), the same on an int8 registration (precision 'int8'),
#    ONNX Runtime (onnxruntime-node 1.30.0, ORT's fused graph, and the same
#    graph with ORT's dynamic int8 operators; add onnxruntime-plain to
#    BENCH_ENGINES for the torch export as is) and PyTorch eager — fed
#    length-sorted batches of 4, padded; the scalar sentiment_score() loop
#    with SENTIMENT_THREADS set to the thread count; at batch 1 (engine
#    batch1), BENCH_B1_N texts cut to exactly each of BENCH_B1_LENS tokens,
#    one text per call: the scalar loop against ORT's fused graph at batch
#    1; the OpenBLAS sgemm ceiling on the model's shapes;
# 4. the same for models/default when it exists;
# 5. prints the table (bench/report.py) and keeps the raw results in
#    build/bench/results.jsonl.
#
# Settings (environment): BENCH_N=512 reviews, BENCH_THREADS="2 1",
# BENCH_SCALAR_N=128 (the scalar loops run over the first 128 reviews),
# BENCH_B1_N=16, BENCH_B1_LENS="128 512",
# BENCH_REPS=1 runs of each (the table shows medians),
# BENCH_ENGINES="sentiment_scan sentiment_scan-int8 onnxruntime onnxruntime-int8 pytorch
# scalar batch1" (scalar-variants: the scalar loop
# with and without sentiment_scan built in, and after a scan),
# BENCH_MODELS="distilbert-base default". Takes about 20 minutes with the
# defaults on 2 idle cores. Run it on an idle machine: it measures throughput.
# Results are appended to build/bench/results.jsonl as each run ends, so
# `python3 bench/report.py build/bench/results.jsonl` shows a partial table.
# What it needs (python3-torch, python3-onnx, node, sqlite3, the build
# tools) comes from .ci/deps, which `make bench` runs first.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${BENCH_N:-512}
THREADS=${BENCH_THREADS:-"2 1"}
SCALAR_N=${BENCH_SCALAR_N:-128}
REPS=${BENCH_REPS:-1}
ENGINES=${BENCH_ENGINES:-"sentiment_scan sentiment_scan-int8 onnxruntime onnxruntime-int8 pytorch scalar batch1"}
B1_N=${BENCH_B1_N:-16}
B1_LENS=${BENCH_B1_LENS:-"128 512"}
MODELS=${BENCH_MODELS:-"distilbert-base default"}
PY=${PYTHON:-/usr/bin/python3}
SHARED=${SENTIMENT_SHARED:-../shared}
B=build/bench
RESULTS=$B/results.jsonl
MAX_LEN=512

log() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

[ -d "$SHARED" ] || { echo "bench: $SHARED is missing (IMDb data, vocabulary)" >&2; exit 1; }
mkdir -p "$B"
make -s sentiment.so "$B/sgemm" "$B/dump_ids" "$B/sql_bench" "$B/noscan/sentiment.so"

if [ ! -d bench/node_modules/onnxruntime-node ]; then
  log "npm: onnxruntime-node 1.30.0 into bench/node_modules"
  (cd bench && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --silent)
fi

# ---- 1. the models ---------------------------------------------------------
if [ ! -f "$B/distilbert-base/model.int8.onnx" ]; then
  log "random DistilBERT-base -> $B/distilbert-base (+ model.onnx)"
  "$PY" bench/make_model.py random "$B/distilbert-base" "$SHARED/vocab/bert-base-uncased/vocab.txt"
fi
if [[ " $MODELS " == *" default "* ]] && [ -f models/default/config.json ] && [ ! -f "$B/default/model.int8.onnx" -o models/default/model.safetensors -nt "$B/default/model.int8.onnx" ]; then
  log "models/default -> $B/default/model.onnx"
  "$PY" bench/make_model.py export models/default "$B/default"
fi

# ---- 2. the reviews ----------------------------------------------------------
if [ ! -f "$B/imdb-train.db" ]; then
  log "decompressing imdb-train.db.xz into $B/"
  xz -dc "$SHARED/data/imdb-train.db.xz" > "$B/imdb-train.db.tmp"
  mv "$B/imdb-train.db.tmp" "$B/imdb-train.db"
fi
rm -f "$B/reviews.db"
# Every 48th train review: labels and lengths spread like the whole split.
sqlite3 "$B/reviews.db" "ATTACH '$B/imdb-train.db' AS imdb;
  CREATE TABLE reviews(id INTEGER PRIMARY KEY, text TEXT);
  INSERT INTO reviews SELECT id, text FROM imdb.reviews WHERE split = 'train' AND id % 48 = 0
    ORDER BY id LIMIT $N;"
# Batch 1: texts of exactly L tokens. The first B1_N train reviews (every
# 48th) with at least L - 2 pieces, cut after piece L - 2 (byte offsets from
# sentiment_tokens; the engine adds [CLS] and [SEP]): one database each.
if [[ " $ENGINES " == *" batch1 "* ]]; then
  for L in $B1_LENS; do
    rm -f "$B/b1-$L.db"
    sqlite3 "$B/b1-$L.db" ".load ./sentiment" "ATTACH '$B/imdb-train.db' AS imdb;
      CREATE TABLE reviews(id INTEGER PRIMARY KEY, text TEXT);
      INSERT INTO reviews SELECT r.id, CAST(substr(CAST(r.text AS BLOB), 1, t.\"end\") AS TEXT)
        FROM (SELECT id, text FROM imdb.reviews WHERE split = 'train' AND id % 48 = 0) r
        JOIN sentiment_tokens(r.text) t WHERE t.pos = $L - 2 ORDER BY r.id LIMIT $B1_N;"
  done
fi

# ---- 3. the engines ---------------------------------------------------------
: > "$RESULTS"
# The machine: these machines are not all the same CPU from one day to the next.
"$PY" - <<'PY' >> "$RESULTS"
import json, os
info = {}
for line in open('/proc/cpuinfo'):
    k, _, v = line.partition(':')
    info.setdefault(k.strip(), v.strip())
flags = set(info.get('flags', '').split())
want = ['avx2', 'fma', 'avx512f', 'avx512_vnni', 'avx_vnni', 'avx512_bf16']
print(json.dumps(dict(cpu=f"{info.get('model name', '?')} (family {info.get('cpu family', '?')}"
                          f" model {info.get('model', '?')})", cores=os.cpu_count(),
                      features=' '.join(f if f in flags else f'no {f}' for f in want))))
PY
record() { # engine model threads seconds logits [note [first-n-reviews [ids-file]]]
  "$PY" - "$@" <<'PY' >> "$RESULTS"
import json, sys
engine, model, threads, seconds, logits = sys.argv[1:6]
note = sys.argv[6] if len(sys.argv) > 6 else ''
ids = sys.argv[8] if len(sys.argv) > 8 else f'build/bench/ids-{model}.txt'
lens = [len(l.split()) for l in open(ids) if l.strip()]
if len(sys.argv) > 7 and sys.argv[7]: lens = lens[:int(sys.argv[7])]
r = dict(engine=engine, model=model, threads=int(threads) if threads.isdigit() else threads, reviews=len(lens),
         tokens=sum(lens), seconds=float(seconds), logits=logits or None)
if note: r['note'] = note
print(json.dumps(r))
PY
}
ort_run() { # engine graph note: ONNX Runtime on the reviews in batches of 4 ($model, $t, $out)
  log "$model: $1 ($3), $t thread(s)"
  r=$(node bench/ort_bench.mjs "$B/$model/$2" "$B/ids-$model.txt" "$t" 4 "$out" 2>/dev/null)
  record "$1" "$model" "$t" "$(echo "$r" | json_field seconds)" "$out" "$3, batch 4"
}
json_field() { "$PY" -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])[sys.argv[1]])' "$1"; }

for model in $MODELS; do
  case $model in
    default) dir=models/default; [ -f $dir/config.json ] || { log "no models/default: skipped"; continue; } ;;
    *) dir=$B/$model ;;
  esac
  "$B/dump_ids" "$dir/vocab.txt" "$B/reviews.db" $MAX_LEN > "$B/ids-$model.txt"
  if [[ " $ENGINES " == *" batch1 "* ]]; then
    for L in $B1_LENS; do "$B/dump_ids" "$dir/vocab.txt" "$B/b1-$L.db" $MAX_LEN > "$B/ids-$model-b1-$L.txt"; done
  fi
  # The folder, registered under the name 'bench' on each connection (and
  # 'bench8' at precision int8).
  reg="INSERT OR REPLACE INTO sentiment_models(name, path) VALUES ('bench', '$(realpath "$dir")');"
  reg8="INSERT OR REPLACE INTO sentiment_models(name, path, precision) VALUES ('bench8', '$(realpath "$dir")', 'int8');"
  msql="'bench'"
  for rep in $(seq "$REPS"); do
    for t in $THREADS; do
      for engine in $ENGINES; do
        out=$B/logits-$model-$engine-$t.txt
        case $engine in
          sentiment_scan)
            log "$model: sentiment_scan, $t thread(s)"
            r=$("$B/sql_bench" "$B/reviews.db" ./sentiment \
                "$reg SELECT sentiment_threads($t); SELECT sentiment('warm up', $msql);" \
                "SELECT logits FROM sentiment_scan('SELECT id, text FROM reviews ORDER BY id', $msql)" "$out")
            record sentiment_scan "$model" "$t" "$(echo "$r" | json_field seconds)" "$out" ;;
          sentiment_scan-int8)
            log "$model: sentiment_scan, precision int8, $t thread(s)"
            r=$("$B/sql_bench" "$B/reviews.db" ./sentiment \
                "$reg8 SELECT sentiment_threads($t); SELECT sentiment('warm up', 'bench8');" \
                "SELECT logits FROM sentiment_scan('SELECT id, text FROM reviews ORDER BY id', 'bench8')" "$out")
            record sentiment_scan-int8 "$model" "$t" "$(echo "$r" | json_field seconds)" "$out" "precision int8" ;;
          onnxruntime) ort_run onnxruntime model.fused.onnx "fused graph" ;;
          onnxruntime-int8) ort_run onnxruntime-int8 model.int8.onnx "dynamic int8" ;;
          onnxruntime-plain) ort_run onnxruntime-plain model.onnx "torch export graph" ;;
          scalar)
            log "$model: scalar sentiment_score() loop, SENTIMENT_THREADS=$t"
            r=$(SENTIMENT_THREADS=$t "$B/sql_bench" "$B/reviews.db" ./sentiment "$reg SELECT sentiment('warm up', $msql);" \
                "SELECT sentiment_score(text, $msql) FROM reviews ORDER BY id LIMIT $SCALAR_N")
            record "sentiment_score() row by row" "$model" "$t" "$(echo "$r" | json_field seconds)" "" \
              "first $SCALAR_N reviews" "$SCALAR_N" ;;
          batch1)
            for L in $B1_LENS; do
              ids1=$B/ids-$model-b1-$L.txt
              log "$model: batch 1, $L tokens: sentiment_score() and onnxruntime, $t thread(s)"
              r=$(SENTIMENT_THREADS=$t "$B/sql_bench" "$B/b1-$L.db" ./sentiment "$reg SELECT sentiment('warm up', $msql);" \
                  "SELECT sentiment_logits(text, $msql) FROM reviews ORDER BY id" "$B/logits-$model-b1-$L-scalar-$t.txt")
              record "sentiment_score() row by row" "$model" "$t" "$(echo "$r" | json_field seconds)" \
                "$B/logits-$model-b1-$L-scalar-$t.txt" "batch 1, $L tokens" "" "$ids1"
              r=$(node bench/ort_bench.mjs "$B/$model/model.fused.onnx" "$ids1" "$t" 1 "$B/logits-$model-b1-$L-ort-$t.txt" 2>/dev/null)
              record onnxruntime "$model" "$t" "$(echo "$r" | json_field seconds)" \
                "$B/logits-$model-b1-$L-ort-$t.txt" "fused graph, batch 1, $L tokens" "" "$ids1"
            done ;;
          pytorch)
            log "$model: pytorch, $t thread(s)"
            r=$("$PY" bench/torch_bench.py "$dir" "$B/ids-$model.txt" "$t" 4 "$out")
            record pytorch "$model" "$t" "$(echo "$r" | json_field seconds)" "$out" "eager, batch 4" ;;
        esac
      done
    done
    if [[ " $ENGINES " == *" scalar-variants "* ]]; then
      # The scalar function row by row, as `SELECT sentiment_score(text) FROM t`
      # runs it (OpenBLAS at its default threads): with this library, with a
      # build of the same objects minus ext/scan_vtab.o and scan_batch.o (sentiment.c registers
      # the scan only when it is linked in), and after a scan on the same
      # connection (the scan must leave the scalar path as fast as it found it).
      for variant in "./sentiment|with sentiment_scan" "$B/noscan/sentiment|without sentiment_scan" \
                     "./sentiment|after a scan"; do
        lib=${variant%%|*} note=${variant#*|}
        setup="$reg SELECT sentiment('warm up', $msql);"
        [ "$note" = "after a scan" ] && setup="$setup SELECT count(*) FROM sentiment_scan('SELECT id, text FROM reviews LIMIT 8', $msql);"
        log "$model: scalar sentiment_score() loop, $note"
        r=$("$B/sql_bench" "$B/reviews.db" "$lib" "$setup" \
            "SELECT sentiment_score(text, $msql) FROM reviews ORDER BY id LIMIT $SCALAR_N")
        record "sentiment_score() row by row" "$model" "default" "$(echo "$r" | json_field seconds)" "" \
          "$note, first $SCALAR_N reviews" "$SCALAR_N"
      done
    fi
  done
done

# ---- the sgemm ceiling ------------------------------------------------------
# cblas_sgemm on each model's own linear shapes (M = 1024 tokens, about a scan
# chunk), divided by that model's FLOPs per token over these reviews.
for model in $MODELS; do
  d=$B/$model; [ "$model" = default ] && d=models/default
  [ -f "$d/config.json" ] && [ -f "$B/ids-$model.txt" ] || continue
  read -r D L F < <("$PY" -c 'import json,sys; c=json.load(open(sys.argv[1]))
print(c.get("dim", c.get("hidden_size")), c.get("n_layers", c.get("num_hidden_layers")), c.get("hidden_dim", c.get("intermediate_size")))' "$d/config.json")
  log "$model: sgemm ceiling (dim $D, ffn $F)"
  sg=$("$B/sgemm" -d "$D" -f "$F" 1024 | tail -n 1)
  "$PY" - "$sg" "$model" "$D" "$L" "$F" <<'PY' >> "$RESULTS"
import json, sys
vals = dict(kv.split('=') for kv in sys.argv[1].split()[1:])
model = sys.argv[2]
D, L, F = map(int, sys.argv[3:6])
lens = [len(l.split()) for l in open(f'build/bench/ids-{model}.txt') if l.strip()]
# BENCHMARKS.md: 2·L·(4D² + 2DF) per token in the linears + 4·L·D·T in attention
flop = sum(n * (2 * L * (4 * D * D + 2 * D * F) + 4 * L * D * n) for n in lens)
print(json.dumps(dict(engine='sgemm', model=model, M=1024, dim=D, ffn=F, t1=float(vals['t1']),
                      t2=float(vals['t2']), t2x1=float(vals['t2x1']), flop_per_token=flop / sum(lens))))
PY
done

echo
echo "## bench/run.sh — $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores $(lscpu | sed -n 's/^Model name: *//p'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$PY" bench/report.py "$RESULTS"
