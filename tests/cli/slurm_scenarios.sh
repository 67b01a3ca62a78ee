#!/usr/bin/env bash
# `greenml bench --slurm` on a real one-node Slurm cluster started here: a
# private munged, slurmctld and slurmd on 127.0.0.1 (free ports, every
# directory under the test's own), a 2 x 2 grid submitted as a job array
# with its dependent analysis job, the rows and their Slurm ids checked in
# the database, then the same array submitted again, which runs nothing.
# Without Slurm, the scripts are checked as text: #SBATCH lines, the array
# range, the --cell flags, paths with spaces; and --cell's bounds.
# usage: slurm_scenarios.sh GREENML FAKE_NVML_LIB
# Fails, naming what to install, when slurmctld, slurmd or munged is missing
# or the suite does not run as root (scripts/deps.sh installs them).
set -u
GM=$(readlink -f "$1")
FAKE_NVML=$(readlink -f "$2")
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
workdir
export OMP_WAIT_POLICY=PASSIVE GREENML_SYSFS="$work/sys" GREENML_DEVFS="$work/dev"
unset GREENML_MARK GREENML_PROCFS GREENML_FAKE_NVML_INIT
mkdir -p sys dev
cat >nvml.script <<'EOF'
driver 550.54.15
nvml 12.550.54.15
gpu name="Tesla P100-PCIE-16GB" arch=4 power_mw=50000 util=10 mem_util=5 temp=40
EOF
export GREENML_NVML_LIB="$FAKE_NVML" GREENML_FAKE_NVML_SCRIPT="$work/nvml.script"

grid=(--models lenet,MobileNet --batch-sizes 16,8 --epochs 1 --limit-batches 2
  --data synthetic --threads 1 --interval 50ms --gap 0 --infer-samples 64
  --idle 0.3s)

# ---- 1. the scripts, without Slurm -------------------------------------------
mkdir -p "dir with space"
"$GM" bench --slurm "${grid[@]}" --run-id "grid one" --db "dir with space/r.db" \
  --partition debug --time 00:30:00 --slurm-opt=--exclusive \
  --slurm-opt "--mem=0" --slurm-dir "dir with space/jobs" >gen.out 2>gen.err
rc=$?
cells="dir with space/jobs/cells.sbatch"
an="dir with space/jobs/analyze.sbatch"
check "1: --slurm exits 0 and writes two scripts" \
  "[ $rc -eq 0 ] && [ -f \"$cells\" ] && [ -f \"$an\" ]" "exit $rc: $(cat gen.err)"
check "1: the array spans the 4 cells" "grep -qx '#SBATCH --array=0-3' \"$cells\""
check "1: #SBATCH lines: job name, partition, time, the extra options" \
  "grep -qx '#SBATCH --job-name=greenml-grid_one' \"$cells\" &&
   grep -qx '#SBATCH --partition=debug' \"$cells\" &&
   grep -qx '#SBATCH --time=00:30:00' \"$cells\" &&
   grep -qx '#SBATCH --exclusive' \"$cells\" && grep -qx '#SBATCH --mem=0' \"$cells\" &&
   grep -qx '#SBATCH --partition=debug' \"$an\"" "$(cat "$cells")"
check "1: each task runs the bench's flags with --cell, --run-id and --db" \
  "grep -q \"bench '--models' 'lenet,MobileNet' '--batch-sizes' '16,8' .* --run-id 'grid one' --db '$work/dir with space/r.db' --cell \\\"\\\$SLURM_ARRAY_TASK_ID\\\"\$\" \"$cells\"" \
  "$(tail -1 "$cells")"
check "1: the Slurm flags are not passed on to the tasks" \
  "! grep -qE -- \"'--(slurm|partition|time|slurm-opt|slurm-dir|submit)\" \"$cells\""
check "1: the analysis job runs analyze on the bench" \
  "grep -q \"analyze --run 'grid one' --db '$work/dir with space/r.db' >'$work/dir with space/jobs/analyze.txt'\" \"$an\""
