#!/usr/bin/env bash
# `greenml analyze`, `estimate` and `export` on a real database: a tiny grid
# measured by `greenml bench` on generated data (a fake GPU at a constant
# 50 W through the fake libnvidia-ml.so.1, the CPU and DRAM models), then
# every figure of the three commands checked against the database with
# Python: correlations recomputed, intervals that hold their value, carbon
# and cost equal to energy / 3.6e6 x PUE x intensity (x price), row counts
# of the exports, and bad input.
# usage: analysis_scenarios.sh GREENML FAKE_NVML_LIB
set -u
GM=$(readlink -f "$1")
FAKE_NVML=$(readlink -f "$2")
. "$(dirname "$0")/lib.sh"
workdir
export OMP_WAIT_POLICY=PASSIVE GREENML_SYSFS="$work/sys" GREENML_DEVFS="$work/dev"
unset GREENML_MARK GREENML_PROCFS GREENML_FAKE_NVML_INIT
mkdir -p sys dev
# check_py NAME PYTHON: PYTHON runs with `db` (a.db) and q(sql) (rows as
# dicts), load(path) (a JSON file), a stricter close(a, b), pearson(x, y)
# and ranks(v) besides py_check's helpers.
HELPERS='db = connect("a.db")
def q(sql, *a):
    return [dict(r) for r in db.execute(sql, a)]
def load(path):
    with open(path) as f:
        return json.load(f)
def close(a, b, rel=1e-9, ab=1e-12):
    return a is not None and b is not None and abs(a - b) <= ab + rel * abs(b)
def pearson(x, y):
    n = len(x); mx = sum(x) / n; my = sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x); syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy)
