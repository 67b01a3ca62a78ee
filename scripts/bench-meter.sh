#!/usr/bin/env bash
# Benchmark of the meter's own cost (a script, not a test):
#  1. the CPU time of `greenml measure -- sleep` (database on, every check on)
#     as % of one core at 10 Hz, 100 Hz and 1 kHz: its sampler and writer
#     threads in the steady state (read from /proc by bench/proc_cpu.py),
#     the whole process from start to exit (measure's process_cpu_s:
#     getrusage, every thread and the start-up), beside the floor: a bare
#     thread sleeping to the same deadlines (bench/timer_floor.c);
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
py=/usr/bin/python3
[ -x "$py" ] || py=python3

echo "## CPU cost of greenml measure (${IDLE_S} s each, command: sleep, database on)"
echo
echo "| interval | sampler thread | writer thread | whole process | floor (bare timer thread) | whole process above the floor |"
echo "|---|---|---|---|---|---|"
# the database exists before the runs, as it does once greenml is in use
"$GM" measure --quiet --db "$out/b.db" -- true
for iv in 100ms:100000 10ms:10000 1ms:1000; do
  name=${iv%%:*}
  us=${iv##*:}
  "$py" "$here/bench/proc_cpu.py" --json "$out/p.json" -- \
    "$GM" measure --quiet --db "$out/b.db" --interval "$name" \
    --json "$out/s.json" -- sleep "$IDLE_S" >/dev/null
  floor=$("$out/timer_floor" "$us" "$IDLE_S")
  "$py" - "$out/s.json" "$out/p.json" "$name" "$floor" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
p = json.load(open(sys.argv[2]))
floor = float(sys.argv[4])
whole = 100 * s["process_cpu_s"] / s["duration_s"]
th = p.get("threads", {})
print(f"| {sys.argv[3]} | {th.get('gm-sampler', float('nan')):.3f} % "
      f"| {th.get('gm-writer', float('nan')):.3f} % | {whole:.3f} % "
      f"| {floor:.3f} % | {whole - floor:+.3f} % |")
PY
done
echo
echo "All in % of one core. Threads: the steady state, from"
echo "/proc/PID/task/*/schedstat (bench/proc_cpu.py; each run's first 2 s left"
echo "out). Whole process: process_cpu_s / duration_s of measure's JSON, from"
echo "start to exit (start-up and the database's last writes included)."
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
