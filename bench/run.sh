#!/usr/bin/env bash
# bench/run.sh: the benchmark behind `make bench` (issue 5). In one run, on
# its own PostgreSQL (scripts/pgcluster.sh) and its own `agentkpi serve`:
#
#   1. raw COPY of the rows step 2 sends into events' shape (the ceiling)
#   2. batch ingest over HTTP: batches of 1000, BENCH_BATCH_CLIENTS clients
#   3. single-event ingest, BENCH_SINGLE_CLIENTS clients, against a raw
#      single-row INSERT per transaction on the same table shape and rows
#   5. server RSS at start, peak (VmHWM) under 2 and 3, and at the end
#   E. equivalence: the bulk path against HTTP ingest and rebuild-facts
#   4. KPI latency at each of BENCH_SIZES conversations of one tenant among
#      several, against hand-written SQL over the raw events
#
# Each figure runs BENCH_RUNS times (median, min-max). The data comes from
# bench/gen.c; bulk loads go through bench/load.c and derive_tables()
# below. The report is written by bench/report.sh. The server and the
# cluster stop on exit, pass or fail.
#
# Knobs (environment):              default      BENCH_QUICK=1
#   AGENTKPI_BIN     server binary  ./agentkpi   (its directory's server/
#                                   sources and migrations/ are used too)
#   BENCH_SIZES      conversations  "100000 1000000 10000000"
#   BENCH_RUNS       runs per figure               3
#   BENCH_BATCH_EVENTS / _CLIENTS   events per run, clients  200000 / 4  (50000)
#   BENCH_SINGLE_EVENTS / _SECONDS  cap per run               20000 / 30 (4000 / 10)
#   BENCH_SINGLE_CLIENTS            client counts             "16 32"
#   BENCH_RAW_CONNS                 raw INSERT connections    4
#   BENCH_KPI_REQUESTS / _BUDGET    timed GETs, seconds cap   20 / 300  (20 / 60)
#   BENCH_RAW_RUNS / _BUDGET        raw SQL runs, seconds cap 3 / 600   (3 / 60)
#   BENCH_EQUIV_CONVS               equivalence check size    5000
#   BENCH_OUT        raw outputs    <binary dir>/build/bench/last
#   BENCH_DOC        report         docs/benchmarks.md
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

die() { echo "bench: $*" >&2; exit 2; }
say() { echo "==> $(date +%H:%M:%S) $*" >&2; }

BIN=$(realpath "${AGENTKPI_BIN:-./agentkpi}")
[[ -x $BIN ]] || die "$BIN is missing: run make first (or set AGENTKPI_BIN)"
SRC=$(dirname "$BIN")
[[ -f $SRC/server/facts.c ]] || die "no server sources beside $BIN"
Q=${BENCH_QUICK:-0}
BENCH_SIZES=${BENCH_SIZES:-100000 1000000 10000000}
BENCH_RUNS=${BENCH_RUNS:-3}
BENCH_BATCH_EVENTS=${BENCH_BATCH_EVENTS:-$((Q ? 50000 : 200000))}
BENCH_BATCH_CLIENTS=${BENCH_BATCH_CLIENTS:-4}
BENCH_SINGLE_EVENTS=${BENCH_SINGLE_EVENTS:-$((Q ? 4000 : 20000))}
BENCH_SINGLE_SECONDS=${BENCH_SINGLE_SECONDS:-$((Q ? 10 : 30))}
BENCH_SINGLE_CLIENTS=${BENCH_SINGLE_CLIENTS:-16 32}
BENCH_RAW_CONNS=${BENCH_RAW_CONNS:-4}
BENCH_KPI_REQUESTS=${BENCH_KPI_REQUESTS:-20}
BENCH_KPI_BUDGET=${BENCH_KPI_BUDGET:-$((Q ? 60 : 300))}
BENCH_RAW_RUNS=${BENCH_RAW_RUNS:-3}
BENCH_RAW_BUDGET=${BENCH_RAW_BUDGET:-$((Q ? 60 : 600))}
BENCH_EQUIV_CONVS=${BENCH_EQUIV_CONVS:-5000}
BENCH_OUT=${BENCH_OUT:-$SRC/build/bench/last}
BENCH_DOC=${BENCH_DOC:-$REPO/docs/benchmarks.md}
for v in BENCH_RUNS BENCH_BATCH_EVENTS BENCH_BATCH_CLIENTS BENCH_SINGLE_EVENTS BENCH_SINGLE_SECONDS \
  BENCH_RAW_CONNS BENCH_KPI_REQUESTS BENCH_KPI_BUDGET BENCH_RAW_RUNS BENCH_RAW_BUDGET BENCH_EQUIV_CONVS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive whole number (got '${!v}')"
