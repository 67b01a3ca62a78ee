#!/usr/bin/env bash
# Numerical precision from the command line, on generated data: train and
# infer in bf16 (the engine named with it, the checkpoint recording it, a
# resume in the other precision refused), bench --precisions fp32,bf16 (a
# row per precision, analyze's precision column and its comparison), the
# refusals: an unknown precision (64, naming the accepted ones), a backend
# that does not compute in bf16 on this processor (oneDNN told to use AVX2
# alone: 64, naming the one that does, and the default falls back to ref),
# a --cell joining a bench started with another precision list.
# usage: precision_scenarios.sh GREENML
set -u
GM=$(readlink -f "$1")
. "$(dirname "$0")/lib.sh"
workdir
export GREENML_NVML_LIB=/nonexistent/libnvidia-ml.so.1 OMP_WAIT_POLICY=PASSIVE
check_db() {
  py_check "$1" "db = connect(args[0])
def q(sql, *a):
    return [dict(r) for r in db.execute(sql, a)]
$3" "$2"
}

common=(--model LeNet --data synthetic --batch-size 16 --limit-batches 4)

# 1. train in bf16 on the ref backend
"$GM" train "${common[@]}" --precision bf16 --backend ref --checkpoint b.ckpt \
  >train.out 2>train.err
rc=$?
check "1: train --precision bf16 --backend ref exits 0" "[ $rc -eq 0 ]" \
  "exit $rc: $(tail -3 train.err)"
check "1: the engine is named with its precision" \
  "grep -q '^model LeNet, engine greenml ref bf16,' train.out" "$(head -2 train.out)"
check "1: an epoch line with a finite loss" \
  "grep -qE '^epoch 1/1: loss [0-9]+\.[0-9]+, ' train.out" "$(cat train.out)"
check "1: the checkpoint records the precision" "grep -qx 'precision bf16' b.ckpt.config" \
  "$(cat b.ckpt.config)"
"$GM" train "${common[@]}" --precision fp32 --epochs 2 --checkpoint b.ckpt --resume \
  >resume.out 2>resume.err
rc=$?
check "1: resuming it in fp32: exit 64, the difference named" \
  "[ $rc -eq 64 ] && grep -q 'precision bf16 (here fp32)' resume.err" "exit $rc: $(cat resume.err)"
"$GM" train "${common[@]}" --precision bf16 --epochs 2 --checkpoint b.ckpt --resume \
  >resume2.out 2>resume2.err
rc=$?
check "1: resuming it in bf16 runs epoch 2" \
  "[ $rc -eq 0 ] && grep -q '^epoch 2/2: loss' resume2.out" "exit $rc: $(tail -3 resume2.err)"

# 2. the default picks the fastest backend that computes in bf16 (oneDNN
# where this build has it), and fp32 differs
best=ref
"$GM" train "${common[@]}" --backend onednn --limit-batches 1 --checkpoint o1.ckpt \
  >/dev/null 2>&1 && best=onednn
"$GM" train "${common[@]}" --precision bf16 --checkpoint d.ckpt >d.out 2>d.err
rc=$?
check "2: bf16 without --backend runs on the fastest backend that has it ($best)" \
  "[ $rc -eq 0 ] && grep -q 'engine greenml $best bf16' d.out" "exit $rc: $(cat d.out d.err)"
"$GM" train "${common[@]}" --backend "$best" --checkpoint f.ckpt >f.out 2>f.err
check "2: fp32 is named fp32" "grep -q 'engine greenml $best fp32' f.out" "$(cat f.out)"
check "2: bf16 and fp32 weights differ (same seed, same batches)" "[ -s d.ckpt ] && [ -s f.ckpt ] && ! cmp -s d.ckpt f.ckpt"
"$GM" infer --model LeNet --data synthetic --weights d.ckpt --precision bf16 \
  --samples 64 --batch-size 32 >i.out 2>i.err
rc=$?
check "2: infer --precision bf16 exits 0 and says so" \
  "[ $rc -eq 0 ] && grep -q 'engine greenml $best bf16' i.out && grep -q '^accuracy ' i.out" \
  "exit $rc: $(cat i.out i.err)"

# 3. refusals
"$GM" train "${common[@]}" --precision fp16 >bad.out 2>bad.err
rc=$?
check "3: --precision fp16: exit 64, the accepted values named" \
  "[ $rc -eq 64 ] && grep -q \"precision 'fp16' must be one of fp32, bf16\" bad.err" \
  "exit $rc: $(cat bad.err)"
"$GM" infer --model LeNet --precision half >bad2.out 2>bad2.err
rc=$?
check "3: infer --precision half: exit 64" "[ $rc -eq 64 ] && grep -q 'fp32, bf16' bad2.err" \
  "exit $rc: $(cat bad2.err)"
