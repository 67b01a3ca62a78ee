#!/usr/bin/env bash
# `greenml bench` end to end on generated data: a small grid checked row by
# row against power that is known exactly (a fake GPU with a constant 50 W
# power sensor through the fake libnvidia-ml.so.1, and the DRAM model's
# constant power), a kill in the middle and --resume, SIGINT, profiling with
# its prediction error, the overhead and unmetered modes, and bad input.
# usage: bench_scenarios.sh GREENML FAKE_NVML_LIB
set -u
GM=$(readlink -f "$1")
FAKE_NVML=$(readlink -f "$2")
. "$(dirname "$0")/lib.sh"
workdir
export OMP_WAIT_POLICY=PASSIVE GREENML_SYSFS="$work/sys" GREENML_DEVFS="$work/dev"
unset GREENML_MARK GREENML_PROCFS GREENML_FAKE_NVML_INIT
mkdir -p sys dev
# check_db NAME DB PYTHON: PYTHON runs with `db` (the database) and `q`
# (query -> list of rows as dicts) besides py_check's helpers.
check_db() {
  py_check "$1" "db = connect(args[0])
def q(sql, *a):
    return [dict(r) for r in db.execute(sql, a)]
$3" "$2"
}

cat >nvml.script <<'EOF'
driver 550.54.15
nvml 12.550.54.15
gpu name="Tesla P100-PCIE-16GB" arch=4 power_mw=50000 util=10 mem_util=5 temp=40
EOF
export GREENML_NVML_LIB="$FAKE_NVML" GREENML_FAKE_NVML_SCRIPT="$work/nvml.script"

grid=(--data synthetic --threads 1 --interval 20ms --gap 0.1s --infer-samples 64)

# ---- 1. a 2 x 2 grid, row by row ---------------------------------------------
"$GM" bench --models lenet,MobileNet --batch-sizes 16,8 --epochs 2 \
  --limit-batches 3 --idle 0.3s --db a.db --run-id grid "${grid[@]}" \
  --interval 100ms >a.out 2>a.err
rc=$?
check "1: bench exits 0" "[ $rc -eq 0 ]" "exit $rc: $(tail -3 a.err)"
check "1: says the data is generated" "grep -q 'generated (not CIFAR-10)' a.out"
check "1: one log line per phase (16)" \
  "[ \"\$(grep -cE '^(LeNet|MobileNet) +b(16|8) +fp32 +(train epoch|infer after epoch) [12]/2: ' a.out)\" -eq 16 ]" \
  "$(head -30 a.out)"
check "1: ends with a summary and the database path" \
  "grep -q '^summary of bench' a.out && grep -q '^database: a.db' a.out"
check_db "1: the bench, its models and 16 phase rows" a.db '
b = q("SELECT * FROM benches")
want(len(b) == 1 and b[0]["name"] == "grid" and b[0]["status"] == "complete", "bench %r" % b)
want(b and b[0]["idle_baseline_id"] is not None, "idle baseline not linked")
import json
cfg = json.loads(b[0]["config_json"]) if b else {}
want(cfg.get("models") == ["LeNet", "MobileNet"] and cfg.get("batch_sizes") == [16, 8]
     and cfg.get("epochs") == 2 and cfg.get("lr") == 0.001 and cfg.get("seed") == 1
     and cfg.get("weight_decay") == 5e-4 and cfg.get("momentum") == 0.9, "config %r" % cfg)