check "1: the scripts are valid bash" "bash -n \"$cells\" && bash -n \"$an\""
check "1: prints the sbatch commands with the dependency" \
  "grep -q 'array=\$(sbatch --parsable' gen.out && grep -q -- '--dependency=afterany:' gen.out" \
  "$(cat gen.out)"
check "1: nothing is measured nor stored" "[ ! -e 'dir with space/r.db' ]"

"$GM" bench "${grid[@]}" --run-id c --db c.db --cell 4 >c.out 2>c.err
rc=$?
check "1: --cell 4 of 4 cells is a usage error naming the grid" \
  "[ $rc -eq 64 ] && grep -q 'outside the grid of 4 cells (2 model(s) x 2 batch size(s) x 1 precision(s)): give 0 to 3' c.err" \
  "exit $rc: $(cat c.err)"
check "1: nothing is stored for it" "[ ! -e c.db ]"
"$GM" bench "${grid[@]}" --run-id c --db c.db --cell x >/dev/null 2>c.err
check "1: --cell x is a usage error" "[ $? -eq 64 ] && grep -q -- '--cell' c.err"
"$GM" bench "${grid[@]}" --run-id c --db c.db --cell 1 --resume >/dev/null 2>c.err
check "1: --cell with --resume is a usage error" "[ $? -eq 64 ]"
"$GM" bench "${grid[@]}" --run-id c --db c.db --submit >/dev/null 2>c.err
check "1: --submit without --slurm is a usage error" "[ $? -eq 64 ]"

# --cell inside a job (its variables set as Slurm sets them): the rows carry
# the job ids, metered or not, and analyze shows them; a task joins the
# bench when its flags mean the same study, however spelled or ordered, and
# is refused naming the difference when they do not
small=(--models LeNet --batch-sizes 16,8 --epochs 1 --limit-batches 2
  --data synthetic --threads 1 --interval 50ms --gap 0 --infer-samples 32
  --idle none)
SLURM_JOB_ID=71 SLURM_ARRAY_JOB_ID=70 SLURM_ARRAY_TASK_ID=0 \
  "$GM" bench "${small[@]}" --run-id j --db j.db --cell 0 >j0.out 2>j0.err
rc=$?
check "1: a task's cell runs (exit 0)" "[ $rc -eq 0 ]" "exit $rc: $(tail -3 j0.err)"
SLURM_JOB_ID=72 SLURM_ARRAY_JOB_ID=70 SLURM_ARRAY_TASK_ID=1 \
  "$GM" bench --idle none --infer-samples 32 --gap 0 --interval=50ms \
  --threads=1 --data synthetic --limit-batches=2 --epochs 1 \
  --batch-sizes=16,8 --models lenet --run-id j --db j.db --cell 1 >j1.out 2>j1.err
rc=$?
check "1: the same study spelled and ordered otherwise joins the bench" \
  "[ $rc -eq 0 ]" "exit $rc: $(tail -3 j1.err)"
SLURM_JOB_ID=73 SLURM_ARRAY_JOB_ID=70 SLURM_ARRAY_TASK_ID=1 \
  "$GM" bench "${small[@]}" --epochs 2 --run-id j --db j.db --cell 1 >j2.out 2>j2.err
rc=$?
check "1: another study is refused with 64, naming the flag and both values" \
  "[ $rc -eq 64 ] && grep -q -- '--epochs: 1, not 2' j2.err" "exit $rc: $(cat j2.err)"
SLURM_JOB_ID=74 SLURM_ARRAY_JOB_ID=75 SLURM_ARRAY_TASK_ID=0 \
  "$GM" bench "${small[@]}" --no-meter --run-id u --db j.db --cell 0 >j3.out 2>j3.err
