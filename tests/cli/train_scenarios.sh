#!/usr/bin/env bash
# End-to-end training and inference on generated data: learning, checkpoints,
# resume, reproducibility, phases under `greenml measure`, bad checkpoints.
# usage: train_scenarios.sh GREENML
set -u
GM=$(readlink -f "$1")
. "$(dirname "$0")/lib.sh"
workdir
export GREENML_NVML_LIB=/nonexistent/libnvidia-ml.so.1 OMP_WAIT_POLICY=PASSIVE

common=(--model LeNet --data synthetic --batch-size 32 --lr 0.01 --limit-batches 25)

# 1. two epochs: the loss falls, a checkpoint is written
"$GM" train "${common[@]}" --epochs 2 --checkpoint a.ckpt >train.out 2>train.err
rc=$?
check "train exits 0" "[ $rc -eq 0 ]" "exit $rc: $(tail -2 train.err)"
check "train says the data is generated" "grep -q 'using generated data' train.err"
check "two epoch lines" "[ \"\$(grep -c '^epoch [12]/2: loss' train.out)\" -eq 2 ]" "$(cat train.out)"
l1=$(sed -n 's/^epoch 1\/2: loss \([0-9.]*\),.*/\1/p' train.out)
l2=$(sed -n 's/^epoch 2\/2: loss \([0-9.]*\),.*/\1/p' train.out)
check "the loss falls from epoch 1 to 2 ($l1 -> $l2)" \
  "python3 -c 'import sys; sys.exit(0 if float(\"$l2\") < float(\"$l1\") else 1)'"
check "checkpoint written" "[ -s a.ckpt ]"

# 2. resume to a third epoch
"$GM" train "${common[@]}" --epochs 3 --checkpoint a.ckpt --resume >resume.out 2>resume.err
rc=$?
check "resume exits 0" "[ $rc -eq 0 ]" "exit $rc: $(tail -2 resume.err)"
check "resume starts after epoch 2" "grep -q 'after epoch 2' resume.err"
check "resume runs only epoch 3" "grep -q '^epoch 3/3: loss' resume.out && ! grep -q '^epoch [12]/' resume.out"
"$GM" train "${common[@]}" --epochs 4 --seed 9 --lr 0.02 --checkpoint a.ckpt --resume >/dev/null 2>other-seed.err
rc=$?
check "resume under other flags: exit 64, the differences named" \
  "[ $rc -eq 64 ] && grep -q 'seed 1 (here 9)' other-seed.err && grep -q 'learning rate 0.01 (here 0.02)' other-seed.err" \
  "exit $rc: $(cat other-seed.err)"
check "the checkpoint records its configuration" "grep -q '^seed 1$' a.ckpt.config && grep -q '^epoch 3$' a.ckpt.config"

# 3. the trained model beats chance on the test set
"$GM" infer --model LeNet --data synthetic --weights a.ckpt --samples 3000 --batch-size 100 >infer.out 2>infer.err
rc=$?
acc=$(sed -n 's/^accuracy \([0-9.]*\) %.*/\1/p' infer.out)
check "infer exits 0" "[ $rc -eq 0 ]" "exit $rc: $(tail -2 infer.err)"
check "test accuracy $acc % > 30 % (chance: 10 %)" \
  "python3 -c 'import sys; sys.exit(0 if float(\"${acc:-0}\") > 30 else 1)'"

# 4. reproducible for a seed and a thread count, on both backends
for b in ref onednn; do
  "$GM" train "${common[@]}" --limit-batches 6 --epochs 1 --seed 7 --threads 1 --backend "$b" --checkpoint "r1-$b.ckpt" >/dev/null 2>&1
  "$GM" train "${common[@]}" --limit-batches 6 --epochs 1 --seed 7 --threads 1 --backend "$b" --checkpoint "r2-$b.ckpt" >/dev/null 2>&1
  check "$b: same seed, same weights (byte for byte)" "cmp -s r1-$b.ckpt r2-$b.ckpt"
done
"$GM" train "${common[@]}" --limit-batches 6 --epochs 1 --seed 8 --threads 1 --backend ref --checkpoint r3.ckpt >/dev/null 2>&1
check "another seed, other weights" "! cmp -s r1-ref.ckpt r3.ckpt"

# 4b. cosine annealing: PyTorch's CosineAnnealingLR(T_max = epochs), per epoch
"$GM" train "${common[@]}" --limit-batches 2 --epochs 4 --schedule cosine --checkpoint cos.ckpt >cos.out 2>&1
lrs=$(sed -n 's/^epoch .*, lr \([0-9.e-]*\)$/\1/p' cos.out | tr '\n' ' ')
check "cosine schedule: lr 0.01 0.00853553 0.005 0.00146447 (got $lrs)" \
  "[ \"$lrs\" = '0.01 0.00853553 0.005 0.00146447 ' ]"

# 5. epochs and inference are phases under greenml measure
"$GM" measure --no-db --quiet --json m.json -- "$GM" train "${common[@]}" --limit-batches 3 --epochs 2 --checkpoint m.ckpt >/dev/null 2>&1
check "measure: phases 'train epoch 1', 'train epoch 2'" \
  "python3 -c 'import json,sys; p=[x[\"name\"] for x in json.load(open(\"m.json\"))[\"phases\"]]; sys.exit(0 if p==[\"train epoch 1\",\"train epoch 2\"] else 1)'" \
  "$(python3 -c 'import json; print([x["name"] for x in json.load(open("m.json"))["phases"]])' 2>&1)"

# 6. a truncated checkpoint is refused with a clear message
head -c 1000 a.ckpt >bad.ckpt
"$GM" infer --model LeNet --data synthetic --weights bad.ckpt --samples 10 >/dev/null 2>bad.err
rc=$?
check "truncated checkpoint: exit 65" "[ $rc -eq 65 ]" "exit $rc"
check "truncated checkpoint: says so" "grep -q 'truncated or corrupt' bad.err" "$(cat bad.err)"
"$GM" infer --model ResNet18 --data synthetic --weights a.ckpt --samples 10 >/dev/null 2>other.err
rc=$?
check "checkpoint of another model: exit 65, names both" "[ $rc -eq 65 ] && grep -q 'LeNet' other.err" "exit $rc: $(cat other.err)"

tap_done
