#!/usr/bin/env bash
# exporter.sh: `greenml exporter` end to end, on 127.0.0.1 only. A fake
# machine (fake /proc, empty /sys and /dev: the DRAM model at 6 W) with the
# fake NVML's pre-Volta GPU at a constant 250 W (power sensor). A real
# Prometheus (Debian's /usr/bin/prometheus, its own temporary data
# directory) scrapes the exporter every second; rate() of the energy
# counter must be the fake's power within 2 %. Then 1,000 concurrent
# scrapes, malformed requests (garbage, an enormous header, a request that
# never finishes, other methods, path traversal), an address in use (exit
# 69), the idle baseline from a database, and SIGTERM / SIGINT (exit 0).
# Both servers are stopped and the temporary directory removed on exit.
# usage: exporter.sh GREENML FAKE_NVML_LIB
set -u
GM=$(readlink -f "$1")
FAKE_NVML=$(readlink -f "$2")
SRC=$(cd "$(dirname "$0")/../.." && pwd)
. "$SRC/tests/cli/lib.sh"
workdir
unset GREENML_MARK GREENML_FAKE_NVML_INIT
PY=/usr/bin/python3
PROM=/usr/bin/prometheus
PROMTOOL=/usr/bin/promtool
EXP_PID=
PROM_PID=

# Stops the exporter and Prometheus (and whatever else runs in the
# background), waits for them, then removes the directory.
cleanup() {
  local p
  for p in $(jobs -p); do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  cd / && rm -rf "$work"
}
trap cleanup EXIT

mkdir -p fake/proc fake/sys fake/dev
printf 'processor\t: 0\nmodel name\t: Test CPU\n' >fake/proc/cpuinfo
printf 'cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 100 0 100 800 0 0 0 0 0 0\n' >fake/proc/stat
printf 'MemTotal:       16777216 kB\nMemAvailable:    8388608 kB\n' >fake/proc/meminfo
cat >nvml.script <<'EOF'
gpu name="Tesla P100-PCIE-16GB" arch=4 power_mw=250000 util=10 mem_util=5 temp=40
EOF
export GREENML_PROCFS=$work/fake/proc GREENML_SYSFS=$work/fake/sys \
  GREENML_DEVFS=$work/fake/dev GREENML_NVML_LIB=$FAKE_NVML \
  GREENML_FAKE_NVML_SCRIPT=$work/nvml.script

