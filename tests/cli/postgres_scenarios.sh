#!/usr/bin/env bash
# The PostgreSQL store from the command line, on a server started here
# (tests/pg/cluster.sh: a temporary cluster, Unix socket only): measure
# into it, runs --json lists the run, a tiny bench writes its rows and
# analyze reads them, a read-only command on a missing database creates
# nothing, and merge refuses a PostgreSQL output.
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
"$GM" measure --db t.db --quiet -- true >/dev/null 2>&1
"$GM" merge "$uri" t.db >mg.out 2>mg.err
rc=$?
check "3: merge refuses a PostgreSQL output" "[ $rc -ne 0 ] && grep -q 'cannot merge' mg.err" "exit $rc: $(cat mg.err)"

tap_done postgres
