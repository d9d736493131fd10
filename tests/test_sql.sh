#!/usr/bin/env bash
# tests/test_sql.sh — the extension through the sqlite3 shell, as a user runs it.
#
# Each tests/sql/NAME.sql runs in `sqlite3 -batch :memory:` from the repository
# root (so `.load ./sentiment` finds the build) and its output, error messages
# included, must equal tests/sql/NAME.expected. In the scripts:
#   $SHARED  the shared reference folder (../shared, or $SENTIMENT_SHARED)
#   $TMP     a scratch folder with broken model folders (made below)
# and paths under $TMP are written back as $TMP in the output. A first line
# "-- needs: shared" skips the script (loudly) when the shared folder is
# absent; "-- needs: default" when this build embeds no default model.
#
# Also checks that sentiment.so exports exactly one symbol.
#
# Regenerate an expected file after a deliberate change (then read the diff):
#   SQL_TEST_UPDATE=1 tests/test_sql.sh
set -u
cd "$(dirname "$0")/.."
SQLITE3=${SQLITE3:-sqlite3}
PYTHON=${PYTHON:-/usr/bin/python3}
SHARED=${SENTIMENT_SHARED:-../shared}
passed=0 failed=0 skipped=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL test_sql: $*"; }
skip() { skipped=$((skipped + 1)); echo "SKIP test_sql: $*"; }
# A skip for want of the shared folder: a failure when SENTIMENT_REQUIRE_SHARED=1 (CI).
skip_shared() { if [ "${SENTIMENT_REQUIRE_SHARED:-}" = 1 ]; then fail "$* (SENTIMENT_REQUIRE_SHARED=1)"; else skip "$@"; fi; }

if [ ! -f sentiment.so ]; then
  echo "FAIL test_sql: no sentiment.so (run make)"; echo "test_sql: 0 passed, 1 failed"; exit 1
fi
unset SENTIMENT_MODEL

# One exported symbol: the entry point.
syms=$(nm -D --defined-only sentiment.so | awk '{print $3}')
if [ "$syms" = "sqlite3_sentiment_init" ]; then pass; else fail "exported symbols: $(echo $syms)"; fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sentiment-sql.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
have_shared=0
if [ -d "$SHARED/golden/models" ]; then
  have_shared=1
  SHARED=$(cd "$SHARED" && pwd -P)  # physical: sentiment_models shows realpaths
  m=$SHARED/golden/models/tiny-bert
  mkdir -p "$TMP/no-weights" "$TMP/pytorch-only" "$TMP/bad-config" "$TMP/bad-weights" \
           "$TMP/bad-vocab" "$TMP/link-target"
  cp "$m/config.json" "$m/vocab.txt" "$TMP/no-weights/"
  cp "$m/config.json" "$m/vocab.txt" "$TMP/pytorch-only/"; : > "$TMP/pytorch-only/pytorch_model.bin"
  printf '{"model_type": "bert", "hidden_size": "big"}' > "$TMP/bad-config/config.json"
  cp "$m/config.json" "$m/vocab.txt" "$TMP/bad-weights/"; printf 'not a safetensors file' > "$TMP/bad-weights/model.safetensors"
  cp "$m/config.json" "$m/model.safetensors" "$TMP/bad-vocab/"; : > "$TMP/bad-vocab/vocab.txt"
  ln -s "$m" "$TMP/link-to-tiny-bert"
  # Labels that JSON must escape: a quote, a backslash, a control character.
  mkdir -p "$TMP/odd-labels"; cp "$m/vocab.txt" "$m/model.safetensors" "$TMP/odd-labels/"
  "$PYTHON" -c 'import json, sys; c = json.load(open(sys.argv[1])); c["id2label"] = {"0": "ne\"g\\x", "1": "po\ts"}; c.pop("label2id", None); json.dump(c, open(sys.argv[2], "w"))' \
    "$m/config.json" "$TMP/odd-labels/config.json"
else
  skip_shared "no shared folder at $SHARED: the golden-model scripts are skipped"
fi
# Does this build embed a default model? (Its config shows in the registry.)
has_default=$("$SQLITE3" -batch :memory: ".load ./sentiment" \
  "SELECT model_type IS NOT NULL FROM sentiment_models WHERE name = 'default'" 2>&1)

for sql in tests/sql/*.sql; do
  name=$(basename "$sql" .sql)
  exp=tests/sql/$name.expected
  needs=$(sed -n '1s/^-- needs: *//p' "$sql")
  case " $needs " in *" shared "*)
    [ $have_shared = 1 ] || { skip_shared "$name: needs $SHARED (absent)"; continue; } ;;
  esac
  case " $needs " in *" default "*)
    [ "$has_default" = 1 ] || { skip "$name: this build embeds no default model (models/default/)"; continue; } ;;
  esac
  unshared=(); [ $have_shared = 1 ] && unshared=(-e "s|$SHARED|\$SHARED|g")
  out=$(sed -e "s|\\\$SHARED|$SHARED|g" -e "s|\\\$TMP|$TMP|g" "$sql" |
        "$SQLITE3" -batch :memory: 2>&1 | sed -e "s|$TMP|\$TMP|g" "${unshared[@]}")
  if [ "${SQL_TEST_UPDATE:-}" = 1 ]; then printf '%s\n' "$out" > "$exp"; fi
  if [ ! -f "$exp" ]; then fail "$name: no $exp"; continue; fi
  if d=$(diff -u "$exp" <(printf '%s\n' "$out")); then
    pass
  else
    fail "$name: output differs from $exp:"; printf '%s\n' "$d" | head -n 30 | sed 's/^/FAIL test_sql:   /'
  fi
done

# The default model from $SENTIMENT_MODEL, and the message without one.
expect() { # name, wanted output, command...
  local name=$1 want=$2; shift 2
  local got; got=$("$@" 2>&1)
  if [ "$got" = "$want" ]; then pass; else fail "$name: got [$got], want [$want]"; fi
}
if [ $have_shared = 1 ]; then
  expect "SENTIMENT_MODEL" "$SHARED/golden/models/tiny-bert|bert|negative|1" \
    env SENTIMENT_MODEL="$SHARED/golden/models/tiny-bert" "$SQLITE3" -batch :memory: ".load ./sentiment" \
    "SELECT path, model_type, sentiment('[CLS] [PAD] [MASK] [UNK]'), loads FROM sentiment_models WHERE name = 'default'"
fi
expect "SENTIMENT_MODEL missing" "Error: stepping, sentiment(): cannot open model '/nonexistent/model': No such file or directory" \
  env SENTIMENT_MODEL=/nonexistent/model "$SQLITE3" -batch :memory: ".load ./sentiment" "SELECT sentiment('x')"
if [ "$has_default" != 1 ]; then
  expect "no default model" "Error: stepping, sentiment(): no default model: this build embeds none; set SENTIMENT_MODEL to a model folder, or register one: INSERT OR REPLACE INTO sentiment_models(name, path) VALUES ('default', '/path/to/model')" \
    "$SQLITE3" -batch :memory: ".load ./sentiment" "SELECT sentiment('x')"
fi

if [ $skipped -gt 0 ]; then
  echo "test_sql: $passed passed, $failed failed, $skipped skipped"
else
  echo "test_sql: $passed passed, $failed failed"
fi
[ $failed -eq 0 ]