done
for n in $BENCH_SIZES $BENCH_SINGLE_CLIENTS; do [[ $n =~ ^[1-9][0-9]*$ ]] || die "not a number: '$n'"; done
PGBIN=${PGBIN:-$(printf "%s\n" /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}
[[ -x $PGBIN/psql ]] || die "PostgreSQL binaries not found (run scripts/deps.sh)"
pkg-config --exists libcurl libpq jansson uuid || die "missing -dev packages: libcurl, libpq, jansson, uuid"
unset DATABASE_URL AGENTKPI_KEY   # never someone else's database; keys only where given

TOOLS=$BENCH_OUT/../tools
mkdir -p "$BENCH_OUT" "$TOOLS"
rm -f "$BENCH_OUT"/*
RES=$BENCH_OUT/results.tsv   # "key<TAB>value ..." lines, read by report.sh
: >"$RES"
rec() { local k=$1; shift; printf '%s\t%s\n' "$k" "$*" >>"$RES"; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }
T_START=$SECONDS
phase() { rec "phase" "$(($SECONDS - PHASE_T)) $PHASE_NAME"; say "$PHASE_NAME: $(($SECONDS - PHASE_T)) s"; PHASE_NAME=$1; PHASE_T=$SECONDS; }
PHASE_NAME="build tools"; PHASE_T=$SECONDS

# -- tools: C programs under bench/, linked with the binary's own sources ----
say "building the bench tools in $TOOLS"
CF="-std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Ibench"
CURL=$(pkg-config --cflags --libs libcurl)
cc $CF -o "$TOOLS/ingest" bench/ingest.c bench/gen.c bench/bench.c $CURL -lpthread
cc $CF -o "$TOOLS/kpiget" bench/kpiget.c bench/bench.c $CURL
cc $CF $(pkg-config --cflags libpq) -o "$TOOLS/pgraw" bench/pgraw.c bench/bench.c $(pkg-config --libs libpq) -lpthread
cc $CF -I"$SRC/server" $(pkg-config --cflags libpq jansson) -o "$TOOLS/load" bench/load.c bench/gen.c \
  bench/bench.c "$SRC"/server/{event,facts,util,err,validate}.c $(pkg-config --libs libpq jansson uuid) -lm

# -- cluster and server; both stopped on any exit ------------------------------
PGDIR=$(mktemp -d /tmp/agentkpi-bench.XXXXXX)
chmod 755 "$PGDIR"
SERVER_PID=
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"
    for _ in {1..50}; do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  cp "$PGDIR/postgres.log" "$BENCH_OUT/" 2>/dev/null || true
  scripts/pgcluster.sh stop "$PGDIR" || true
  rm -rf "$PGDIR"
  ((rc == 0)) || echo "bench: FAILED (exit $rc); raw outputs in $BENCH_OUT" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "throwaway PostgreSQL in $PGDIR"
DATABASE_URL=$(scripts/pgcluster.sh start "$PGDIR")
export DATABASE_URL MIGRATIONS_DIR=$SRC/migrations
psq() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$DATABASE_URL" "$@"; }
psv() { psq -At -c "$1"; }
# per-statement times for the ingest profiles; more room for the big loads
psv "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" >/dev/null
psv "ALTER SYSTEM SET max_wal_size = '8GB'" >/dev/null
scripts/pgcluster.sh stop "$PGDIR"
DATABASE_URL=$(scripts/pgcluster.sh start "$PGDIR")
psv "CREATE EXTENSION pg_stat_statements" >/dev/null
"$BIN" migrate >"$BENCH_OUT/migrate.log"

declare -A TENANT_ID
tenant() { # tenant NAME: creates it, sets TENANT_ID[NAME]
  TENANT_ID[$1]=$("$BIN" tenants create "$1" 2>>"$BENCH_OUT/cli.log" | tail -n 1)
}
key() { # key NAME: an ingest+read key of tenant NAME, on stdout only
  "$BIN" keys create --tenant "$1" --scopes ingest,read 2>>"$BENCH_OUT/cli.log" | tail -n 1
}

# a copy of the binary under its own name: a `pkill agentkpi` elsewhere on
# this machine must not stop the benchmark's server
cp "$BIN" "$TOOLS/bench-server"
say "starting $BIN serve (as $TOOLS/bench-server)"
# RATE_LIMIT_RPS=0: the benchmark measures capacity, not the per-key limiter
LISTEN=127.0.0.1:0 RATE_LIMIT_RPS=0 "$TOOLS/bench-server" serve 2>"$BENCH_OUT/server.log" &
SERVER_PID=$!
PORT=
for _ in {1..100}; do
  PORT=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$BENCH_OUT/server.log" | head -n 1)
  [[ -n $PORT ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || die "the server exited (see $BENCH_OUT/server.log)"
  sleep 0.1
done
[[ -n $PORT ]] || die "the server did not report its port"
rss() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$SERVER_PID/status"; }
rec rss_start_kb "$(rss VmRSS)"
TO_S=$(date -u -d "$(date -u +%Y-%m-%d)" +%s)   # today 00:00 UTC; data lies in the 90 days before
TO=$(date -u -d "@$TO_S" +%Y-%m-%dT%H:%M:%SZ)
FROM=$(date -u -d "@$((TO_S - 90 * 86400))" +%Y-%m-%dT%H:%M:%SZ)
GEN="--end-ms $((TO_S * 1000)) --days 90"
GEN_HTTP="$GEN --customers 2000 --seed 11"   # ~10 events per conversation
EVENT_COLS=$("$TOOLS/load" --event-columns)
psv "CREATE TABLE bench_copy (LIKE events INCLUDING ALL)" >/dev/null
pg_profile() { # pg_profile NAME: where the database time went since the last reset
  psq -At -F ' | ' -o "$BENCH_OUT/profile_$1.txt" -c "SELECT calls, round(total_exec_time), round((1000 * total_exec_time / calls)::numeric),
      regexp_replace(left(query, 90), '\s+', ' ', 'g') FROM pg_stat_statements
    WHERE query !~* 'pg_stat_statements|TRUNCATE|CHECKPOINT' ORDER BY total_exec_time DESC LIMIT 12"
}
# facts of the run for bench/report.sh (which also works on a partial run)
{
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "commit=$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$SRC" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo ' (with uncommitted changes)')"
  echo "cpu=$(nproc) × $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  echo "mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "kernel=$(uname -r)"
  echo "pg=$(psv "SHOW server_version")"
  echo "pg_settings=$(psv "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name) FROM pg_settings
    WHERE name IN ('shared_buffers', 'work_mem', 'maintenance_work_mem', 'synchronous_commit', 'jit', 'fsync',
      'max_parallel_workers_per_gather', 'max_wal_size', 'effective_cache_size', 'random_page_cost')")"
  echo "server_cfg=$(sed -n 's/.* config \(http_threads\|db_pool_size\|rate_limit_rps\)=\([^ ]*\).*/\1=\2/p' "$BENCH_OUT/server.log" | paste -sd' ')"
  echo "sizes=$BENCH_SIZES"
  echo "from=$FROM"
  echo "to=$TO"
  for v in BENCH_RUNS BENCH_BATCH_EVENTS BENCH_BATCH_CLIENTS BENCH_SINGLE_EVENTS BENCH_SINGLE_SECONDS \
    BENCH_SINGLE_CLIENTS BENCH_RAW_CONNS BENCH_KPI_REQUESTS BENCH_KPI_BUDGET BENCH_RAW_RUNS BENCH_RAW_BUDGET BENCH_EQUIV_CONVS; do
    echo "$v=${!v}"
  done
} >"$BENCH_OUT/meta.env"
fresh_copy_table() { psv "TRUNCATE bench_copy" >/dev/null; psv "CHECKPOINT" >/dev/null; }
phase "1. raw COPY"

