#!/usr/bin/env bash
# Benchmark of the meter's own cost (a script, not a test):
#  1. the sampler's CPU time as % of one core at 10 Hz, 100 Hz and 1 kHz,
#     beside the floor: a bare thread sleeping to the same deadlines;
#  2. the wall-time overhead of `greenml measure` (default 100 ms interval,
#     database on) on a fixed CPU-bound command against the bare command,
#     runs interleaved, medians compared.
# usage: scripts/bench-meter.sh [GREENML] [IDLE_SECONDS] [REPEATS]
set -euo pipefail
GM=$(readlink -f "${1:-build/release/greenml}")
IDLE_S=${2:-30}
REPEATS=${3:-9}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cc -O2 -o "$out/timer_floor" "$here/bench/timer_floor.c"
cc -O2 -o "$out/spin" "$here/bench/spin.c"
export OMP_WAIT_POLICY=PASSIVE

echo "## Sampler CPU cost (${IDLE_S} s each, command: sleep)"
echo
echo "| interval | greenml sampler, % of one core | bare timer thread (floor), % of one core | greenml above the floor |"
echo "|---|---|---|---|"
for iv in 100ms:100000 10ms:10000 1ms:1000; do
  name=${iv%%:*}
  us=${iv##*:}
  "$GM" measure --no-db --quiet --interval "$name" --json "$out/s.json" -- sleep "$IDLE_S"
  gm=$(python3 -c "import json;j=json.load(open('$out/s.json'));print('%.4f'%(100*j['sampler_cpu_s']/j['duration_s']))")
  floor=$("$out/timer_floor" "$us" "$IDLE_S")
  above=$(python3 -c "print('%.4f'%($gm-$floor))")
  echo "| $name | $gm | $floor | $above |"
done
echo

iters=${SPIN_ITERS:-2000000000}
echo "## Wall-time overhead on a CPU-bound command (spin $iters, $REPEATS runs each, interleaved)"
echo
bare=()
meas=()
for _ in $(seq "$REPEATS"); do
  s=$(date +%s.%N); "$out/spin" "$iters" >/dev/null; e=$(date +%s.%N)
  bare+=("$(python3 -c "print($e-$s)")")
  s=$(date +%s.%N)
  "$GM" measure --quiet --db "$out/b.db" -- "$out/spin" "$iters" >/dev/null
  e=$(date +%s.%N)
  meas+=("$(python3 -c "print($e-$s)")")
done
python3 - "${bare[*]}" "${meas[*]}" <<'PY'
import statistics, sys
b = [float(x) for x in sys.argv[1].split()]
m = [float(x) for x in sys.argv[2].split()]
mb, mm = statistics.median(b), statistics.median(m)
print("| | median wall time | min | max |")
print("|---|---|---|---|")
print(f"| bare command | {mb:.3f} s | {min(b):.3f} s | {max(b):.3f} s |")
print(f"| greenml measure (100 ms, database on) | {mm:.3f} s | {min(m):.3f} s | {max(m):.3f} s |")
print()
print(f"overhead: {100*(mm-mb)/mb:+.2f} % on medians, "
      f"{100*(min(m)-min(b))/min(b):+.2f} % on minima "
      f"(spread of the bare runs: {100*(max(b)-min(b))/mb:.2f} %)")
PY
