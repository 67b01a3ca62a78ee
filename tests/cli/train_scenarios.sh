#!/usr/bin/env bash
# End-to-end training and inference on generated data: learning, checkpoints,
# resume, reproducibility, phases under `greenml measure`, bad checkpoints
# (truncated, a flipped byte, other data on resume), the checkpoint path
# checked before any work, temporary files and the data cache never written
# through a planted symlink, no cache without HOME or XDG_CACHE_HOME.
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

# 7. a flipped payload byte: refused by the checksum (65), nothing trained
cp a.ckpt flip.ckpt && cp a.ckpt.config flip.ckpt.config
python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[len(b)//2]^=0x10; open(p,"wb").write(b)' flip.ckpt
"$GM" train "${common[@]}" --epochs 4 --checkpoint flip.ckpt --resume >flip.out 2>flip.err
rc=$?
check "flipped byte: resume exits 65" "[ $rc -eq 65 ]" "exit $rc: $(cat flip.err)"
check "flipped byte: 'fails its checksum', nothing trained" \
  "grep -q \"^greenml train: --resume: 'flip.ckpt' fails its checksum (CRC-32 [0-9a-f]*, recorded [0-9a-f]*): the file is corrupt; nothing was loaded\" flip.err && ! grep -q '^epoch' flip.out" \
  "$(cat flip.err)"
"$GM" infer --model LeNet --data synthetic --weights flip.ckpt --samples 10 >/dev/null 2>flipw.err
rc=$?
check "flipped byte: infer --weights exits 65, same reason" \
  "[ $rc -eq 65 ] && grep -q 'fails its checksum' flipw.err" "exit $rc: $(cat flipw.err)"

# 8. resume on other data: refused (64), the difference listed
"$GM" data synth --dir d5 --seed 5 --train-per-batch 50 --test 20 >/dev/null
"$GM" data synth --dir d6 --seed 6 --train-per-batch 50 --test 20 >/dev/null
small=(--model LeNet --batch-size 10 --lr 0.01 --limit-batches 2)
"$GM" train "${small[@]}" --data d5 --epochs 1 --checkpoint d.ckpt >/dev/null 2>d.err
rc=$?
check "train on d5 exits 0" "[ $rc -eq 0 ]" "exit $rc: $(cat d.err)"
check "the record holds the data's identity" \
  "grep -q '^data synthetic$' d.ckpt.config && grep -q '^data_seed 5$' d.ckpt.config && grep -q '^data_images 250$' d.ckpt.config && grep -q '^data_crc32 [0-9a-f]\{8\}$' d.ckpt.config && grep -q '^data_dir d5$' d.ckpt.config" \
  "$(cat d.ckpt.config)"
"$GM" train "${small[@]}" --data d6 --epochs 2 --checkpoint d.ckpt --resume >d6.out 2>d6.err
rc=$?
check "resume on other data: exit 64, nothing trained" \
  "[ $rc -eq 64 ] && ! grep -q '^epoch' d6.out" "exit $rc: $(cat d6.err)"
check "resume on other data: the difference listed" \
  "grep -q \"^greenml train: --resume: 'd.ckpt' was made with another configuration: data set 'd5' (synthetic, seed 5, 250 images, CRC-32 [0-9a-f]*) (here 'd6' (synthetic, seed 6, 250 images, CRC-32 [0-9a-f]*)); resume with the same settings or start afresh\$\" d6.err" \
  "$(cat d6.err)"
"$GM" train "${small[@]}" --data d6 --seed 3 --epochs 2 --checkpoint d.ckpt --resume >/dev/null 2>d63.err
check "resume on other data and seed: both listed" \
  "grep -q 'seed 1 (here 3); data set' d63.err" "$(cat d63.err)"
cp -r d5 d5copy
"$GM" train "${small[@]}" --data d5copy --epochs 2 --checkpoint d.ckpt --resume >/dev/null 2>d5c.err
rc=$?
check "resume on the same data elsewhere: accepted" "[ $rc -eq 0 ]" "exit $rc: $(cat d5c.err)"

# 9. the checkpoint path is checked before any work
t0=$(date +%s%N)
"$GM" train "${common[@]}" --epochs 1 --checkpoint nodir/x.ckpt >nodir.out 2>nodir.err
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check "missing checkpoint directory: exit 73 in ${ms} ms (< 3 s), before training" \
  "[ $rc -eq 73 ] && [ $ms -lt 3000 ] && ! grep -q '^epoch' nodir.out && ! grep -q 'using generated data' nodir.err" \
  "exit $rc: $(cat nodir.err)"
check "missing checkpoint directory: named, with the fix" \
  "grep -q \"^greenml train: the checkpoint directory 'nodir' does not exist: create it (mkdir -p 'nodir') or choose another --checkpoint\$\" nodir.err" \
  "$(cat nodir.err)"
"$GM" train "${common[@]}" --epochs 1 --checkpoint /proc/x.ckpt >/dev/null 2>ro.err
rc=$?
check "a checkpoint directory that takes no files: exit 73 at once" \
  "[ $rc -eq 73 ] && grep -q \"cannot write in the checkpoint directory '/proc'\" ro.err" \
  "exit $rc: $(cat ro.err)"
"$GM" train "${common[@]}" --epochs 1 --checkpoint none.ckpt --resume >/dev/null 2>nores.err
rc=$?
check "--resume without a checkpoint: exit 66 at once" \
  "[ $rc -eq 66 ] && grep -q \"^greenml train: --resume: cannot open checkpoint 'none.ckpt'\" nores.err" \
  "exit $rc: $(cat nores.err)"

# 10. temporary checkpoint files are never written through a planted symlink
echo precious >victim
ln -s "$PWD/victim" s.ckpt.tmp~
ln -s "$PWD/victim" s.ckpt.config.tmp~
"$GM" train "${common[@]}" --limit-batches 1 --epochs 1 --checkpoint s.ckpt >/dev/null 2>s.err
rc=$?
check "symlinks at the temporary names: train exits 0" "[ $rc -eq 0 ]" "exit $rc: $(cat s.err)"
check "symlinks at the temporary names: the target is unchanged" \
  "[ \"\$(cat victim)\" = precious ] && [ ! -L s.ckpt.tmp~ ] && [ ! -L s.ckpt.config.tmp~ ] && [ -f s.ckpt ]"

# 11. the data cache: never /tmp, never another user's directory
env -u HOME -u XDG_CACHE_HOME "$GM" train "${common[@]}" --epochs 1 --checkpoint h.ckpt >/dev/null 2>home.err
rc=$?
check "no HOME, no XDG_CACHE_HOME: exit 73, the variables named" \
  "[ $rc -eq 73 ] && grep -q '^greenml train: --data synthetic needs a cache directory and neither XDG_CACHE_HOME nor HOME is set to an absolute path: set XDG_CACHE_HOME (or HOME) to a directory of yours' home.err" \
  "exit $rc: $(cat home.err)"
mkdir -p c1 elsewhere
ln -s "$PWD/elsewhere" c1/greenml
XDG_CACHE_HOME=$PWD/c1 "$GM" train "${common[@]}" --epochs 1 --checkpoint c.ckpt >/dev/null 2>c1.err
rc=$?
check "a symlink planted at the cache directory: refused (73)" \
  "[ $rc -eq 73 ] && grep -q \"^greenml train: refusing the cache directory '$PWD/c1/greenml': it is a symbolic link, not a directory; another user may control it\" c1.err" \
  "exit $rc: $(cat c1.err)"
check "a symlink planted at the cache directory: nothing written through it" \
  "[ -z \"\$(ls -A elsewhere)\" ]"
mkdir -p c2/greenml && chown 65534 c2/greenml
XDG_CACHE_HOME=$PWD/c2 "$GM" train "${common[@]}" --epochs 1 --checkpoint c.ckpt >/dev/null 2>c2.err
rc=$?
if [ "$(id -u)" -eq 0 ]; then
  check "a cache directory of another user: refused (73)" \
    "[ $rc -eq 73 ] && grep -q \"refusing the cache directory '$PWD/c2/greenml': it belongs to uid 65534, not to you (uid 0)\" c2.err" \
    "exit $rc: $(cat c2.err)"
fi
mkdir -p c3/greenml && chmod 0777 c3/greenml
XDG_CACHE_HOME=$PWD/c3 "$GM" train "${common[@]}" --epochs 1 --checkpoint c.ckpt >/dev/null 2>c3.err
rc=$?
check "a cache directory writable by others: refused (73)" \
  "[ $rc -eq 73 ] && grep -q \"refusing the cache directory '$PWD/c3/greenml': it is writable by others (mode 777)\" c3.err" \
  "exit $rc: $(cat c3.err)"
check "the cache made by greenml is private (0700)" \
  "[ \"\$(stat -c %a \"$XDG_CACHE_HOME/greenml\")\" = 700 ] && [ \"\$(stat -c %a \"$XDG_CACHE_HOME/greenml/synthetic-1\")\" = 700 ]"

tap_done