rc=$?
check "1: an unmetered task's cell runs (exit 0)" "[ $rc -eq 0 ]" "exit $rc: $(tail -3 j3.err)"
py_check "1: every row carries its task's job ids, metered or not" "
import sqlite3
db = sqlite3.connect(args[0])
rows = db.execute('SELECT b.name, p.batch_size, p.metered, p.tags_json FROM bench_phases p JOIN benches b ON b.id = p.bench_id').fetchall()
want(len(rows) >= 6, 'rows: %r' % rows)
for name, batch, metered, tags in rows:
    t = json.loads(tags or 'null')
    want(isinstance(t, dict), 'no tags: %r' % (rows,))
    exp = {('j', 16): ('70', '0', '71'), ('j', 8): ('70', '1', '72'), ('u', 16): ('75', '0', '74')}[(name, batch)]
    got = (t.get('slurm_array_job_id'), t.get('slurm_array_task_id'), t.get('slurm_job_id'))
    want(got == exp, '%s batch %d metered %d: %r, not %r' % (name, batch, metered, got, exp))
    want(name == 'j' or metered == 0, 'u is unmetered: %r' % (rows,))
" j.db
"$GM" analyze --db j.db --run j --json >j.json 2>j.err
py_check "1: analyze gives each cell's job (ARRAYJOB_TASK)" "
d = json.load(open(args[0]))
rows = [r for s in d['summary'] for r in s['rows']]
got = sorted({(r['batch_size'], r['slurm_jobs']) for r in rows})
want(got == [(8, '70_1'), (16, '70_0')], 'got %r' % got)
" j.json
"$GM" analyze --db j.db --run j >j.txt 2>&1
check "1: and its text a Slurm job column" \
  "grep -q 'Slurm job' j.txt && grep -qE 'LeNet +16 .* 70_0\$' j.txt" "$(cat j.txt)"

# ---- 2. a real cluster -------------------------------------------------------
skip=""
for t in munged slurmctld slurmd sbatch squeue sinfo; do
  command -v "$t" >/dev/null || skip="no $t"
done
[ "$(id -u)" -eq 0 ] || skip="not root (slurmd runs jobs as their user)"
if [ -n "$skip" ]; then
  not_ok "2: a one-node Slurm cluster can be started" \
    "$skip: run scripts/deps.sh as root (apt-get install slurm-wlm munge)"
  tap_done slurm_scenarios
  exit 1
fi

sl="$work/slurm"
mkdir -p "$sl"/{state,spool,log,munge}
chmod 700 "$sl/munge"
pids=()
stop_cluster() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
  done
  [ -f "$sl/munge/munged.pid" ] && kill "$(cat "$sl/munge/munged.pid" 2>/dev/null)" 2>/dev/null
  pids=()
}
trap 'stop_cluster; kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

dd if=/dev/urandom of="$sl/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$sl/munge/munge.key"
sock="$sl/munge/munge.sock"
munged --force --socket="$sock" --key-file="$sl/munge/munge.key" \
  --pid-file="$sl/munge/munged.pid" --log-file="$sl/munge/munged.log" \
  --seed-file="$sl/munge/munged.seed" 2>"$sl/munge/start.err"
check "2: munged starts on a private socket" "[ -S \"$sock\" ]" \
  "$(cat "$sl/munge/start.err" "$sl/munge/munged.log" 2>/dev/null | tail -3)"

read -r p1 p2 < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
export SLURM_CONF="$sl/slurm.conf"
cat >"$SLURM_CONF" <<EOF
ClusterName=greenmltest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$p1
SlurmdPort=$p2
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$sock
CredType=cred/munge
StateSaveLocation=$sl/state
SlurmdSpoolDir=$sl/spool
SlurmctldPidFile=$sl/slurmctld.pid
SlurmdPidFile=$sl/slurmd.pid
SlurmctldLogFile=$sl/log/slurmctld.log
SlurmdLogFile=$sl/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
MailProg=/bin/true
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -D -f "$SLURM_CONF" >"$sl/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" -N localhost >"$sl/log/slurmd.out" 2>&1 &
pids+=($!)
up=0
for _ in $(seq 120); do
  if sinfo -h -N -o '%T' 2>/dev/null | grep -qx idle; then up=1; break; fi
  sleep 0.5
