#!/usr/bin/env bash
# tests/fault/run.sh: the fault test of issue 6 (`make fault`, and a phase
# of `make test`). On its own throwaway PostgreSQL and its own
# `agentkpi serve`, while tests/fault/client posts batches of events with
# unique ids from several threads (retrying every failed request with the
# same ids until it is answered 200), each round does, a few seconds
# apart:
#
#   1. PostgreSQL stopped (fast) and started again after an outage
#   2. PostgreSQL crashed (stop -m immediate) and started again
#   3. agentkpi killed with SIGKILL and started again on the same port
#   4. agentkpi stopped with SIGTERM (must exit 0) and started again
#
# During 1 and 2 the server is not restarted: requests must get 503 with
# Retry-After, and the pool must reconnect by itself (time until /readyz
# answers 200 again is the reconnect time). At the end the client's view is
# reconciled with the database: every acknowledged id is stored, the
# stored ids are exactly the ids sent, the conversations (after a read) are
# exactly the conversation ids sent and count every stored event once.
# Prints one summary line; exits non-zero on any mismatch.
#
# Knobs (environment):        default
#   FAULT_ROUNDS              1     fault rounds (each 4 faults)
#   FAULT_GAP                 1.5   seconds of load between faults
#   FAULT_OUTAGE              1     seconds PostgreSQL / agentkpi stay down
#   FAULT_THREADS             4     client threads
#   FAULT_BATCH               20    events per request
#   SANITIZE                  0     1: the ASan+UBSan build (build-san/)
#   FAULT_KEEP                      a directory to keep the logs in
set -euo pipefail
cd "$(dirname "$0")/../.."

