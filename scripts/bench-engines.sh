#!/usr/bin/env bash
# The study's grid on both engines, in one run, on this machine: greenml's C
# engine and PyTorch (bench --engine torch), the same protocol, batches and
# meter, then `greenml analyze` puts them side by side: samples/s and J per
# sample for training and inference, per model, with the ratios. A script,
# not a test.
# usage: scripts/bench-engines.sh [GREENML] [BATCHES] [MODELS] [BATCH_SIZE]
#   BATCHES: training batches per epoch and inference batches per pass
#   (default 4); MODELS: a --models list (default all); BATCH_SIZE: 128.
set -euo pipefail
GM=$(readlink -f "${1:-build/release/greenml}")
BATCHES=${2:-4}
MODELS=${3:-all}
BS=${4:-128}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export OMP_WAIT_POLICY=PASSIVE
grid=(--models "$MODELS" --batch-sizes "$BS" --epochs 1
      --limit-batches "$BATCHES" --infer-samples $((BATCHES * BS))
      --data synthetic --threads 1 --idle none --gap 0.5s --db "$out/e.db")
t0=$(date +%s)
"$GM" bench --run-id greenml "${grid[@]}" >"$out/c.log" 2>&1 ||
  { cat "$out/c.log"; exit 1; }
"$GM" bench --engine torch --run-id torch "${grid[@]}" >"$out/t.log" 2>&1 ||
  { cat "$out/t.log"; exit 1; }
t1=$(date +%s)
grep '^engine:' "$out/c.log" "$out/t.log" | sed 's/^.*\///'
"$GM" analyze --db "$out/e.db" | sed -n '/^engines compared/,/J ratio: /p'
echo "($((t1 - t0)) s for both benches; $BATCHES batches of $BS per phase,"\
  "1 thread, generated data, energy as the meter measures it here)"