done
check "2: the node is idle in sinfo" "[ $up -eq 1 ]" \
  "$(tail -3 "$sl/log/slurmctld.log" "$sl/log/slurmd.log" 2>/dev/null)"
if [ $up -ne 1 ]; then
  tap_done slurm_scenarios
  exit 1
fi

# wait_queue SECONDS: until squeue lists no job
wait_queue() {
  local end=$((SECONDS + $1))
  while [ $SECONDS -lt $end ]; do
    [ -z "$(squeue -h -o %i 2>/dev/null)" ] && return 0
    sleep 0.5
  done
  return 1
}

t0=$(date +%s.%N)
"$GM" bench --slurm --submit "${grid[@]}" --run-id arr --db "$work/s.db" \
  --time 00:10:00 --slurm-dir "$work/jobs" >sub.out 2>sub.err
rc=$?
check "2: --submit exits 0 and prints both job ids" \
  "[ $rc -eq 0 ] && grep -qE '^array job [0-9]+ \\(4 tasks\\)' sub.out &&
   grep -qE '^analysis job [0-9]+ \\(after the array\\)' sub.out" \
  "exit $rc: $(cat sub.out sub.err)"
array=$(sed -n 's/^array job \([0-9]*\).*/\1/p' sub.out)
wait_queue 600
drained=$?
t1=$(date +%s.%N)
check "2: the array and the analysis job end within 600 s" "[ $drained -eq 0 ]" \
  "$(squeue 2>&1 | tail -5)"
echo "# the 2 x 2 array and its analysis took $(python3 -c "print('%.1f' % ($t1 - $t0))") s"
check "2: every task says its cell is done" \
  "[ \"\$(cat jobs/cell-*.out | grep -c '^cell [0-3] done')\" -eq 4 ]" \
  "$(tail -n 6 jobs/cell-*.out | tr "\n" " ")"
check_rows() {
  py_check "$1" "import json
db = connect(args[0])
b = db.execute('SELECT * FROM benches').fetchall()
want(len(b) == 1 and b[0]['name'] == 'arr' and b[0]['status'] == 'complete', 'benches %r' % [dict(x) for x in b])
rows = db.execute('SELECT p.model, p.batch_size, p.kind, r.tags_json FROM bench_phases p JOIN runs r ON r.id = p.run_id').fetchall()
want(len(rows) == 8, '%d phase rows, not 8' % len(rows))
cells = {}
for r in rows:
    t = json.loads(r['tags_json'])
    cells.setdefault((r['model'], r['batch_size']), set()).add(
        (t.get('slurm_array_job_id'), t.get('slurm_array_task_id'), bool(t.get('slurm_job_id'))))
order = [('LeNet', 16), ('LeNet', 8), ('MobileNet', 16), ('MobileNet', 8)]
want(sorted(cells) == sorted(order), 'cells %r' % sorted(cells))
for k, c in enumerate(order):
    want(cells.get(c) == {(args[1], str(k), True)}, 'cell %d %r: %r' % (k, c, cells.get(c)))
n = db.execute('SELECT count(*) FROM idle_baselines').fetchone()[0]
want(n == 1, '%d idle baselines on one node, not 1' % n)
" "$work/s.db" "$array"
}
check_rows "2: 4 cells of 2 rows, each with its task id 0..3 and the array's job id"
check "2: the first task on the node measured the idle baseline, the others used it" \
  "[ \"\$(cat jobs/cell-*.out | grep -c 'idle baseline [0-9]* of this node')\" -eq 3 ]" \
  "$(grep -h idle jobs/cell-*.out)"
check "2: the analysis job wrote analyze's output for the 4 cells" \
  "[ -s jobs/analyze.txt ] && grep -q arr jobs/analyze.txt &&
   grep -qE 'LeNet +16' jobs/analyze.txt && grep -qE 'LeNet +8' jobs/analyze.txt &&
   grep -qE 'MobileNet +16' jobs/analyze.txt && grep -qE 'MobileNet +8' jobs/analyze.txt" \
  "$(head -20 jobs/analyze.txt 2>/dev/null; cat jobs/analyze.out 2>/dev/null)"

