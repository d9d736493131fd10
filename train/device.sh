#!/bin/bash
# A pretrained default model with the heavy part on a GPU (the device machine: one H200, 10
# minutes a command): masked-LM pretraining of the student's encoder (pretrain.py), then the
# shipped distillation recipe from it (train_student.py --init, train/recipe.sh's flags).
# The same scripts run here on the CPU with DEVICE=cpu, hours slower (train/README.md,
# "Pretraining on the device machine").
#
# Here, once:  /usr/bin/python3 train/device_cache.py         # train/cache -> train/cache-device
# There:       bash train/device.sh run                        # run tool, carry ["train/cache-device"]
#              -> $OUT/device.tar.gz.part-*, device.tar.gz.sha256, log.txt
# Here:        bash train/device.sh unpack FILES_AT DEST       # DEST/export: an export folder
#                                                              # (make eval MODEL=DEST/export)
# Environment: DEVICE (cuda), PYTHON (python3), CACHE (train/cache-device), WORK (/tmp/device-run),
# PRETRAIN_SECONDS (240: the pretraining tokens are sized from a 30-step bench to take about
# this long; the count goes into pretrain/state.json, so a rerun can give PRETRAIN_TOKENS
# instead), PRETRAIN_TOKENS (millions; skips the bench), PRETRAIN_BUDGET (32768 padded tokens
# a batch), PRETRAIN_LR (1e-3), TRAIN_TOKENS (36, the shipped recipe's). The student gets 8
# CPU threads there (16 cores): for the export's val_logits.jsonl, computed on the CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
. train/recipe.sh
PY=${PYTHON:-python3}
DEVICE=${DEVICE:-cuda}
CACHE=${CACHE:-train/cache-device}
WORK=${WORK:-/tmp/device-run}
PART=15m  # a returned file may hold 16 MiB; the F16 model alone is 19 MB

run() {
    rm -rf "$WORK" && mkdir -p "$WORK"
    local pt=(--cache "$CACHE" --device "$DEVICE" $MODEL_FLAGS --budget "${PRETRAIN_BUDGET:-32768}"
              --lr "${PRETRAIN_LR:-1e-3}")
    local tokens=${PRETRAIN_TOKENS:-}
    if [ -z "$tokens" ]; then
        local rate
        rate=$($PY train/pretrain.py "${pt[@]}" --bench --out "$WORK/bench" | sed -n 's/^BENCH \([0-9]*\) tok\/s$/\1/p')
        [ -n "$rate" ] || { echo "device.sh: pretrain.py --bench printed no rate" >&2; exit 1; }
        tokens=$(awk -v r="$rate" -v s="${PRETRAIN_SECONDS:-240}" 'BEGIN { printf "%.2f", r * s / 1e6 }')
        echo "bench: $rate tokens/s -> PRETRAIN_TOKENS=$tokens"
    fi
    $PY train/pretrain.py "${pt[@]}" --tokens "$tokens" --log-min 1 --ckpt-min 1000 --out "$WORK/pretrain"
    $PY train/train_student.py --cache "$CACHE" --device "$DEVICE" --tokens "${TRAIN_TOKENS:-36}" \
        $STUDENT_FLAGS --threads 8 --init "$WORK/pretrain/encoder.pt" --out "$WORK/student" --export "$WORK/export"
    tar czf "$WORK/device.tar.gz" -C "$WORK" export pretrain/state.json student/state.json
    (cd "$WORK" && sha256sum device.tar.gz > "$OUT/device.tar.gz.sha256")
    split -b "$PART" "$WORK/device.tar.gz" "$OUT/device.tar.gz.part-"
}

unpack() {  # unpack FILES_AT DEST
    local src=$1 dst=$2
    mkdir -p "$dst"
    cat "$src"/device.tar.gz.part-* > "$dst/device.tar.gz"
    (cd "$dst" && sha256sum -c "$(cd "$src" && pwd)/device.tar.gz.sha256")
    tar xzf "$dst/device.tar.gz" -C "$dst"
    rm "$dst/device.tar.gz"
    echo "$dst/export: the model; $dst/pretrain/state.json, $dst/student/state.json: its curves"
}

case "${1:-}" in
run)
    : "${OUT:?OUT: the folder whose files come back}"
    run 2>&1 | tee "$OUT/log.txt"
    ;;
unpack)
    [ $# -eq 3 ] || { echo "usage: train/device.sh unpack FILES_AT DEST" >&2; exit 2; }
    unpack "$2" "$3"
    ;;
*)
    echo "usage: train/device.sh {run|unpack FILES_AT DEST}" >&2; exit 2
    ;;
esac