# -- 1. the ceiling: COPY of the rows run 1 of step 2 sends --------------------
tenant ingest-b1
"$TOOLS/load" --tenant "${TENANT_ID[ingest-b1]}" --events "$BENCH_BATCH_EVENTS" --streams "$BENCH_BATCH_CLIENTS" \
  $GEN_HTTP --prefix b1 --events-to "$BENCH_OUT/batch.copy" --convs-to none >/dev/null
for r in $(seq "$BENCH_RUNS"); do
  fresh_copy_table
  line=$("$TOOLS/pgraw" copy "bench_copy ($EVENT_COLS)" "$BENCH_OUT/batch.copy")
  say "COPY run $r: $line"
  rec copy_rows_per_s "$(field rows_per_s "$line")"
done
rec copy_rows "$(field rows "$line")"
phase "2. batch ingest"

# -- 2. batch ingest over HTTP --------------------------------------------------
# ingest_run TENANT LABEL PREFIX ARGS...: one ingest.c run; records its RESULT line
ingest_run() {
  local t=$1 label=$2 prefix=$3 line rc=0
  shift 3
  AGENTKPI_KEY=$(key "$t") "$TOOLS/ingest" --port "$PORT" --label "$label" "$@" >"$BENCH_OUT/ingest_$label.txt" || rc=$?
  line=$(grep '^RESULT ' "$BENCH_OUT/ingest_$label.txt") || die "ingest $label printed no result"
  say "$(head -n 2 "$BENCH_OUT/ingest_$label.txt" | paste -sd' ')"
  ((rc == 0)) || die "ingest $label: accepted + duplicates != sent, or errors (see $BENCH_OUT/ingest_$label.txt)"
  rec ingest "$line"
  # facts may be derived after the reply (a worker); any read of the tenant
  # finishes them: its time counts as part of ingesting with facts
  line=$(AGENTKPI_KEY=$(key "$t") "$TOOLS/kpiget" --port "$PORT" --warmup 0 --requests 1 --min 1 \
    --path "/v1/conversations/${prefix}-0-00000000")
  rec facts_sync "$label $(field p50_ms "$line")"
}
psv "SELECT pg_stat_statements_reset()" >/dev/null
for r in $(seq "$BENCH_RUNS"); do
  [[ -n ${TENANT_ID[ingest-b$r]:-} ]] || tenant "ingest-b$r"
  ingest_run "ingest-b$r" "batch-$r" "b$r" --events "$BENCH_BATCH_EVENTS" --batch 1000 \
    --connections "$BENCH_BATCH_CLIENTS" $GEN_HTTP --prefix "b$r"
