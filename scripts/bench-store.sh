#!/usr/bin/env bash
# Samples a second that gm_store_add_sample + gm_store_commit write into
# SQLite (a file in a temporary directory) and PostgreSQL (a temporary
# server on a Unix socket, tests/pg/cluster.sh, default settings), with
# scripts/bench-store.c built against a build tree's libgreenml.
# usage: bench-store.sh [BUILD_DIR (build/release)] [SAMPLES] [COMPONENTS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build/release}" && pwd)
samples=${2:-100000}
components=${3:-4}
work=$(mktemp -d)
pg=
cleanup() {
  [ -n "$pg" ] && bash "$root/tests/pg/cluster.sh" stop "$pg"
  rm -rf "$work"
}
trap cleanup EXIT
cc -O2 -std=c11 -I"$root/include" "$root/scripts/bench-store.c" \
  -L"$build" -lgreenml -Wl,-rpath,"$build" -o "$work/bench-store"
"$work/bench-store" "$work/bench.db" "$samples" "$components"
pg=$(bash "$root/tests/pg/cluster.sh" start $$)
"$work/bench-store" "postgresql:///bench?host=$pg/sock&user=greenml" \
  "$samples" "$components"