# a processor without the instruction set of oneDNN's bf16 kernels: oneDNN
# limited to AVX2 (its own setting), the same binary
if [ "$best" = onednn ]; then
  ONEDNN_MAX_CPU_ISA=AVX2 "$GM" train "${common[@]}" --backend onednn --precision bf16 \
    --checkpoint o.ckpt >o.out 2>o.err
  rc=$?
  check "3: AVX2 only, --backend onednn --precision bf16: exit 64, the reason and the backends that do named" \
    "[ $rc -eq 64 ] && grep -q \"backend 'onednn' does not compute in bf16 on this processor (its kernels need an instruction set it lacks) (backends that do: ref)\" o.err" \
    "exit $rc: $(cat o.err)"
  ONEDNN_MAX_CPU_ISA=AVX2 "$GM" train "${common[@]}" --precision bf16 --checkpoint o2.ckpt \
    >o2.out 2>o2.err
  rc=$?
  check "3: AVX2 only, bf16 without --backend falls back to ref" \
    "[ $rc -eq 0 ] && grep -q 'engine greenml ref bf16' o2.out" "exit $rc: $(cat o2.out o2.err)"
  ONEDNN_MAX_CPU_ISA=AVX2 "$GM" train "${common[@]}" --backend onednn --checkpoint o3.ckpt \
    >o3.out 2>o3.err
  rc=$?
  check "3: AVX2 only, fp32 still runs on oneDNN" \
    "[ $rc -eq 0 ] && grep -q 'engine greenml onednn fp32' o3.out" "exit $rc: $(cat o3.out o3.err)"
fi
"$GM" bench --models lenet --precisions fp32,fp16 --db bad.db >bb.out 2>bb.err
rc=$?
check "3: bench --precisions fp32,fp16: exit 64, named" \
  "[ $rc -eq 64 ] && grep -q \"'fp16' is not one of fp32, bf16\" bb.err" "exit $rc: $(cat bb.err)"
"$GM" bench --models lenet --precisions bf16,bf16 --db bad.db >bb2.out 2>bb2.err
rc=$?
check "3: a precision listed twice: exit 64" "[ $rc -eq 64 ] && grep -q 'listed twice' bb2.err" \
  "exit $rc: $(cat bb2.err)"

# 4. a tiny grid in both precisions
grid=(--models lenet --batch-sizes 16 --epochs 1 --limit-batches 3 --infer-samples 64
  --data synthetic --idle none --gap 0 --interval 10ms)
"$GM" bench "${grid[@]}" --precisions fp32,bf16 --db p.db --run-id both >bench.out 2>bench.err
rc=$?
check "4: bench --precisions fp32,bf16 exits 0" "[ $rc -eq 0 ]" "exit $rc: $(tail -5 bench.err)"
check "4: the grid is 1 x 1 x 2 precisions" "grep -q '1 model(s) x 1 batch size(s) x 2 precision(s)' bench.out" \
  "$(head -3 bench.out)"
check_db "4: a train and an infer row per precision, the same keys otherwise" p.db '
import json
rows = q("SELECT * FROM bench_phases ORDER BY rowid")
want(len(rows) == 4, "%d rows" % len(rows))
keys = sorted((r["precision"], r["kind"]) for r in rows)
want(keys == [("bf16", "infer"), ("bf16", "train"), ("fp32", "infer"), ("fp32", "train")], "keys %r" % keys)
want(all(r["model"] == "LeNet" and r["batch_size"] == 16 and r["epoch"] == 1 for r in rows), "rows %r" % rows)
want([r["precision"] for r in rows] == ["fp32", "fp32", "bf16", "bf16"], "order %r" % [r["precision"] for r in rows])
comps = q("SELECT DISTINCT precision FROM bench_phase_components ORDER BY precision")
want([c["precision"] for c in comps] == ["bf16", "fp32"], "components %r" % comps)
b = q("SELECT * FROM benches")[0]
cfg = json.loads(b["config_json"])
want(cfg.get("precisions") == ["fp32", "bf16"], "config %r" % cfg.get("precisions"))
v = json.loads(b["versions_json"])
want(v.get("engine", "").endswith(" bf16") and " fp32" in v.get("engine", ""), "versions %r" % v.get("engine"))
tags = [json.loads(r["tags_json"]) for r in q("SELECT tags_json FROM runs WHERE kind=\"bench\" ORDER BY id")]
want([t.get("precision") for t in tags] == ["fp32", "bf16"], "run tags %r" % tags)
# what computed each cell: oneDNN names the precision of its kernels, ref its emulation
k = [t.get("kernels", "") for t in tags]
want(("fp32 convolution" in k[0] or "(ref; sums" in k[0]) and ("bf16 convolution" in k[1] or "bf16 rounding emulated" in k[1]), "kernels %r" % k)
pk = [json.loads(r["tags_json"]).get("kernels") for r in rows]
want(pk == [k[0], k[0], k[1], k[1]], "phase kernels %r" % pk)
'
"$GM" analyze --db p.db >an.out 2>an.err
rc=$?
check "4: analyze exits 0" "[ $rc -eq 0 ]" "exit $rc: $(cat an.err)"
check "4: analyze's summary has a precision column with both" \
  "grep -q 'batch precision kind' an.out && grep -qE '^LeNet +16 fp32 +train' an.out && grep -qE '^LeNet +16 bf16 +train' an.out" \
  "$(cat an.out)"
