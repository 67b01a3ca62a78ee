#!/usr/bin/env bash
# cluster.sh: a throwaway PostgreSQL server for the tests.
#   cluster.sh start [OWNER_PID]  makes a cluster in a new temporary
#       directory (initdb as an unprivileged user: PostgreSQL refuses root),
#       starts it listening on a Unix socket only (no TCP) and prints the
#       directory; its socket is DIR/sock, its superuser "greenml" (trust).
#       With OWNER_PID, a watcher stops the server and removes the
#       directory when that process ends, however it ends.
#   cluster.sh stop DIR  stops the server and removes DIR.
# Needs Debian's postgresql (server binaries under /usr/lib/postgresql/N/bin):
# scripts/deps.sh installs it.
set -euo pipefail

bindir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  done
  if command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir
    return 0
  fi
  return 1
}

# Runs a command as the cluster's owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u nobody -- "$@"
  else
    "$@"
  fi
}

stop() {
  local dir=$1 bin
  [ -d "$dir" ] || return 0
  if bin=$(bindir) && [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
start)
  if ! bin=$(bindir); then
    echo "cluster.sh: the PostgreSQL server is not installed (no initdb under" \
         "/usr/lib/postgresql/*/bin): run scripts/deps.sh, or apt-get install" \
         "postgresql libpq-dev" >&2
    exit 1
  fi
  dir=$(mktemp -d "${TMPDIR:-/tmp}/gmpg.XXXXXX")
  trap 'stop "$dir"' ERR
  mkdir "$dir/sock"
  if [ "$(id -u)" -eq 0 ]; then
    chown -R nobody "$dir"
  fi
  chmod 755 "$dir"
  as_owner "$bin/initdb" -D "$dir/data" -U greenml --auth=trust -E UTF8 \
    --locale=C -N >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-k $dir/sock -c listen_addresses='' -c max_connections=60" start \
    >/dev/null 2>&1 || { cat "$dir/server.log" >&2; exit 1; }
  trap - ERR
  if [ -n "${2:-}" ]; then
    owner=$2 self=$0
    setsid bash -c 'while kill -0 "$1" 2>/dev/null && [ -d "$2" ]; do sleep 1; done
                    bash "$3" stop "$2"' watcher "$owner" "$dir" "$self" \
      </dev/null >/dev/null 2>&1 &
  fi
  echo "$dir"
  ;;
stop)
  stop "${2:?cluster.sh stop DIR}"
  ;;
*)
  echo "usage: cluster.sh start [OWNER_PID] | stop DIR" >&2
  exit 2
  ;;
esac
