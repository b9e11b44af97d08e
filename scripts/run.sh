#!/usr/bin/env bash
# Run agentkpi locally with a demo tenant and key (called by `make run`,
# after ./agentkpi is built).
#
# Without DATABASE_URL a private PostgreSQL cluster is started in var/pg and
# stopped again when the server exits (Ctrl-C). With DATABASE_URL set, that
# database is used as-is and no cluster is started or stopped.
# The demo key is kept in var/demo.key and reused across runs.
set -euo pipefail
cd "$(dirname "$0")/.."   # repo root

PG_DIR=$PWD/var/pg
STARTED_PG=0
SERVER_PID=

# On any exit (Ctrl-C, kill, error): stop the server, then our cluster.
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in {1..50}; do   # give it up to 10s to shut down cleanly
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ $STARTED_PG -eq 1 ]]; then
    scripts/pgcluster.sh stop "$PG_DIR" || true
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT    # "exit" runs the EXIT trap above
trap 'exit 143' TERM

# 1. Database
if [[ -z ${DATABASE_URL:-} ]]; then
  STARTED_PG=1   # set first, so a half-finished start is still cleaned up
  DATABASE_URL=$(scripts/pgcluster.sh start "$PG_DIR")
fi
export DATABASE_URL

# 2-3. Schema and demo tenant
./agentkpi migrate
./agentkpi tenants create demo --if-not-exists >/dev/null

# 4. Demo API key: reuse var/demo.key if the server still accepts it.
KEY_FILE=var/demo.key
KEY=
if [[ -s $KEY_FILE ]] && ./agentkpi keys verify "$(cat "$KEY_FILE")" >/dev/null 2>&1; then
  KEY=$(cat "$KEY_FILE")
else
  KEY=$(./agentkpi keys create --tenant demo --scopes ingest,read,admin | tail -n 1)
  [[ -n $KEY ]] || { echo "run: 'keys create' printed no key" >&2; exit 1; }
  mkdir -p var
  (umask 077 && printf '%s\n' "$KEY" >"$KEY_FILE")
fi
chmod 600 "$KEY_FILE"

# 5. Banner. The server reads LISTEN; export the default so both agree.
export LISTEN=${LISTEN:-127.0.0.1:8080}
host=${LISTEN%:*}
case $host in "" | 0.0.0.0 | "[::]") host=127.0.0.1 ;; esac   # wildcard -> loopback
BASE=http://$host:${LISTEN##*:}

# 6. Serve. Started in the background and waited for, so Ctrl-C / TERM
#    reach our trap at once (the trap then stops the server and cluster).
./agentkpi serve &
SERVER_PID=$!

# The banner comes once the server answers, so it is the last thing shown.
for _ in {1..50}; do
  curl -fs "$BASE/healthz" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.1
done
cat <<BANNER

  agentkpi is listening on $BASE   (Ctrl-C to stop)
  demo tenant key: $KEY

  # send one event:
  curl -s -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d '{"id":"demo-1","type":"conversation.started","conversation_id":"c-1","ts":"2026-11-21T10:00:00Z"}' $BASE/v1/events
  # read it back:
  curl -s -H "Authorization: Bearer $KEY" $BASE/v1/conversations/c-1

BANNER

wait "$SERVER_PID"
