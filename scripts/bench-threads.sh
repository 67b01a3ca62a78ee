#!/usr/bin/env bash
# Threads next to a busy neighbour: images/s of training and inference, each
# alone, next to a process that keeps one CPU busy from before the start
# (`yes > /dev/null`), and next to one that starts half a second into the run; at
# the old defaults and the new, for greenml's C engine and for PyTorch run
# by greenml (--engine torch). A benchmark script, not a test.
#
#   old  one thread per CPU (OpenMP's default; PyTorch's, one per core, is
#        the same here) and libgomp's default wait policy (a thread spins
#        about 3 ms at a barrier before it sleeps): greenml-study run
#        directly with --threads $(nproc), OMP_WAIT_POLICY and GOMP_SPINCOUNT
#        unset
#   new  `greenml train` / `greenml infer` without --threads: the CPUs other
#        processes leave idle when the engine is created, and
#        OMP_WAIT_POLICY=PASSIVE (set by greenml)
#   1    --threads 1 with OMP_WAIT_POLICY=PASSIVE, for reference
#   P    one thread per CPU with OMP_WAIT_POLICY=PASSIVE: the wait policy
#        alone, as the new default gives on a machine idle at the start
# Training: 2 epochs of BATCHES batches of 128, the second epoch's images/s
# (the first includes creating the primitives); inference: 2 x BATCHES
# batches. Configurations are interleaved within each repeat; the figures
# are medians over REPEATS.
# usage: scripts/bench-threads.sh [BUILD_DIR (build/release)] [MODEL (LeNet)]
#          [REPEATS (3)] [BATCHES (39)] [ENGINES ("greenml torch")]
#          [CONFIGS ("old new 1 P")]
set -euo pipefail
B=$(readlink -f "${1:-build/release}")
MODEL=${2:-LeNet}
REPEATS=${3:-3}
BATCHES=${4:-39}
ENGINES=${5:-greenml torch}
CONFIGS=${6:-old new 1 P}
NCPU=$(nproc)
work=$(mktemp -d)
hog=
cleanup() {
  [ -n "$hog" ] && kill "$hog" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export XDG_CACHE_HOME="$work/cache"
unset OMP_WAIT_POLICY GOMP_SPINCOUNT OMP_NUM_THREADS
# the generated data set, once, outside the timings
"$B/greenml" train --model LeNet --data synthetic --epochs 1 \
  --limit-batches 1 --batch-size 8 --checkpoint "$work/warm.ckpt" >/dev/null

# run CONFIG ENGINE PHASE: prints images/s and the threads line
run() {
  local config=$1 engine=$2 phase=$3 exe args env=()
  args=(--model "$MODEL" --data synthetic --batch-size 128)
  [ "$engine" = torch ] && args+=(--engine torch --device cpu)
  case $config in
  old)
    exe=$B/greenml-study
    args+=(--threads "$NCPU")
    ;;
  new) exe=$B/greenml ;;
  1)
    exe=$B/greenml
    args+=(--threads 1)
    env=(OMP_WAIT_POLICY=PASSIVE)
    ;;
  P)
    exe=$B/greenml
    args+=(--threads "$NCPU")
    env=(OMP_WAIT_POLICY=PASSIVE)
    ;;
  esac
  if [ "$phase" = train ]; then
    args+=(--epochs 2 --limit-batches "$BATCHES"
      --checkpoint "$work/$engine-$config.ckpt")
    out=$(env "${env[@]}" "$exe" train "${args[@]}" 2>/dev/null)
    rate=$(grep '^epoch 2/2' <<<"$out" | grep -o '[0-9.]* images/s' |
      cut -d' ' -f1)
  else
    args+=(--samples $((2 * BATCHES * 128)))
    out=$(env "${env[@]}" "$exe" infer "${args[@]}" 2>/dev/null)
    rate=$(grep -o '[0-9.]* images/s' <<<"$out" | tail -1 | cut -d' ' -f1)
  fi
  threads=$(grep -o '^threads [0-9]*' <<<"$out" | cut -d' ' -f2)
  echo "$rate ${threads:-?}"
}

# condition: alone | before (a busy neighbour from before the start) |
# after (one that starts half a second into the run)
measure() {
  local cond=$1 config=$2 engine=$3 phase=$4 r
  case $cond in
  before)
    yes >/dev/null &
    hog=$!
    sleep 0.5
    ;;
  after) (sleep 0.5 && exec yes >/dev/null) &
    hog=$! ;;
  esac
  r=$(run "$config" "$engine" "$phase")
  if [ -n "$hog" ]; then
    kill "$hog" 2>/dev/null || true
    wait "$hog" 2>/dev/null || true
    hog=
  fi
  echo "$cond $config $engine $phase $r" >>"$work/results"
  sleep 0.5
}

t0=$(date +%s)
for rep in $(seq "$REPEATS"); do
  for cond in alone before after; do
    for engine in $ENGINES; do
      for config in $CONFIGS; do
        for phase in train infer; do
          measure "$cond" "$config" "$engine" "$phase"
        done
      done
    done
  done
  echo "repeat $rep done ($(($(date +%s) - t0)) s)" >&2
done

echo "$MODEL, batch 128, $NCPU CPUs; images/s (median of $REPEATS runs;"\
  "threads used in parentheses), measured; neighbour: yes > /dev/null"
echo
echo "| engine | defaults | phase | alone | busy neighbour from the start |"\
  "busy neighbour starting after 0.5 s | from the start / alone |"
echo "|---|---|---|---|---|---|---|"
python3 - "$work/results" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    cond, config, engine, phase, rate, threads = line.split()
    rows.setdefault((engine, config, phase), {}).setdefault(cond, []).append(
        (float(rate) if rate not in ("", "?") else float("nan"), threads))
names = {"old": "old (1 per CPU, spinning)",
         "new": "new (idle CPUs, passive)", "1": "1 thread, passive",
         "P": "1 per CPU, passive"}
for engine in ("greenml", "torch"):
    for config in ("old", "new", "1", "P"):
        for phase in ("train", "infer"):
            r = rows.get((engine, config, phase), {})
            if not r:
                continue
            cells, med = [], {}
            for cond in ("alone", "before", "after"):
                v = r.get(cond, [])
                if not v:
                    cells.append("-")
                    continue
                med[cond] = statistics.median(x[0] for x in v)
                th = "/".join(sorted({x[1] for x in v}))
                cells.append("%.0f (%s)" % (med[cond], th))
            ratio = ("%.2f" % (med["before"] / med["alone"])
                     if "before" in med and med.get("alone") else "-")
            print("| %s | %s | %s | %s | %s |" % (
                "greenml" if engine == "greenml" else "PyTorch (--engine torch)",
                names[config], phase, " | ".join(cells), ratio))
EOF
echo
echo "($(($(date +%s) - t0)) s in all)"
