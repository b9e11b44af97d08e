#!/usr/bin/env bash
# Runs libFuzzer harnesses built by `make fuzz` (build-fuzz/tests/fuzz/),
# one after the other, each for FUZZ_SECONDS (default 300) on a working
# corpus: build-fuzz/corpus/NAME/, seeded from tests/fuzz/corpus/NAME/ (the
# checked-in seeds are never written). Crash, leak, timeout and out-of-memory
# inputs go to build-fuzz/crashes/NAME/. Prints executions, coverage and
# corpus size per harness; exits 1 when any harness failed.
#   usage: scripts/fuzz.sh [NAME...]    (default: every harness)
# Knobs: FUZZ_SECONDS, FUZZ_MAX_LEN (65536), FUZZ_TIMEOUT (10 s per input).
set -euo pipefail
cd "$(dirname "$0")/.."

SECS=${FUZZ_SECONDS:-300}
MAX_LEN=${FUZZ_MAX_LEN:-65536}
TIMEOUT=${FUZZ_TIMEOUT:-10}
OUT=build-fuzz
[[ $# -gt 0 ]] || set -- event ndjson query grafana

summary=
failed=0
for name in "$@"; do
  bin=$OUT/tests/fuzz/fuzz_$name
  [[ -x $bin ]] || { echo "fuzz: $bin is not built (run make fuzz)" >&2; exit 2; }
  work=$OUT/corpus/$name
  crashes=$OUT/crashes/$name
  log=$OUT/fuzz-$name.log
  mkdir -p "$work" "$crashes"
  cp tests/fuzz/corpus/"$name"/* "$work"/
  dict=()
  [[ -f tests/fuzz/$name.dict ]] && dict=(-dict=tests/fuzz/$name.dict)
  echo "==> fuzz_$name: ${SECS}s on $(ls "$work" | wc -l) inputs" >&2
  rc=0
  "$bin" -max_total_time="$SECS" -max_len="$MAX_LEN" -timeout="$TIMEOUT" \
    -print_final_stats=1 -artifact_prefix="$crashes"/ "${dict[@]}" \
    "$work" >"$log" 2>&1 || rc=$?
  # the last status line: "#RUNS <kind> cov: C ft: F corp: N/SIZE ..."
  status=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
  runs=$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$log" | grep -oE '[0-9]+$' || true)
  cov=$(grep -oE 'cov: [0-9]+' <<<"$status" | grep -oE '[0-9]+' || true)
  ft=$(grep -oE 'ft: [0-9]+' <<<"$status" | grep -oE '[0-9]+' || true)
  corp=$(grep -oE 'corp: [0-9]+' <<<"$status" | grep -oE '[0-9]+' || true)
  line=$(printf '%-8s execs %-10s cov %-6s ft %-6s corpus %-6s' "$name" \
    "${runs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}")
  if [[ $rc -ne 0 ]]; then
    failed=1
    artifact=$(grep -oE "Test unit written to [^ ]+" "$log" | tail -n 1 |
               sed 's/^Test unit written to //' || true)
    echo "==> fuzz_$name FAILED (exit $rc); its log ($log) ends:" >&2
    grep -vE '^#[0-9]+|^INFO: |^Loaded |^\s*$' "$log" | tail -n 60 >&2 || true
    echo "==> fuzz_$name: crashing input: ${artifact:-none written}" >&2
    echo "==> reproduce: $bin ${artifact:-INPUT}" >&2
    line+="  FAILED: ${artifact:-see $log}"
  fi
  summary+="$line"$'\n'
done
echo "fuzz summary (${SECS}s each):"
printf '%s' "$summary"
exit "$failed"
