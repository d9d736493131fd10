#!/usr/bin/env bash
# tests/fuzz/run.sh TARGET... — run each libFuzzer target in build/fuzz/ for
# FUZZ_SECONDS / (number of targets), one after the other, at nice 15 (the
# machine is shared). Seeds: tests/fuzz/corpus_TARGET/ (read-only); new inputs
# go to build/fuzz/corpus_TARGET/, crashes to build/fuzz/crash-*. Ends with a
# line per target: executions, seconds, result.
set -u
cd "$(dirname "$0")/../.."
FUZZ_SECONDS=${FUZZ_SECONDS:-600}
each=$(( FUZZ_SECONDS / $# ))
[ "$each" -lt 1 ] && each=1
status=0
summary=""
for t in "$@"; do
  mkdir -p "build/fuzz/corpus_$t"
  log="build/fuzz/fuzz_$t.log"
  echo "fuzz_$t: ${each}s (log $log)"
  start=$(date +%s)
  extra=""
  [ -f "tests/fuzz/$t.dict" ] && extra="-dict=tests/fuzz/$t.dict"
  nice -n 15 "build/fuzz/fuzz_$t" -max_total_time="$each" -timeout=10 -rss_limit_mb=2048 \
    -max_len=16384 -print_final_stats=1 -artifact_prefix="build/fuzz/crash-$t-" $extra \
    "build/fuzz/corpus_$t" "tests/fuzz/corpus_$t" > "$log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
  cov=$(grep -E '#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$log" | tail -n 1 | sed -nE 's/.*cov: ([0-9]+).*/\1/p')
  if [ $rc -eq 0 ]; then res="no crash"; else res="FAILED (exit $rc, see $log)"; status=1; fi
  summary+="fuzz_$t: ${execs:-?} executions in ${secs}s, coverage ${cov:-?} edges, $res"$'\n'
done
printf '%s' "$summary"
exit $status