before=$(sqlite3 s.db 'SELECT * FROM bench_phases ORDER BY 1,2,3,4,5' | md5sum)
runs_before=$(sqlite3 s.db 'SELECT count(*) FROM runs')
"$GM" bench --slurm --submit "${grid[@]}" --run-id arr --db "$work/s.db" \
  --time 00:10:00 --slurm-dir "$work/jobs" >sub2.out 2>sub2.err
rc=$?
wait_queue 300
check "2: the array submitted again ends" "[ $rc -eq 0 ] && [ \$? -eq 0 ]" \
  "exit $rc: $(cat sub2.err)"
check "2: every task of it says its cell is complete" \
  "[ \"\$(cat jobs/cell-*.out | grep -c '^cell [0-3] complete')\" -eq 4 ]" \
  "$(tail -n 2 jobs/cell-*.out)"
check "2: the phase rows and runs are unchanged" \
  "[ \"\$(sqlite3 s.db 'SELECT * FROM bench_phases ORDER BY 1,2,3,4,5' | md5sum)\" = \"$before\" ] &&
   [ \"\$(sqlite3 s.db 'SELECT count(*) FROM runs')\" = \"$runs_before\" ]"

# ---- 3. the array into PostgreSQL: the database for several nodes ----------
if ! pg=$(bash "$HERE/../pg/cluster.sh" start $$); then
  not_ok "3: a PostgreSQL server for the array" \
    "install it with scripts/deps.sh (apt-get install postgresql libpq-dev)"
  stop_cluster
  tap_done slurm_scenarios
  exit 1
fi
uri="postgresql:///slurm?host=$pg/sock&user=greenml"
mkdir -p "$work/pgrun"
(cd "$work/pgrun" && "$GM" bench --slurm --submit "${grid[@]}" --run-id pgarr \
  --db "$uri" --time 00:10:00 --slurm-dir "$work/pgjobs" >"$work/sub3.out" 2>"$work/sub3.err")
rc=$?
check "3: --submit with a PostgreSQL --db exits 0" "[ $rc -eq 0 ]" \
  "exit $rc: $(cat sub3.out sub3.err)"
check "3: the tasks get the location as it was given" \
  "grep -qF -- \"--db '$uri'\" pgjobs/cells.sbatch" "$(tail -1 pgjobs/cells.sbatch)"
pgarray=$(sed -n 's/^array job \([0-9]*\).*/\1/p' sub3.out)
wait_queue 600
check "3: the array into PostgreSQL ends" "[ \$? -eq 0 ]" "$(squeue 2>&1 | tail -3)"
"$GM" analyze --db "$uri" --run pgarr --json >pg.json 2>pg.err
rc=$?
py_check "3: analyze sees the 4 cells in PostgreSQL with their array's job and task ids" "
d = json.load(open(args[0]))
rows = [r for s in d['summary'] for r in s['rows']]
got = sorted({(r['model'], r['batch_size'], r['slurm_jobs']) for r in rows})
a = args[1]
exp = sorted({('LeNet', 16, a + '_0'), ('LeNet', 8, a + '_1'), ('MobileNet', 16, a + '_2'), ('MobileNet', 8, a + '_3')})
want(got == exp, 'got %r, not %r' % (got, exp))
want(len(rows) == 8, '%d rows, not 8 (4 cells x train, infer)' % len(rows))
" pg.json "$pgarray"
check "3: the checkpoints went to the submit directory, not a path made of the URI" \
  "[ -d pgrun/bench-pgarr ] && ! ls -d pgrun/postgresql* >/dev/null 2>&1" "$(ls pgrun)"
bash "$HERE/../pg/cluster.sh" stop "$pg"

stop_cluster
tap_done slurm_scenarios
