# shellcheck shell=bash
# Services the test suite needs, for CI (.ci/run sources this file) and for developers alike:
# a throwaway PostgreSQL server for the tests that use the `postgres_url` / `fresh_postgres_url`
# fixtures (tests/conftest.py). Developers:
#
#     source .ci/services.sh
#     start_postgres          # initdb into a fresh temp dir, start on 127.0.0.1, create benzokit_test
#     .venv/bin/python -m pytest tests/store -q
#     stop_postgres           # stop the server, delete its temp dir (else done when the shell
#                             # exits, unless the shell already had an EXIT trap: see below)
#
# start_postgres exports BENZOKIT_TEST_POSTGRES_URL=postgresql+psycopg://benzokit@127.0.0.1:PORT/
# benzokit_test. The role `benzokit` is a superuser, so tests may create databases of their own.
# Needs Debian's `postgresql` package (binaries under /usr/lib/postgresql/*/bin) or PG_BIN=dir.
# Data, socket and log live in one temp dir, deleted by stop_postgres; nothing else is touched.
# Works as root (the server then runs as the `postgres` user: initdb refuses root) and as an
# ordinary user; calling start_postgres again in the same shell is a no-op.
#
# Knobs: PG_PORT (first port tried, default 55432; taken ports are skipped), PG_BIN.
# (Browser tests need no service: they launch Debian's /usr/bin/chromium, see tests/e2e/conftest.py.)

# The first port tried; a busy port (another checkout's server, a stale run) is skipped.
: "${PG_PORT:=55432}"

# Run a PostgreSQL binary as the user owning the server: initdb and postgres refuse to run as root.
_pg_as_owner() {
  if [ "$(id -u)" = "0" ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# The bin directory of the newest PostgreSQL installed by Debian's packages (or $PG_BIN).
_pg_bin_dir() {
  if [ -n "${PG_BIN:-}" ]; then
    echo "$PG_BIN"
    return
  fi
  local dir
  dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
    echo "start_postgres: no PostgreSQL under /usr/lib/postgresql/*/bin (apt-get install postgresql, or set PG_BIN)" >&2
    return 1
  fi
  echo "$dir"
}

# True when something already listens on 127.0.0.1:$1 (bash's /dev/tcp: no extra tool needed).
_port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Temp dirs of earlier runs that were killed before stop_postgres (a second run on the same
# machine): older than an hour and with no live server. Only our own `benzokit-pg.*` dirs.
_pg_remove_stale() {
  local old pid
  for old in $(find "$1" -maxdepth 1 -name 'benzokit-pg.*' -type d -mmin +60 2>/dev/null); do
    pid=$(head -n 1 "$old/data/postmaster.pid" 2>/dev/null || true)
    if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
      rm -rf "$old"
    fi
  done
}

start_postgres() {
  if [ -n "${BENZOKIT_PG_DIR:-}" ] && [ -f "$BENZOKIT_PG_DIR/data/postmaster.pid" ]; then
    echo "start_postgres: already running ($BENZOKIT_TEST_POSTGRES_URL)" >&2
    return 0
  fi
  local bin tmp dir port tries
  bin=$(_pg_bin_dir) || return 1
  # One temp dir holds the data directory, the unix socket and the log; deleting it removes all.
  # As root it is made in /tmp (the `postgres` user must reach it) and given to `postgres`.
  tmp=${TMPDIR:-/tmp}
  if [ "$(id -u)" = "0" ]; then
    tmp=/tmp
  fi
  _pg_remove_stale "$tmp"
  dir=$(mktemp -d "$tmp/benzokit-pg.XXXXXX") || return 1
  if [ "$(id -u)" = "0" ]; then
    chown postgres: "$dir"
  fi
  # Trust authentication: a local, throwaway server for tests only, listening on loopback only.
  # The bootstrap superuser is named `benzokit` (a superuser may CREATE DATABASE for the tests).
  if ! _pg_as_owner "$bin/initdb" -D "$dir/data" -U benzokit -A trust -E UTF8 --locale=C.UTF-8 \
    --no-sync >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    rm -rf "$dir"
    return 1
  fi
  # Pick a free port: try PG_PORT, then the next ones. pg_ctl -w waits until the server accepts
  # connections; if another process grabbed the port in between, the start fails and we go on.
  # fsync and friends are off: durability is worthless for a server deleted after the tests.
  # PG_DURABLE=1 keeps PostgreSQL's defaults (fsync on), as a clinic runs it: for the load benchmark.
  local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${PG_DURABLE:-0}" = 1 ] && durability=""
  port=$PG_PORT
  for tries in $(seq 1 50); do
    if ! _port_in_use "$port" &&
      _pg_as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir $durability" \
        start >/dev/null; then
      break
    fi
    port=$((port + 1))
    if [ "$tries" = 50 ]; then
      echo "start_postgres: could not start PostgreSQL (ports $PG_PORT-$port tried); log:" >&2
      cat "$dir/server.log" >&2 2>/dev/null
      rm -rf "$dir"
      return 1
    fi
  done
  export BENZOKIT_PG_DIR="$dir" BENZOKIT_PG_BIN="$bin" BENZOKIT_PG_PORT="$port"
  # The database the tests use by default (tests that need a clean one make their own).
  if ! "$bin/createdb" -h 127.0.0.1 -p "$port" -U benzokit benzokit_test; then
    stop_postgres
    return 1
  fi
  export BENZOKIT_TEST_POSTGRES_URL="postgresql+psycopg://benzokit@127.0.0.1:$port/benzokit_test"
  # Stop the server when the shell exits, even if the caller forgets stop_postgres. An EXIT trap
  # the caller already has is never replaced nor chained (in a subshell, `trap -p` shows the
  # parent's trap, which is not ours to run): then stop_postgres is the caller's job.
  local exit_trap
  exit_trap=$(trap -p EXIT)
  if [ -z "$exit_trap" ]; then
    trap stop_postgres EXIT
  elif [[ "$exit_trap" != *stop_postgres* ]]; then
    echo "start_postgres: an EXIT trap is already set; call stop_postgres when done" >&2
  fi
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data in $dir)" >&2
  echo "export BENZOKIT_TEST_POSTGRES_URL=$BENZOKIT_TEST_POSTGRES_URL" >&2
}

stop_postgres() {
  local dir=${BENZOKIT_PG_DIR:-}
  [ -n "$dir" ] || return 0
  if [ -f "$dir/data/postmaster.pid" ]; then
    # Fast shutdown: disconnect clients (a test left hanging must not block CI's exit).
    _pg_as_owner "$BENZOKIT_PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 ||
      echo "stop_postgres: pg_ctl stop failed (data in $dir)" >&2
  fi
  rm -rf "$dir"
  unset BENZOKIT_PG_DIR BENZOKIT_PG_BIN BENZOKIT_PG_PORT BENZOKIT_TEST_POSTGRES_URL
}
