#!/bin/sh
# Developer steps for the default model (called by `make train` and friends).
#
#   train/run.sh train        tokenize + teachers + student -> models/default, F16 (resumable: rerun
#                             it after a stop and it continues from train/runs/ckpt.pt)
#   train/run.sh pretrain     masked-LM pretraining of the student's encoder (the shipped model's
#                             shape) on every training text -> train/runs-pretrain/encoder.pt
#                             (resumable; not used by `train` yet; on a GPU: train/device.sh)
#   train/run.sh baseline     TF-IDF+LR on the same training data, per-source validation accuracy
#   train/run.sh export       re-export train/runs/best.pt to models/default (F16; EXPORT_F16=0 for F32)
#   train/run.sh test         tokenizer, modeling, finetune, pretrain, exported-model tests (about 55 s)
#   train/run.sh finetune INIT OUT [flags]   model-card recipe on a pretrained HF folder
#
# Environment: PYTHON (default /usr/bin/python3), IMDB_DB (default /tmp/imdb-train.db),
# MULTI_DB (default /tmp/reviews-multi.db), SHARED (default ../shared relative to the repo root),
# TRAIN_TOKENS (millions of training tokens, default 36), PRETRAIN_TOKENS (millions of
# pretraining tokens, default 110: 6-10 hours here, train/README.md).
set -eu
cd "$(dirname "$0")/.."
PY=${PYTHON:-/usr/bin/python3}
DB=${IMDB_DB:-/tmp/imdb-train.db}
MDB=${MULTI_DB:-/tmp/reviews-multi.db}
export IMDB_DB=$DB MULTI_DB=$MDB
SHARED=${SHARED:-../shared}
export SHARED
. train/recipe.sh
# glibc's allocator fragments under torch's changing batch shapes: pretrain.py's resident memory
# grew to 9.8 GB in an hour (about 0.1 GB a minute) and stays at about 1 GB with these, at the
# same speed (train/README.md, "Masked-LM pretraining"); they change no number the runs compute.
export MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2} MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-1048576}

unpack() {  # unpack NAME DEST
    if [ ! -s "$2" ]; then
        echo "unpacking $SHARED/data/$1.db.xz -> $2"
        xz -dkc "$SHARED/data/$1.db.xz" > "$2.tmp" && mv "$2.tmp" "$2"
    fi
}
need_db() { unpack imdb-train "$DB"; unpack reviews-multi "$MDB"; }

cmd=${1:-train}
[ $# -gt 0 ] && shift
case "$cmd" in
train)
    need_db
    [ -s train/cache/tokens.npz ] || nice -n 10 $PY train/prepare.py "$DB" "$MDB" train/cache
    [ -s train/cache/teacher.npz ] || nice -n 10 $PY train/teacher.py "$DB" "$MDB" train/cache
    # one thread: on this 2-core machine the student trains faster with 1 thread than with 2
    # (train/README.md, "Recipe"); a machine with real cores may pass --threads 2
    nice -n 10 $PY train/train_student.py --tokens "${TRAIN_TOKENS:-36}" $STUDENT_FLAGS --threads 1 "$@"
    ;;
pretrain)
    [ -s train/cache/tokens.npz ] || { need_db; nice -n 10 $PY train/prepare.py "$DB" "$MDB" train/cache; }
    nice -n 10 $PY train/pretrain.py --tokens "${PRETRAIN_TOKENS:-110}" $MODEL_FLAGS "$@"
    ;;
baseline)
    need_db
    mkdir -p build/baseline
    $PY train/teacher.py --baseline-only "$DB" "$MDB" build/baseline
    ;;
export)
    if [ "${EXPORT_F16:-1}" = 1 ]; then $PY train/export.py train/runs/best.pt models/default --f16
    else $PY train/export.py train/runs/best.pt models/default; fi
    ;;
test)
    $PY train/test_wordpiece.py
    $PY train/test_student_data.py
    $PY train/test_student_init.py
    $PY train/test_predict.py
    $PY train/test_windows.py
    $PY train/test_teacher.py
    need_db
    $PY train/test_slices.py
    $PY train/test_modeling.py
    $PY train/test_finetune.py
    $PY train/test_pretrain.py
    $PY train/test_embed_init.py
    $PY train/test_export.py
    ;;
finetune)
    need_db
    [ $# -ge 2 ] || { echo "usage: train/run.sh finetune INIT_FOLDER OUT_FOLDER [flags]" >&2; exit 2; }
    init=$1; out=$2; shift 2
    $PY train/finetune.py --init "$init" --out "$out" --db "$DB" "$@"
    ;;
*)
    echo "usage: train/run.sh {train|pretrain|baseline|export|test|finetune INIT OUT}" >&2; exit 2
    ;;
esac
