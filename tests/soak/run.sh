#!/usr/bin/env bash
# tests/soak/run.sh: the soak run behind `make soak` (issue 6; not part of
# `make test`). Builds, starts a throwaway PostgreSQL (scripts/pgcluster.sh)
# and `agentkpi serve`, then for SOAK_SECONDS runs mixed load at about half
# the measured capacity (docs/benchmarks.md: ~2,300-2,500 single-event
# requests/s with 16-32 clients, ~30,000 events/s in batches of 1000), all
# through tests/fault/client:
#
#   single   SOAK_SINGLE_RATE single-event POSTs/s over SOAK_SINGLE_THREADS
#   batch    one POST of 1000 events every SOAK_BATCH_EVERY seconds
#   reads    SOAK_READ_RATE reads/s, a quarter each, one client per kind:
#            scorecard GET /v1/kpis, series GET /v1/kpis/timeseries,
#            grafana POST /grafana/query, list GET /v1/conversations
#
# It samples the server's RSS (VmRSS), the worker's backlog and the rollup
# marks every 10 s and writes latency p50/p99 per minute and kind, RSS
# start/end/max, errors and (SOAK_SANITIZE=1: the ASan+UBSan build) whether
# any sanitizer report appeared in the server log, or (SOAK_VALGRIND=1: the
# normal build under valgrind memcheck) its error and leak summary, into
# the section of its build in SOAK_DOC. Raw outputs stay in SOAK_OUT.
#
# Knobs (environment):     default
#   SOAK_SECONDS           600
#   SOAK_SANITIZE          0       1: build-san/agentkpi (ASan+UBSan)
#   SOAK_VALGRIND          0       1: agentkpi under valgrind memcheck
#   SOAK_SINGLE_RATE       1200    (SOAK_SANITIZE=1: 500, SOAK_VALGRIND=1: 25)
#   SOAK_SINGLE_THREADS    32
#   SOAK_BATCH_EVERY       5
#   SOAK_READ_RATE         3
#   SOAK_DOC               docs/soak.md
#   SOAK_OUT               build/soak/last (build-san/soak/last)
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD

die() { echo "soak: $*" >&2; exit 2; }
say() { echo "soak: $(date +%H:%M:%S) $*" >&2; }

SOAK_SANITIZE=${SOAK_SANITIZE:-0}
[[ $SOAK_SANITIZE == 1 ]] || SOAK_SANITIZE=0
SOAK_VALGRIND=${SOAK_VALGRIND:-0}
[[ $SOAK_VALGRIND == 1 ]] || SOAK_VALGRIND=0
((SOAK_SANITIZE && SOAK_VALGRIND)) && die "SOAK_SANITIZE and SOAK_VALGRIND do not mix"
SOAK_SECONDS=${SOAK_SECONDS:-600}
SOAK_SINGLE_RATE=${SOAK_SINGLE_RATE:-$((SOAK_SANITIZE ? 500 : SOAK_VALGRIND ? 25 : 1200))}
SOAK_SINGLE_THREADS=${SOAK_SINGLE_THREADS:-32}
SOAK_BATCH_EVERY=${SOAK_BATCH_EVERY:-5}
SOAK_READ_RATE=${SOAK_READ_RATE:-3}
SOAK_DOC=${SOAK_DOC:-$REPO/docs/soak.md}
for v in SOAK_SECONDS SOAK_SINGLE_RATE SOAK_SINGLE_THREADS SOAK_BATCH_EVERY SOAK_READ_RATE; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive whole number (got '${!v}')"
done

if ((SOAK_SANITIZE)); then
  BUILD=build-san; BIN=build-san/agentkpi; KIND=asan; TITLE="ASan+UBSan build"
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  say "building (SANITIZE=1)"
  make --no-print-directory -s SANITIZE=1 "$BIN" "$BUILD/tests/fault/client" >&2
