#!/usr/bin/env bash
# A PostgreSQL 15 server on 127.0.0.1 for the PostgreSQL state store's tests:
# a fresh cluster (initdb) in a folder of its own, never the system's service.
#
#   postgresql.sh start DIR   initdb a fresh cluster (anew each time), picks a free port,
#                             starts postgres and returns once it accepts
#                             connections. Writes:
#                               DIR/url          postgresql://postgres@127.0.0.1:PORT/postgres
#                               DIR/postgres.pid the postmaster's PID
#                             When PostgreSQL is not installed it writes why into
#                             DIR/unavailable instead (and exits 0), and the tests
#                             fail with that message.
#   postgresql.sh stop DIR    stops the postmaster by its PID (fast shutdown).
#
# PostgreSQL refuses to run as root: as root the cluster belongs to the postgres
# user (the package's) and runs as it (runuser); otherwise as the caller. The
# cluster (data, socket, server log) lives in DIR, or as root in a folder of its
# own under /tmp named in DIR/cluster: DIR may sit in a folder only root can
# enter (a clone in `mktemp -d`), where the postgres user could not reach it.
set -euo pipefail

die() { echo "postgresql.sh: $*" >&2; exit 1; }

# running PID, stop_pids PID...
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/processes.sh"

bin=/usr/lib/postgresql/15/bin

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop_server() {
  local dir="$1" pid
  [ -f "$dir/postgres.pid" ] || { remove_cluster "$dir"; return 0; }
  pid="$(cat "$dir/postgres.pid")"
  rm -f "$dir/postgres.pid" "$dir/url"
  [ -n "$pid" ] && running "$pid" || { remove_cluster "$dir"; return 0; }
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "postgres" || return 0
  # SIGINT is PostgreSQL's fast shutdown: sessions are ended, the cluster is left consistent.
  kill -INT "$pid" 2>/dev/null || true
  for _ in $(seq 200); do running "$pid" || break; sleep 0.05; done
  running "$pid" && stop_pids "$pid"
  remove_cluster "$dir"
}

# The folder the cluster lives in: DIR, or as root a new one the postgres user owns.
new_cluster_home() {
  local dir="$1" home
  if [ "$(id -u)" != 0 ]; then echo "$dir"; return; fi
  home="$(mktemp -d /tmp/amlc-postgresql.XXXXXX)"
  chown postgres:postgres "$home"
  echo "$home" >"$dir/cluster"
  echo "$home"
}

remove_cluster() {
  local dir="$1" home
  [ -f "$dir/cluster" ] || return 0
  home="$(cat "$dir/cluster")"
  case "$home" in /tmp/amlc-postgresql.*) rm -rf "$home" ;; esac
  rm -f "$dir/cluster"
}

start_server() {
  local dir="$1" port home
  rm -f "$dir/unavailable" "$dir/url"
  if [ ! -x "$bin/initdb" ] || [ ! -x "$bin/postgres" ]; then
    echo "PostgreSQL 15 is not installed ($bin/initdb missing): install postgresql-15 (scripts/install-deps.sh)" \
      >"$dir/unavailable"
    return 0
  fi
  rm -rf "$dir/data"
  home="$(new_cluster_home "$dir")"
  as_owner mkdir -p "$home/data"
  as_owner "$bin/initdb" -D "$home/data" -U postgres -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
    die "initdb failed; its log: $(tail -5 "$dir/initdb.log")"
  port="$(free_port)"
  # fsync off: a test cluster need not survive a power cut, and the tests run faster.
  as_owner "$bin/pg_ctl" -D "$home/data" -l "$home/server.log" -w -t 60 \
    -o "-p $port -k $home -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start \
    >"$dir/pg_ctl.log" 2>&1 || die "postgres did not start; its log: $(tail -5 "$home/server.log" 2>/dev/null)"
  head -1 "$home/data/postmaster.pid" >"$dir/postgres.pid"
  # pg_ctl -w returned once the server accepts connections; check it on the loopback port too.
  for _ in $(seq 400); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "postgresql://postgres@127.0.0.1:$port/postgres" >"$dir/url"
      return 0
    fi
    sleep 0.05
  done
  die "postgres does not accept connections on 127.0.0.1:$port after 20 s"
}

[ $# -eq 2 ] || die "usage: postgresql.sh start|stop DIR"
dir="$(mkdir -p "$2" && cd "$2" && pwd)"
case "$1" in
  start) stop_server "$dir"; start_server "$dir" ;;
  stop) stop_server "$dir" ;;
  *) die "unknown command '$1'" ;;
esac