v = json.loads(b[0]["versions_json"]) if b else {}
want(v.get("greenml") and v.get("onednn", "").startswith("2.") and v.get("sqlite"), "versions %r" % v)
h = json.loads(b[0]["host_json"]) if b else {}
want(h.get("cpu_model") and "kernel" in h and "virtualised" in h, "host %r" % h)
comps = {c["name"]: c for c in h.get("components", [])}
want("gpu0" in comps and "Tesla P100" in comps["gpu0"].get("detail", ""), "gpu in host %r" % comps.keys())
want("cpu" in comps and "TDP" in comps["cpu"].get("detail", ""), "cpu TDP in host %r" % comps.get("cpu"))
m = {r["model"]: r for r in q("SELECT * FROM bench_models")}
want(sorted(m) == ["LeNet", "MobileNet"], "models %r" % sorted(m))
want(m.get("LeNet", {}).get("params") == 62006 and m["LeNet"]["macs"] == 651720, "LeNet %r" % m.get("LeNet"))
want(m.get("MobileNet", {}).get("params") == 3217226, "MobileNet %r" % m.get("MobileNet"))
rows = q("SELECT * FROM bench_phases ORDER BY model, batch_size, epoch, kind DESC")
want(len(rows) == 16, "%d rows" % len(rows))
keys = {(r["model"], r["batch_size"], r["kind"], r["epoch"]) for r in rows}
want(keys == {(mo, bs, k, e) for mo in ("LeNet", "MobileNet") for bs in (16, 8)
              for k in ("train", "infer") for e in (1, 2)}, "keys %r" % sorted(keys))