check "4: analyze compares the precisions" \
  "grep -q '^precision compared: bf16 against fp32' an.out && grep -qE '^  LeNet +16 train ' an.out && grep -qE '^  LeNet +16 infer ' an.out" \
  "$(cat an.out)"
"$GM" analyze --db p.db --json >an.json 2>/dev/null
py_check "4: analyze --json: precision on every row; the comparison's ratios" '
import json
d = json.load(open(args[0]))
rows = d["summary"][0]["rows"]
want(sorted(r["precision"] for r in rows) == ["bf16", "bf16", "fp32", "fp32"], "rows %r" % rows)
p = d["precisions"]
want(len(p) == 2 and {x["kind"] for x in p} == {"train", "infer"}, "precisions %r" % p)
for x in p:
    want(close(x["energy_ratio"], x["bf16"]["j_per_sample"] / x["fp32"]["j_per_sample"]), "energy ratio %r" % x)
    want(close(x["time_ratio"], x["bf16"]["s_per_sample"] / x["fp32"]["s_per_sample"]), "time ratio %r" % x)
    want(0 <= x["fp32"]["accuracy"] <= 1 and 0 <= x["bf16"]["accuracy"] <= 1, "accuracy %r" % x)
    want(x["provenance"] in ("measured", "modelled", "mixed"), "provenance %r" % x)
# correlations and claims one precision at a time, never pooled
for key in ("correlations", "claims"):
    want(d[key] and {c.get("precision") for c in d[key]} == {"fp32", "bf16"}, "%s %r" % (key, d[key][:2]))
want(all(c["n"] <= 1 for c in d["correlations"] if c["points"] == "cells"), "a cell correlation pools precisions: %r" % [c for c in d["correlations"] if c["points"] == "cells"][:2])
' an.json
check "4: analyze text: correlations and claims per precision" \
  "grep -q '^correlations on .*, fp32 cells:' an.out && grep -q '^correlations on .*, bf16 cells:' an.out && grep -q \"^the paper's claims on .*, bf16 cells\" an.out" \
  "$(grep -E '^(correlations|the paper)' an.out)"

"$GM" report --db p.db --out r.html >r.out 2>r.err
rc=$?
check "4: report exits 0" "[ $rc -eq 0 ]" "exit $rc: $(cat r.err)"
py_check "4: the report's precision table and Fig. 10 hold analyze's ratios" '
import json, re
a = json.load(open(args[0]))
t = open(args[1], encoding="utf-8").read()
want("id=\"precisions\"" in t, "no precisions section")
sec = t[t.index("id=\"precisions\""):] if "id=\"precisions\"" in t else ""
want(len(re.findall(r"<tr><td>LeNet</td>", sec)) == 2, "precision rows")
want("<figure id=\"precisions\">" in sec, "no Fig. 10")
dat = {}
for line in open("r-figures/precisions.dat"):
    if not line.startswith("#"):
        f = line.split()
        dat[f[0].strip("\"")] = tuple(float(x) for x in f[1:])
for r in a["precisions"]:
    label = "%s_b%d_%s" % (r["model"], r["batch_size"], r["kind"])
    got = dat.get(label)
    want(got is not None, "no figure row for %s: %r" % (label, dat))
    if got:
        want(close(got[0], r["energy_ratio"], 1e-4) and close(got[1], r["time_ratio"], 1e-4)
             and close(got[2], r["accuracy_ratio"], 1e-4), "%s: %r vs %r" % (label, got, r))
' an.json r.html

# 5. a --cell joining with another precision list is refused; the same list joins
"$GM" bench "${grid[@]}" --precisions bf16 --db p.db --run-id both --cell 0 >c.out 2>c.err
rc=$?
check "5: --cell with another precision list: exit 64, --precisions named" \
  "[ $rc -eq 64 ] && grep -q 'started with another study (--precisions' c.err" "exit $rc: $(cat c.err)"
"$GM" bench "${grid[@]}" --precisions fp32,bf16 --db p.db --run-id both --cell 1 >c2.out 2>c2.err
rc=$?
check "5: --cell 1 (bf16) with the same list: complete, nothing run" \
  "[ $rc -eq 0 ] && grep -q 'cell 1 complete' c2.out" "exit $rc: $(cat c2.out c2.err)"
"$GM" bench "${grid[@]}" --precisions fp32,bf16 --db p.db --run-id both --cell 2 >c3.out 2>c3.err
rc=$?
check "5: --cell 2 is outside the 2-cell grid: exit 64" \
  "[ $rc -eq 64 ] && grep -q 'x 2 precision(s)): give 0 to 1' c3.err" "exit $rc: $(cat c3.err)"

tap_done