elif ((SOAK_VALGRIND)); then
  command -v valgrind >/dev/null || die "SOAK_VALGRIND=1 needs valgrind (apt-get install valgrind)"
  BUILD=build; BIN=agentkpi; KIND=valgrind; TITLE="Normal build under valgrind memcheck"
  say "building"
  make --no-print-directory -s "$BIN" "$BUILD/tests/fault/client" >&2
else
  BUILD=build; BIN=agentkpi; KIND=normal; TITLE="Normal build (-O2)"
  say "building"
  make --no-print-directory -s "$BIN" "$BUILD/tests/fault/client" >&2
fi
BIN=$REPO/$BIN
SOAK_OUT=${SOAK_OUT:-$REPO/$BUILD/soak/last}
CLIENT=$REPO/$BUILD/tests/fault/client
PGBIN=${PGBIN:-$(printf "%s\n" /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}
unset DATABASE_URL AGENTKPI_KEY
mkdir -p "$SOAK_OUT"
rm -f "$SOAK_OUT"/*
# a copy under its own name: a `pkill agentkpi` elsewhere must not stop it
cp "$BIN" "$SOAK_OUT/soak-server"

PGDIR=$(mktemp -d /tmp/agentkpi-soak.XXXXXX)
chmod 755 "$PGDIR"
SERVER_PID=
PIDS=()
cleanup() {
  local rc=$? p
  trap - EXIT INT TERM
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  wait 2>/dev/null || true
  cp "$PGDIR/postgres.log" "$SOAK_OUT/" 2>/dev/null || true
  scripts/pgcluster.sh stop "$PGDIR" 2>/dev/null || true
  rm -rf "$PGDIR"
  ((rc == 0)) || echo "soak: FAILED (exit $rc); raw outputs in $SOAK_OUT" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

DATABASE_URL=$(scripts/pgcluster.sh start "$PGDIR" 2>"$SOAK_OUT/pgcluster.log")
export DATABASE_URL
psv() { "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -c "$1"; }
"$BIN" migrate >/dev/null 2>>"$SOAK_OUT/cli.log"
"$BIN" tenants create soak >/dev/null 2>&1
KEY=$("$BIN" keys create --tenant soak --scopes ingest,read 2>/dev/null | tail -n 1)

# one key drives the whole load: the per-key rate limit is off
RUN=()
if ((SOAK_VALGRIND)); then
  # definite and indirect leaks count as errors; "possibly lost" blocks of
  # the libraries' own caches do not
  RUN=(valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect
       --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --num-callers=30
       --log-file="$SOAK_OUT/valgrind.log")
fi
LISTEN=127.0.0.1:0 RATE_LIMIT_RPS=0 "${RUN[@]}" "$SOAK_OUT/soak-server" serve 2>"$SOAK_OUT/server.log" &
SERVER_PID=$!
PORT=
for _ in {1..600}; do
  PORT=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$SOAK_OUT/server.log" | head -n 1)
  [[ -n $PORT ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || die "the server exited (see $SOAK_OUT/server.log)"
  sleep 0.1
done
[[ -n $PORT ]] || die "the server did not report its port"
rss() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$SERVER_PID/status"; }
RSS_IDLE=$(rss VmRSS)
say "server pid $SERVER_PID on port $PORT, RSS ${RSS_IDLE} kB; load for ${SOAK_SECONDS} s"

FROM=$(date -u -d '-1 day' +%Y-%m-%dT%H:00:00Z)
TO=$(date -u -d '+1 day' +%Y-%m-%dT%H:00:00Z)
GRAFANA="{\"range\":{\"from\":\"$FROM\",\"to\":\"$TO\"},\"intervalMs\":3600000,\"maxDataPoints\":100,\"targets\":[{\"refId\":\"A\",\"target\":\"true_resolution_rate\"},{\"refId\":\"B\",\"target\":\"conversations\",\"format\":\"table\"}]}"
export AGENTKPI_KEY=$KEY
T0=$SECONDS
"$CLIENT" --port "$PORT" --threads "$SOAK_SINGLE_THREADS" --batch 1 \
  --rate "$SOAK_SINGLE_RATE" --seconds "$SOAK_SECONDS" --prefix s --deadline 30 \
  --minutes "$SOAK_OUT/single.min" >"$SOAK_OUT/single.out" 2>&1 &
PIDS+=($!)
"$CLIENT" --port "$PORT" --threads 1 --batch 1000 --rate "$(awk -v e="$SOAK_BATCH_EVERY" 'BEGIN { print 1 / e }')" \
  --seconds "$SOAK_SECONDS" --prefix b --deadline 30 \
  --minutes "$SOAK_OUT/batch.min" >"$SOAK_OUT/batch.out" 2>&1 &
PIDS+=($!)
# one client per kind of read, so that each has its own latencies
READS=(scorecard series grafana list)
declare -A READ=(
  [scorecard]="GET /v1/kpis"
  [series]="GET /v1/kpis/timeseries?metric=true_resolution_rate&interval=1h"
  [grafana]="POST /grafana/query $GRAFANA"
  [list]="GET /v1/conversations?limit=50")
READ_EACH=$(awk -v r="$SOAK_READ_RATE" -v n="${#READS[@]}" 'BEGIN { print r / n }')
for k in "${READS[@]}"; do
  "$CLIENT" --port "$PORT" --threads 1 --rate "$READ_EACH" --seconds "$SOAK_SECONDS" --deadline 30 \
    --read "${READ[$k]}" --minutes "$SOAK_OUT/$k.min" >"$SOAK_OUT/$k.out" 2>&1 &
  PIDS+=($!)
done

# RSS, backlog and rollup marks every 10 s while the clients run
: >"$SOAK_OUT/rss.tsv"
NEXT=0
while :; do
  running=0
  for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && running=1; done
  ((running)) || break
  kill -0 "$SERVER_PID" 2>/dev/null || die "the server died under load (see $SOAK_OUT/server.log)"
  if ((SECONDS - T0 >= NEXT)); then
    # seconds, VmRSS kB, load average, facts pending (the worker's backlog),
    # hours and minutes marked (to refresh)
    printf '%d\t%s\t%s\t%s\t%s\n' $((SECONDS - T0)) "$(rss VmRSS)" "$(cut -d' ' -f1 /proc/loadavg)" \
      "$(curl -s --max-time 5 "http://127.0.0.1:$PORT/readyz" | sed -n 's/.*"facts_pending":\([0-9]*\).*/\1/p')" \
      "$(psv "SELECT count(DISTINCT (span, t)) FROM kpi_marks WHERE span <> 'd'" 2>/dev/null)" >>"$SOAK_OUT/rss.tsv"
    NEXT=$((NEXT + 10))
  fi
  sleep 1
done
rc=0
for p in "${PIDS[@]}"; do wait "$p" || rc=1; done
PIDS=()
RSS_END=$(rss VmRSS)
RSS_HWM=$(rss VmHWM)
EVENTS=$(psv "SELECT count(*) FROM events")
CONVS=$(psv "SELECT count(*) FROM conversations")
say "load done after $((SECONDS - T0)) s; stopping the server (SIGTERM)"
kill -TERM "$SERVER_PID"
STOP_RC=0; wait "$SERVER_PID" || STOP_RC=$?
SERVER_PID=

# -- report -------------------------------------------------------------------
res() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $(grep '^RESULT ' "$SOAK_OUT/$1.out")"; }
ELAPSED=$(res single seconds)
ELAPSED=${ELAPSED%.*}
SINGLE_RATE=$(awk -v n="$(res single requests)" -v s="$(res single seconds)" 'BEGIN { printf "%.0f", n / s }')
SAN=$(grep -cE 'ERROR: [A-Za-z]+Sanitizer|runtime error:|SUMMARY: [A-Za-z]+Sanitizer' "$SOAK_OUT/server.log" || true)
VG_SUMMARY=
if ((SOAK_VALGRIND)); then
  # "ERROR SUMMARY: N errors from M contexts" counts leaks of the kinds above too
  VG_ERRORS=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$SOAK_OUT/valgrind.log" | tail -n 1 | tr -d ,)
  [[ -n $VG_ERRORS ]] || VG_ERRORS=unknown
  VG_SUMMARY=$(grep -E 'definitely lost:|indirectly lost:|possibly lost:|still reachable:' "$SOAK_OUT/valgrind.log" |
    sed 's/^==[0-9]*== *//' | paste -sd ';' | sed 's/;/; /g' || true)
  # with nothing left at the exit, valgrind prints no leak summary
  [[ -n $VG_SUMMARY ]] || VG_SUMMARY=$(grep -o 'All heap blocks were freed.*' "$SOAK_OUT/valgrind.log" || true)
  [[ $VG_ERRORS == 0 ]] || SAN=$((SAN + 1))
fi
LOG_ERRORS=$(grep -c '^[^ ]* error ' "$SOAK_OUT/server.log" || true)
ERRORS=0
for k in single batch "${READS[@]}"; do
  ERRORS=$((ERRORS + $(res $k s503) + $(res $k other_status) + $(res $k transport) + $(res $k gave_up) + $(res $k bad_replies)))
done
NMIN=$(wc -l <"$SOAK_OUT/single.min")
row() { awk -v m="$2" '$1 == m { printf "%s", $'"$3"' }' "$SOAK_OUT/$1.min"; }
rss_at() { awk -F'\t' -v t="$1" -v c="${2:-2}" '$1 <= t { v = $c } END { print v }' "$SOAK_OUT/rss.tsv"; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'; }
RSS_FIRST=$(rss_at 60)
RSS_MAX=$(cut -f2 "$SOAK_OUT/rss.tsv" | sort -n | tail -n 1)
BACKLOG=$(awk -F'\t' '$4 != "" { if ($4 > hi) hi = $4; last = $4 } END { printf "%d at the end, %d at most", last, hi }' \
  "$SOAK_OUT/rss.tsv")
LOADAVG=$(awk -F'\t' 'NR == 1 || $3 < lo { lo = $3 } $3 > hi { hi = $3 } { s += $3 }
  END { printf "%.1f mean, %.1f to %.1f", s / NR, lo, hi }' "$SOAK_OUT/rss.tsv")

REPORT=$SOAK_OUT/report.md
{
  echo "### $TITLE"
  echo
  echo "\`SOAK_SECONDS=$SOAK_SECONDS SOAK_SINGLE_RATE=$SOAK_SINGLE_RATE $( ((SOAK_SANITIZE)) && echo 'SOAK_SANITIZE=1 ')$( ((SOAK_VALGRIND)) && echo 'SOAK_VALGRIND=1 ')make soak\`, $(date -u '+%Y-%m-%d %H:%M UTC'), commit" \
    "$(git rev-parse --short HEAD)$(git status --porcelain --untracked-files=no | grep -q . && echo ' (with uncommitted changes)'), on" \
    "$(nproc) × $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo);" \
    "PostgreSQL $(psv 'SHOW server_version' 2>/dev/null || echo '?') (throwaway cluster), server defaults" \
    "(4 HTTP threads, pool of 4, LOG_LEVEL info); load generator on the same machine." \
    "Load average (1 min) during the run: $LOADAVG (other work on the machine included)."
  echo
  echo "Load for ${ELAPSED} s: $SOAK_SINGLE_RATE single-event POSTs/s (target; $SINGLE_RATE reached) over $SOAK_SINGLE_THREADS connections," \
    "one POST of 1000 events every $SOAK_BATCH_EVERY s, $SOAK_READ_RATE reads/s, a quarter each of" \
    "scorecard (GET /v1/kpis), series (hourly time series), grafana (POST /grafana/query) and list (GET /v1/conversations)." \
    "At the end: $EVENTS events in $CONVS conversations."
  echo
  echo "| requests | sent | per s | errors | p50 ms | p99 ms |"
  echo "|---|---:|---:|---:|---:|---:|"
  for k in single batch "${READS[@]}"; do
    e=$(($(res $k s503) + $(res $k other_status) + $(res $k transport) + $(res $k gave_up) + $(res $k bad_replies)))
    printf '| %s | %s | %.1f | %s | %s | %s |\n' "$k" "$(res $k requests)" \
      "$(awk -v n="$(res $k requests)" -v s="$(res $k seconds)" 'BEGIN { print n / s }')" \
      "$e" "$(res $k p50_ms)" "$(res $k p99_ms)"
  done
  echo
  echo "p99 latency (ms) per minute of the run (the reads: 15 of each kind a minute, so their p99 is"
  echo "about the slowest); RSS, facts pending and hours and minutes marked at the minute's end:"
  echo
  echo "| minute | single n | single p99 | batch p99 | scorecard | series | grafana | list | RSS | pending | marks |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for m in $(seq "$NMIN"); do
    echo "| $m | $(row single "$m" 2) | $(row single "$m" 4) | $(row batch "$m" 4) | $(row scorecard "$m" 4)" \
      "| $(row series "$m" 4) | $(row grafana "$m" 4) | $(row list "$m" 4)" \
      "| $(mb "$(rss_at $((m * 60)))") | $(rss_at $((m * 60)) 4) | $(rss_at $((m * 60)) 5) |"
  done
  echo
  echo "| p99 | first minute | last minute |"
  echo "|---|---:|---:|"
  for k in single batch "${READS[@]}"; do
    echo "| $k | $(row $k 1 4) ms | $(row $k "$NMIN" 4) ms |"
  done
  echo
  echo "RSS: $(mb "$RSS_IDLE") idle before the load, $(mb "$RSS_FIRST") after the first minute," \
    "$(mb "$RSS_END") at the end of the load, $(mb "$RSS_MAX") the largest 10-s sample," \
    "$(mb "$RSS_HWM") peak (VmHWM); samples every 10 s in \`rss.tsv\`."
  echo
  echo "Facts pending (the worker's backlog, from \`/readyz\` every 10 s): $BACKLOG."
  echo
  echo "Errors: $ERRORS failed requests (any status but 200, or no answer); $LOG_ERRORS error lines in the server log." \
    "SIGTERM at the end: exit $STOP_RC."
  if ((SOAK_VALGRIND)); then
    echo "valgrind memcheck: $VG_ERRORS errors (definite and indirect leaks included); at the exit after SIGTERM: $VG_SUMMARY." \
      "RSS above is valgrind's, not the server's alone."
  fi
  if ((SOAK_SANITIZE)); then
    echo "Sanitizers: $([[ $SAN == 0 ]] && echo 'no AddressSanitizer, LeakSanitizer or UndefinedBehaviorSanitizer report in the server log (leaks are checked at the exit after SIGTERM)' || echo "$SAN sanitizer report lines in the server log")."
  fi
} >"$REPORT"

# replace this build's section of SOAK_DOC, between its two markers
BEGIN="<!-- soak:$KIND:begin -->"
END="<!-- soak:$KIND:end -->"
[[ -f $SOAK_DOC ]] || printf '# Soak runs\n\n%s\n%s\n' "$BEGIN" "$END" >"$SOAK_DOC"
grep -qF "$BEGIN" "$SOAK_DOC" || printf '\n%s\n%s\n' "$BEGIN" "$END" >>"$SOAK_DOC"
awk -v b="$BEGIN" -v e="$END" -v f="$REPORT" '
  $0 == b { print; while ((getline line < f) > 0) print line; skip = 1; next }
  $0 == e { skip = 0 }
  !skip { print }' "$SOAK_DOC" >"$SOAK_DOC.tmp" && mv "$SOAK_DOC.tmp" "$SOAK_DOC"
cat "$REPORT"
say "report written to $SOAK_DOC (raw outputs in $SOAK_OUT)"
((rc == 0 && ERRORS == 0 && SAN == 0 && STOP_RC == 0)) || { echo "soak: errors above" >&2; exit 1; }