for r in rows:
    tag = "%s b%d %s %d" % (r["model"], r["batch_size"], r["kind"], r["epoch"])
    want(r["metered"] == 1 and r["run_id"] is not None, tag + " metered/run")
    if r["kind"] == "train":
        want(r["steps"] == 3 and r["samples"] == 3 * r["batch_size"], tag + " steps %r" % r["steps"])
        want(r["lr"] == 0.001, tag + " lr")
    else:
        want(r["samples"] == 64 and r["steps"] == 64 // r["batch_size"], tag + " samples %r" % r["samples"])
    want(r["loss"] is not None and r["loss"] > 0 and 0 <= r["accuracy"] <= 1, tag + " loss/acc")
    want(close(r["samples_per_s"], r["samples"] / r["duration_s"]), tag + " samples/s")
    want(close(r["step_time_s"], r["duration_s"] / r["steps"]), tag + " step time")
    want(close(r["j_per_sample"], r["energy_j"] / r["samples"]), tag + " J/sample")
    want(r["provenance"] == "mixed", tag + " provenance %r" % r["provenance"])
    want(r["gpu_util_pct"] == 10, tag + " gpu util %r" % r["gpu_util_pct"])
    want(r["cpu_util_pct"] is not None and 0 <= r["cpu_util_pct"] <= 100, tag + " cpu util")
    want(r["dram_used_bytes"] is not None and r["dram_used_bytes"] > 0, tag + " dram used")
    want(r["vram_used_bytes"] is not None, tag + " vram")
    c = {x["component"]: x for x in q("SELECT * FROM bench_phase_components WHERE model=? AND "
          "batch_size=? AND kind=? AND epoch=?", r["model"], r["batch_size"], r["kind"], r["epoch"])}
    want(set(c) >= {"gpu0", "cpu", "dram"}, tag + " components %r" % sorted(c))
    g = c.get("gpu0", {})
    want(g.get("provenance") == "measured" and close(g.get("energy_j"), 50.0 * r["duration_s"]),
         tag + " gpu0 %r J, want 50 W x %r s" % (g.get("energy_j"), r["duration_s"]))
    want(close(g.get("avg_power_w"), 50.0) and close(g.get("peak_power_w"), 50.0), tag + " gpu0 power")
    want(close(g.get("net_energy_j"), 0.0, 0, 1e-6 * r["duration_s"] * 50), tag + " gpu0 net %r" % g.get("net_energy_j"))
    d = c.get("dram", {})
    want(d.get("provenance") == "modelled" and close(d.get("energy_j"), d.get("avg_power_w") * r["duration_s"]),
         tag + " dram")
    tot = sum(x["energy_j"] for x in c.values() if x["in_total"])
    want(close(r["energy_j"], tot), tag + " total %r vs %r" % (r["energy_j"], tot))
    net = sum(x["net_energy_j"] for x in c.values() if x["in_total"])
    want(close(r["net_energy_j"], net, 1e-6, 1e-6), tag + " net")
runs = q("SELECT * FROM runs WHERE kind=\"bench\"")
want(len(runs) == 4 and all(x["complete"] == 1 for x in runs), "runs %r" % [(x["id"], x["complete"]) for x in runs])
n = q("SELECT count(*) AS n FROM samples s JOIN runs r ON r.id = s.run_id WHERE r.kind=\"bench\"")[0]["n"]
want(n > 0, "no samples stored")
# phase windows lie inside their run and do not overlap
for run in runs:
    ph = q("SELECT start_s, duration_s FROM bench_phases WHERE run_id=? ORDER BY start_s", run["id"])
    want(len(ph) == 4, "run %d has %d phases" % (run["id"], len(ph)))
    for a, b2 in zip(ph, ph[1:]):
        want(a["start_s"] + a["duration_s"] <= b2["start_s"] + 1e-9, "phases overlap in run %d" % run["id"])
'
check_db "1: the bench's baseline records what it was measured with and how busy the CPU was" a.db '
b = q("SELECT * FROM idle_baselines")
want(len(b) == 1 and b[0]["interval_s"] == 0.1, "baseline %r" % b)
c = q("SELECT name, detail FROM idle_components ORDER BY name")
want([x["name"] for x in c] == ["cpu", "dram", "gpu0"] and all(x["detail"] for x in c), "components %r" % c)
want(b and b[0]["cpu_util_pct"] is not None and b[0]["busy"] == (b[0]["cpu_util_pct"] >= 10), "busy %r" % b)
'
# the test machine may be busy: a busy baseline is stored flagged and said
busy=$(sqlite3 a.db "SELECT busy FROM idle_baselines")
if [ "$busy" = 1 ]; then
  check "1: the busy baseline is said on stderr" \
    "grep -q '^greenml bench: the CPU was [0-9]* % busy during the idle measurement (threshold 10 %): the baseline is stored flagged as busy' a.err" "$(head -5 a.err)"
else
  check "1: a quiet baseline is not called busy" "! grep -q 'busy during the idle' a.err"
fi
check "1: no progress line when stderr is not a terminal" "! grep -q 'ETA' a.err"
# the live display on a terminal (script(1) gives the command a pty)
script -qec "'$GM' bench --models LeNet --batch-sizes 32 --epochs 1 --limit-batches 20 --idle none --db tty.db --data synthetic --threads 1 --gap 0 --infer-samples 640" /dev/null >tty.out 2>&1
check "1: on a terminal, a live line with model, phase, batch, loss, watts, joules, ETA" \
  "tr '\\r' '\\n' <tty.out | grep -aqE '^(.\\[K)?\\[1/1\\] LeNet b32 fp32 train 1/1 batch [0-9]+/20 loss [0-9.]+ acc [0-9.]+ % \\| [0-9.]+ W [0-9.]+ [kmM]?J \\((mixed|measured|modelled)\\) \\| ETA '" \
  "$(tr '\r' '\n' <tty.out | head -5)"
check "1: a second bench with the same --run-id is refused" \
  "\"$GM\" bench --models LeNet --db a.db --run-id grid ${grid[*]} >/dev/null 2>dup.err; [ \$? -eq 64 ] && grep -q \"exists\" dup.err && grep -q -- '--resume' dup.err"

# ---- 2. SIGKILL in the middle, then --resume: no duplicate, same numbers -------
long=(--models LeNet --batch-sizes 32 --epochs 4 --limit-batches 40 --idle none --gap 0.3s)
"$GM" bench "${long[@]}" --db ref.db --run-id ref "${grid[@]}" >ref.out 2>ref.err
check "2: the uninterrupted reference run exits 0" "[ $? -eq 0 ]" "$(tail -3 ref.err)"
"$GM" bench "${long[@]}" --db k.db --run-id k "${grid[@]}" >k.out 2>k.err &
pid=$!
for _ in $(seq 600); do
  grep -q 'train epoch 2/4' k.out 2>/dev/null && break
  sleep 0.05
done
{
  kill -9 "$pid"
  wait "$pid"
} 2>/dev/null
check "2: killed after epoch 2 was recorded" "grep -q 'train epoch 2/4' k.out && ! grep -q '^summary' k.out"
before=$(sqlite3 k.db "SELECT count(*) FROM bench_phases")
"$GM" bench --resume --db k.db >r.out 2>r.err
rc=$?
check "2: --resume (newest unfinished bench) exits 0" "[ $rc -eq 0 ]" "exit $rc: $(tail -3 r.err)"
check "2: it says where it resumes" "grep -q 'resumes after epoch 2' r.err" "$(cat r.err)"
check "2: the resumed run repeats no recorded phase" \
  "! grep -qE 'train epoch [12]/4' r.out" "$(cat r.out)"
check_db "2: 8 rows, no duplicate, and the same losses as the uninterrupted run" k.db "
want(q('SELECT status FROM benches')[0]['status'] == 'complete', 'status')
rows = q('SELECT kind, epoch, loss, accuracy FROM bench_phases ORDER BY epoch, kind')
want(len(rows) == 8, '%d rows (%s before the resume)' % (len(rows), '$before'))
ref = sqlite3.connect('ref.db')
r2 = ref.execute('SELECT kind, epoch, loss, accuracy FROM bench_phases ORDER BY epoch, kind').fetchall()
want([(r['kind'], r['epoch'], r['loss'], r['accuracy']) for r in rows] == [tuple(x) for x in r2],
     'losses differ from the uninterrupted run: %r vs %r' % ([(r['epoch'], r['loss']) for r in rows], r2))
runs = q('SELECT complete FROM runs WHERE kind=\"bench\" ORDER BY id')
want(len(runs) == 2 and runs[0]['complete'] == 0 and runs[1]['complete'] == 1,
     'the killed run stays incomplete, the resumed one completes: %r' % runs)
"

# ---- 3. SIGINT stops cleanly after the phase in progress -----------------------
"$GM" bench "${long[@]}" --db i.db --run-id int "${grid[@]}" >i.out 2>i.err &
pid=$!
for _ in $(seq 600); do
  grep -q 'train epoch 1/4' i.out 2>/dev/null && break
  sleep 0.05
done
kill -INT "$pid"
wait "$pid"
rc=$?
check "3: SIGINT exits 130" "[ $rc -eq 130 ]" "exit $rc: $(tail -2 i.err)"
check "3: and says how to continue" "grep -q 'greenml bench --resume --run-id int' i.err" "$(cat i.err)"
check_db "3: interrupted, the run closed, rows kept" i.db "
want(q('SELECT status FROM benches')[0]['status'] == 'interrupted', 'status')
want(q('SELECT count(*) AS n FROM bench_phases')[0]['n'] >= 1, 'rows lost')
r = q('SELECT complete, exit_code FROM runs WHERE kind=\"bench\"')
want(r == [{'complete': 1, 'exit_code': 130}], 'run %r' % r)
"
"$GM" bench --resume --run-id int --db i.db >i2.out 2>i2.err
check "3: --resume --run-id completes it" "[ $? -eq 0 ] && [ \"\$(sqlite3 i.db 'SELECT count(*) FROM bench_phases')\" -eq 8 ]" "$(tail -3 i2.err)"
"$GM" bench --resume --run-id int --db i.db >/dev/null 2>i3.err
check "3: resuming a complete bench is refused" "[ $? -eq 64 ] && grep -q 'complete' i3.err"

# ---- 4. short profiling and its prediction error -------------------------------
prof=(--models LeNet --batch-sizes 32 --epochs 3 --limit-batches 150 --idle 0.3s --infer-samples 20000)
"$GM" bench "${grid[@]}" "${prof[@]}" --profile-epochs 0.5 --verify --db p.db --run-id pv --interval 5ms >pv.out 2>pv.err
check "4: --profile-epochs 0.5 --verify exits 0" "[ $? -eq 0 ]" "$(tail -3 pv.err)"
check "4: the prediction error is shown" "grep -qE 'train predicted from 0.5 epoch.*measured .*energy error [-+][0-9.]+ %' pv.out" "$(cat pv.out)"
check_db "4: predictions stored with their errors" p.db "
p = {r['kind']: r for r in q('SELECT * FROM bench_predictions')}
want(sorted(p) == ['infer', 'train'], 'kinds %r' % sorted(p))
t = p.get('train', {})
act = q('SELECT sum(duration_s) AS d, sum(energy_j) AS e FROM bench_phases WHERE kind=\"train\"')[0]
want(close(t.get('actual_duration_s'), act['d']) and close(t.get('actual_energy_j'), act['e']), 'actuals %r' % t)
want(close(t.get('energy_error_rel'), (t['energy_j'] - t['actual_energy_j']) / t['actual_energy_j']), 'error')
want(t.get('target_samples') == 3 * 150 * 32 and t.get('level') == 0.95, 'target %r' % t.get('target_samples'))
want(t.get('energy_lo_j') is not None and t['energy_lo_j'] <= t['energy_j'] <= t['energy_hi_j'], 'interval %r' % t)
want(close(t.get('duration_error_rel'), (t['duration_s'] - t['actual_duration_s']) / t['actual_duration_s']), 'time error %r' % t.get('duration_error_rel'))
"
"$GM" bench "${grid[@]}" "${prof[@]}" --profile-epochs 0.5 --db p.db --run-id po --interval 5ms >po.out 2>po.err
check "4: --profile-epochs alone exits 0" "[ $? -eq 0 ]" "$(tail -3 po.err)"
check_db "4: profile-only measures only the start" p.db "
b = q('SELECT id FROM benches WHERE name=\"po\"')[0]['id']
k = sorted(r['kind'] for r in q('SELECT kind FROM bench_phases WHERE bench_id=?', b))
want(k == ['profile-infer', 'profile-train'], 'phases %r' % k)
tr = q('SELECT samples FROM bench_phases WHERE bench_id=? AND kind=\"profile-train\"', b)[0]
want(75 * 32 <= tr['samples'] < 3 * 150 * 32, 'profiled %r samples, want half an epoch or a little more' % tr['samples'])
p = q('SELECT * FROM bench_predictions WHERE bench_id=?', b)
want(len(p) == 2 and all(x['actual_energy_j'] is None and x['energy_j'] > 0 for x in p), 'predictions %r' % p)
"

# ---- 5. --overhead and --no-meter ------------------------------------------------
small=(--models LeNet --batch-sizes 32 --epochs 1 --limit-batches 5 --idle none)
"$GM" bench "${small[@]}" --overhead --db o.db --run-id ov "${grid[@]}" >ov.out 2>ov.err
check "5: --overhead exits 0 and reports the difference" \
  "[ $? -eq 0 ] && grep -qE '^  train +1 phases: .* s unmeasured, .* s measured: [-+][0-9.]+ %' ov.out" "$(cat ov.out ov.err | tail -8)"
check_db "5: each phase once unmeasured, once measured" o.db "
r = q('SELECT kind, metered, energy_j IS NULL AS noe, run_id IS NULL AS norun FROM bench_phases ORDER BY metered, kind')
want(r == [{'kind': 'infer', 'metered': 0, 'noe': 1, 'norun': 1}, {'kind': 'train', 'metered': 0, 'noe': 1, 'norun': 1},
           {'kind': 'infer', 'metered': 1, 'noe': 0, 'norun': 0}, {'kind': 'train', 'metered': 1, 'noe': 0, 'norun': 0}], 'rows %r' % r)
"
"$GM" bench "${small[@]}" --no-meter --db n.db --run-id nm "${grid[@]}" >nm.out 2>nm.err
check "5: --no-meter exits 0, marks lines unmetered" "[ $? -eq 0 ] && grep -q 'unmetered' nm.out" "$(tail -3 nm.err)"
check "5: --no-meter records no meter run" \
  "[ \"\$(sqlite3 n.db 'SELECT count(*) FROM runs')\" -eq 0 ] && [ \"\$(sqlite3 n.db 'SELECT count(*) FROM bench_phases WHERE metered=0')\" -eq 2 ]"

# ---- 6. bad input ---------------------------------------------------------------
dirs_before=$(ls -d bench-* 2>/dev/null)
bad() { # NAME EXIT REGEX ARGS...
  local name=$1 want=$2 re=$3
  shift 3
  "$GM" bench "$@" >bad.out 2>bad.err
  local rc=$?
  if [ $rc -eq "$want" ] && grep -qE -- "$re" bad.err; then ok "6: $name"; else
    not_ok "6: $name" "exit $rc, stderr: $(head -3 bad.err)"; fi
}
bad "unknown model" 64 "no model 'Nope' in the zoo" --models LeNet,Nope --db b.db
bad "bad batch size" 64 "--batch-sizes: '0' is not a batch size" --batch-sizes 128,0 --db b.db
bad "missing data directory" 66 "no-such-dir" --data no-such-dir --models LeNet --db b.db
mkdir -p trunc && head -c 1000 /dev/zero >trunc/data_batch_1.bin
for f in data_batch_2 data_batch_3 data_batch_4 data_batch_5 test_batch; do cp trunc/data_batch_1.bin "trunc/$f.bin"; done
bad "truncated data" 65 "trunc" --data trunc --models LeNet --db b.db
bad "grid flags with --resume" 64 "only --db and --run-id" --resume --epochs 3 --db b.db
bad "--resume of an unknown bench" 66 "no bench 'nosuch'" --resume --run-id nosuch --db a.db
bad "--verify without a profile" 64 "--verify needs --profile-epochs" --verify --db b.db
bad "a profile as long as the run" 64 "must be below --epochs" --profile-epochs 2 --epochs 2 --db b.db
bad "--no-meter with --overhead" 64 "exclude each other" --no-meter --overhead --db b.db
bad "bad gap" 64 "--gap 'soon'" --gap soon --db b.db
check "6: nothing was measured for bad input" "[ ! -e b.db ] || [ \"\$(sqlite3 b.db 'SELECT count(*) FROM benches')\" -eq 0 ]"
bad "unknown backend" 64 "no backend 'nosuch'" --backend nosuch --models LeNet --data synthetic --db nf.db
bad "--resume without a database" 66 "no unfinished bench in 'nf.db'" --resume --db nf.db
check "6: a bench that fails before running leaves no database and no checkpoint directory" \
  "[ ! -e b.db ] && [ ! -e nf.db ] && [ \"\$(ls -d bench-* 2>/dev/null)\" = \"\$dirs_before\" ]" "$(ls -d bench-*)"

# ---- 7. the same grid on PyTorch (--engine torch) ----------------------------
# The protocol, the meter and the rows are greenml's; PyTorch (Debian's
# python3-torch, in a worker process) computes the steps on the same batches.
SRC=$(cd "$(dirname "$0")/../.." && pwd)
export GREENML_TORCH_WORKER="$SRC/python/greenml/torch_engine.py"
"$GM" bench --engine torch --models lenet,MobileNet --batch-sizes 16 \
  --epochs 2 --limit-batches 3 --idle 0.3s --db t.db --run-id torch \
  --schedule cosine "${grid[@]}" >t.out 2>t.err
rc=$?
check "7: bench --engine torch exits 0" "[ $rc -eq 0 ]" "exit $rc: $(tail -5 t.err)"
check "7: says which engine runs the steps" \
  "grep -qE '^engine: torch [0-9][^ ]* cpu fp32$' t.out" "$(head -3 t.out)"
check_db "7: 8 rows, checked as the C engine's: 50 W x duration on the GPU, steps, samples, cosine rates" t.db '
import json, math
b = q("SELECT * FROM benches")
want(len(b) == 1 and b[0]["status"] == "complete", "bench %r" % b)
cfg = json.loads(b[0]["config_json"]) if b else {}
want(cfg.get("engine") == "torch" and cfg.get("schedule") == "cosine" and cfg.get("device") is None, "config %r" % cfg)
want("--engine" in cfg.get("argv", []), "flags %r" % cfg.get("argv"))
v = json.loads(b[0]["versions_json"]) if b else {}
want(v.get("engine", "").startswith("torch ") and v["engine"].endswith(" cpu fp32"), "versions %r" % v)
m = {r["model"]: r for r in q("SELECT * FROM bench_models")}
want(m.get("LeNet", {}).get("params") == 62006 and m.get("MobileNet", {}).get("params") == 3217226, "models %r" % m)
rows = q("SELECT * FROM bench_phases ORDER BY model, epoch, kind DESC")
want(len(rows) == 8, "%d rows" % len(rows))
for r in rows:
    tag = "%s b%d %s %d" % (r["model"], r["batch_size"], r["kind"], r["epoch"])
    want(r["metered"] == 1 and r["run_id"] is not None, tag + " metered")
    if r["kind"] == "train":
        want(r["steps"] == 3 and r["samples"] == 48, tag + " steps %r" % r["steps"])
        # CosineAnnealingLR(T_max = 2): 0.001, then 0.0005
        want(close(r["lr"], 0.001 * (1 + math.cos(math.pi * (r["epoch"] - 1) / 2)) / 2), tag + " lr %r" % r["lr"])
    else:
        want(r["samples"] == 64 and r["steps"] == 4, tag + " samples %r" % r["samples"])
    want(r["loss"] is not None and 0 < r["loss"] < 10 and 0 <= r["accuracy"] <= 1, tag + " loss/acc")
    want(close(r["samples_per_s"], r["samples"] / r["duration_s"]), tag + " samples/s")
    c = {x["component"]: x for x in q("SELECT * FROM bench_phase_components WHERE model=? AND "
          "batch_size=? AND kind=? AND epoch=?", r["model"], r["batch_size"], r["kind"], r["epoch"])}
    g = c.get("gpu0", {})
    want(g.get("provenance") == "measured" and close(g.get("energy_j"), 50.0 * r["duration_s"]),
         tag + " gpu0 %r J, want 50 W x %r s" % (g.get("energy_j"), r["duration_s"]))
    tot = sum(x["energy_j"] for x in c.values() if x["in_total"])
    want(close(r["energy_j"], tot), tag + " total")
    want(r["provenance"] == "mixed", tag + " provenance")
'
# the same grid on the C engine, into the same database: analyze compares
"$GM" bench --models lenet,MobileNet --batch-sizes 16 --epochs 2 \
  --limit-batches 3 --idle 0.3s --db t.db --run-id c --schedule cosine \
  "${grid[@]}" >tc.out 2>tc.err
rc=$?
check "7: the C engine's bench of the same grid exits 0" "[ $rc -eq 0 ]" \
  "exit $rc: $(tail -3 tc.err)"
"$GM" analyze --db t.db --json >ta.json 2>ta.err
"$GM" analyze --db t.db >ta.out 2>&1
check_db "7: analyze puts the engines side by side, from the rows" t.db '
import json
a = json.load(open("ta.json"))
rows = {(r["model"], r["kind"]): r for r in a["engines"]}
want(sorted(rows) == [("LeNet", "infer"), ("LeNet", "train"), ("MobileNet", "infer"), ("MobileNet", "train")], "rows %r" % sorted(rows))
eng = {b["name"]: b for b in q("SELECT id, name FROM benches")}
for (mo, k), r in rows.items():
    for e, bench in (("greenml", "c"), ("torch", "torch")):
        s = q("SELECT SUM(samples) AS n, SUM(duration_s) AS d, SUM(energy_j) AS e FROM bench_phases WHERE bench_id=? AND model=? AND kind=? AND metered=1", eng[bench]["id"], mo, k)[0]
        want(r[e]["phases"] == 2, "%s %s %s phases %r" % (mo, k, e, r[e]["phases"]))
        want(close(r[e]["samples_per_s"], s["n"] / s["d"]), "%s %s %s samples/s %r vs %r" % (mo, k, e, r[e]["samples_per_s"], s["n"] / s["d"]))
        want(close(r[e]["j_per_sample"], s["e"] / s["n"]), "%s %s %s J/sample" % (mo, k, e))
    want(close(r["speedup"], r["greenml"]["samples_per_s"] / r["torch"]["samples_per_s"]), "speedup")
' 
check "7: analyze prints the comparison" \
  "grep -q '^engines compared: greenml' ta.out && grep -qE '^  MobileNet +16 train ' ta.out" \
  "$(grep -A3 'engines compared' ta.out)"
"$GM" report --db t.db --out tr.html >tr.out 2>tr.err
rc=$?
py_check "7: the report's engine table and Fig. 8 hold analyze's ratios" '
a = json.load(open(args[0]))
t = open(args[1], encoding="utf-8").read()
want("id=\"engines\"" in t, "no engines section")
sec = t[t.index("id=\"engines\""):] if "id=\"engines\"" in t else ""
want(len(re.findall(r"<tr><td>(LeNet|MobileNet)</td>", sec)) == 4, "engine rows")
want("<figure id=\"engines\">" in sec, "no Fig. 8")
dat = {}
for line in open("tr-figures/engines.dat"):
    if not line.startswith("#"):
        f = line.split()
        dat[f[0].strip("\"")] = (float(f[1]), float(f[2]))
for r in a["engines"]:
    key = "%s_b%d_%s" % (r["model"], r["batch_size"], r["kind"])
    want(key in dat and close(dat[key][0], r["speedup"], 1e-5) and close(dat[key][1], r["energy_ratio"], 1e-5), "%s %r vs %r" % (key, dat.get(key), (r["speedup"], r["energy_ratio"])))
' ta.json tr.html
"$GM" bench --engine torch --backend ref --models lenet --batch-sizes 8 \
  --db t2.db "${grid[@]}" >t2.out 2>t2.err
rc=$?
check "7: --engine torch with --backend: exit 64, named" \
  "[ $rc -eq 64 ] && grep -q 'the torch engine takes a device' t2.err" "exit $rc: $(cat t2.err)"
"$GM" bench --engine torch --device cuda --models lenet --batch-sizes 8 \
  --db t3.db "${grid[@]}" >t3.out 2>t3.err
rc=$?
check "7: --device cuda without a CUDA device: exit 69, said, nothing written" \
  "[ $rc -eq 69 ] && grep -q 'PyTorch sees no CUDA device' t3.err && [ ! -e t3.db ]" \
  "exit $rc: $(tail -3 t3.err)"
GREENML_PYTHON=$work/nopython "$GM" bench --engine torch --models lenet \
  --batch-sizes 8 --db t4.db "${grid[@]}" >t4.out 2>t4.err
rc=$?
check "7: no interpreter: exit 69 with the fix, nothing written" \
  "[ $rc -eq 69 ] && grep -q 'needs python3 with torch' t4.err && [ ! -e t4.db ]" \
  "exit $rc: $(tail -3 t4.err)"
"$GM" bench --engine pytorch --models lenet --db t5.db "${grid[@]}" >t5.out 2>t5.err
rc=$?
check "7: --engine pytorch is a usage error (64)" \
  "[ $rc -eq 64 ] && grep -q \"'pytorch' must be greenml\" t5.err" "exit $rc"
unset GREENML_TORCH_WORKER

tap_done
