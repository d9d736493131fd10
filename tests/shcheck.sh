# tests/shcheck.sh — sourced by the shell tests of the packages: the check
# lines tests/run.sh reads. Set NAME first.
#   ok | fail "what" | skip "why" | skip_shared "why" | check "what failed" cmd args… | finish
#   merge "$output" subname   a sub-test's lines, its counts added to ours
passed=0 failed=0 skipped=0
ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL $NAME: $*"; }
skip() { skipped=$((skipped + 1)); echo "SKIP $NAME: $*"; }
# A skip for want of ../shared: a failure when SENTIMENT_REQUIRE_SHARED=1 (CI).
skip_shared() { if [ "${SENTIMENT_REQUIRE_SHARED:-}" = 1 ]; then fail "$* (SENTIMENT_REQUIRE_SHARED=1)"; else skip "$@"; fi; }
check() { local what=$1; shift; if "$@"; then ok; else fail "$what"; fi; }
finish() {
  local s=
  [ "$skipped" -gt 0 ] && s=", $skipped skipped"
  echo "$NAME: $passed passed, $failed failed$s"
  [ "$failed" -eq 0 ]
  exit
}

merge() {
  local out=$1 sub=$2 line p f s
  printf '%s\n' "$out" | grep -vE "^$sub: [0-9]+ passed"
  line=$(printf '%s\n' "$out" | grep -E "^$sub: [0-9]+ passed, [0-9]+ failed" | tail -1)
  if [ -z "$line" ]; then
    fail "$sub gave no summary line: $(printf '%s\n' "$out" | tail -5)"
    return
  fi
  p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
  f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
  s=$(echo "$line" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p')
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + ${s:-0}))
}