FAULT_ROUNDS=${FAULT_ROUNDS:-1}
FAULT_GAP=${FAULT_GAP:-1.5}
FAULT_OUTAGE=${FAULT_OUTAGE:-1}
FAULT_THREADS=${FAULT_THREADS:-4}
FAULT_BATCH=${FAULT_BATCH:-20}
for v in FAULT_ROUNDS FAULT_THREADS FAULT_BATCH; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "fault: $v must be a positive whole number" >&2; exit 2; }
done
for v in FAULT_GAP FAULT_OUTAGE; do
  [[ ${!v} =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "fault: $v must be a number of seconds" >&2; exit 2; }
done

say() { echo "fault: $(date +%H:%M:%S) $*" >&2; }
fail() { echo "fault: FAILED: $*" >&2; exit 1; }
now_ms() { date +%s%3N; }

if [[ ${SANITIZE:-0} == 1 ]]; then
  BUILD=build-san; BIN=build-san/agentkpi
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  make --no-print-directory -s SANITIZE=1 "$BIN" "$BUILD/tests/fault/client" >&2
else
  BUILD=build; BIN=agentkpi
  make --no-print-directory -s "$BIN" "$BUILD/tests/fault/client" >&2
fi
BIN=$PWD/$BIN
CLIENT=$PWD/$BUILD/tests/fault/client
PGBIN=${PGBIN:-$(printf "%s\n" /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}
unset DATABASE_URL AGENTKPI_KEY   # never someone else's database

TMP=$(mktemp -d /tmp/agentkpi-fault.XXXXXX)
chmod 755 "$TMP"   # the postgres user must be able to enter it
SERVER_PID=
CLIENT_PID=
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $CLIENT_PID ]] && kill -0 "$CLIENT_PID" 2>/dev/null; then
    kill "$CLIENT_PID" 2>/dev/null || true
    wait "$CLIENT_PID" 2>/dev/null || true
  fi
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  scripts/pgcluster.sh stop "$TMP/pg" 2>/dev/null || true
  if [[ -n ${FAULT_KEEP:-} ]]; then
    mkdir -p "$FAULT_KEEP" && cp "$TMP"/*.log "$TMP"/*.out "$FAULT_KEEP"/ 2>/dev/null || true
    cp "$TMP/pg/postgres.log" "$FAULT_KEEP/" 2>/dev/null || true
  elif ((rc != 0)); then
    echo "fault: last lines of the server log:" >&2
    tail -n 30 "$TMP/server.log" >&2 2>/dev/null || true
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# -- cluster, schema, tenant, key -------------------------------------------
DATABASE_URL=$(scripts/pgcluster.sh start "$TMP/pg" 2>"$TMP/pgcluster.log")
export DATABASE_URL
psq() { "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -c "$1"; }
"$BIN" migrate >/dev/null 2>>"$TMP/cli.log"
TENANT=fault-$RANDOM$RANDOM
TENANT_ID=$("$BIN" tenants create "$TENANT" 2>/dev/null | tail -n 1)
KEY=$("$BIN" keys create --tenant "$TENANT" --scopes ingest,read 2>/dev/null | tail -n 1)
[[ $TENANT_ID =~ ^[0-9a-f-]{36}$ && -n $KEY ]] || fail "cannot create the tenant and key"

# -- the server ---------------------------------------------------------------
PORT=0
# Starts agentkpi serve on PORT (0 the first time: any free port, then
# kept) and waits until it answers /healthz.
start_server() {
  local i
  LISTEN=127.0.0.1:$PORT LOG_LEVEL=info DB_POOL_SIZE=4 HTTP_THREADS=4 \
    DB_ACQUIRE_TIMEOUT_MS=2000 SHUTDOWN_TIMEOUT_MS=5000 RATE_LIMIT_RPS=0 \
    "$BIN" serve 2>>"$TMP/server.log" &
  SERVER_PID=$!
  for i in $(seq 200); do
    if [[ $PORT == 0 ]]; then
      PORT=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$TMP/server.log" | tail -n 1)
      PORT=${PORT:-0}
    fi
    if [[ $PORT != 0 ]] && curl -fs -o /dev/null "http://127.0.0.1:$PORT/healthz"; then
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || fail "agentkpi serve exited at start"
    sleep 0.05
  done
  fail "agentkpi serve did not answer within 10 s"
}
# Milliseconds until /readyz (database reachable through the pool) is 200.
ready_ms() {
  local t0 i
  t0=$(now_ms)
  for i in $(seq 600); do
    if curl -fs -o /dev/null "http://127.0.0.1:$PORT/readyz"; then
      echo $(($(now_ms) - t0)); return 0
    fi
    sleep 0.05
  done
  fail "the server did not reconnect to PostgreSQL within 30 s"
}
start_server
say "cluster, tenant and server up on port $PORT (server pid $SERVER_PID)"

# -- load and faults ----------------------------------------------------------
AGENTKPI_KEY=$KEY "$CLIENT" --port "$PORT" --threads "$FAULT_THREADS" \
  --batch "$FAULT_BATCH" --seconds 86400 --stop-file "$TMP/stop" \
  --prefix "f$RANDOM" --deadline 60 --acked "$TMP/acked" --sent "$TMP/sent" \
  --convs "$TMP/convs" >"$TMP/client.out" 2>&1 &
CLIENT_PID=$!

TRIALS=0
RECONNECT_MAX=0
RECONNECTS=
SIGTERM_MS=
pg_outage() { # pg_outage fast|immediate
  local pid=$SERVER_PID ms t0 down
  t0=$(now_ms)
  PGCLUSTER_STOP_MODE=$1 scripts/pgcluster.sh stop "$TMP/pg" 2>>"$TMP/pgcluster.log"
  sleep "$FAULT_OUTAGE"
  scripts/pgcluster.sh start "$TMP/pg" >/dev/null 2>>"$TMP/pgcluster.log"
  down=$(($(now_ms) - t0))
  ms=$(ready_ms)
  [[ $SERVER_PID == "$pid" ]] && kill -0 "$pid" 2>/dev/null ||
    fail "agentkpi did not survive the PostgreSQL $1 stop"
  RECONNECTS+=" $ms"
  ((ms > RECONNECT_MAX)) && RECONNECT_MAX=$ms
  TRIALS=$((TRIALS + 1))
  say "PostgreSQL $1 stop: unavailable ${down} ms (stop, ${FAULT_OUTAGE} s, start); pool reconnected ${ms} ms after"
}
for round in $(seq "$FAULT_ROUNDS"); do
  sleep "$FAULT_GAP"
  pg_outage fast
  sleep "$FAULT_GAP"
  pg_outage immediate

  sleep "$FAULT_GAP"
  kill -KILL "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  sleep "$FAULT_OUTAGE"
  start_server
  TRIALS=$((TRIALS + 1))
  say "agentkpi killed (SIGKILL), restarted on port $PORT (pid $SERVER_PID)"

  sleep "$FAULT_GAP"
  t0=$(now_ms)
  kill -TERM "$SERVER_PID"
  rc=0; wait "$SERVER_PID" || rc=$?
  ms=$(($(now_ms) - t0))
  ((rc == 0)) || fail "agentkpi exited $rc after SIGTERM (expected 0)"
  ((ms < 8000)) || fail "SIGTERM took $ms ms (bound 5000 ms)"
  SIGTERM_MS+=" $ms"
  sleep "$FAULT_OUTAGE"
  start_server
  TRIALS=$((TRIALS + 1))
  say "agentkpi stopped (SIGTERM, exit 0 after $ms ms), restarted (pid $SERVER_PID)"
  say "round $round of $FAULT_ROUNDS done"
done
sleep "$FAULT_GAP"
touch "$TMP/stop"
rc=0; wait "$CLIENT_PID" || rc=$?
CLIENT_PID=
cat "$TMP/client.out" >&2
((rc == 0)) || fail "the client gave up on requests or got replies that did not add up (exit $rc)"
result=$(grep '^RESULT ' "$TMP/client.out")
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $result"; }

# -- reconcile ----------------------------------------------------------------
export LC_ALL=C
sort -u "$TMP/acked" >"$TMP/acked.s"
sort -u "$TMP/sent" >"$TMP/sent.s"
sort -u "$TMP/convs" >"$TMP/convs.s"
# a read of the tenant finishes the derivation of what is still pending
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" \
  "http://127.0.0.1:$PORT/v1/conversations?limit=1")
[[ $code == 200 ]] || fail "GET /v1/conversations answered $code"
psq "SELECT id FROM events WHERE tenant_id = '$TENANT_ID'" | sort >"$TMP/stored.s"
psq "SELECT conversation_id FROM conversations WHERE tenant_id = '$TENANT_ID'" | sort >"$TMP/stored_convs.s"
n_sent=$(wc -l <"$TMP/sent.s")
n_acked=$(wc -l <"$TMP/acked.s")
n_stored=$(wc -l <"$TMP/stored.s")
n_convs=$(wc -l <"$TMP/convs.s")
n_stored_convs=$(wc -l <"$TMP/stored_convs.s")
n_rows=$(psq "SELECT count(*) FROM events WHERE tenant_id = '$TENANT_ID'")
n_fact_events=$(psq "SELECT coalesce(sum(event_count), 0) FROM conversations WHERE tenant_id = '$TENANT_ID'")
lost=$(comm -23 "$TMP/acked.s" "$TMP/stored.s" | wc -l)
unsent=$(comm -13 "$TMP/sent.s" "$TMP/stored.s" | wc -l)

problems=()
((n_acked > 0)) || problems+=("no event was acknowledged")
((lost == 0)) || problems+=("$lost acknowledged events are not stored, e.g. $(comm -23 "$TMP/acked.s" "$TMP/stored.s" | head -n 1)")
((unsent == 0)) || problems+=("$unsent stored events were never sent")
((n_stored == n_sent)) || problems+=("stored $n_stored events, sent $n_sent distinct ids")
((n_acked == n_sent)) || problems+=("acknowledged $n_acked of $n_sent distinct ids")
((n_rows == n_stored)) || problems+=("$n_rows event rows for $n_stored distinct ids")
cmp -s "$TMP/convs.s" "$TMP/stored_convs.s" ||
  problems+=("conversations hold $n_stored_convs ids, $n_convs were sent")
((n_fact_events == n_stored)) || problems+=("conversation facts count $n_fact_events events, $n_stored are stored")
(($(field accepted) <= n_stored)) || problems+=("the replies accepted $(field accepted) events, more than the $n_stored stored")
(($(field s503) > 0)) || problems+=("no 503 was seen while PostgreSQL was down")
(($(field s503) == $(field s503_retry_after))) ||
  problems+=("$(($(field s503) - $(field s503_retry_after))) 503 replies lacked Retry-After")
(($(field other_status) == 0)) || problems+=("$(field other_status) replies other than 200 and 503")
if grep -qE 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$TMP/server.log"; then
  problems+=("sanitizer report in the server log")
fi

# the last stop is a SIGTERM too: exit 0
kill -TERM "$SERVER_PID"
rc=0; wait "$SERVER_PID" || rc=$?
SERVER_PID=
((rc == 0)) || problems+=("agentkpi exited $rc after the final SIGTERM")

echo "fault: trials=$TRIALS rounds=$FAULT_ROUNDS events_sent=$n_sent events_acknowledged=$n_acked" \
  "events_stored=$n_stored conversations=$n_stored_convs/$n_convs requests=$(field requests)" \
  "503s=$(field s503) (Retry-After $(field s503_retry_after), slowest $(field s503_max_ms) ms)" \
  "no_answer=$(field transport) retries=$(field retries) duplicates=$(field duplicates)" \
  "reconnect_ms=${RECONNECTS# } sigterm_exit_ms=${SIGTERM_MS# } longest_retry_span_ms=$(field max_retry_span_ms)"
if ((${#problems[@]})); then
  printf 'fault: MISMATCH: %s\n' "${problems[@]}" >&2
  exit 1
fi
echo "fault: OK (every acknowledged event stored once; none lost, none doubled)"
