#!/usr/bin/env bash
# Manage a private PostgreSQL cluster living entirely inside one directory.
#
#   scripts/pgcluster.sh start DIR   create (first time) and start; prints the URL
#   scripts/pgcluster.sh stop  DIR   stop it (no error if not running / missing)
#                                    PGCLUSTER_STOP_MODE=immediate: crash-stop
#                                    (the fault test; default fast)
#   scripts/pgcluster.sh url   DIR   print the URL of an existing cluster
#
# Layout: DIR/data (cluster), DIR/run (unix socket), DIR/port, DIR/postgres.log.
# Only a unix socket is opened (no TCP). The URL is the only thing written
# to stdout; all messages go to stderr.
# PostgreSQL refuses to run as root, so as root everything runs as "postgres".
set -euo pipefail

log() { echo "pgcluster: $*" >&2; }
die() { log "error: $*"; exit 1; }

[[ $# -eq 2 ]] || die "usage: $0 start|stop|url DIR"
CMD=$1
DIR=$(realpath -m -- "$2")   # absolute path; need not exist yet
# The path ends up in postgresql.conf and in a URL: keep it to safe characters.
[[ $DIR =~ ^[A-Za-z0-9/._~+-]+$ ]] || die "unsupported characters in path: $DIR"

# Newest installed server binaries (initdb, pg_ctl, psql are not on PATH).
PGBIN=${PGBIN:-$(printf "%s\n" /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}
[[ -x ${PGBIN:-}/pg_ctl ]] || die "PostgreSQL server not found (run scripts/deps.sh)"

# Run a server command as the cluster owner: "postgres" if we are root.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    (cd / && runuser -u postgres -- "$@")   # cd /: root's cwd may be unreadable
  else
    "$@"
  fi
}

url() { echo "postgresql://postgres@/agentkpi?host=$DIR/run&port=$(cat "$DIR/port")"; }

is_running() { [[ -f $DIR/data/PG_VERSION ]] && as_owner "$PGBIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; }

# Is a port taken? (socket file in our run dir, or a TCP listener)
port_in_use() {
  local p=$1
  [[ -e $DIR/run/.s.PGSQL.$p ]] && return 0
  if command -v ss >/dev/null; then
    [[ -n $(ss -Hltn "sport = :$p" 2>/dev/null) ]]
  else
    grep -qs ":$(printf '%04X' "$p") " /proc/net/tcp /proc/net/tcp6
  fi
}

pick_port() {
  local p
  while :; do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40001 ))
    port_in_use "$p" || { echo "$p"; return; }
  done
}

create_cluster() {
  local locale=C
  if grep -qiE '^c\.utf-?8$' <<<"$(locale -a 2>/dev/null)"; then locale=C.UTF-8; fi

  log "creating cluster in $DIR/data (locale $locale)"
  as_owner "$PGBIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 \
    --locale="$locale" >/dev/null   # keep its chatter off the terminal; errors still show

  local port; port=$(pick_port)
  echo "$port" >"$DIR/port"
  cat >>"$DIR/data/postgresql.conf" <<CONF

# --- added by scripts/pgcluster.sh ---
listen_addresses = ''
unix_socket_directories = '$DIR/run'
port = $port
jit = off
shared_buffers = 256MB
max_connections = 200
log_min_messages = warning
CONF
}

start() {
  # Directories: world-traversable so the postgres user (and clients) get in.
  (umask 022 && mkdir -p "$DIR/run")
  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || die "no 'postgres' user (run scripts/deps.sh)"
    chown -R postgres: "$DIR"
    runuser -u postgres -- test -w "$DIR" ||
      die "user postgres cannot reach $DIR; make its parent directories world-traversable (chmod o+x)"
  fi

  if [[ ! -f $DIR/data/PG_VERSION ]]; then
    [[ -e $DIR/data ]] && die "$DIR/data exists but is not a cluster; remove it"
    create_cluster
    if [[ $(id -u) -eq 0 ]]; then chown -R postgres: "$DIR"; fi   # files we just wrote
  fi

  if is_running; then
    log "already running"
  else
    log "starting (log: $DIR/postgres.log)"
    as_owner "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/postgres.log" -s -w -t 60 start >&2
  fi

  # Create the application database if missing.
  local psql=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$DIR/run" -p "$(cat "$DIR/port")" -U postgres -d postgres)
  if [[ -z $("${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = 'agentkpi'") ]]; then
    log "creating database agentkpi"
    "${psql[@]}" -c "CREATE DATABASE agentkpi" >&2
  fi

  url
}

stop() {
  if is_running; then
    local mode=${PGCLUSTER_STOP_MODE:-fast}
    [[ $mode =~ ^(smart|fast|immediate)$ ]] || die "PGCLUSTER_STOP_MODE must be smart, fast or immediate"
    log "stopping ($mode)"
    as_owner "$PGBIN/pg_ctl" -D "$DIR/data" -m "$mode" -s -w -t 60 stop >&2
  fi
}

case $CMD in
  start) start ;;
  stop) stop ;;
  url) [[ -f $DIR/port && -f $DIR/data/PG_VERSION ]] || die "no cluster in $DIR"; url ;;
  *) die "unknown command '$CMD' (use start, stop or url)" ;;
esac
