#!/usr/bin/env bash
# Benchmark of the exporter's own cost (a script, not a test): `greenml
# exporter` on a fake machine (fake /proc, empty /sys and /dev: the CPU and
# DRAM models; the suite's fake NVML with one GPU), scraped once a second
# over one kept-alive connection as Prometheus scrapes, for SECONDS after a
# 3-s warm-up. Prints the exporter's CPU time over that window as % of one
# core: the whole process from /proc/PID/stat (utime + stime, in clock
# ticks) and from the threads' /proc/PID/task/*/schedstat (nanoseconds),
# each thread by name (gm-sampler: the meter; MHD-single: the HTTP
# server), at the default interval (1 s) and at 100 ms.
# usage: scripts/bench-exporter.sh [GREENML] [SECONDS] [FAKE_NVML_LIB]
# (defaults: build/dev/greenml, 60, build/dev/fakes/libnvidia-ml.so.1;
# `make dev` builds both)
set -euo pipefail
GM=$(readlink -f "${1:-build/dev/greenml}")
SECONDS_=${2:-60}
NVML=$(readlink -f "${3:-$(dirname "$GM")/fakes/libnvidia-ml.so.1}")
py=/usr/bin/python3
[ -x "$py" ] || py=python3
[ -x "$GM" ] || { echo "no greenml at '$GM' (make dev)" >&2; exit 2; }
[ -f "$NVML" ] || { echo "no fake NVML at '$NVML' (make dev)" >&2; exit 2; }
out=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$out"
}
trap cleanup EXIT

mkdir -p "$out/proc" "$out/sys" "$out/dev"
printf 'processor\t: 0\nmodel name\t: Test CPU\n' >"$out/proc/cpuinfo"
printf 'cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 100 0 100 800 0 0 0 0 0 0\n' >"$out/proc/stat"
printf 'MemTotal:       16777216 kB\nMemAvailable:    8388608 kB\n' >"$out/proc/meminfo"
echo 'gpu name="Tesla P100-PCIE-16GB" arch=4 power_mw=250000 util=10' >"$out/nvml.script"
export GREENML_PROCFS=$out/proc GREENML_SYSFS=$out/sys GREENML_DEVFS=$out/dev \
  GREENML_NVML_LIB=$NVML GREENML_FAKE_NVML_SCRIPT=$out/nvml.script

echo "## CPU cost of greenml exporter, scraped once a second (${SECONDS_} s, fake machine)"
echo
echo "| meter interval | whole process (/proc/PID/stat) | whole process (schedstat) | gm-sampler | HTTP thread | main thread | scrapes | bytes a scrape |"
echo "|---|---|---|---|---|---|---|---|"
for iv in 1s 100ms; do
  "$GM" exporter --listen 127.0.0.1:0 --idle none --interval "$iv" 2>"$out/err" &
  pid=$!
  port=
  for ((i = 0; i < 100; i++)); do
    port=$(sed -n 's|^greenml exporter: serving http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$out/err")
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$out/err" >&2; exit 1; }
  "$py" - "$pid" "$port" "$SECONDS_" "$iv" <<'PY'
import http.client, os, sys, time
pid, port, seconds, iv = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
hz = os.sysconf("SC_CLK_TCK")

def stat_ticks():
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)

def threads():
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            comm = open(f"/proc/{pid}/task/{tid}/comm").read().strip()
            ns = int(open(f"/proc/{pid}/task/{tid}/schedstat").read().split()[0])
        except OSError:
            continue
        out[comm] = out.get(comm, 0) + ns
    return out

conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
def scrape():
    conn.request("GET", "/metrics", headers={
        "Accept": "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"})
    r = conn.getresponse()
    body = r.read()
    assert r.status == 200, r.status
    return len(body)

t_next = time.monotonic()
for _ in range(3):  # warm-up
    scrape()
    t_next += 1
    time.sleep(max(0, t_next - time.monotonic()))
w0, s0, th0 = time.monotonic(), stat_ticks(), threads()
n, size = 0, 0
while time.monotonic() - w0 < seconds:
    size = scrape()
    n += 1
    t_next += 1
    time.sleep(max(0, t_next - time.monotonic()))
w1, s1, th1 = time.monotonic(), stat_ticks(), threads()
wall = w1 - w0
pct = lambda cpu_s: 100 * cpu_s / wall
d = {k: (th1.get(k, 0) - th0.get(k, 0)) / 1e9 for k in th1}
http_s = sum(v for k, v in d.items() if k.startswith("MHD"))
main_s = sum(v for k, v in d.items() if k.startswith("greenml"))
print(f"| {iv} | {pct((s1 - s0) / hz):.3f} % | {pct(sum(d.values())):.3f} % "
      f"| {pct(d.get('gm-sampler', 0)):.3f} % | {pct(http_s):.3f} % "
      f"| {pct(main_s):.3f} % | {n} | {size} |")
PY
  kill "$pid"
  wait "$pid" || true
  pid=
done
echo
echo "All in % of one core over the window. /proc/PID/stat counts clock ticks"
echo "(1/$(getconf CLK_TCK) s); schedstat is the scheduler's on-CPU time in ns."
