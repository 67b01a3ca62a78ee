# lib.sh: what the CLI scenario scripts share. Source it:
#   . "$(dirname "$0")/lib.sh"
# ok / not_ok / check count TAP-style results and tap_done prints the tally
# and sets the exit status; workdir moves into a private temporary directory
# (its own HOME and XDG directories, removed on exit, background jobs
# killed); py_check runs a Python check.

passed=0
failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1${2:+ ($2)}"; failed=$((failed + 1)); }
# check NAME SHELL-CONDITION [DETAIL]
check() { if eval "$2"; then ok "$1"; else not_ok "$1" "${3:-}"; fi; }

# tap_done [LABEL]: the tally; succeeds when nothing failed.
tap_done() {
  echo "# ${1:+$1: }$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

# workdir: sets $work and makes it the working directory.
workdir() {
  work=$(mktemp -d)
  trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
  cd "$work" || exit 1
  export HOME="$work/home" XDG_CACHE_HOME="$work/cache" \
    XDG_DATA_HOME="$work/xdg" XDG_CONFIG_HOME="$work/config"
  mkdir -p "$HOME"
  # the host's GPU selection is not the test's: every GPU of a fake is metered
  unset CUDA_VISIBLE_DEVICES NVIDIA_VISIBLE_DEVICES
}

# py_check NAME CODE [ARGS...]: runs CODE in python3 with args = ARGS,
# want(cond, msg) (the check passes when every want holds), close(a, b,
# rel=1e-6, ab=1e-9) and connect(path) (sqlite3, rows by column name).
py_check() {
  local name=$1 code=$2 out
  shift 2
  if out=$(python3 - "$code" "$@" 2>&1 <<'PY'
import csv, html.parser, json, math, re, sqlite3, struct, sys, zlib
bad = []
def want(c, m):
    if not c:
        bad.append(m)
def close(a, b, rel=1e-6, ab=1e-9):
    return a is not None and b is not None and abs(a - b) <= ab + rel * abs(b)
def connect(path):
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    return db
args = sys.argv[2:]
exec(sys.argv[1])
if bad:
    print("; ".join(bad[:6]))
    sys.exit(1)
PY
  ); then ok "$name"; else not_ok "$name" "$out"; fi
}

# fake_host DIR MODEL: a fake machine in DIR/ (an idle CPU, 8 GiB, no RAPL,
# no GPU) with the CPU model MODEL, so that its fingerprint is its own.
fake_host() {
  mkdir -p "$1/sys" "$1/dev" "$1/proc"
  printf 'cpu  100 0 100 10000 0 0 0 0 0 0\ncpu0 100 0 100 10000 0 0 0 0 0 0\nintr 1\n' \
    >"$1/proc/stat"
  printf 'MemTotal: 8388608 kB\nMemAvailable: 4194304 kB\n' >"$1/proc/meminfo"
  printf 'processor\t: 0\nmodel name\t: %s\nphysical id\t: 0\n' "$2" \
    >"$1/proc/cpuinfo"
}

# damage_samples DB: overwrites the first 512 bytes of the root page of the
# samples table of the SQLite file DB (a file damaged midway).
damage_samples() {
  python3 - "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
root = db.execute("SELECT rootpage FROM sqlite_master WHERE name='samples'").fetchone()[0]
page = db.execute("PRAGMA page_size").fetchone()[0]
db.close()
with open(sys.argv[1], "r+b") as f:
    f.seek((root - 1) * page)
    f.write(b"\x5a" * 512)
PY
}
