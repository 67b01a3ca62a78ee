#!/usr/bin/env bash
# The PostgreSQL store from the command line, on a server started here
# (tests/pg/cluster.sh: a temporary cluster, Unix socket only): measure
# into it, runs --json lists the run, a tiny bench writes its rows and
# analyze reads them, a read-only command on a missing database creates
# nothing; merge of two fake hosts' SQLite files into PostgreSQL gives the
# same analysis as their merge into SQLite, copies nothing the second time,
# and two merges of one file at once copy it once.
# usage: postgres_scenarios.sh GREENML
set -u
GM=$(readlink -f "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
workdir
if ! pg=$(bash "$HERE/../pg/cluster.sh" start $$); then
  echo "not ok - a PostgreSQL server for the tests: install it with" \
       "scripts/deps.sh (apt-get install postgresql libpq-dev)"
  exit 1
fi
trap 'kill $(jobs -p) 2>/dev/null; bash "$HERE/../pg/cluster.sh" stop "$pg"; rm -rf "$work"' EXIT
export OMP_WAIT_POLICY=PASSIVE
uri="postgresql:///gm?host=$pg/sock&user=greenml"

# ---- 1. measure, runs -----------------------------------------------------------
"$GM" measure --db "$uri" --quiet -- true >m.out 2>m.err
rc=$?
check "1: measure exits 0" "[ $rc -eq 0 ]" "exit $rc: $(tail -3 m.err)"
"$GM" runs --db "$uri" --json >runs.json 2>runs.err
rc=$?
check "1: runs exits 0" "[ $rc -eq 0 ]" "exit $rc: $(tail -3 runs.err)"
py_check "1: runs --json lists the run, complete, with its command" "
runs = json.load(open(args[0]))
runs = runs.get('runs', runs) if isinstance(runs, dict) else runs
want(len(runs) == 1, 'runs: %r' % runs)
r = runs[0]
want(r.get('complete') is True, 'complete: %r' % r)
want('true' in json.dumps(r), 'command: %r' % r)
" runs.json
# postgres:// is the same store
"$GM" runs --db "postgres:///gm?host=$pg/sock&user=greenml" --json >runs2.json 2>&1
check "1: postgres:// reads the same runs" "cmp -s runs.json runs2.json" "$(head -c 300 runs2.json)"

# ---- 2. a tiny bench, analyze -------------------------------------------------
"$GM" bench --models LeNet --batch-sizes 16 --epochs 1 --limit-batches 3 \
  --idle none --db "$uri" --run-id pg --data synthetic --threads 1 \
  --interval 20ms --gap 0 --infer-samples 64 >b.out 2>b.err
rc=$?
check "2: bench exits 0" "[ $rc -eq 0 ]" "exit $rc: $(tail -3 b.err)"
n=$(psql -XAtq "$uri" -c "SELECT count(*) FROM bench_phases p JOIN benches b ON b.id = p.bench_id WHERE b.name = 'pg'" 2>&1)
check "2: the bench rows are in PostgreSQL" "[ \"${n:-0}\" -ge 2 ]" "$n"
"$GM" analyze --db "$uri" --json >an.json 2>an.err
rc=$?
check "2: analyze reads them" "[ $rc -eq 0 ] && grep -q LeNet an.json" \
  "exit $rc: $(tail -3 an.err) $(head -c 300 an.json)"

# ---- 3. refusals ----------------------------------------------------------------
"$GM" runs --db "postgresql:///nosuch?host=$pg/sock&user=greenml" >r3.out 2>r3.err
rc=$?
check "3: runs on a missing database fails" "[ $rc -ne 0 ] && grep -q 'no database at' r3.err" "exit $rc: $(cat r3.err)"
n=$(psql -XAtq "postgresql:///postgres?host=$pg/sock&user=greenml" -c "SELECT count(*) FROM pg_database WHERE datname = 'nosuch'")
check "3: and creates none" "[ \"$n\" = 0 ]" "$n"

# ---- 4. merge into PostgreSQL ------------------------------------------------
fake_host ha "Test CPU Alpha 1000"
fake_host hb "Test CPU Beta 2000"
for h in a b; do
  GREENML_SYSFS=$work/h$h/sys GREENML_PROCFS=$work/h$h/proc \
    GREENML_DEVFS=$work/h$h/dev GREENML_NVML_LIB=$work/no-libnvidia-ml.so.1 \
    "$GM" bench --models LeNet,MobileNet --batch-sizes 16 --epochs 1 \
    --limit-batches 2 --idle none --db "$h.db" --run-id study --data synthetic \
    --threads 1 --interval 20ms --gap 0 --infer-samples 32 >b$h.out 2>b$h.err
  rc=$?
  check "4: host $h benches into $h.db" "[ $rc -eq 0 ]" "exit $rc: $(tail -3 b$h.err)"
done
eq="postgresql:///eq?host=$pg/sock&user=greenml"
"$GM" merge m.db a.db b.db >ms.out 2>ms.err
rc=$?
check "4: merge into SQLite exits 0" "[ $rc -eq 0 ]" "exit $rc: $(cat ms.err)"
"$GM" merge "$eq" a.db b.db >mp.out 2>mp.err
rc=$?
check "4: merge into PostgreSQL exits 0" "[ $rc -eq 0 ]" "exit $rc: $(cat mp.err)"
check "4: both say the same of what they copied" \
  "diff <(sed 's/, id [0-9a-f]*//' ms.out) <(sed 's/, id [0-9a-f]*//' mp.out) >/dev/null" \
  "$(diff ms.out mp.out | head -20)"
check "4: the second host's bench is renamed in both" \
  "grep -q 'study@' ms.out && grep -q 'study@' mp.out" "$(cat mp.out)"
# the output with its database's location as DB
norm() { python3 -c 'import sys; print(open(sys.argv[1]).read().replace(sys.argv[2], "DB"), end="")' "$@"; }
for fmt in text json; do
  flag=""; [ $fmt = json ] && flag=--json
  "$GM" analyze --db m.db $flag >an-s.raw 2>an-s.err
  rs=$?
  "$GM" analyze --db "$eq" $flag >an-p.raw 2>an-p.err
  rp=$?
  norm an-s.raw m.db >an-s.$fmt
  norm an-p.raw "$eq" >an-p.$fmt
  check "4: analyze ($fmt) reads both" "[ $rs -eq 0 ] && [ $rp -eq 0 ]" \
    "exit $rs/$rp: $(tail -3 an-s.err) $(tail -3 an-p.err)"
  check "4: analyze ($fmt) of the PostgreSQL merge is the SQLite merge's" \
    "[ -s an-s.$fmt ] && cmp -s an-s.$fmt an-p.$fmt" \
    "$(diff an-s.$fmt an-p.$fmt | head -c 800)"
done
check "4: the analysis has both hosts' benches" \
  "grep -q 'Alpha' an-p.text && grep -q 'Beta' an-p.text" "$(head -c 600 an-p.text)"
"$GM" runs --db m.db --json >runs-s.json 2>/dev/null
"$GM" runs --db "$eq" --json >runs-p.json 2>/dev/null
check "4: runs --json of both merges agree" "cmp -s runs-s.json runs-p.json" \
  "$(diff runs-s.json runs-p.json | head -20)"
rows() { psql -XAtq "$eq" -c "SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM samples), (SELECT count(*) FROM bench_phases), (SELECT count(*) FROM hosts)"; }
before=$(rows)
"$GM" merge "$eq" a.db b.db >mp2.out 2>mp2.err
rc=$?
check "4: merging again exits 0 and copies nothing" \
  "[ $rc -eq 0 ] && [ \"\$(rows)\" = '$before' ] && grep -q '0 runs copied' mp2.out" \
  "exit $rc: $(cat mp2.out mp2.err) rows $(rows) before $before"
# two merges of one file into one database at once: it is copied once
twice="postgresql:///twice?host=$pg/sock&user=greenml"
"$GM" runs --db "$twice" >/dev/null 2>&1 # created by the first writer below
"$GM" merge "$twice" a.db >t1.out 2>t1.err &
p1=$!
"$GM" merge "$twice" a.db >t2.out 2>t2.err &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
n=$(psql -XAtq "$twice" -c "SELECT count(*) FROM runs" 2>&1)
want=$(sqlite3 a.db "SELECT count(*) FROM runs")
check "4: two merges of a.db at once copy its $want runs once" \
  "[ $r1 -eq 0 ] && [ $r2 -eq 0 ] && [ \"$n\" = \"$want\" ]" \
  "exit $r1/$r2, runs $n: $(cat t1.err t2.err)"
# an input damaged midway (its samples' root page overwritten) fails the
# merge with 65 naming the table, and leaves the database as it was
cp b.db bad.db
damage_samples bad.db
before=$(psql -XAtq "$twice" -c "SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM hosts), (SELECT count(*) FROM samples)")
"$GM" merge "$twice" bad.db >bad.out 2>bad.err
rc=$?
after=$(psql -XAtq "$twice" -c "SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM hosts), (SELECT count(*) FROM samples)")
check "4: a damaged input exits 65, names the table, changes nothing" \
  "[ $rc -eq 65 ] && grep -q samples bad.err && [ '$before' = '$after' ]" \
  "exit $rc: $(cat bad.err); rows $before -> $after"
"$GM" merge "$twice" b.db >t3.out 2>t3.err
rc=$?
check "4: the same database takes the undamaged file after it" \
  "[ $rc -eq 0 ] && grep -q '2 runs copied' t3.out" "exit $rc: $(cat t3.out t3.err)"
# a SQLite output cannot take a PostgreSQL input
"$GM" merge m2.db "$eq" >mr.out 2>mr.err
rc=$?
check "4: a PostgreSQL input is refused by name" \
  "[ $rc -ne 0 ] && grep -q 'SQLite files' mr.err && [ ! -s m2.db ]" "exit $rc: $(cat mr.err)"

tap_done postgres
