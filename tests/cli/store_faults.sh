#!/usr/bin/env bash
# store_faults.sh: `greenml measure` and its database under faults, end to
# end: another process holding the write lock for 6 s; four measures at
# 1 ms on one new database; --db ''; databases greenml refuses (a newer
# schema with an un-checkpointed WAL in use, another program's database)
# left byte for byte, with their -wal file in use or copied; a full disk (a
# file-size limit, `ulimit -f`); a lock held longer than greenml waits.
#
#   bash tests/cli/store_faults.sh GREENML_BINARY
#
# Each case runs in its own directory with a private HOME and
# XDG_DATA_HOME, an empty fake sysfs and devfs (the CPU and DRAM are
# modelled) and no NVML. The other process is python3's sqlite3 module;
# databases are checked with the sqlite3 shell, JSON with python3.
#
# Prints "ok - ..." or "not ok - ..." per check and "N passed, M failed" at
# the end; exits 1 when a check failed, 2 on bad usage.
set -u

if [ $# -ne 1 ]; then
  echo "usage: $0 GREENML_BINARY" >&2
  exit 2
fi
GREENML=$1
case $GREENML in /*) ;; *) GREENML=$PWD/$GREENML ;; esac
if [ ! -x "$GREENML" ]; then
  echo "$0: '$GREENML' is not an executable" >&2
  exit 2
fi
for tool in python3 sqlite3 sha256sum timeout; do
  if ! command -v "$tool" >/dev/null; then
    echo "$0: '$tool' is needed" >&2
    exit 2
  fi
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/greenml-store-faults.XXXXXX") || exit 2
BG=() # background processes to kill on an early exit
cleanup() {
  local p
  for p in "${BG[@]}"; do
    kill -9 "$p" 2>/dev/null
  done
  cd / && rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

unset GREENML_MARK GREENML_SYSFS GREENML_PROCFS GREENML_DEVFS GREENML_NVML_LIB

passed=0
failed=0
ok() {
  echo "ok - $1"
  passed=$((passed + 1))
}
not_ok() {
  echo "not ok - $1 ($2)"
  failed=$((failed + 1))
}
squash() {
  if [ -f "$1" ]; then
    tr '\n\t' '  ' <"$1" | cut -c1-400
  fi
}
check() {
  local desc=$1
  shift
  if "$@"; then
    ok "$desc"
  else
    not_ok "$desc" "failed: $*"
  fi
}
# expect_rc DESC WANT NAME: RC against WANT, NAME.err quoted when it differs.
expect_rc() {
  if [ "$RC" -eq "$2" ]; then
    ok "$1"
    return 0
  fi
  not_ok "$1" "expected exit $2 got $RC; stderr: $(squash "$3.err")"
  return 1
}

new_env() {
  D=$TMP/$1
  mkdir -p "$D/home" "$D/xdg" "$D/sys" "$D/dev"
  cd "$D" || exit 2
  export HOME=$D/home XDG_DATA_HOME=$D/xdg GREENML_SYSFS=$D/sys \
    GREENML_DEVFS=$D/dev GREENML_PROCFS=/proc \
    GREENML_NVML_LIB=$D/no-such-libnvidia-ml.so.1
}

# gm NAME ARGS...: greenml ARGS (60 s at most), stdout in NAME.out, stderr
# in NAME.err, status in RC.
gm() {
  local name=$1
  shift
  timeout 60 "$GREENML" "$@" </dev/null >"$name.out" 2>"$name.err"
  RC=$?
}

# python3 on the JSON file $2 with `d` parsed; the code sets `errs`.
check_json() {
  local desc=$1 file=$2 code=$3 msg
  shift 3
  if [ ! -s "$file" ]; then
    not_ok "$desc" "'$file' missing or empty"
    return
  fi
  if msg=$(python3 -c "
import json, math, sys
d = json.load(open(sys.argv[1]))
errs = []
def want(cond, msg):
    if not cond:
        errs.append(msg)
$code
if errs:
    print('; '.join(errs)[:600])
    sys.exit(1)" "$file" "$@" 2>&1); then
    ok "$desc"
  else
    not_ok "$desc" "$(echo "$msg" | tr '\n' ' ' | cut -c1-600)"
  fi
}

# hold_lock DB SECONDS FLAG: another process takes DB's write lock (BEGIN
# EXCLUSIVE), creates FLAG, holds the lock SECONDS and commits. Returns when
# FLAG exists; HOLDER is its pid.
hold_lock() {
  rm -f "$3"
  python3 -c '
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[3], "w").close()
time.sleep(float(sys.argv[2]))
c.execute("COMMIT")
' "$1" "$2" "$3" &
  HOLDER=$!
  BG+=("$HOLDER")
  local i
  for i in $(seq 200); do
    [ -e "$3" ] && return 0
    sleep 0.05
    : "$i"
  done
  return 1
}

# The stored samples of run $2 in database $1: "N" when they are whole
# ticks 0..N-1 with no gap, else "gap".
ticks() {
  sqlite3 "$1" "SELECT CASE WHEN count(DISTINCT seq) = coalesce(max(seq), -1) + 1
                  AND count(*) = count(DISTINCT seq) *
                      (SELECT count(*) FROM components WHERE run_id = $2)
                THEN count(DISTINCT seq) ELSE 'gap' END
                FROM samples WHERE run_id = $2" 2>&1
}

# ---- a. another process holds the write lock for 6 s ----------------------
new_env a
gm a0 measure --db a.db --quiet -- true
expect_rc "a: a first run creates the database" 0 a0
start=$(date +%s.%N)
timeout 60 "$GREENML" measure --db a.db --interval 10ms --json a.json -- \
  sleep 4 </dev/null >a1.out 2>a1.err &
pid=$!
BG+=("$pid")
sleep 1
if hold_lock a.db 6 a.flag; then
  wait "$pid"
  RC=$?
  elapsed=$(python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 1))" \
    "$start" "$(date +%s.%N)")
  wait "$HOLDER"
  if expect_rc "a: measure at 10 ms under a 6 s lock by another process exits 0" 0 a1; then
    q="SELECT complete || '|' || coalesce(lost_samples, 'null') || '|' ||
              coalesce(incomplete_cause, 'null') FROM runs WHERE id = 2"
    check "a: the run is complete, nothing lost (waited ${elapsed} s in all)" \
      test "$(sqlite3 a.db "$q" 2>&1)" = "1|0|null"
    n=$(ticks a.db 2)
    check_json "a: every tick is stored, no gap ($n ticks)" a.json '
n = sys.argv[2]
want(n != "gap" and int(n) >= 200, "stored ticks: %s" % n)
s = d["store"]
want(s["complete"] is True and s["samples_lost"] == 0, "store %r" % s)
want(s["samples_stored"] == int(n) if n != "gap" else False, "samples_stored %r, ticks %s" % (s["samples_stored"], n))
want(abs(s["stored_until_s"] - d["duration_s"]) < 1e-6, "stored_until_s %r" % s["stored_until_s"])
want(d["dropped_samples"] == 0, "dropped %r" % d["dropped_samples"])
' "$n"
    check "a: the lock outlasted the command: measure waited it out (>= 6 s)" \
      python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= 6 else 1)" "$elapsed"
  fi
else
  not_ok "a: the other process took the lock" "no flag"
  wait "$pid"
fi

# ---- b. four measures at 1 ms on one new database ---------------------------
new_env b
pids=()
for k in 1 2 3 4; do
  timeout 60 "$GREENML" measure --db b.db --interval 1ms --quiet \
    --json "b$k.json" -- sh -c "sleep 2; touch ran$k" </dev/null \
    >"b$k.out" 2>"b$k.err" &
  pids+=($!)
  BG+=($!)
done
bad=
for k in 1 2 3 4; do
  wait "${pids[$((k - 1))]}"
  rc=$?
  [ "$rc" -eq 0 ] || bad="$bad measure $k exit $rc: $(squash "b$k.err");"
done
if [ -z "$bad" ]; then
  ok "b: four concurrent measures at 1 ms exit 0"
else
  not_ok "b: four concurrent measures at 1 ms exit 0" "$bad"
fi
check "b: all four commands ran" test -e ran1 -a -e ran2 -a -e ran3 -a -e ran4
check "b: four runs, all complete, nothing lost" \
  test "$(sqlite3 b.db 'SELECT count(*), sum(complete), sum(lost_samples) FROM runs' 2>&1)" = "4|4|0"
bad=
for run in 1 2 3 4; do
  n=$(ticks b.db "$run")
  if [ "$n" = gap ] || [ "$n" -lt 500 ]; then
    bad="$bad run $run: $n;"
  fi
done
if [ -z "$bad" ]; then
  ok "b: each run's samples are whole ticks with no gap (>= 500 each)"
else
  not_ok "b: each run's samples are whole ticks with no gap" "$bad"
fi
check_json "b: every JSON says its samples are all stored" b1.json '
for f in sys.argv[1:]:
    s = json.load(open(f))["store"]
    want(s["complete"] is True and s["samples_lost"] == 0 and s["samples_stored"] >= 500,
         "%s: %r" % (f, s))
' b2.json b3.json b4.json

# ---- c. --db '' -----------------------------------------------------------------
new_env c
gm c1 measure --db '' -- touch marker
expect_rc "c: measure --db '' is a usage error (64)" 64 c1
check "c: the message names --db and the fix" \
  grep -q "^greenml measure: --db '' names no database; pass --db PATH, or leave --db out to use '$D/xdg/greenml/greenml.db'" c1.err
check "c: the command did not run, no database was made" \
  test ! -e marker -a ! -e "$D/xdg/greenml/greenml.db"
gm c2 runs --db ''
expect_rc "c: runs --db '' is a usage error (64)" 64 c2
gm c3 idle --db '' --duration 100ms
expect_rc "c: idle --db '' is a usage error (64)" 64 c3

# ---- d. databases greenml refuses are left byte for byte --------------------
new_env d
# snapshot: the name of every entry of the directory and the bytes of
# every file, but for the test's own outputs
snapshot() {
  local f
  for f in $(ls -A | grep -v -e '\.out$' -e '\.err$' -e '^marker$' | sort); do
    if [ -f "$f" ]; then
      printf '%s %s\n' "$f" "$(sha256sum <"$f")"
    else
      printf '%s\n' "$f"
    fi
  done
}
# refused NAME DB WHAT: measure, runs and idle on DB exit 65 naming WHAT;
# no command ran; no file changed, appeared or vanished.
refused() {
  local before after
  before=$(snapshot)
  gm "$1-m" measure --db "$2" -- touch marker
  expect_rc "d: $1: measure exits 65" 65 "$1-m"
  check "d: $1: measure says why ($3) and that it was left untouched" \
    grep -q "$3.*left untouched" "$1-m.err"
  check "d: $1: the command did not run" test ! -e marker
  gm "$1-r" runs --db "$2"
  expect_rc "d: $1: runs (read-only) exits 65" 65 "$1-r"
  gm "$1-i" idle --db "$2" --duration 100ms
  expect_rc "d: $1: idle exits 65" 65 "$1-i"
  after=$(snapshot)
  if [ "$before" = "$after" ]; then
    ok "d: $1: every file byte for byte as it was, none added ($(grep -c ' ' <<<"$before") files)"
  else
    not_ok "d: $1: every file byte for byte as it was" "before: $before; after: $after"
  fi
}
gm d0 measure --db new.db --quiet -- true
expect_rc "d: a greenml database is made" 0 d0
# A newer greenml's change still in the WAL, its connections open.
rm -f held.flag
python3 -c '
import sqlite3, sys, time
c = sqlite3.connect("new.db", isolation_level=None)
c.execute("PRAGMA wal_autocheckpoint=0")
c.execute("PRAGMA user_version=99")
c.execute("CREATE TABLE future(x)")
r = sqlite3.connect("new.db", isolation_level=None)
r.execute("SELECT count(*) FROM future").fetchall()
open("held.flag", "w").close()
time.sleep(120)
' &
WRITER=$!
BG+=("$WRITER")
for i in $(seq 200); do
  [ -e held.flag ] && break
  sleep 0.05
  : "$i"
done
rm -f held.flag
check "d: the newer schema is in the -wal file alone (the database file says greenml's own)" \
  test -s new.db-wal -a -e new.db-shm -a "$(od -An -tu1 -j63 -N1 new.db | tr -d ' ')" -lt 99
refused newer-wal new.db "schema version 99"
# The same files copied elsewhere: a -wal file and no -shm, no connection.
mkdir copy
cp new.db new.db-wal copy/
cd copy || exit 2
refused newer-wal-copy new.db "schema version 99"
check "d: newer-wal-copy: no -shm file was made" test ! -e new.db-shm
cd .. || exit 2
{
  kill -9 "$WRITER"
  wait "$WRITER"
} 2>/dev/null
# Another program's database.
sqlite3 shop.db 'CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT);
                 INSERT INTO customers(name) VALUES ("a");'
refused foreign shop.db "another program's SQLite database (tables: customers)"
printf 'not a database\n' >notes.db
refused not-sqlite notes.db "not an SQLite database"

# ---- e. a full disk: a file-size limit -----------------------------------------
new_env e
gm e0 measure --db e.db --interval 10ms --quiet -- sleep 0.3
expect_rc "e: a first run is stored" 0 e0
first=$(ticks e.db 1)
(
  ulimit -f 256 # KiB: the -wal file cannot grow past it
  exec timeout 60 "$GREENML" measure --db e.db --interval 1ms --json e.json \
    -- sleep 3 </dev/null >e1.out 2>e1.err
)
RC=$?
if expect_rc "e: measure past a file-size limit exits 74" 74 e1; then
  check "e: it says the run is recorded incomplete, how much is lost and why" \
    grep -Eq "^greenml measure: run 2 is recorded incomplete: [0-9]+ of [0-9]+ samples could not be stored \(cannot store samples: .*a write to the file failed" e1.err
  check "e: the summary is still printed" grep -q "Energy of 'sleep 3'" e1.err
  check_json "e: the JSON is written and says what was stored" e.json '
s = d["store"]
want(d["exit_code"] == 0, "exit_code %r" % d["exit_code"])
want(s["complete"] is False, "complete %r" % s["complete"])
want(s["samples_lost"] > 0, "samples_lost %r" % s["samples_lost"])
want("a write to the file failed" in (s["incomplete_cause"] or ""), "cause %r" % s["incomplete_cause"])
want(d["total_energy_j"] > 0, "energy %r" % d["total_energy_j"])
'
  q="SELECT complete, lost_samples > 0, incomplete_cause LIKE 'cannot store samples:%',
            coalesce(printf('%.9f', stored_until_s), 'none') FROM runs WHERE id = 2"
  row=$(sqlite3 e.db "$q" 2>&1)
  check "e: the run is incomplete in the database, with its cause and loss ($row)" \
    test "${row%|*}" = "0|1|1"
  n=$(ticks e.db 2)
  last=$(sqlite3 e.db "SELECT coalesce(printf('%.9f', max(t_s)), 'none') FROM samples WHERE run_id = 2" 2>&1)
  check "e: what is stored is whole ticks up to stored_until_s ($n ticks, up to $last)" \
    test "$n" != gap -a "${row##*|}" = "$last"
  check "e: the first run is untouched: complete, its $first ticks" \
    test "$(sqlite3 e.db 'SELECT complete FROM runs WHERE id = 1')|$(ticks e.db 1)" = "1|$first"
  gm e2 runs --db e.db
  check "e: runs shows it incomplete with the cause, the time and the loss" \
    bash -c 'grep -Eq "^ +2 .* measure +incomplete " e2.out &&
             grep -Eq "^ +cannot store samples: .*; (samples stored up to [0-9.]+ s|no sample stored), [0-9]+ lost$" e2.out'
  gm e3 runs --db e.db --json
  check_json "e: runs --json has incomplete_cause, lost_samples, stored_until_s" e3.out '
r = {x["id"]: x for x in d}
want(r[2]["complete"] is False and r[2]["lost_samples"] > 0 and r[2]["incomplete_cause"], "run 2 %r" % r[2])
want(r[1]["complete"] is True and r[1]["lost_samples"] == 0 and r[1]["incomplete_cause"] is None, "run 1 %r" % r[1])
'
fi

# ---- f. a lock held longer than greenml waits -------------------------------
new_env f
gm f0 measure --db f.db --quiet -- true
expect_rc "f: a first run creates the database" 0 f0
if hold_lock f.db 14 f.flag; then
  gm f1 measure --db f.db -- touch marker
  expect_rc "f: measure on a database locked for longer than 10 s exits 74" 74 f1
  check "f: it says the database is locked by another process and how long it waited" \
    grep -q "the database 'f.db' is locked by another process (waited 10 s)" f1.err
  check "f: the command did not run" test ! -e marker
  wait "$HOLDER"
  gm f2 measure --db f.db --quiet -- touch marker
  expect_rc "f: once the lock is gone, measure runs" 0 f2
else
  not_ok "f: the other process took the lock" "no flag"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
