#!/bin/sh
# Developer steps for the default model (called by `make train` and friends).
#
#   train/run.sh train        tokenize + teacher + student (TRAIN_MINUTES, default 65) -> models/default
#   train/run.sh export       re-export train/runs/best.pt to models/default (F32; EXPORT_F16=1 for F16)
#   train/run.sh test         tokenizer, modeling, finetune, exported-model tests (about 50 s)
#   train/run.sh finetune INIT OUT [flags]   model-card recipe on a pretrained HF folder
#
# Environment: PYTHON (default /usr/bin/python3), IMDB_DB (default /tmp/imdb-train.db),
# SHARED (default ../shared relative to the repo root).
set -eu
cd "$(dirname "$0")/.."
PY=${PYTHON:-/usr/bin/python3}
DB=${IMDB_DB:-/tmp/imdb-train.db}
SHARED=${SHARED:-../shared}
export SHARED

need_db() {
    if [ ! -s "$DB" ]; then
        echo "unpacking $SHARED/data/imdb-train.db.xz -> $DB"
        xz -dkc "$SHARED/data/imdb-train.db.xz" > "$DB.tmp" && mv "$DB.tmp" "$DB"
    fi
}

cmd=${1:-train}
[ $# -gt 0 ] && shift
case "$cmd" in
train)
    need_db
    [ -s train/cache/tokens.npz ] || $PY train/prepare.py "$DB" train/cache
    [ -s train/cache/teacher.npz ] || $PY train/teacher.py "$DB" train/cache
    nice -n 10 $PY train/train_student.py --minutes "${TRAIN_MINUTES:-65}" \
        --dim 128 --layers 2 --heads 4 --hidden-dim 512 --lr 1.5e-3 --budget 8192 --eval-min 12 "$@"
    ;;
export)
    if [ "${EXPORT_F16:-0}" = 1 ]; then $PY train/export.py train/runs/best.pt models/default --f16
    else $PY train/export.py train/runs/best.pt models/default; fi
    ;;
test)
    $PY train/test_wordpiece.py
    $PY train/test_modeling.py
    need_db
    $PY train/test_finetune.py
    $PY train/test_export.py
    ;;
finetune)
    need_db
    [ $# -ge 2 ] || { echo "usage: train/run.sh finetune INIT_FOLDER OUT_FOLDER [flags]" >&2; exit 2; }
    init=$1; out=$2; shift 2
    $PY train/finetune.py --init "$init" --out "$out" --db "$DB" "$@"
    ;;
*)
    echo "usage: train/run.sh {train|export|test|finetune INIT OUT}" >&2; exit 2
    ;;
esac