done
pg_profile batch
phase "3. single-event ingest"

# -- 3. one event per request, against raw single-row INSERTs -------------------
C1=${BENCH_SINGLE_CLIENTS%% *}
# the raw INSERTs get 5 times as many rows of the same kind, so that they too run out of time, not rows
"$TOOLS/load" --tenant "${TENANT_ID[ingest-b1]}" --events $((5 * BENCH_SINGLE_EVENTS)) --streams "$C1" \
  $GEN_HTTP --prefix "s$C1-1" --events-to "$BENCH_OUT/single.copy" --convs-to none >/dev/null
for r in $(seq "$BENCH_RUNS"); do
  fresh_copy_table
  line=$("$TOOLS/pgraw" insert "bench_copy ($EVENT_COLS)" "$BENCH_OUT/single.copy" "$BENCH_RAW_CONNS" "$BENCH_SINGLE_SECONDS")
  say "raw INSERT run $r: $line"
  rec raw_insert "$line"
done
psv "SELECT pg_stat_statements_reset()" >/dev/null
for c in $BENCH_SINGLE_CLIENTS; do
  for r in $(seq "$BENCH_RUNS"); do
    tenant "ingest-s$c-$r"
    ingest_run "ingest-s$c-$r" "single$c-$r" "s$c-$r" --events "$BENCH_SINGLE_EVENTS" --batch 1 --connections "$c" \
      --seconds "$BENCH_SINGLE_SECONDS" $GEN_HTTP --prefix "s$c-$r"
  done
done
pg_profile single
rec rss_peak_kb "$(rss VmHWM)"
rec rss_after_ingest_kb "$(rss VmRSS)"
phase "E. equivalence"