def ranks(v):  # ties take the average of the ranks they span
    order = sorted(range(len(v)), key=lambda i: v[i]); r = [0.0] * len(v); i = 0
    while i < len(v):
        j = i
        while j + 1 < len(v) and v[order[j + 1]] == v[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return r
'
check_py() { py_check "$1" "$HELPERS$2"; }

cat >nvml.script <<'EOF'
driver 550.54.15
nvml 12.550.54.15
gpu name="Tesla P100-PCIE-16GB" arch=4 power_mw=50000 util=10 mem_util=5 temp=40
EOF
export GREENML_NVML_LIB="$FAKE_NVML" GREENML_FAKE_NVML_SCRIPT="$work/nvml.script"

# ---- 0. the database: 4 models x 2 batch sizes x 3 epochs -------------------
# The bench's name holds a comma and quotes: the CSV export must quote it.
name='tiny,"grid"'
"$GM" bench --models LeNet,MobileNet,ShuffleNetV2,EfficientNetB0 \
  --limit-batches 2 --infer-samples 256 --epochs 3 --batch-sizes 32,16 \
  --gap 0 --idle 0.3s --interval 20ms --data synthetic --threads 1 \
  --db a.db --run-id "$name" >bench.out 2>bench.err
rc=$?
check "0: bench builds the database" "[ $rc -eq 0 ]" "exit $rc: $(tail -3 bench.err)"
cost=(--carbon-intensity 250 --pue 1.2 --price 0.3 --currency USD)

# ---- 1. analyze ----------------------------------------------------------------
"$GM" analyze --db a.db "${cost[@]}" >an.txt 2>an.err
check "1: analyze exits 0" "[ $? -eq 0 ]" "$(cat an.err)"
check "1: a summary row per model, batch and kind" \
  "[ \"\$(grep -cE '^(LeNet|MobileNet|ShuffleNetV2|EfficientNetB0) +(32|16) fp32 +(train|infer) ' an.txt)\" -eq 16 ]" "$(head -30 an.txt)"
check "1: the summary has carbon and cost columns" \
  "grep -qE '^model .* carbon .* cost ' an.txt && grep -qE 'g CO2e +[0-9.e-]+ USD' an.txt" "$(grep -m3 -E 'model|LeNet' an.txt)"
check "1: the cost factors are stated" "grep -q 'carbon 250 gCO2e/kWh (--carbon-intensity), PUE 1.2; price 0.3 USD/kWh' an.txt"
check "1: correlations for both kinds" \
  "grep -qE '^train +energy \\(J\\) +time \\(s\\) +phases +24 ' an.txt && grep -qE '^infer +energy per sample \\(J\\) +MACs/param +cells +8 ' an.txt" \
  "$(grep -m4 -E '^(train|infer) ' an.txt)"
check "1: each claim has its threshold" \
  "grep -q 'energy is linear in time (paper: r ~ 0.99; agrees when r >= 0.95 and p < 0.05)' an.txt && grep -q 'agrees when Spearman rho >= 0.7 and p < 0.05' an.txt"
check "1: a verdict line per claim and kind, with n and provenance" \
  "[ \"\$(grep -cE '^    (train|infer|train/infer): .*(: (agrees|does not agree|inconclusive)|cannot test: .*) \\[(energy|time)' an.txt)\" -eq 11 ]" \
  "$(grep -E '^    ' an.txt)"
check "1: the linear-time verdict names n, r and the mixed provenance" \
  "grep -qE '^    train: r = [0-9.-]+, p = [0-9.e+-]+, n = 24 phases \\(paper r ~ 0.99\\): (agrees|does not agree|inconclusive) \\[energy mixed: gpu0 measured; (dram, cpu|cpu, dram) modelled\\]' an.txt" \
  "$(grep -A2 'linear in time' an.txt)"
check "1: a constant GPU utilisation cannot be tested, and says why" \
  "grep -qE '^    train: cannot test: GPU utilisation \\(%\\) is the same \\(10\\) for all 24 phases' an.txt" "$(grep -A2 'GPU utilisation (paper' an.txt)"
"$GM" analyze --db a.db --json "${cost[@]}" >an.json 2>an.err
check "1: analyze --json exits 0" "[ $? -eq 0 ]" "$(cat an.err)"
check_py "1: the JSON holds the summary, correlations and claims" '
a = load("an.json")
want(a["energy"] == "gross" and a["cost"]["pue"] == 1.2 and a["cost"]["carbon_g_per_kwh"] == 250, "header %r" % a["cost"])
want(len(a["benches"]) == 1 and a["benches"][0]["name"] == "tiny,\"grid\"" and a["benches"][0]["phases"] == 48, "benches %r" % a["benches"])
rows = a["summary"][0]["rows"]
want(len(rows) == 16, "%d summary rows" % len(rows))
for r in rows:
    dbr = q("SELECT sum(energy_j) AS e, sum(samples) AS s, count(*) AS n FROM bench_phases WHERE model=? AND batch_size=? AND kind=?", r["model"], r["batch_size"], r["kind"])[0]
    want(close(r["energy_j"], dbr["e"]) and r["samples"] == dbr["s"] and r["phases"] == dbr["n"] == 3, "row %r vs %r" % (r, dbr))
    want(close(r["carbon_g"], r["energy_j"] / 3.6e6 * 1.2 * 250), "carbon %r" % r)
    want(close(r["cost"], r["energy_j"] / 3.6e6 * 1.2 * 0.3), "cost %r" % r)
    want(r["provenance"] == "mixed", "provenance %r" % r["provenance"])
tot = a["summary"][0]["total"]
want(close(tot["energy_j"], q("SELECT sum(energy_j) AS e FROM bench_phases")[0]["e"]), "total %r" % tot)
cs = a["correlations"]
want(len(cs) == 18, "%d correlations" % len(cs))
for c in cs:
    if c["testable"]:
        for k in ("pearson", "spearman"):
            want(-1 <= c[k]["coefficient"] <= 1 and 0 <= c[k]["p"] <= 1 and c[k]["n"] == c["n"] >= 3, "corr %r" % c)
    else:
        want(c["why"] and c["pearson"] is None, "untestable %r" % c)
gpu = [c for c in cs if c["x"] == "gpu_util_pct" and c["points"] == "phases"]
want(all(not c["testable"] and "the same (10)" in c["why"] for c in gpu), "gpu %r" % gpu)
# energy against time, recomputed from the database
for kind in ("train", "infer"):
    ph = q("SELECT duration_s, energy_j FROM bench_phases WHERE kind=? AND metered=1", kind)
    r = pearson([p["duration_s"] for p in ph], [p["energy_j"] for p in ph])
    c = [c for c in cs if c["kind"] == kind and c["x"] == "duration_s"][0]
    want(c["n"] == 24 and close(c["pearson"]["coefficient"], r, 1e-9, 1e-12), "%s r %r vs %r" % (kind, c["pearson"], r))
cl = a["claims"]
want(len(cl) == 11, "%d claims" % len(cl))
want(sorted({c["claim"] for c in cl}) == ["batch_size", "gpu_util_power", "linear_time", "macs", "macs_per_param", "train_3x_infer"], "claims %r" % [c["claim"] for c in cl])
for c in cl:
    want(c["verdict"] in ("agrees", "does not agree", "inconclusive", "cannot test"), "verdict %r" % c)
    want(c["threshold"] and c["paper"] and c["provenance"], "claim fields %r" % c)
    want(c["verdict"] != "cannot test" or c["note"], "untestable without a reason %r" % c)
# energy per sample against MACs/param: Spearman with average ranks, recomputed
for kind in ("train", "infer"):
    c = [c for c in cl if c["claim"] == "macs_per_param" and c["kind"] == kind][0]
    cells = q("SELECT m.macs_per_param AS x, sum(p.energy_j) / sum(p.samples) AS y FROM bench_phases p JOIN bench_models m USING (bench_id, model) WHERE p.kind=? AND p.batch_size=? GROUP BY p.model", kind, c["batch_size"])
    rho = pearson(ranks([x["x"] for x in cells]), ranks([x["y"] for x in cells]))
    want(c["n"] == 4 and c["batch_size"] == 32 and close(c["value"], rho, 1e-9, 1e-12), "%s rho %r vs %r" % (kind, c["value"], rho))
    want((c["verdict"] == "agrees") == (c["value"] >= 0.7 and c["p"] < 0.05), "verdict against its threshold %r" % c)
t3 = [c for c in cl if c["claim"] == "train_3x_infer"][0]
want(t3["n"] == 8 and t3["min"] <= t3["value"] <= t3["max"], "train/infer %r" % t3)
want((t3["verdict"] == "agrees") == (2 <= t3["value"] <= 4), "train/infer verdict %r" % t3)
'
"$GM" analyze --db a.db --run 1 --json >an1.json 2>/dev/null
check_py "1: --run by id selects the bench" 'a = load("an1.json"); want(len(a["benches"]) == 1 and a["benches"][0]["id"] == 1, "benches %r" % a["benches"])'

# ---- 2. estimate --------------------------------------------------------------
"$GM" estimate --db a.db --model MobileNet --epochs 3 --batch-size 32 "${cost[@]}" >est.txt 2>est.err
check "2: estimate (training) exits 0" "[ $? -eq 0 ]" "$(cat est.err)"
check "2: both methods, intervals and errors are printed" \
  "grep -q '^(a) short profile extrapolated: MobileNet.s 3 measured train phases at batch 32' est.txt && grep -q '^(b) regression across models: ln(J/sample)' est.txt && [ \"\$(grep -cE '95 % prediction interval|no interval: ' est.txt)\" -ge 8 ] && grep -q 'leave-one-phase-out, energy: MAPE' est.txt && grep -q 'leave-one-model-out, energy per sample: MAPE' est.txt" \
  "$(cat est.txt)"
check "2: with units and provenance" \
  "grep -qE '^    energy +[0-9.]+ (J|kJ|MJ) ' est.txt && grep -qE '^    time +[0-9.]+ (s|min|h)' est.txt && grep -qE '^    carbon +[0-9.e+-]+ (g|kg) CO2e' est.txt && grep -qE '^    cost +[0-9.e+-]+ USD' est.txt && grep -q 'energy mixed: gpu0 measured' est.txt"
"$GM" estimate --db a.db --model MobileNet --epochs 3 --batch-size 32 --json "${cost[@]}" >est.json 2>est.err
check "2: estimate --json exits 0" "[ $? -eq 0 ]" "$(cat est.err)"
check_py "2: the JSON estimate: values inside their intervals, errors, carbon and cost" '
e = load("est.json")
want(e["model"] == "MobileNet" and e["kind"] == "train" and e["samples"] == 150000 and e["batch_size"] == 32 and e["level"] == 0.95, "header %r" % {k: e[k] for k in ("model", "kind", "samples", "batch_size")})
a, b = e["profile"], e["regression"]
want(a["ok"] and b["ok"], "ok %r %r" % (a["why"], b["why"]))
for m, keys in ((a, ("energy_j", "duration_s", "carbon_g", "cost")), (b, ("energy_j", "duration_s", "j_per_sample", "s_per_sample", "carbon_g", "cost"))):
    for k in keys:
        v = m[k]
        # an interval, or none with the reason the data cannot support one
        want((v["lo"] is not None and v["lo"] <= v["value"] <= v["hi"] and v["no_interval"] is None) or (v["lo"] is None and v["hi"] is None and v["no_interval"]), "%s %r" % (k, v))
    want(close(m["carbon_g"]["value"], m["energy_j"]["value"] / 3.6e6 * 1.2 * 250), "carbon %r" % m["carbon_g"])
    want(close(m["cost"]["value"], m["energy_j"]["value"] / 3.6e6 * 1.2 * 0.3), "cost %r" % m["cost"])
    want(m["provenance"] == "mixed" and "gpu0 measured" in m["provenance_detail"], "provenance %r" % m["provenance_detail"])
    for k in ("loo_energy", "loo_time"):
        l = m[k]
        want(l["ok"] and l["mape_pct"] >= 0 and 0 <= l["coverage"] <= 1 and l["worst"] and len(l["points"]) == l["n"], "%s %r" % (k, l))
want(a["phases"] == 3 and a["loo_energy"]["n"] == 3, "profile phases %r" % a["phases"])
want(b["models"] == 4 and b["model_measured"] and b["loo_energy"]["n"] == 4, "regression models %r" % b["models"])
# (a) recomputed: the slope through the origin of energy on samples
ph = q("SELECT samples, energy_j FROM bench_phases WHERE model=\"MobileNet\" AND batch_size=32 AND kind=\"train\"")
slope = sum(p["samples"] * p["energy_j"] for p in ph) / sum(p["samples"] ** 2 for p in ph)
want(close(a["energy_j"]["value"], slope * 150000, 1e-9), "profile %r vs %r" % (a["energy_j"]["value"], slope * 150000))
want(close(b["macs_per_param"], q("SELECT macs_per_param AS m FROM bench_models WHERE model=\"MobileNet\"")[0]["m"], 1e-12), "mpp %r" % b["macs_per_param"])
want(b["loo_linear_mape_pct"] is not None, "linear comparison")
want(b["loo_macs_mape_pct"] is not None and b["loo_macs_mape_pct"] >= 0, "MACs comparison %r" % b.get("loo_macs_mape_pct"))
'
"$GM" estimate --db a.db --model resnet18 --samples 10000 --json >est2.json 2>est2.err
check "2: an unmeasured model is estimated across models (exit 0)" "[ $? -eq 0 ]" "$(cat est2.err)"
check_py "2: its profile method says what is missing" '
e = load("est2.json")
want(e["model"] == "ResNet18" and e["kind"] == "infer" and e["batch_size_chosen"], "header %r" % e["model"])
want(not e["profile"]["ok"] and "ResNet18 has no measured infer phase" in e["profile"]["why"], "profile %r" % e["profile"]["why"])
r = e["regression"]
v = r["energy_j"]
want(r["ok"] and not r["model_measured"] and v["value"] > 0, "regression %r" % v)
# four models: an interval within 10x of the value, or none and why
want((v["lo"] is not None and v["lo"] <= v["value"] <= v["hi"] and v["hi"] <= 10 * v["value"]) or (v["lo"] is None and ("freedom" in v["no_interval"] or "scatter" in v["no_interval"])), "interval %r" % v)
want(e["profile"]["cost"]["value"] is None and r["cost"]["value"] is None, "no --price: no cost")
'

# ---- 3. export -------------------------------------------------------------------
"$GM" export --db a.db --format csv "${cost[@]}" >ph.csv 2>ex.err
check "3: export phases as CSV to stdout" "[ $? -eq 0 ]" "$(cat ex.err)"
"$GM" export --db a.db --format json --what phases "${cost[@]}" >ph.json 2>ex.err
check "3: export phases as JSON" "[ $? -eq 0 ]" "$(cat ex.err)"
"$GM" export --db a.db --format json --what all --out out "${cost[@]}" 2>ex.err
check "3: --what all --out DIR writes both tables" \
  "[ $? -eq 0 ] && [ -s out/phases.json ] && [ -s out/samples.json ] && grep -q 'samples rows -> out/samples.json' ex.err" "$(cat ex.err)"
"$GM" export --db a.db --format csv --what samples --out out 2>ex.err
check "3: export samples as CSV" "[ $? -eq 0 ] && [ -s out/samples.csv ]" "$(cat ex.err)"
check_py "3: the phase table: one row per phase, units in names, carbon and cost" '
rows = list(csv.DictReader(open("ph.csv", newline="")))
js = load("ph.json")
n = q("SELECT count(*) AS n FROM bench_phases")[0]["n"]
want(len(rows) == n == len(js) == 48, "rows %d csv, %d json, %d db" % (len(rows), len(js), n))
want(list(rows[0].keys()) == list(js[0].keys()), "csv and json columns differ")
cols = set(rows[0])
for c in ("bench", "model", "batch_size", "kind", "epoch", "duration_s", "samples", "energy_j", "net_energy_j", "j_per_sample",
          "avg_power_w", "provenance", "cpu_util_pct", "gpu_util_pct", "dram_used_bytes", "params", "macs", "macs_per_param",
          "energy_cpu_j", "energy_dram_j", "energy_gpu0_j", "net_energy_gpu0_j", "avg_power_gpu0_w", "provenance_gpu0",
          "carbon_intensity_g_per_kwh", "pue", "carbon_g", "carbon_net_g", "price_per_kwh", "cost_usd", "cost_net_usd"):
    want(c in cols, "no column " + c)
want(rows[0]["bench"] == "tiny,\"grid\"", "quoted bench name %r" % rows[0]["bench"])
for r, j in zip(rows, js):
    e = float(r["energy_j"])
    want(close(e, j["energy_j"], 1e-15), "csv/json energy")
    want(close(float(r["carbon_g"]), e / 3.6e6 * 1.2 * 250), "carbon %r" % r["carbon_g"])
    want(close(float(r["cost_usd"]), e / 3.6e6 * 1.2 * 0.3), "cost %r" % r["cost_usd"])
    parts = sum(float(r["energy_%s_j" % c]) for c in ("cpu", "dram", "gpu0"))
    want(close(parts, e, 1e-9, 1e-9), "components %r vs %r" % (parts, e))
    want(r["provenance_gpu0"] == "measured" and r["provenance_cpu"] == "modelled", "provenance")
    want(j["gpu_util_pct"] == 10 and (j["lr"] is None) == (j["kind"] == "infer"), "json values %r" % j)
want(set(r["kind"] for r in rows) == {"train", "infer"}, "kinds")
'
check_py "3: the time series: one row per tick of every bench run" '
n = q("SELECT count(*) AS n FROM (SELECT DISTINCT run_id, seq FROM samples WHERE run_id IN (SELECT run_id FROM bench_phases))")[0]["n"]
rows = list(csv.DictReader(open("out/samples.csv", newline="")))
js = load("out/samples.json")
want(len(rows) == n == len(js) and n > 0, "rows %d csv, %d json, %d db" % (len(rows), len(js), n))
cols = set(rows[0])
for c in ("run_id", "model", "batch_size", "seq", "t_s", "phase_kind", "phase_epoch", "energy_cpu_j", "power_cpu_w",
          "energy_gpu0_j", "power_gpu0_w", "cpu_util_pct", "mem_used_bytes", "gpu0_util_pct", "gpu0_vram_used_bytes"):
    want(c in cols, "no column " + c)
want(len({r["run_id"] for r in rows}) == 8, "runs %r" % {r["run_id"] for r in rows})
last = {}
for r in rows:
    k = r["run_id"]; t = float(r["t_s"]); e = float(r["energy_gpu0_j"])
    if k in last:
        want(t > last[k][0] and e >= last[k][1], "time or energy goes back in run %s" % k)
    last[k] = (t, e)
want(any(r["phase_kind"] == "train" for r in rows) and any(r["phase_kind"] == "infer" for r in rows), "phases not located")
g = [float(r["power_gpu0_w"]) for r in rows if r["power_gpu0_w"]]
want(g and all(abs(p - 50) < 1e-6 for p in g), "gpu power %r" % g[:3])
'

# ---- 3b. net energy at or below zero ------------------------------------------------
# A copy of the database where every phase has a positive net energy except
# LeNet's training epochs (6 phases), below idle: --net leaves them out and
# counts them, never averaging a negative energy or power; --gross uses all.
cp a.db n.db
sqlite3 n.db "UPDATE bench_phases SET net_energy_j = energy_j / 2;
              UPDATE bench_phases SET net_energy_j = -1 WHERE model = 'LeNet' AND kind = 'train';"
"$GM" analyze --db n.db --net --json >net.json 2>net.err
check "3b: analyze --net on negative nets exits 0" "[ $? -eq 0 ]" "$(cat net.err)"
check_py "3b: --net leaves out the 6 phases below idle and counts them" '
a = load("net.json")
want(a["energy"] == "net" and a["net_excluded"] == {"no_net": 0, "not_positive": 6}, "header %r" % a.get("net_excluded"))
s = a["summary"][0]
want(s["net_excluded"] == {"no_net": 0, "not_positive": 6}, "summary %r" % s.get("net_excluded"))
rows = s["rows"]
want(len(rows) == 14 and not any(r["model"] == "LeNet" and r["kind"] == "train" for r in rows), "%d rows" % len(rows))
want(all(r["energy_j"] > 0 and r["avg_power_w"] > 0 and r["j_per_sample"] > 0 for r in rows), "a row at or below 0")
nd = connect("n.db")
for r in rows:
    e = nd.execute("SELECT sum(net_energy_j) FROM bench_phases WHERE model=? AND batch_size=? AND kind=?", (r["model"], r["batch_size"], r["kind"])).fetchone()[0]
    want(close(r["energy_j"], e), "row %r vs %r" % (r, e))
lin = [c for c in a["correlations"] if c["kind"] == "train" and c["x"] == "duration_s"][0]
want(lin["n"] == 18, "linear-time points %r" % lin["n"])
'
"$GM" analyze --db n.db --net >net.txt 2>net.err
check "3b: the text says what --net leaves out and why" \
  "grep -q '^the correlations and claims leave out 6 phases whose net energy is not above 0 (at or below the idle baseline, which no work is: the baseline does not describe them); --gross uses every phase\$' net.txt && grep -q '^this summary leaves out 6 phases whose net energy is not above 0' net.txt" \
  "$(grep -m3 'leave' net.txt)"
"$GM" analyze --db n.db --gross --json >gross.json 2>net.err
check "3b: analyze --gross exits 0" "[ $? -eq 0 ]" "$(cat net.err)"
check_py "3b: --gross uses every phase" '
a = load("gross.json")
want(a["energy"] == "gross" and a["net_excluded"] is None and len(a["summary"][0]["rows"]) == 16, "gross %r" % a.get("net_excluded"))
'

# ---- 4. bad input ------------------------------------------------------------------
bad() { # NAME EXIT REGEX ARGS...
  local name=$1 want=$2 re=$3
  shift 3
  "$GM" "$@" >bad.out 2>bad.err
  local rc=$?
  if [ $rc -eq "$want" ] && grep -qE -- "$re" bad.err; then ok "4: $name"; else
    not_ok "4: $name" "exit $rc, stderr: $(head -3 bad.err)"; fi
}
bad "analyze: a missing database" 66 "no database at 'nope.db'.*greenml bench --db nope.db" analyze --db nope.db
check "4: ... is not created" "[ ! -e nope.db ]"
# a database with one measured run and no bench (runs only reads: it would
# not create one)
"$GM" measure --db empty.db --quiet -- true >/dev/null 2>&1
bad "analyze: a database without benches names the fix" 65 "'empty.db' holds no bench: run one first, e.g. 'greenml bench --db empty.db" analyze --db empty.db
bad "estimate: a database without benches" 65 "holds no bench" estimate --db empty.db --model LeNet --epochs 1
bad "export: a database without benches" 65 "holds no bench" export --db empty.db
bad "analyze: an unknown bench" 66 "no bench named 'other'" analyze --db a.db --run other
bad "estimate: an unknown model" 64 "no model 'NoSuchNet' in the zoo" estimate --db a.db --model NoSuchNet --epochs 1
bad "estimate: neither --epochs nor --samples" 64 "either --epochs N .* or --samples S" estimate --db a.db --model LeNet
bad "estimate: both" 64 "either --epochs" estimate --db a.db --model LeNet --epochs 1 --samples 5
bad "estimate: no --model" 64 "--model M is required" estimate --db a.db --epochs 1
bad "estimate: a bad batch size" 64 "--batch-size '0'" estimate --db a.db --model LeNet --epochs 1 --batch-size 0
bad "export: a bad --format" 64 "--format 'xml' must be csv or json" export --db a.db --format xml
bad "export: a bad --what" 64 "--what 'runs'" export --db a.db --what runs
bad "export: two tables to stdout" 64 "--what all writes two tables" export --db a.db --what all
bad "analyze: a bad --pue" 64 "--pue '0.5'" analyze --db a.db --pue 0.5
bad "analyze: an unknown --region" 64 "--region 'XX'" analyze --db a.db --region XX
bad "analyze: a stray argument" 64 "unexpected argument 'x'" analyze --db a.db x
bad "analyze: --net and --gross" 64 "--net and --gross cannot be used together" analyze --db a.db --net --gross

tap_done
