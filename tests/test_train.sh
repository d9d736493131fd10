#!/usr/bin/env bash
# tests/test_train.sh — the Python side of the default model (train/): the
# Python tokenizer against the golden ids, the torch DistilBERT/BERT against
# the golden logits, the model-card fine-tuning recipe end to end on
# tiny-distilbert, and the exported models/default against PyTorch.
# Sums the four tests' "N passed, N failed" lines into one.
set -u
cd "$(dirname "$0")/.."
if ! /usr/bin/python3 -c "import torch, numpy" 2>/dev/null; then
  echo "FAIL test_train: /usr/bin/python3 lacks torch or numpy (bash .ci/deps installs them)"
  echo "test_train: 0 passed, 1 failed"; exit 1
fi
export IMDB_DB=${IMDB_DB:-$PWD/build/imdb-train.db}   # shared with tests/test_default_model.py
out=$(bash train/run.sh test 2>&1); rc=$?
printf '%s\n' "$out" | grep -E '^(FAIL|SKIP)|passed' >&2
p=0 f=0 s=0
while read -r line; do
  n=$(echo "$line" | sed -nE 's/^(.*[^0-9])?([0-9]+) passed.*/\2/p'); p=$((p + ${n:-0}))
  n=$(echo "$line" | sed -nE 's/.* ([0-9]+) failed.*/\1/p'); f=$((f + ${n:-0}))
  n=$(echo "$line" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p'); s=$((s + ${n:-0}))
done < <(printf '%s\n' "$out" | grep -E '[0-9]+ passed, [0-9]+ failed')
[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && { echo "FAIL test_train: train/run.sh test exited $rc"; f=1; }
# train/'s tests print "SKIP…" when ../shared (or the IMDb data in it) is
# absent; CI (SENTIMENT_REQUIRE_SHARED=1) counts each as a failure.
if [ "${SENTIMENT_REQUIRE_SHARED:-}" = 1 ]; then
  n=$(printf '%s\n' "$out" | grep -c '^SKIP')
  [ "$n" -gt 0 ] && { echo "FAIL test_train: $n part(s) skipped, and SENTIMENT_REQUIRE_SHARED=1"; f=$((f + n)); }
fi
if [ "$s" -gt 0 ]; then echo "test_train: $p passed, $f failed, $s skipped"
else echo "test_train: $p passed, $f failed"; fi
[ "$f" -eq 0 ]