# ==============================================================================
# derive_tables TENANT_ID: the bulk path's "derive the rest" step. bench/load
# COPYs the events and the conversations rows (the facts, computed by the
# service's facts_compute). Everything else that ingest derives, from those
# two tables, is made here, restricted to the tenant; bulk_load then
# rebuilds the tenant's KPI rollups from the facts with the service's CLI.
# ==============================================================================
derive_tables() {
  psq -v tenant="$1" <<'SQL'
BEGIN;
-- migrations/0004_repeat_gap.sql, for this tenant
UPDATE conversations c SET repeat_gap_ms = (
	SELECT (extract(epoch FROM min(o.started_at) - c.resolved_at) * 1000)::bigint
	FROM conversations o
	WHERE o.tenant_id = c.tenant_id AND o.customer_id = c.customer_id
	  AND o.conversation_id <> c.conversation_id
	  AND o.started_at > c.resolved_at
	  AND (o.topic IS NULL OR c.topic IS NULL OR o.topic = c.topic))
WHERE c.tenant_id = :'tenant' AND c.status = 'resolved' AND c.customer_id IS NOT NULL;
-- migrations/0005_dimension_values.sql, for this tenant
INSERT INTO dimension_values (tenant_id, key, value, first_seen_at)
SELECT e.tenant_id, d.key, d.value, min(e.ts)
FROM events e
CROSS JOIN LATERAL (VALUES
	('agent_version', e.agent_version), ('channel', e.channel),
	('topic', e.topic), ('customer_tier', e.customer_tier),
	('language', e.language), ('product_area', e.product_area),
	('cohort', e.cohort)) AS d(key, value)
WHERE e.tenant_id = :'tenant' AND d.value IS NOT NULL
GROUP BY e.tenant_id, d.key, d.value;
COMMIT;
SQL
}

# bulk_load TENANT LOAD_ARGS...: the bulk path; events and facts in parallel
bulk_load() {
  local t=$1 s0
  shift
  "$TOOLS/load" --tenant "${TENANT_ID[$t]}" "$@" >"$BENCH_OUT/load_$t.txt"
  s0=$SECONDS
  derive_tables "${TENANT_ID[$t]}"
  # the KPI rollups, from the facts just loaded (what the worker does
  # after ingest), so that KPI requests read what they read in service
  "$BIN" rebuild-facts --tenant "$t" --rollups-only >>"$BENCH_OUT/cli.log"
  echo "derive_s=$((SECONDS - s0))" >>"$BENCH_OUT/load_$t.txt"
}
# equiv NAME A B EVENTS: compares two tenants' tables; fails the bench on a difference
equiv() {
  local out
  out=$(psq -v a="${TENANT_ID[$2]}" -v b="${TENANT_ID[$3]}" -v events="$4" -f bench/equiv.sql)
  while read -r table na nb diff; do
    say "equivalence $1: $table: $na rows / $nb rows, $diff differing"
    rec "equiv" "$1 $table $na $nb $diff"
    ((na > 0 && na == nb && diff == 0)) || die "equivalence $1 failed on $table ($na / $nb rows, $diff differing)"
  done <<<"$out"
}
# a) the bulk path against HTTP ingest (run 1 of step 2: out of order, late, re-sent)
tenant eq-http
bulk_load eq-http --events "$BENCH_BATCH_EVENTS" --streams "$BENCH_BATCH_CLIENTS" $GEN_HTTP --prefix b1
equiv "bulk vs HTTP ingest" eq-http ingest-b1 1
# b) the bulk path against rebuild-facts, on the KPI data's generator
KPI_GEN="$GEN --light"
tenant eq-bulk
tenant eq-rebuild
bulk_load eq-bulk --conversations "$BENCH_EQUIV_CONVS" $KPI_GEN --customers $((BENCH_EQUIV_CONVS / 10)) --seed 5 --prefix q
"$TOOLS/load" --tenant "${TENANT_ID[eq-rebuild]}" --conversations "$BENCH_EQUIV_CONVS" $KPI_GEN \
  --customers $((BENCH_EQUIV_CONVS / 10)) --seed 5 --prefix q --convs-to none >/dev/null
"$BIN" rebuild-facts --tenant eq-rebuild >>"$BENCH_OUT/cli.log"
equiv "bulk vs rebuild-facts" eq-bulk eq-rebuild 1
phase "4. KPIs"

