#!/usr/bin/env bash
# Build and run all tests twice: normal build, then ASan+UBSan build, then
# run each libFuzzer harness briefly (FUZZ_TEST_SECONDS, default 10 s each)
# (called by `make test`; also what CI runs).
#
# Without DATABASE_URL a throwaway PostgreSQL cluster is created in
# /tmp/agentkpi-test.XXXXXX and always removed afterwards, pass or fail.
# Exit status is the tests' status.
set -euo pipefail
cd "$(dirname "$0")/.."   # repo root

TOTAL_START=$SECONDS
TMP_DIR=
TIMES=   # "phase: Ns" summary, printed at the end

# Always stop the throwaway cluster and delete its directory.
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $TMP_DIR ]]; then
    scripts/pgcluster.sh stop "$TMP_DIR" || true
    rm -rf "$TMP_DIR"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT    # "exit" runs the EXIT trap above
trap 'exit 143' TERM

# Run one phase, report how long it took (or that it failed).
phase() {
  local name=$1 start=$SECONDS rc=0
  shift
  echo "==> $name" >&2
  "$@" || rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "==> $name FAILED (exit $rc) after $((SECONDS - start))s" >&2
    exit "$rc"
  fi
  echo "==> $name: $((SECONDS - start))s" >&2
  TIMES+="  $name: $((SECONDS - start))s"$'\n'
}

phase "dependencies" scripts/deps.sh

if [[ -z ${DATABASE_URL:-} ]]; then
  start=$SECONDS
  TMP_DIR=$(mktemp -d /tmp/agentkpi-test.XXXXXX)
  chmod 755 "$TMP_DIR"   # the postgres user must be able to enter it
  DATABASE_URL=$(scripts/pgcluster.sh start "$TMP_DIR")
  export DATABASE_URL
  echo "==> throwaway database: $((SECONDS - start))s" >&2
  TIMES+="  throwaway database: $((SECONDS - start))s"$'\n'
fi

phase "tests (normal build)" make check-tests
# UBSan: print a stack trace and fail the test on the first error.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
phase "tests (ASan+UBSan build)" make SANITIZE=1 check-tests
# A crash, leak, undefined behaviour or broken invariant fails the phase.
FUZZ_TEST_SECONDS=${FUZZ_TEST_SECONDS:-10}
phase "fuzz (${FUZZ_TEST_SECONDS}s per harness)" \
  make --no-print-directory fuzz FUZZ_SECONDS="$FUZZ_TEST_SECONDS"

# Faults (issue 6): PostgreSQL restarts and crashes, SIGKILL and SIGTERM of
# the server under ingest load, then acknowledged vs stored. Small size
# here; its own cluster (it restarts PostgreSQL); knobs in the script.
phase "fault test" tests/fault/run.sh

printf '%s' "$TIMES"
echo "all tests passed (normal + sanitizer + fuzz) in $((SECONDS - TOTAL_START))s"