# free_port: a port of 127.0.0.1 free at the time of the call.
free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_exporter NAME ARGS...: starts `greenml exporter ARGS` in the
# background (stderr in NAME.err) and waits up to 20 s for its "serving"
# line; sets EXP_PID and PORT (empty when it did not start).
start_exporter() {
  local name=$1 i
  shift
  "$GM" exporter "$@" 2>"$name.err" &
  EXP_PID=$!
  PORT=
  for ((i = 0; i < 200; i++)); do
    PORT=$(sed -n 's|^greenml exporter: serving http://127\.0\.0\.1:\([0-9]*\)/metrics .*|\1|p' "$name.err")
    [ -n "$PORT" ] && return 0
    kill -0 "$EXP_PID" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# stop_exporter SIGNAL: sends it, waits up to 10 s; RC is the exit status
# (124 when it did not stop).
stop_exporter() {
  local i
  kill -"$1" "$EXP_PID" 2>/dev/null
  for ((i = 0; i < 100; i++)); do
    kill -0 "$EXP_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$EXP_PID" 2>/dev/null; then
    kill -9 "$EXP_PID"
    wait "$EXP_PID" 2>/dev/null
    RC=124
  else
    wait "$EXP_PID"
    RC=$?
  fi
}

# ---- usage ------------------------------------------------------------------
"$GM" exporter --help >help.out 2>&1
RC=$?
check "exporter --help exits 0 and names its flags" \
  "[ $RC -eq 0 ] && grep -q -- '--listen ADDR:PORT' help.out && grep -q -- '--idle auto|none' help.out && grep -q -- '--interval DUR       sampling period (default 1s' help.out && grep -q -- '--gpus' help.out" \
  "$(head -5 help.out)"
for bad in "--listen 127.0.0.1" "--listen 127.0.0.1:70000" "--listen ::1:80" \
  "--idle 30s" "--db ''" "--interval 0" "extra"; do
  eval "timeout 10 \"\$GM\" exporter $bad" >bad.out 2>&1
  RC=$?
  check "exporter $bad: exit 64, named" \
    "[ $RC -eq 64 ] && grep -q '^greenml exporter: ' bad.out" "exit $RC: $(cat bad.out)"
done

# ---- serving ---------------------------------------------------------------
if ! start_exporter exp --listen 127.0.0.1:0 --idle none --interval 100ms; then
  not_ok "exporter starts and says where it listens" "$(cat exp.err)"
  tap_done exporter
  exit 1
fi
ok "exporter starts on a free port of 127.0.0.1 and says so ($PORT)"
URL=http://127.0.0.1:$PORT/metrics
check "the start line counts components and the interval" \
  "grep -q '^greenml exporter: serving http://127.0.0.1:$PORT/metrics (3 components, 0 missing; sampling every 0.1 s)\$' exp.err" \
  "$(cat exp.err)"
sleep 0.5
code=$(curl -s -o m.txt -D m.head -w '%{http_code}' "$URL")
check "GET /metrics: 200 in the text format 0.0.4" \
  "[ '$code' = 200 ] && grep -qi '^Content-Type: text/plain; version=0.0.4; charset=utf-8' m.head" \
  "$code $(cat m.head)"
# series NAME{LABELS} FILE...: the value of that series in the scrape (the
# field after the series; a timestamp may follow it)
py_series='
def series(path, name):
    for line in open(path):
        if line.startswith(name + " "):
            return float(line[len(name) + 1:].split(" ")[0])
    return None
'
py_check "the GPU's power and provenance, the DRAM model's, the totals' flag" "$py_series"'
g = series(args[0], "greenml_power_watts{component=\"gpu0\",kind=\"gpu\",domain=\"gpu\",source=\"nvml\",provenance=\"measured\",signal=\"power sensor\",in_total=\"true\"}")
d = series(args[0], "greenml_power_watts{component=\"dram\",kind=\"dram\",domain=\"dram\",source=\"dram-model\",provenance=\"modelled\",signal=\"model\",in_total=\"true\"}")
want(close(g, 250), "gpu0 %r W" % g)
want(close(d, 6), "dram %r W" % d)
' m.txt
"$PROMTOOL" check metrics <m.txt >lint.out 2>&1
RC=$?
check "promtool check metrics: no problem in the names, types and help" \
  "[ $RC -eq 0 ] && [ ! -s lint.out ]" "$(cat lint.out)"
code=$(curl -s -o om.txt -D om.head -w '%{http_code}' \
  -H 'Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' "$URL")
check "Accept: application/openmetrics-text: OpenMetrics 1.0.0, ending in # EOF" \
  "[ '$code' = 200 ] && grep -qi '^Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8' om.head &&
   [ \"\$(tail -1 om.txt)\" = '# EOF' ] && grep -q '^# UNIT greenml_energy_joules joules\$' om.txt" \
  "$code $(head -3 om.head)"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/nope")
check "GET /nope: 404" "[ '$code' = 404 ]" "$code"
code=$(curl -s -o /dev/null -D post.head -w '%{http_code}' -X POST -d x=1 "$URL")
check "POST /metrics: 405, Allow: GET, HEAD" \
  "[ '$code' = 405 ] && grep -qi '^Allow: GET, HEAD' post.head" "$code"
code=$(curl -s -I -o head.head -w '%{http_code}' "$URL")
check "HEAD /metrics: 200, no body" \
  "[ '$code' = 200 ] && grep -qi '^Content-Length: [1-9]' head.head" "$code"

# ---- a real Prometheus scrapes it every second -------------------------------
if [ ! -x "$PROM" ]; then
  not_ok "Prometheus is installed (scripts/deps.sh: prometheus)"
else
  PP=$(free_port)
  mkdir -p prom-data
  cat >prom.yml <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: greenml
    static_configs:
      - targets: ['127.0.0.1:$PORT']
EOF
  "$PROM" --config.file=prom.yml --storage.tsdb.path="$work/prom-data" \
    --web.listen-address="127.0.0.1:$PP" --log.level=warn \
    >prom.log 2>&1 &
  PROM_PID=$!
  API=http://127.0.0.1:$PP/api/v1
  # q PROMQL: the query's result as JSON, in q.json
  q() { curl -s -o q.json "$API/query" --data-urlencode "query=$1"; }
  # a series older than the 20 s window: 25 scrapes at 1 s in the last 30 s
  # (a rate() over a window the series does not fill reads low: Prometheus
  # extrapolates the increase only to where the series begins, then divides
  # by the whole window)
  n=0
  for ((i = 0; i < 90; i++)); do
    sleep 1
    q 'count_over_time(greenml_energy_joules_total{component="gpu0"}[30s])' || continue
    n=$("$PY" -c 'import json,sys; r=json.load(open("q.json"))["data"]["result"]; print(int(float(r[0]["value"][1])) if r else 0)' 2>/dev/null || echo 0)
    [ "$n" -ge 25 ] && break
  done
  check "Prometheus stored 25+ scrapes in 30 s: the series fills the 20 s window ($n)" "[ $n -ge 25 ]" "$(tail -5 prom.log)"
  curl -s -o targets.json "$API/targets"
  py_check "Prometheus: the target is up, scraped as OpenMetrics without error" '
t = json.load(open(args[0]))["data"]["activeTargets"]
want(len(t) == 1, "targets %r" % t)
if t:
    want(t[0]["health"] == "up", "health %r" % t[0]["health"])
    want(t[0]["lastError"] == "", "lastError %r" % t[0]["lastError"])
' targets.json
  q 'rate(greenml_energy_joules_total{component="gpu0"}[20s])'
  cp q.json rate_gpu.json
  py_check "PromQL rate(greenml_energy_joules_total{component=\"gpu0\"}[20s]) is the fake's 250 W within 2 %" '
r = json.load(open(args[0]))["data"]["result"]
want(len(r) == 1, "result %r" % r)
if r:
    v = float(r[0]["value"][1])
    print("rate %.4f W" % v, file=open(args[1], "w"))
    want(abs(v - 250) <= 0.02 * 250, "rate %r W" % v)
    want(r[0]["metric"].get("provenance") == "measured", "labels %r" % r[0]["metric"])
' rate_gpu.json rate_gpu.txt
  cat rate_gpu.txt 2>/dev/null | sed 's/^/# /'
  q 'sum(rate(greenml_energy_joules_total{in_total="true"}[20s]))'
  py_check "PromQL: the in-total sum is GPU + DRAM model (256 W) within 2 %" '
r = json.load(open(args[0]))["data"]["result"]
want(len(r) == 1 and abs(float(r[0]["value"][1]) - 256) <= 0.02 * 256, "result %r" % r)
' q.json
  q 'greenml_gpu_utilisation_ratio{component="gpu0"}'
  py_check "PromQL: GPU utilisation 10 % as the ratio 0.1" '
r = json.load(open(args[0]))["data"]["result"]
want(len(r) == 1 and float(r[0]["value"][1]) == 0.1, "result %r" % r)
' q.json
  # every query of the Grafana dashboard, on this Prometheus (the
  # dashboard's variables: every instance, 20 s windows)
  "$PY" - "$SRC/contrib/grafana/greenml-dashboard.json" "$API" \
    >dashboard.out 2>&1 <<'PY'
import json, sys, urllib.parse, urllib.request
d = json.load(open(sys.argv[1]))
api = sys.argv[2]
bad, n = [], 0
want_var = {v["name"]: v["type"] for v in d["templating"]["list"]}
if want_var.get("datasource") != "datasource":
    bad.append("no Prometheus datasource variable")
for p in d["panels"]:
    if p["datasource"].get("uid") != "${datasource}":
        bad.append("%s: datasource %r" % (p["title"], p["datasource"]))
    for t in p["targets"]:
        n += 1
        e = t["expr"].replace("$instance", ".*").replace("$__rate_interval", "20s").replace("$__range", "20s")
        url = api + "/query?" + urllib.parse.urlencode({"query": e})
        r = json.load(urllib.request.urlopen(url, timeout=10))
        if r.get("status") != "success":
            bad.append("%s: %s: %s" % (p["title"], e, r.get("error")))
        elif not r["data"]["result"] and not any(
                k in e for k in ("greenml_idle_", "greenml_source_missing", "greenml_cpu_utilisation",
                                 "greenml_attributed_")):
            bad.append("%s: %s: no data" % (p["title"], e))
print("%d queries, %d panels" % (n, len(d["panels"])))
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY
  RC=$?
  check "the Grafana dashboard: a datasource variable; its $(head -1 dashboard.out) evaluate on Prometheus, with data" \
    "[ $RC -eq 0 ]" "$(cat dashboard.out)"
  kill "$PROM_PID" 2>/dev/null
  wait "$PROM_PID" 2>/dev/null
  PROM_PID=
fi

# ---- 1,000 concurrent scrapes ---------------------------------------------------
"$PY" - "$PORT" >burst.out 2>&1 <<'PY'
import selectors, socket, sys, time
port = int(sys.argv[1])
N = 1000
socks, ok, refused, other = [], 0, 0, []
# all connections open at once, then every request sent, then every answer read
for i in range(N):
    s = socket.socket()
    s.settimeout(30)
    try:
        s.connect(("127.0.0.1", port))
    except OSError as e:
        refused += 1
        s.close()
        continue
    socks.append(s)
req = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
for s in socks:
    try:
        s.sendall(req)
    except OSError:
        pass
sel = selectors.DefaultSelector()
bufs = {}
for s in socks:
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
    bufs[s] = bytearray()
deadline = time.time() + 60
open_ = len(socks)
while open_ and time.time() < deadline:
    for key, _ in sel.select(timeout=1):
        s = key.fileobj
        try:
            d = s.recv(65536)
        except BlockingIOError:
            continue
        except OSError:
            d = b""
        if d:
            bufs[s] += d
            continue
        sel.unregister(s)
        s.close()
        open_ -= 1
for s, b in bufs.items():
    head, _, body = bytes(b).partition(b"\r\n\r\n")
    length = None
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    if head.startswith(b"HTTP/1.1 200") and length == len(body) and b"\ngreenml_exporter_scrapes_total " in body:
        ok += 1
    elif not b:
        refused += 1  # closed without an answer: a clean refusal
    else:
        other.append(head[:60])
print("ok %d refused %d other %d unfinished %d" % (ok, refused, len(other), open_))
for h in other[:3]:
    print(h)
PY
read -r _ BOK _ BREF _ BOTHER _ BOPEN <burst.out
# Each connection gets a whole 200 or a clean refusal (closed unanswered:
# beyond the 256 connections served at once, libmicrohttpd closes the ones it
# cannot take when the machine is too slow to drain them); never a broken or
# wrong answer, never a connection left hanging; at least the 256 served.
check "1,000 concurrent scrapes: each a whole 200 or a clean refusal, 256+ answered ($(head -1 burst.out))" \
  "[ \$(( ${BOK:-0} + ${BREF:-0} )) -eq 1000 ] && [ '${BOTHER:-1}' -eq 0 ] && [ '${BOPEN:-1}' -eq 0 ] && [ '${BOK:-0}' -ge 256 ]" "$(cat burst.out)"
echo "# burst: $(head -1 burst.out)"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL")
check "after the burst: alive and answering" \
  "kill -0 $EXP_PID && [ '$code' = 200 ]" "$code"

# ---- malformed requests ------------------------------------------------------------
"$PY" - "$PORT" >malformed.out 2>&1 <<'PY'
import socket, sys, time
port = int(sys.argv[1])
def exchange(data, wait=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
    try:
        s.sendall(data)
    except OSError:
        pass
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except OSError:
        pass
    s.close()
    return out.split(b"\r\n", 1)[0].decode("latin-1")
cases = [
    ("garbage request line", b"\x00\x01\x02garbage\xff\xfe\r\n\r\n"),
    ("no HTTP version", b"GET /metrics\r\n\r\n"),
    ("HTTP/9.9", b"GET /metrics HTTP/9.9\r\n\r\n"),
    ("enormous header", b"GET /metrics HTTP/1.1\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n"),
    ("10,000 headers", b"GET /metrics HTTP/1.1\r\n" + b"X: y\r\n" * 10000 + b"\r\n"),
    ("enormous URL", b"GET /" + b"a" * 200000 + b" HTTP/1.1\r\n\r\n"),
    ("path traversal", b"GET /../../../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    ("encoded traversal", b"GET /metrics/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    ("POST with a body", b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\nabcd"),
    ("PUT", b"PUT / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    ("DELETE", b"DELETE /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    ("CONNECT", b"CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    ("bad chunked body", b"GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
    ("negative length", b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n"),
]
for name, data in cases:
    print("%s: %s" % (name, exchange(data) or "closed"))
# a request that never finishes, held open while a normal scrape is answered
slow = socket.create_connection(("127.0.0.1", port))
slow.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
t0 = time.time()
print("scrape while one hangs: %s in %.2f s" % (exchange(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), time.time() - t0))
slow.close()
PY
check "malformed requests: refused with 4xx (505 for HTTP/9.9) or closed" \
  "! grep -Ev ': (HTTP/1.[01] (4[0-9][0-9]|505) |closed$)|^scrape while' malformed.out" \
  "$(cat malformed.out)"
check "path traversal: 404; other methods: 405" \
  "grep -q '^path traversal: HTTP/1.1 404' malformed.out && grep -q '^encoded traversal: HTTP/1.1 404' malformed.out &&
   grep -q '^POST with a body: HTTP/1.1 405' malformed.out && grep -q '^PUT: HTTP/1.1 405' malformed.out &&
   grep -q '^DELETE: HTTP/1.1 405' malformed.out" "$(cat malformed.out)"
check "a request that never finishes does not hold up a scrape" \
  "grep -Eq '^scrape while one hangs: HTTP/1.1 200 OK in 0\.' malformed.out" "$(cat malformed.out)"
code=$(curl -s -o after.txt -w '%{http_code}' "$URL")
check "after the malformed requests: alive, a scrape is whole" \
  "kill -0 $EXP_PID && [ '$code' = 200 ] && grep -q '^greenml_build_info' after.txt" "$code"

# ---- an address in use -------------------------------------------------------------
timeout 20 "$GM" exporter --listen "127.0.0.1:$PORT" --idle none >inuse.out 2>&1
RC=$?
check "a second exporter on the same address: exit 69, the address and the fix named" \
  "[ $RC -eq 69 ] && grep -q '^greenml exporter: cannot listen on 127.0.0.1:$PORT: the address is already in use (another exporter, or another program on that port); choose another address with --listen ADDR:PORT\$' inuse.out" \
  "exit $RC: $(cat inuse.out)"
if [ "$(id -u)" -ne 0 ]; then
  timeout 20 "$GM" exporter --listen 127.0.0.1:1 --idle none >priv.out 2>&1
  RC=$?
  check "a port below 1024 without the capability: exit 69, said so" \
    "[ $RC -eq 69 ] && grep -q 'permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)' priv.out" \
    "exit $RC: $(cat priv.out)"
fi
timeout 20 "$GM" exporter --listen 192.0.2.1:9464 --idle none >notmine.out 2>&1
RC=$?
check "an address that is not this machine's: exit 69" \
  "[ $RC -eq 69 ] && grep -q 'is not one of this machine' notmine.out" "exit $RC: $(cat notmine.out)"

# ---- SIGTERM -------------------------------------------------------------------------
stop_exporter TERM
check "SIGTERM: exits 0, saying how many scrapes it answered" \
  "[ $RC -eq 0 ] && grep -Eq '^greenml exporter: stopped after [0-9]+ scrapes\$' exp.err" \
  "exit $RC: $(tail -2 exp.err)"
check "stopped: the port is closed" \
  "! curl -s -o /dev/null --max-time 2 '$URL'"

# ---- the idle baseline from a database, SIGINT ----------------------------------------
timeout 60 "$GM" exporter --listen 127.0.0.1:0 --db "$work/none.db" \
  >/dev/null 2>nodb.err &
NODB=$!
sleep 1.5
kill -INT "$NODB"
wait "$NODB"
RC=$?
check "--idle auto without a database: runs, says so, creates nothing; SIGINT: exit 0" \
  "[ $RC -eq 0 ] && grep -q \"no database at '$work/none.db', so no idle baseline\" nodb.err && [ ! -e '$work/none.db' ]" \
  "exit $RC: $(cat nodb.err)"
timeout 60 "$GM" idle --duration 1s --db "$work/g.db" >idle.out 2>&1
RC=$?
check "greenml idle stores a baseline of the fake machine" "[ $RC -eq 0 ]" "$(cat idle.out)"
if start_exporter idle --listen 127.0.0.1:0 --db "$work/g.db" --interval 100ms; then
  check "the baseline is named at start, with the components it applies to" \
    "grep -Eq '^greenml exporter: idle baseline #1 \(measured [0-9T:Z-]+\) applies to 3 of 3 components\$' idle.err" \
    "$(cat idle.err)"
  curl -s -o idle.txt "http://127.0.0.1:$PORT/metrics"
  py_check "greenml_idle_power_watts: the GPU's 250 W and the DRAM model's 6 W, when" "$py_series"'
g = series(args[0], "greenml_idle_power_watts{component=\"gpu0\",source=\"nvml\",baseline=\"1\"}")
d = series(args[0], "greenml_idle_power_watts{component=\"dram\",source=\"dram-model\",baseline=\"1\"}")
t = series(args[0], "greenml_idle_baseline_timestamp_seconds{baseline=\"1\"}")
import time
want(close(g, 250), "gpu0 idle %r W" % g)
want(close(d, 6), "dram idle %r W" % d)
want(t is not None and abs(t - time.time()) < 300, "measured at %r" % t)
' idle.txt
  stop_exporter INT
  check "SIGINT: exits 0" "[ $RC -eq 0 ]" "exit $RC"
else
  not_ok "exporter starts with --db" "$(cat idle.err)"
fi

tap_done exporter