# -- 4. KPI latency at each size, against SQL over the raw events ----------------
REQS=("scorecard|/v1/kpis?from=$FROM&to=$TO|NULL::text|NULL::text|0|x|x"
  "group_by=channel|/v1/kpis?from=$FROM&to=$TO&group_by=channel|channel|NULL::text|0|channel|x"
  "group_by=agent_version,stream|/v1/kpis?from=$FROM&to=$TO&group_by=agent_version,stream|agent_version|stream|0|agent_version|stream"
  "timeseries 1d, 90 days|/v1/kpis/timeseries?metric=true_resolution_rate&interval=1d&from=$FROM&to=$TO|date_trunc('day', started_at)::text|NULL::text|1|x|x")
raw_sql() { # raw_sql TENANT K1 K2 INTO [psql args]: the hand-written query once
  local t=$1 k1=$2 k2=$3 into=$4
  shift 4
  PGOPTIONS='-c TimeZone=UTC' psq -v tenant="$t" -v from="$FROM" -v to="$TO" -v window_ms=86400000 -v k1="$k1" -v k2="$k2" -v into="$into" "$@"
}
CHECKED=0
for n in $BENCH_SIZES; do
  t=kpi-$n
  tenant "$t"
  say "bulk load: $n conversations"
  s0=$SECONDS
  bulk_load "$t" --conversations "$n" $KPI_GEN --customers $((n / 10)) --seed 7 --prefix "k$n"
  rec "load_s" "$n $((SECONDS - s0)) $(paste -sd' ' "$BENCH_OUT/load_$t.txt")"
  s0=$SECONDS
  psv "VACUUM ANALYZE events" >/dev/null
  psv "VACUUM ANALYZE conversations" >/dev/null
  psv "VACUUM ANALYZE dimension_values" >/dev/null
  psv "CHECKPOINT" >/dev/null
  rec "vacuum_s" "$n $((SECONDS - s0))"
  rec "tenants" "$n $(psv "SELECT string_agg(t.name || '=' || c.n, ' ' ORDER BY t.name) FROM tenants t
    JOIN (SELECT tenant_id, count(*) n FROM conversations GROUP BY 1) c ON c.tenant_id = t.id")"
  rec "sizes" "$n $(psv "SELECT pg_size_pretty(pg_total_relation_size('events')) || ' ' ||
    pg_size_pretty(pg_total_relation_size('conversations')) || ' ' || (SELECT count(*) FROM events)")"
  KEY=$(key "$t")
  for i in "${!REQS[@]}"; do
    IFS='|' read -r name path k1 k2 series g1 g2 <<<"${REQS[$i]}"
    line=$(AGENTKPI_KEY=$KEY "$TOOLS/kpiget" --port "$PORT" --path "$path" --requests "$BENCH_KPI_REQUESTS" \
      --budget "$BENCH_KPI_BUDGET" --out "$BENCH_OUT/api_${n}_$i.json")
    say "$n $name: API $line"
    rec "kpi" "$n $i $line"
    if ((!CHECKED)); then   # once, at the first size: the raw SQL gives the API's numbers
      chk=$(raw_sql "${TENANT_ID[$t]}" "$k1" "$k2" "CREATE TEMP TABLE raw_result AS" -At -v series="$series" \
        -v g1="$g1" -v g2="$g2" -c '\set api `cat '"$BENCH_OUT/api_${n}_$i.json"'`' -f bench/raw_kpis.sql -f bench/raw_check.sql)
      say "$n $name: raw SQL vs API: $chk"
      rec "check" "$n $i $chk"
      [[ $chk == *" mismatches=0" ]] || die "the raw SQL and the API disagree on $name ($chk)"
    fi
    times= s0=$SECONDS   # BENCH_RAW_RUNS runs, fewer (not under 1) past BENCH_RAW_BUDGET s
    for _ in $(seq "$BENCH_RAW_RUNS"); do
      ((SECONDS - s0 < BENCH_RAW_BUDGET)) || break
      times+=" $(raw_sql "${TENANT_ID[$t]}" "$k1" "$k2" "" -c '\o /dev/null' -c '\timing on' -f bench/raw_kpis.sql |
        sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p')"
    done
    say "$n $name: raw SQL ms: $times"
    rec "raw" "$n $i $times"
  done
  CHECKED=1
done
rec rss_end_kb "$(rss VmRSS)"

phase "done"
echo "total_s=$((SECONDS - T_START))" >>"$BENCH_OUT/meta.env"
bench/report.sh "$BENCH_OUT" "$BENCH_DOC"
say "report written to $BENCH_DOC; raw outputs in $BENCH_OUT"
