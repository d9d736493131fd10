#!/usr/bin/env bash
# tests/run.sh — runs every test named on the command line (executables or
# scripts), prints each one's own summary, and ends with the total as
# "N passed, N failed, N skipped". Each test prints a last line of the form
# "<name>: N passed, N failed[, N skipped]" and exits non-zero on failure.
set -u
passed=0 failed=0 skipped=0 broken=0
for t in "$@"; do
  out=$("$t" 2>&1)
  rc=$?
  printf '%s\n' "$out" | grep -E '^(FAIL|SKIP)' | head -n 40
  line=$(printf '%s\n' "$out" | grep -E '^[A-Za-z0-9_./-]+: [0-9]+ passed, [0-9]+ failed' | tail -n 1)
  if [ -z "$line" ]; then
    printf '%s\n' "$out" | tail -n 20
    echo "BROKEN $t: exit $rc, no summary line"
    broken=$((broken + 1)); failed=$((failed + 1)); continue
  fi
  echo "$line"
  p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
  f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
  s=$(echo "$line" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p')
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + ${s:-0}))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "BROKEN $t: exit $rc with no failed check"; failed=$((failed + 1))
  fi
done
echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
