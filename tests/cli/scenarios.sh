#!/usr/bin/env bash
# scenarios.sh: end-to-end tests of the greenml command line.
#
#   bash tests/cli/scenarios.sh GREENML_BINARY TESTS_DIR [FAKE_NVML_LIB]
#
# Each scenario runs in its own directory with a private HOME and
# XDG_DATA_HOME, a fake sysfs and devfs (empty: no RAPL, no MSR, no DMI
# table, so the CPU and DRAM are modelled on any machine; or a fake powercap
# tree), the real procfs (or, where an idle baseline is measured, a fake one
# whose CPU utilisation the scenario sets: the real machine may be busy) and
# an NVML library path that does not exist, except where the fake
# libnvidia-ml.so.1 (tests/fakes/fake_nvml.c) is the subject.
# JSON is checked with python3, databases with the sqlite3 shell.
#
# Prints "ok - ..." or "not ok - ..." per check and "N passed, M failed" at
# the end; exits 1 when a check failed, 2 on bad usage.
#
# The commands given to `sh -c` below are single-quoted on purpose: their
# variables are expanded by that shell.
# shellcheck disable=SC2016
set -u

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
  echo "usage: $0 GREENML_BINARY TESTS_DIR [FAKE_NVML_LIB]" >&2
  exit 2
fi
GREENML=$1
TESTS=$2
FAKE_NVML=${3-}
case $GREENML in /*) ;; *) GREENML=$PWD/$GREENML ;; esac
case $FAKE_NVML in '' | /*) ;; *) FAKE_NVML=$PWD/$FAKE_NVML ;; esac
if [ ! -x "$GREENML" ]; then
  echo "$0: '$GREENML' is not an executable" >&2
  exit 2
fi
if ! TESTS=$(cd "$TESTS" && pwd); then
  echo "$0: no directory '$2'" >&2
  exit 2
fi
CARBON_CSV=$(cd "$TESTS/.." && pwd)/tables/carbon_intensity.csv
for tool in python3 sqlite3 pgrep timeout sha256sum; do
  if ! command -v "$tool" >/dev/null; then
    echo "$0: '$tool' is needed" >&2
    exit 2
  fi
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/greenml-cli-scenarios.XXXXXX") || exit 2
# The background greenml being tested and its command, killed on an early
# exit; cleared once they are known to be gone.
BG=
CHILD=
# The writer of a fake /proc/stat (fake_procfs), stopped by new_env and on
# exit.
STAT_WRITER=

# `greenml measure` makes its marker FIFO in /tmp/greenml-XXXXXX and removes
# it on exit; a greenml killed here by a signal leaves it behind. At the end,
# the directories that appeared meanwhile and whose FIFO no process holds
# open (a running greenml keeps its own open) are removed.
fifo_dirs() {
  local d
  for d in /tmp/greenml-??????; do
    [ -d "$d" ] && printf '%s\n' "$d"
  done
}
FIFO_DIRS_BEFORE=$(fifo_dirs)
reap_fifo_dirs() {
  local d live
  live=$(find /proc/[0-9]*/fd -maxdepth 1 -lname '/tmp/greenml-*' \
    -printf '%l\n' 2>/dev/null)
  for d in $(fifo_dirs); do
    grep -qxF "$d" <<<"$FIFO_DIRS_BEFORE" && continue
    grep -qxF "$d/mark" <<<"$live" && continue
    rm -rf "$d"
  done
}

cleanup() {
  [ -z "$BG" ] || kill -9 "$BG" 2>/dev/null
  [ -z "$STAT_WRITER" ] || kill "$STAT_WRITER" 2>/dev/null
  [ -z "$CHILD" ] || kill -9 "$CHILD" 2>/dev/null
  reap_fifo_dirs
  cd / && rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

unset GREENML_MARK GREENML_FAKE_NVML_SCRIPT GREENML_FAKE_NVML_INIT \
  GREENML_SYSFS GREENML_PROCFS GREENML_DEVFS GREENML_NVML_LIB

passed=0
failed=0

ok() {
  echo "ok - $1"
  passed=$((passed + 1))
}

not_ok() {
  echo "not ok - $1 ($2)"
  failed=$((failed + 1))
}

# One line of a file, at most 300 characters, for messages.
squash() {
  if [ -f "$1" ]; then
    tr '\n\t' '  ' <"$1" | cut -c1-300
  fi
}

# new_env NAME: a fresh directory with a private HOME, XDG_DATA_HOME, an
# empty fake sysfs and devfs; becomes the working directory. D is its path.
new_env() {
  stop_procfs
  D=$TMP/$1
  mkdir -p "$D/home" "$D/xdg" "$D/sys" "$D/dev"
  cd "$D" || exit 2
  export HOME=$D/home XDG_DATA_HOME=$D/xdg GREENML_SYSFS=$D/sys \
    GREENML_DEVFS=$D/dev GREENML_PROCFS=/proc \
    GREENML_NVML_LIB=$D/no-such-libnvidia-ml.so.1
  unset GREENML_FAKE_NVML_SCRIPT GREENML_FAKE_NVML_INIT
}

# fake_procfs PCT: a procfs in $D/proc whose /proc/stat shows the CPU PCT %
# busy (busy_pct changes it): a background writer grows its counters every
# 10 ms, rewriting the file in place at the same length (the meter keeps it
# open); meminfo and cpuinfo are copies of the machine's. An idle baseline
# measured on the real procfs of a busy test machine would be refused.
fake_procfs() {
  mkdir -p "$D/proc"
  cp /proc/meminfo /proc/cpuinfo "$D/proc/"
  printf 'cpu  %012d 0 0 %012d 0 0 0 0 0 0\ncpu0 %012d 0 0 %012d 0 0 0 0 0 0\nintr 1 2 3\n' \
    1 1 1 1 >"$D/proc/stat"
  busy_pct "$1"
  python3 -c '
import os, sys, time
path, pct_file = sys.argv[1], sys.argv[2]
fd = os.open(path, os.O_WRONLY)
parent, end, b, i = os.getppid(), time.time() + 900, 1, 1
while os.getppid() == parent and time.time() < end:
    try:
        pct = int(open(pct_file).read())
    except (OSError, ValueError):
        pct = 2
    b, i = b + pct, i + 100 - pct
    line = "cpu  %012d 0 0 %012d 0 0 0 0 0 0\ncpu0 %012d 0 0 %012d 0 0 0 0 0 0\nintr 1 2 3\n"
    os.pwrite(fd, (line % (b, i, b, i)).encode(), 0)
    time.sleep(0.01)
' "$D/proc/stat" "$D/busy.pct" &
  STAT_WRITER=$!
  export GREENML_PROCFS=$D/proc
  # python3 can take seconds to start on a loaded machine: wait (20 s at
  # most) for its first write
  local i
  for i in $(seq 400); do
    grep -q '^cpu  000000000001 ' "$D/proc/stat" || break
    sleep 0.05
    : "$i"
  done
}

# busy_pct PCT: the CPU utilisation the fake /proc/stat shows from now on.
busy_pct() {
  printf '%d\n' "$1" >"$D/busy.pct.tmp" && mv "$D/busy.pct.tmp" "$D/busy.pct"
}

stop_procfs() {
  if [ -n "$STAT_WRITER" ]; then
    kill "$STAT_WRITER" 2>/dev/null
    wait "$STAT_WRITER" 2>/dev/null
  fi
  STAT_WRITER=
}

# gm NAME ARGS...: runs greenml ARGS (60 s limit) with stdout in NAME.out,
# stderr in NAME.err; RC is its status.
gm() {
  local name=$1
  shift
  timeout 60 "$GREENML" "$@" </dev/null >"$name.out" 2>"$name.err"
  RC=$?
}

# expect_rc DESC WANT NAME: checks RC after `gm NAME ...`. Returns 1 (after
# reporting) when it differs.
expect_rc() {
  if [ "$RC" -eq "$2" ]; then
    ok "$1"
    return 0
  fi
  not_ok "$1" "expected exit $2 got $RC; stderr: $(squash "$3.err")"
  return 1
}

# check DESC CONDITION-COMMAND... : ok when the command succeeds.
check() {
  local desc=$1
  shift
  if "$@"; then
    ok "$desc"
  else
    not_ok "$desc" "failed: $*"
  fi
}

# check_json DESC FILE PYTHON: runs PYTHON with `d` = the parsed FILE and
# helpers want(cond, msg), close(a, b, rel) and num(x); ok when every want()
# held. Further files can be named after PYTHON (sys.argv[2:]).
JSON_PRELUDE='
import json, math, sys
d = json.load(open(sys.argv[1]))
errs = []
def want(cond, msg):
    if not cond:
        errs.append(msg)
def num(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
def close(a, b, rel=1e-6, tol=1e-9):
    return num(a) and num(b) and abs(a - b) <= max(rel * max(abs(a), abs(b)), tol)
'
check_json() {
  local desc=$1 file=$2 code=$3 msg
  shift 3
  if [ ! -s "$file" ]; then
    not_ok "$desc" "'$file' missing or empty"
    return
  fi
  if msg=$(python3 -c "$JSON_PRELUDE$code
if errs:
    print('; '.join(errs)[:600])
    sys.exit(1)" "$file" "$@" 2>&1); then
    ok "$desc"
  else
    not_ok "$desc" "$(echo "$msg" | tr '\n' ' ' | cut -c1-600)"
  fi
}

# wait_child PID NAME: waits (10 s at most) until PID has a child process
# named NAME (after its exec: the held child is still called greenml) and
# sets CHILD to its pid.
wait_child() {
  local i
  CHILD=
  for i in $(seq 200); do
    CHILD=$(pgrep -x -P "$1" "$2" | head -n1)
    [ -n "$CHILD" ] && return 0
    kill -0 "$1" 2>/dev/null || return 1
    sleep 0.05
    : "$i"
  done
  return 1
}

# wait_exit PID SECONDS: waits until PID (a child of this shell) has exited,
# for SECONDS at most; RC is its status. Returns 1 (and kills it) on timeout.
wait_exit() {
  local i
  for i in $(seq $(($2 * 20))); do
    if ! kill -0 "$1" 2>/dev/null; then
      wait "$1"
      RC=$?
      return 0
    fi
    sleep 0.05
    : "$i"
  done
  kill -9 "$1" 2>/dev/null
  wait "$1"
  RC=$?
  return 1
}

# A CPU-bound loop in sh, about 0.1 s to 0.5 s.
BUSY='i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done'

# ---- a. JSON summary and CSV time series ---------------------------------
new_env a
gm a measure --no-db --json out.json --csv out.csv --tag model=lenet \
  --tag epoch=1 -- sh -c "$BUSY; $BUSY"
if expect_rc "a: measure --json --csv --tag exits 0" 0 a; then
  check_json "a: JSON has the summary keys with the right types" out.json '
for k in ("exit_code", "duration_s", "total_energy_j", "total_net_energy_j",
          "carbon_g", "sampler_cpu_s", "process_cpu_s", "components", "phases", "tags",
          "metrics", "command", "carbon_intensity_g_per_kwh", "pue"):
    want(k in d, "no key %r" % k)
want(d.get("exit_code") == 0, "exit_code %r" % d.get("exit_code"))
want(num(d.get("duration_s")) and d["duration_s"] > 0, "duration_s")
want(num(d.get("total_energy_j")) and d["total_energy_j"] >= 0, "total_energy_j")
want(d.get("total_net_energy_j") is None, "total_net_energy_j not null without a baseline")
want(num(d.get("carbon_g")), "carbon_g")
want(num(d.get("sampler_cpu_s")) and d["sampler_cpu_s"] >= 0, "sampler_cpu_s")
# the whole process holds the meter threads
want(num(d.get("process_cpu_s")) and d["process_cpu_s"] >= 0 and
     d["process_cpu_s"] >= d.get("sampler_cpu_s", 0), "process_cpu_s %r >= "
     "sampler_cpu_s %r" % (d.get("process_cpu_s"), d.get("sampler_cpu_s")))
want(d.get("phases") == [], "phases %r" % d.get("phases"))
want(d.get("idle_baseline") == "none", "idle_baseline")
want(d.get("run_id") is None, "run_id with --no-db")
'
  check_json "a: every component has name, kind, source, provenance and numbers" out.json '
comps = d["components"]
want(isinstance(comps, list) and comps, "no components")
for c in comps:
    for k in ("name", "kind", "source", "provenance", "energy_j", "net_energy_j",
              "avg_power_w", "peak_power_w", "idle_power_w", "in_total"):
        want(k in c, "component %r has no %r" % (c.get("name"), k))
    want(isinstance(c.get("name"), str) and c["name"], "name")
    want(c.get("kind") in ("cpu", "dram", "gpu", "psys"), "kind %r" % c.get("kind"))
    want(isinstance(c.get("source"), str) and c["source"], "source")
    want(c.get("provenance") in ("measured", "modelled"), "provenance %r" % c.get("provenance"))
    for k in ("energy_j", "avg_power_w", "peak_power_w"):
        want(num(c.get(k)) and c[k] >= 0, "%s.%s = %r" % (c.get("name"), k, c.get(k)))
    want(c.get("net_energy_j") is None and c.get("idle_power_w") is None,
         "%s: net/idle not null without a baseline" % c.get("name"))
    want(isinstance(c.get("in_total"), bool), "in_total")
# With an empty sysfs and no NVML the CPU and DRAM are modelled.
got = sorted((c["name"], c["kind"], c["source"], c["provenance"]) for c in comps)
want(got == [("cpu", "cpu", "cpu-tdp-model", "modelled"),
             ("dram", "dram", "dram-model", "modelled")], "components %r" % got)
'
  check_json "a: tags are {model: lenet, epoch: 1}, in order" out.json '
want(list(d["tags"].items()) == [("model", "lenet"), ("epoch", "1")], "tags %r" % d["tags"])
'
  check_json "a: total_energy_j is the sum of the in-total components" out.json '
s = sum(c["energy_j"] for c in d["components"] if c["in_total"])
want(close(d["total_energy_j"], s), "total %r, sum %r" % (d["total_energy_j"], s))
want(close(d["carbon_g"], d["total_energy_j"] / 3.6e6 * d["pue"] * d["carbon_intensity_g_per_kwh"]),
     "carbon_g %r" % d["carbon_g"])
'
  if python3 - out.csv out.json >a.py.out 2>&1 <<'EOF'
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1])))
d = json.load(open(sys.argv[2]))
errs = []
head, data = rows[0], rows[1:]
if head[0] != "t_s":
    errs.append("header starts with %r" % head[0])
if len(data) < 2:
    errs.append("%d data rows" % len(data))
if any(len(r) != len(head) for r in data):
    errs.append("rows of the wrong width")
t = [float(r[0]) for r in data]
if t and t[0] != 0.0:
    errs.append("first t_s %r" % t[0])
if any(b <= a for a, b in zip(t, t[1:])):
    errs.append("t_s not strictly increasing: %r" % t)
for c in d["components"]:
    col = "%s.energy_j[J %s %s]" % (c["name"], c["provenance"], c["source"])
    if col not in head:
        errs.append("no column %r" % col)
    elif data and abs(float(data[-1][head.index(col)]) - c["energy_j"]) > 2e-6:
        errs.append("%s: last CSV energy %s, JSON %r" % (col, data[-1][head.index(col)], c["energy_j"]))
if t and abs(t[-1] - d["duration_s"]) > 2e-6:
    errs.append("last t_s %r, duration_s %r" % (t[-1], d["duration_s"]))
print("; ".join(errs))
sys.exit(1 if errs else 0)
EOF
  then
    ok "a: CSV: header, >= 2 rows, strictly increasing t_s, last row = JSON totals"
  else
    not_ok "a: CSV: header, >= 2 rows, strictly increasing t_s, last row = JSON totals" \
      "$(squash a.py.out)"
  fi
fi

# ---- b. phases from `greenml mark` ------------------------------------------
new_env b
export GM_BIN=$GREENML
gm b measure --no-db --json b.json -- sh -c \
  '"$GM_BIN" mark load && '"$BUSY"' && "$GM_BIN" mark train && '"$BUSY"' &&
   "$GM_BIN" mark --end && '"$BUSY"
if expect_rc "b: measure with mark load / train / --end exits 0" 0 b; then
  check "b: no malformed markers reported" \
    bash -c '! grep -q "malformed" b.err'
  check_json "b: phases load, train in order; energies add up; times consistent" b.json '
ph = d["phases"]
want([p["name"] for p in ph] == ["load", "train"], "phases %r" % [p["name"] for p in ph])
in_total = {c["name"]: c["in_total"] for c in d["components"]}
for p in ph:
    s = sum(c["energy_j"] for c in p["components"] if in_total[c["name"]])
    want(close(p["energy_j"], s), "%s: energy_j %r, in-total sum %r" % (p["name"], p["energy_j"], s))
    want(p["energy_j"] >= 0 and p["duration_s"] > 0, "%s: energy/duration" % p["name"])
    want(p["ended_by_exit"] is False, "%s ended by exit" % p["name"])
    want(p["start_s"] >= 0, "%s starts before the run" % p["name"])
want(all(a["start_s"] <= b["start_s"] for a, b in zip(ph, ph[1:])), "start_s decreasing")
if len(ph) == 2:
    # `mark train` ends load where train begins.
    want(close(ph[0]["start_s"] + ph[0]["duration_s"], ph[1]["start_s"], 1e-6, 1e-6),
         "load does not end where train begins")
    # `mark --end` then one more loop: the phases end before the run.
    want(ph[1]["start_s"] + ph[1]["duration_s"] < d["duration_s"], "train ends after the run")
want(sum(p["duration_s"] for p in ph) < d["duration_s"], "phase durations exceed the run")
want(sum(p["energy_j"] for p in ph) <= d["total_energy_j"] * (1 + 1e-9) + 1e-9,
     "phase energies exceed the total")
'
fi
gm b2 measure --no-db --json b2.json -- sh -c '"$GM_BIN" mark solo && '"$BUSY"
if expect_rc "b: a phase left open exits 0" 0 b2; then
  check_json "b: the open phase is ended by the exit, at the end of the run" b2.json '
ph = d["phases"]
want([p["name"] for p in ph] == ["solo"], "phases %r" % ph)
if ph:
    want(ph[0]["ended_by_exit"] is True, "ended_by_exit false")
    want(close(ph[0]["start_s"] + ph[0]["duration_s"], d["duration_s"], 1e-6, 1e-6),
         "the open phase does not end with the run")
'
fi
# Markers written just before the command exits still count: the marker
# reader used to be stopped after the meter, which then refused them (the
# last phase was lost, or ended by the exit instead of --end). 30 runs.
bad=
for k in $(seq 30); do
  timeout 60 "$GREENML" measure --no-db --quiet --json "b3-$k.json" -- \
    sh -c '"$GM_BIN" mark first && "$GM_BIN" mark last && "$GM_BIN" mark --end' \
    </dev/null >/dev/null 2>"b3-$k.err" || bad="$bad run $k exit $?"
done
if [ -n "$bad" ]; then
  not_ok "b: markers written right before the exit" "$bad"
else
  check_json "b: markers written right before the exit are all applied (30 runs)" b3-1.json '
for f in sys.argv[1:]:
    ph = json.load(open(f))["phases"]
    got = [(p["name"], p["ended_by_exit"]) for p in ph]
    want(got == [("first", False), ("last", False)], "%s: %r" % (f, got))
' b3-{2..30}.json
fi
unset GM_BIN

# ---- c. signals and pass-through -------------------------------------------
new_env c
# Without job control bash starts background commands with SIGINT and
# SIGQUIT ignored, and the command inherits that (greenml is transparent):
# DEFAULT_SIGNALS restores the default dispositions before greenml starts
# (`env --default-signal`, coreutils >= 8.31; else the same in python3).
if env --default-signal=INT true 2>/dev/null; then
  DEFAULT_SIGNALS=(env --default-signal)
else
  DEFAULT_SIGNALS=(python3 -c 'import os, signal, sys
for s in (signal.SIGINT, signal.SIGQUIT):
    signal.signal(s, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])')
fi
for sig in TERM:143 INT:130 HUP:129 USR1:138; do
  name=${sig%%:*}
  want=${sig##*:}
  "${DEFAULT_SIGNALS[@]}" "$GREENML" measure --no-db -- sleep 30 \
    >"c$name.out" 2>"c$name.err" </dev/null &
  pid=$!
  BG=$pid
  if ! wait_child "$pid" sleep; then
    not_ok "c: SIG$name forwarded" "the sleep child never appeared; stderr: $(squash "c$name.err")"
    kill -9 "$pid" 2>/dev/null
    wait "$pid"
    BG=
    continue
  fi
  kill -"$name" "$pid"
  if ! wait_exit "$pid" 10; then
    not_ok "c: SIG$name to greenml ends the command, exit $want" "greenml still running 10 s after SIG$name"
    BG=
    kill -9 "$CHILD" 2>/dev/null
    CHILD=
    continue
  fi
  BG=
  if [ "$RC" -eq "$want" ] && grep -q "(exit status $want)" "c$name.err"; then
    ok "c: SIG$name to greenml is forwarded: the command dies, greenml exits $want"
  else
    not_ok "c: SIG$name to greenml is forwarded, exit $want" "got $RC; stderr: $(squash "c$name.err")"
  fi
  if kill -0 "$CHILD" 2>/dev/null; then
    not_ok "c: SIG$name: the command is gone" "sleep $CHILD still runs"
    kill -9 "$CHILD" 2>/dev/null
  fi
  CHILD=
done

# A command that dies while greenml still holds it (here: killed during the
# 300 ms idle measurement that precedes its release; in practice a signal
# forwarded to it) must give 128+N, not kill greenml with SIGPIPE when the
# release is written (141).
"${DEFAULT_SIGNALS[@]}" "$GREENML" measure --no-db --idle 300ms --force-busy -- sleep 30 \
  >c9.out 2>c9.err </dev/null &
pid=$!
BG=$pid
if wait_child "$pid" greenml; then
  kill -9 "$CHILD"
  CHILD=
  wait_exit "$pid" 10
  if [ "$RC" -eq 137 ]; then
    ok "c: a command killed while held: greenml exits 137"
  else
    not_ok "c: a command killed while held: greenml exits 137" "got $RC; stderr: $(squash c9.err)"
  fi
else
  not_ok "c: a command killed while held" "no held child seen; stderr: $(squash c9.err)"
  kill -9 "$pid" 2>/dev/null
  wait "$pid"
fi
BG=

# SIGTERM at any moment of the start-up: before the handlers exist greenml
# dies of it (143); after, it is forwarded to the command, held or running
# (143). The start delays vary over the first 10 ms.
bad=
for k in $(seq 40); do
  "${DEFAULT_SIGNALS[@]}" "$GREENML" measure --no-db --quiet -- sleep 30 \
    >/dev/null 2>c0.err </dev/null &
  pid=$!
  BG=$pid
  sleep "0.00$((k % 10))"
  while kill -TERM "$pid" 2>/dev/null; do :; done
  wait "$pid"
  RC=$?
  BG=
  [ "$RC" -eq 143 ] || bad="$bad $RC"
done
if [ -z "$bad" ]; then
  ok "c: SIGTERM during start-up: greenml always exits 143 (40 runs)"
else
  not_ok "c: SIGTERM during start-up: greenml always exits 143" "other exits:$bad"
fi

gm c1 measure --no-db --quiet -- echo hello
expect_rc "c: measure --quiet -- echo hello exits 0" 0 c1
check "c: the command's stdout passes through untouched" \
  cmp -s c1.out <(printf 'hello\n')
check "c: --quiet: nothing on stderr" test ! -s c1.err
printf 'line 1\nline 2\n' >c2.in
timeout 60 "$GREENML" measure --no-db --quiet -- cat <c2.in >c2.out 2>c2.err
RC=$?
expect_rc "c: measure -- cat reading stdin exits 0" 0 c2
check "c: the command's stdin passes through untouched" cmp -s c2.in c2.out
gm c3 measure --no-db -- sh -c 'printf out; printf err >&2'
check "c: without --quiet stdout is only the command's" cmp -s c3.out <(printf out)
check "c: the summary goes to stderr" grep -q "Energy of 'sh -c" c3.err

# ---- d. SIGKILL durability ---------------------------------------------------
new_env d
"$GREENML" measure --db t.db -- sleep 30 >d.out 2>d.err </dev/null &
pid=$!
BG=$pid
if wait_child "$pid" sleep; then
  sleep 2.6
  kill -9 "$pid"
  wait "$pid" 2>/dev/null
  BG=
  # The orphaned command.
  kill -9 "$CHILD" 2>/dev/null
  CHILD=
  run_id=$(sqlite3 t.db 'SELECT max(id) FROM runs' 2>&1)
  check "d: the killed run is in the database, complete=0" \
    test "$(sqlite3 t.db "SELECT complete FROM runs WHERE id=$run_id" 2>&1)" = 0
  max_t=$(sqlite3 t.db "SELECT max(t_s) FROM samples WHERE run_id=$run_id" 2>&1)
  if python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= 1.5 else 1)' \
    "$max_t" 2>/dev/null; then
    ok "d: samples up to the last commit survive SIGKILL (max t_s $max_t >= 1.5)"
  else
    not_ok "d: samples up to the last commit survive SIGKILL" "max(t_s) = '$max_t'"
  fi
  # Whole samples only: every sequence number from 0 up, every component.
  q="SELECT count(DISTINCT seq) = max(seq) + 1
       AND count(*) = count(DISTINCT seq) *
           (SELECT count(*) FROM components WHERE run_id=$run_id)
     FROM samples WHERE run_id=$run_id"
  check "d: the stored samples have no gaps" test "$(sqlite3 t.db "$q" 2>&1)" = 1
  gm d1 runs --db t.db
  expect_rc "d: runs on the database exits 0" 0 d1
  check "d: runs lists the killed run as incomplete" \
    grep -Eq "^ +$run_id .* measure +incomplete +[0-9.]+ s +[0-9.]+ [kMG]?J .* sleep 30$" d1.out
  gm d2 runs --db t.db --json
  check_json "d: runs --json: incomplete, non-zero energy from its samples" d2.out '
r = [x for x in d if x["id"] == int(sys.argv[2])]
want(len(r) == 1, "run not listed")
if r:
    r = r[0]
    want(r["complete"] is False, "complete %r" % r["complete"])
    want(num(r["total_energy_j"]) and r["total_energy_j"] > 0, "energy %r" % r["total_energy_j"])
    want(num(r["duration_s"]) and r["duration_s"] >= 1.5, "duration %r" % r["duration_s"])
    want(r["exit_code"] is None, "exit_code %r" % r["exit_code"])
    want(r["command"] == "sleep 30", "command %r" % r["command"])
' "$run_id"
  gm d3 measure --db t.db --quiet -- true
  expect_rc "d: a new measure on the same database exits 0" 0 d3
  check "d: the new run is complete, the killed one is not" \
    test "$(sqlite3 t.db 'SELECT group_concat(complete) FROM (SELECT complete FROM runs ORDER BY id)' 2>&1)" = "0,1"
  gm d4 runs --db t.db --limit 1 --json
  check_json "d: runs --limit 1 lists the newest run only" d4.out '
want(len(d) == 1 and d[0]["complete"] is True and d[0]["exit_code"] == 0, "runs %r" % d)
'
else
  not_ok "d: SIGKILL durability" "the sleep child never appeared; stderr: $(squash d.err)"
  kill -9 "$pid" 2>/dev/null
  wait "$pid"
  BG=
fi

# ---- e. idle baseline ---------------------------------------------------------
new_env e
fake_procfs 2
gm e1 idle --duration 1s --db t.db
expect_rc "e: idle --duration 1s exits 0" 0 e1
check "e: idle prints and stores the baseline" \
  grep -q "^idle baseline #1, measured .* over 1\.[0-9] s:" e1.out
gm e2 measure --db t.db --json o.json -- true
if expect_rc "e: measure with the stored baseline exits 0" 0 e2; then
  check_json "e: net energy and idle power are numbers; net = gross - idle x duration" o.json '
want(d["idle_baseline"] == "subtracted", "idle_baseline %r" % d["idle_baseline"])
want(num(d["total_net_energy_j"]), "total_net_energy_j %r" % d["total_net_energy_j"])
want(num(d["carbon_net_g"]), "carbon_net_g %r" % d["carbon_net_g"])
net = 0
for c in d["components"]:
    want(num(c["idle_power_w"]) and c["idle_power_w"] >= 0, "%s idle_power_w %r" % (c["name"], c["idle_power_w"]))
    want(num(c["net_energy_j"]), "%s net_energy_j %r" % (c["name"], c["net_energy_j"]))
    if num(c["idle_power_w"]) and num(c["net_energy_j"]):
        want(close(c["net_energy_j"], c["energy_j"] - c["idle_power_w"] * d["duration_s"], 1e-6, 1e-9),
             "%s: net %r" % (c["name"], c["net_energy_j"]))
        if c["in_total"]:
            net += c["net_energy_j"]
want(close(d["total_net_energy_j"], net, 1e-6, 1e-9), "total net %r, sum %r" % (d["total_net_energy_j"], net))
'
fi
gm e3 idle --show --db t.db
expect_rc "e: idle --show exits 0" 0 e3
check "e: idle --show prints the stored baseline" \
  grep -q "^idle baseline #1, measured" e3.out
check "e: idle --show lists every component" \
  bash -c 'grep -Eq "^  dram +dram-model +[0-9.]+ W mean" e3.out &&
           grep -Eq "^  cpu +cpu-tdp-model +[0-9.]+ W mean" e3.out'
gm e4 measure --db t.db --idle none --json n.json -- true
if expect_rc "e: measure --idle none exits 0" 0 e4; then
  check_json "e: --idle none: total_net_energy_j and idle_power_w are null" n.json '
want(d["total_net_energy_j"] is None, "total_net_energy_j %r" % d["total_net_energy_j"])
want(d["idle_baseline"] == "none", "idle_baseline %r" % d["idle_baseline"])
want(all(c["idle_power_w"] is None for c in d["components"]), "idle_power_w not null")
'
fi
gm e5 measure --no-db --idle 200ms --json m.json -- true
if expect_rc "e: measure --no-db --idle 200ms exits 0" 0 e5; then
  check_json "e: --idle DUR measures a baseline first" m.json '
want(d["idle_baseline"] == "subtracted" and num(d["total_net_energy_j"]), "no net energy")
'
fi
check "e: measure --idle 200ms says it measures idle power first" \
  grep -q "measuring idle power for 0.2 s" e5.err

# ---- f. a database from a newer schema is refused and left untouched --------
new_env f
gm f1 measure --db s.db --quiet -- true
expect_rc "f: measure creates the database" 0 f1
sqlite3 s.db 'PRAGMA user_version=99'
sum_before=$(sha256sum <s.db)
gm f2 measure --db s.db -- touch marker
expect_rc "f: measure on a newer schema exits 65" 65 f2
check "f: the message names the schema version" \
  grep -Eq "schema version 99 .*newer|newer greenml" f2.err
check "f: the command did not run" test ! -e marker
gm f3 runs --db s.db
expect_rc "f: runs on a newer schema exits 65" 65 f3
gm f4 idle --db s.db --duration 100ms
expect_rc "f: idle on a newer schema exits 65" 65 f4
check "f: the database file is unchanged (sha256)" \
  test "$(sha256sum <s.db)" = "$sum_before"
check "f: user_version is still 99" \
  test "$(sqlite3 s.db 'PRAGMA user_version' 2>&1)" = 99

# ---- g. GPUs through the fake NVML -------------------------------------------
if [ -z "$FAKE_NVML" ] || [ ! -f "$FAKE_NVML" ]; then
  not_ok "g: fake NVML" "the fake libnvidia-ml.so.1 was not built or not passed ('$FAKE_NVML')"
else
  new_env g
  # gpu0 (Hopper) has the energy counter. Its k-th nvmlDeviceGet-
  # TotalEnergyConsumption call returns the k-th trace value (the last one
  # repeats). Call 0 is the open-time probe (NVML is re-initialised, and the
  # fake re-reads its script, for every meter greenml creates), call 1 the
  # first tick, which comes before the command starts: the counter then rises
  # by 30000 mJ once and stays, so gpu0 is exactly 30 J for any number or
  # timing of ticks. gpu1 (Pascal, arch 4) has no counter and is integrated
  # from a constant 50 W power sensor by the trapezoid rule from the first
  # tick to the last, i.e. exactly 50 W x duration_s.
  cat >nvml.script <<'EOF'
# two GPUs: one with an energy counter, one with a power sensor only
driver 550.54.15
nvml 12.550.54.15
gpu name="NVIDIA H100 80GB HBM3" arch=9 power_mw=100000 util=75 mem_util=40 temp=61 sm_clock=1980 power_limit_mw=700000
energy_trace 0 = 5000000,5000000,5030000
gpu name="Tesla P100-PCIE-16GB" arch=4 power_mw=50000 util=10 mem_util=5 temp=40
EOF
  export GREENML_NVML_LIB=$FAKE_NVML GREENML_FAKE_NVML_SCRIPT=$D/nvml.script
  gm g1 sources --json
  if expect_rc "g: sources --json with the fake NVML exits 0" 0 g1; then
    check_json "g: nvml is used; gpu0 (counter) and gpu1 (power sensor) measured" g1.out '
nv = [s for s in d["sources"] if s["source"] == "nvml"]
want(len(nv) == 1 and nv[0]["used"] is True and nv[0]["usable"] is True, "nvml %r" % nv)
if nv:
    want(nv[0]["found"].startswith("2 GPUs:"), "found %r" % nv[0]["found"])
gpus = {c["name"]: c for c in d["components"] if c["source"] == "nvml"}
want(sorted(gpus) == ["gpu0", "gpu1"], "gpu components %r" % sorted(gpus))
for n, sig in (("gpu0", "energy counter"), ("gpu1", "power sensor")):
    c = gpus.get(n, {})
    want(c.get("kind") == "gpu" and c.get("provenance") == "measured" and c.get("signal") == sig
         and c.get("in_total") is True, "%s %r" % (n, c))
want("NVIDIA H100" in gpus.get("gpu0", {}).get("detail", ""), "gpu0 detail")
want("arch pascal" in gpus.get("gpu1", {}).get("detail", ""), "gpu1 detail")
names = [m["name"] for m in d["metrics"]]
for m in ("gpu0.util", "gpu0.temp", "gpu1.util", "gpu1.vram_used"):
    want(m in names, "no metric %s" % m)
'
  fi
  gm g2 measure --no-db --json g.json -- sleep 0.3
  if expect_rc "g: measure with two fake GPUs exits 0" 0 g2; then
    check_json "g: gpu0 = 30 J from the counter, gpu1 = 50 W x duration" g.json '
gpus = {c["name"]: c for c in d["components"] if c["kind"] == "gpu"}
want(sorted(gpus) == ["gpu0", "gpu1"], "gpu components %r" % sorted(gpus))
g0, g1 = gpus.get("gpu0", {}), gpus.get("gpu1", {})
want(g0.get("source") == "nvml" and g0.get("provenance") == "measured", "gpu0 %r" % g0)
want(close(g0.get("energy_j"), 30.0, 1e-9, 1e-6), "gpu0 energy %r, want 30 J" % g0.get("energy_j"))
want(close(g1.get("energy_j"), 50.0 * d["duration_s"], 1e-6, 1e-6),
     "gpu1 energy %r, want 50 W x %r s" % (g1.get("energy_j"), d["duration_s"]))
want(close(g1.get("peak_power_w"), 50.0, 1e-6, 1e-6), "gpu1 peak %r" % g1.get("peak_power_w"))
want(g0.get("read_errors") == 0 and g1.get("read_errors") == 0, "read errors")
s = sum(c["energy_j"] for c in d["components"] if c["in_total"])
want(close(d["total_energy_j"], s), "total %r, sum %r" % (d["total_energy_j"], s))
m = {x["name"]: x for x in d["metrics"]}
want(m.get("gpu0.util", {}).get("mean") == 75, "gpu0.util %r" % m.get("gpu0.util"))
want(m.get("gpu1.util", {}).get("mean") == 10, "gpu1.util %r" % m.get("gpu1.util"))
want(m.get("gpu0.temp", {}).get("max") == 61, "gpu0.temp %r" % m.get("gpu0.temp"))
want(m.get("gpu0.power_limit", {}).get("mean") == 700, "gpu0.power_limit %r" % m.get("gpu0.power_limit"))
'
  fi
  check "g: the summary shows gpu0 measured by its energy counter" \
    grep -Eq "^ gpu0 +gpu +nvml +measured \(energy counter\)" g2.err
  gm g3 measure --no-db --no-gpu --json n.json -- true
  check_json "g: --no-gpu leaves the GPUs out" n.json '
want(not [c for c in d["components"] if c["kind"] == "gpu"], "gpu components with --no-gpu")
'
  export GREENML_FAKE_NVML_INIT=9
  gm g4 sources
  expect_rc "g: sources with NVML init failing exits 0" 0 g4
  check "g: NVML init failure is explained with its fix" \
    bash -c 'grep -Eq "^nvml +unusable" g4.out && grep -q "Driver Not Loaded" g4.out &&
             grep -q "modprobe nvidia" g4.out'
  gm g5 measure --no-db --quiet -- true
  expect_rc "g: measure without usable GPUs still exits 0" 0 g5
  # A driver that fails is not "no GPU": the total says it is partial, the
  # summary, the JSON and the stored run say what is missing and why.
  gm g6 measure --db g.db --json p.json -- true
  expect_rc "g: measure with the GPUs missing exits 0" 0 g6
  check_json "g: the GPUs are missing, the total is partial and says why" p.json '
g = [x for x in d["missing"] if x["name"] == "gpus"]
want(len(g) == 1 and g[0]["kind"] == "gpu" and g[0]["source"] == "nvml" and g[0]["in_total"] is True, "missing %r" % d["missing"])
want("Driver Not Loaded" in g[0]["reason"] and "--no-gpu" in g[0]["reason"], "reason %r" % g[0]["reason"])
want(d["total_partial"] is True and "gpus missing" in d["total_partial_why"], "partial %r %r" % (d["total_partial"], d["total_partial_why"]))
want(all(c["max_power_origin"] for c in d["components"]), "ceilings %r" % [c["max_power_origin"] for c in d["components"]])
'
  check "g: the summary marks the total PARTIAL and names what is missing" \
    bash -c 'grep -Eq "^ gpus +gpu +nvml +MISSING: not measured" g6.err &&
             grep -Eq "^ total +[a-z]+, PARTIAL " g6.err &&
             grep -q "^ warning: the total is PARTIAL, a lower bound: gpus missing" g6.err'
  check "g: the stored run is partial and lists the missing GPUs" \
    test "$(sqlite3 g.db "SELECT r.total_partial, m.name, m.kind, m.in_total FROM runs r JOIN run_missing m ON m.run_id = r.id")" = "1|gpus|gpu|1"
  gm g7 measure --no-db --no-gpu --json q.json -- true
  check_json "g: --no-gpu declares no GPU: nothing missing, not partial" q.json '
want(d["missing"] == [] and d["total_partial"] is False, "missing %r partial %r" % (d["missing"], d["total_partial"]))
'
  unset GREENML_FAKE_NVML_INIT GREENML_FAKE_NVML_SCRIPT
fi

# ---- h. carbon -----------------------------------------------------------------
new_env h
gm h1 measure --no-db --json h1.json --carbon-intensity 500 --pue 1.5 -- true
if expect_rc "h: --carbon-intensity 500 --pue 1.5 exits 0" 0 h1; then
  check_json "h: carbon_g = total_energy_j / 3.6e6 x 1.5 x 500" h1.json '
want(d["carbon_intensity_g_per_kwh"] == 500 and d["pue"] == 1.5, "intensity/pue")
want(d["carbon_source"] == "--carbon-intensity", "carbon_source %r" % d["carbon_source"])
want(d["total_energy_j"] > 0, "no energy")
want(close(d["carbon_g"], d["total_energy_j"] / 3.6e6 * 1.5 * 500, 1e-9), "carbon_g %r" % d["carbon_g"])
'
fi
for cc in FR PL WORLD; do
  g=$(awk -F, -v cc="$cc" '$1 == cc { print $3 }' "$CARBON_CSV")
  if [ "$cc" = WORLD ]; then
    gm "h$cc" measure --no-db --json "h$cc.json" -- true
  else
    gm "h$cc" measure --no-db --json "h$cc.json" --region "$cc" -- true
  fi
  if [ -z "$g" ]; then
    not_ok "h: $cc in tables/carbon_intensity.csv" "no row for $cc in '$CARBON_CSV'"
  elif expect_rc "h: region $cc exits 0" 0 "h$cc"; then
    check_json "h: region $cc: intensity $g g/kWh from the table, carbon_g = kWh x $g" "h$cc.json" '
g = float(sys.argv[2])
want(d["carbon_intensity_g_per_kwh"] == g, "intensity %r" % d["carbon_intensity_g_per_kwh"])
want(close(d["carbon_g"], d["total_energy_j"] / 3.6e6 * g), "carbon_g %r" % d["carbon_g"])
want(sys.argv[3] in d["carbon_source"], "carbon_source %r" % d["carbon_source"])
' "$g" "$cc"
  fi
done
check_json "h: carbon_g FR / PL = intensity ratio x energy ratio" hFR.json '
pl = json.load(open(sys.argv[2]))
gf, gp = d["carbon_intensity_g_per_kwh"], pl["carbon_intensity_g_per_kwh"]
want(close(d["carbon_g"] / pl["carbon_g"], gf / gp * d["total_energy_j"] / pl["total_energy_j"], 1e-9),
     "ratio %r" % (d["carbon_g"] / pl["carbon_g"]))
' hPL.json

# ---- i. a fake RAPL powercap tree ----------------------------------------------
new_env i
PC=$D/sys/class/powercap
mkdir -p "$PC/intel-rapl:0" "$PC/intel-rapl:0:0"
printf 'package-0\n' >"$PC/intel-rapl:0/name"
printf '262143328850\n' >"$PC/intel-rapl:0/max_energy_range_uj"
printf '1000000\n' >"$PC/intel-rapl:0/energy_uj"
printf 'dram\n' >"$PC/intel-rapl:0:0/name"
printf '65712999613\n' >"$PC/intel-rapl:0:0/max_energy_range_uj"
printf '65712699613\n' >"$PC/intel-rapl:0:0/energy_uj"
gm i1 sources --json
if expect_rc "i: sources --json with a powercap tree exits 0" 0 i1; then
  check_json "i: rapl-powercap used; dram-model and cpu-tdp-model not needed" i1.out '
src = {s["source"]: s for s in d["sources"]}
pc, dm, cm = src.get("rapl-powercap", {}), src.get("dram-model", {}), src.get("cpu-tdp-model", {})
want(pc.get("used") is True and pc.get("usable") is True, "rapl-powercap %r" % pc)
want(dm.get("used") is False and dm.get("reason", "").startswith("not needed: rapl-powercap has a DRAM domain"),
     "dram-model %r" % dm)
want(cm.get("used") is False and cm.get("reason", "").startswith("not needed: rapl-powercap measures the CPU"),
     "cpu-tdp-model %r" % cm)
got = sorted((c["name"], c["kind"], c["source"], c["provenance"], c["signal"], c["in_total"])
             for c in d["components"])
want(got == [("dram-0", "dram", "rapl-powercap", "measured", "energy counter", True),
             ("package-0", "cpu", "rapl-powercap", "measured", "energy counter", True)],
     "components %r" % got)
'
fi
# The first tick precedes the command and the last follows it, so counters
# the command moves once give exact energies: the package +3 J, the DRAM
# counter wraps at max_energy_range_uj (300000 uJ to the top, then 200000).
export PC
gm i2 measure --no-db --json i.json -- sh -c '
  printf 4000000 >"$PC/intel-rapl:0/e" && mv "$PC/intel-rapl:0/e" "$PC/intel-rapl:0/energy_uj" &&
  printf 200000 >"$PC/intel-rapl:0:0/e" && mv "$PC/intel-rapl:0:0/e" "$PC/intel-rapl:0:0/energy_uj"'
if expect_rc "i: measure with moving powercap counters exits 0" 0 i2; then
  check_json "i: package-0 = 3 J, dram-0 = 0.5 J across one wrap, total = 3.5 J" i.json '
c = {x["name"]: x for x in d["components"]}
p, m = c.get("package-0", {}), c.get("dram-0", {})
want(close(p.get("energy_j"), 3.0, 1e-9, 1e-9) and p.get("wraps") == 0, "package-0 %r" % p)
want(close(m.get("energy_j"), 0.5, 1e-9, 1e-9) and m.get("wraps") == 1, "dram-0 %r" % m)
want(close(d["total_energy_j"], 3.5, 1e-9, 1e-9), "total %r" % d["total_energy_j"])
want(sorted(c) == ["dram-0", "package-0"], "components %r" % sorted(c))
'
fi
unset PC

# ---- j. the DRAM model from a saved dmidecode listing ------------------------
new_env j
DMI=$TESTS/fixtures/dmidecode-ddr4.txt
gm j1 sources --dmidecode "$DMI"
expect_rc "j: sources --dmidecode FILE exits 0" 0 j1
check "j: the DIMMs of the listing are found" \
  grep -Eq "^  found: +2 DIMMs, 32\.0 GiB DDR4" j1.out
gm j2 measure --no-db --dmidecode "$DMI" --json c1.json -- true
gm j3 measure --no-db --dmidecode "$DMI" --dimm-capacitance 6.2e-9 --json c2.json -- true
if [ "$RC" -eq 0 ] && expect_rc "j: measure --dmidecode exits 0" 0 j2; then
  # The model is a constant power (1/2 C V^2 f per DIMM) integrated over the
  # run: twice the capacitance, twice the average power.
  check_json "j: dram = constant modelled power; doubling --dimm-capacitance doubles it" c1.json '
c2 = json.load(open(sys.argv[2]))
a = [c for c in d["components"] if c["name"] == "dram"]
b = [c for c in c2["components"] if c["name"] == "dram"]
want(len(a) == 1 and len(b) == 1, "no dram component")
if a and b:
    a, b = a[0], b[0]
    want("2 DIMMs (dmidecode)" in a["detail"], "detail %r" % a["detail"])
    want(close(a["energy_j"], a["peak_power_w"] * d["duration_s"], 1e-6), "dram energy %r" % a["energy_j"])
    want(close(b["avg_power_w"] / a["avg_power_w"], 2.0, 1e-6), "ratio %r" % (b["avg_power_w"] / a["avg_power_w"]))
' c2.json
else
  not_ok "j: measure --dimm-capacitance exits 0" "got $RC; stderr: $(squash j3.err)"
fi

# ---- k. a partial baseline: net energy only where it is known --------------
# The baseline is measured with the CPU and DRAM modelled; then a powercap
# tree with a package but no DRAM domain appears (as when RAPL becomes
# readable): package-0 (rapl-powercap) has no baseline entry, the DRAM model
# has one. THE rule (energy.h): package-0's net is unknown, and so is every
# total's net (the run's and each phase's), never package-0's gross in
# disguise; the summary says which component lacks a baseline.
new_env k
fake_procfs 2
gm k1 idle --duration 300ms --db t.db
expect_rc "k: idle with the CPU and DRAM modelled exits 0" 0 k1
PC=$D/sys/class/powercap
mkdir -p "$PC/intel-rapl:0"
printf 'package-0\n' >"$PC/intel-rapl:0/name"
printf '262143328850\n' >"$PC/intel-rapl:0/max_energy_range_uj"
printf '1000000\n' >"$PC/intel-rapl:0/energy_uj"
export GM_BIN=$GREENML PC
gm k2 measure --db t.db --json k.json -- sh -c '"$GM_BIN" mark work && '"$BUSY"' &&
  printf 3000000 >"$PC/intel-rapl:0/e" && mv "$PC/intel-rapl:0/e" "$PC/intel-rapl:0/energy_uj"'
unset GM_BIN PC
if expect_rc "k: measure with a baseline for some components only exits 0" 0 k2; then
  check_json "k: package-0 has no baseline: its net and every total net are null; dram's net is known" k.json '
c = {x["name"]: x for x in d["components"]}
want(sorted(c) == ["dram", "package-0"], "components %r" % sorted(c))
p, m = c.get("package-0", {}), c.get("dram", {})
want(p.get("source") == "rapl-powercap" and p.get("in_total") is True, "package-0 %r" % p)
want(close(p.get("energy_j"), 2.0, 1e-9, 1e-9), "package-0 energy %r" % p.get("energy_j"))
want(p.get("idle_power_w") is None and p.get("net_energy_j") is None,
     "package-0 idle %r net %r" % (p.get("idle_power_w"), p.get("net_energy_j")))
want(m.get("source") == "dram-model" and num(m.get("idle_power_w")), "dram %r" % m)
if num(m.get("idle_power_w")):
    want(close(m.get("net_energy_j"), m["energy_j"] - m["idle_power_w"] * d["duration_s"], 1e-6, 1e-9),
         "dram net %r" % m.get("net_energy_j"))
want(close(d["total_energy_j"], p.get("energy_j", 0) + m.get("energy_j", 0)), "total %r" % d["total_energy_j"])
want(d["total_net_energy_j"] is None, "total_net_energy_j %r" % d["total_net_energy_j"])
want(d["carbon_net_g"] is None, "carbon_net_g %r" % d["carbon_net_g"])
want(d["idle_baseline"] == "subtracted", "idle_baseline %r" % d["idle_baseline"])
want(d.get("total_provenance") == "mixed", "total_provenance %r" % d.get("total_provenance"))
ph = d["phases"]
want([x["name"] for x in ph] == ["work"], "phases %r" % ph)
for x in ph:
    want(x["net_energy_j"] is None, "phase net %r" % x["net_energy_j"])
    want(num(x["energy_j"]), "phase gross %r" % x["energy_j"])
    pc = {y["name"]: y for y in x["components"]}
    want(pc["package-0"]["net_energy_j"] is None, "phase package-0 net")
    want(num(pc["dram"]["net_energy_j"]), "phase dram net %r" % pc["dram"]["net_energy_j"])
'
  check "k: the summary note names the component without a baseline" \
    grep -q "^ note: net not computed: no idle baseline for package-0 (rapl-powercap);" k2.err
  check "k: the summary's total and phase nets are n/a, dram's net a number" \
    bash -c 'grep -Eq "^ total +mixed +[0-9.]+ [kMG]?J +n/a " k2.err &&
             grep -Eq "^ work +[0-9.]+ s +[0-9.]+ s +[0-9.]+ [kMG]?J +n/a" k2.err &&
             grep -Eq "^ dram +dram .* [0-9.]+ [kMG]?J +-?[0-9.]+ [kMG]?J " k2.err'
  check "k: CO2e net of idle is n/a" grep -Eq "^ +n/a g   CO2e net of idle" k2.err
  q="SELECT r.complete, r.total_net_energy_j IS NULL,
            (SELECT group_concat(name || ':' || (net_energy_j IS NULL), ',')
               FROM (SELECT name, net_energy_j FROM components
                     WHERE run_id = r.id ORDER BY name)),
            (SELECT group_concat(net_energy_j IS NULL) FROM phases WHERE run_id = r.id)
     FROM runs r WHERE r.id = (SELECT max(id) FROM runs)"
  check "k: the stored run has the same nulls (run total, package-0, the phase)" \
    test "$(sqlite3 t.db "$q" 2>&1)" = "1|1|dram:0,package-0:1|1"
fi

# ---- m. monitor: power over a window, and the total --------------------------
if [ -z "$FAKE_NVML" ] || [ ! -f "$FAKE_NVML" ]; then
  not_ok "m: fake NVML" "the fake libnvidia-ml.so.1 was not built or not passed ('$FAKE_NVML')"
else
  new_env m
  # gpu0's energy counter rises by 4.2 J and 8.5 J in turn, one step per
  # reading: at 100 ms per tick the single intervals show 42 W and 85 W, the
  # mean over a second 63.5 W.
  python3 -c '
v, vals = 1000000, [1000000]
for s in [4200, 8500] * 60:
    v += s
    vals.append(v)
print("gpu name=\"NVIDIA H100 80GB HBM3\" arch=9 power_mw=60000")
print("energy_trace 0 = " + ",".join(map(str, vals)))
' >nvml.script
  export GREENML_NVML_LIB=$FAKE_NVML GREENML_FAKE_NVML_SCRIPT=$D/nvml.script
  gm k1 monitor --refresh 100ms --duration 2500ms
  expect_rc "m: monitor with a fake GPU exits 0" 0 k1
  check "m: the header names the window" \
    grep -q "^# greenml monitor: power is the mean over the last 1\.0 s" k1.out
  # Every line: the total is the sum of the in-total components (all three
  # here) and mixes measured and modelled; from 1.2 s on gpu0 is the mean
  # over a second (63.5 W), never a single interval (42 or 85 W).
  if msg=$(python3 -c '
import re, sys
lines = [l for l in open(sys.argv[1]) if l.startswith("t=")]
errs, late = [], 0
if len(lines) < 15:
    errs.append("%d lines" % len(lines))
for l in lines:
    t = float(re.match(r"t=([0-9.]+)s", l).group(1))
    f = {m.group(1): (float(m.group(2)), m.group(3))
         for m in re.finditer(r" ([a-z0-9]+)=(-?[0-9.]+)W\[([a-z]+)\]", l)}
    if set(f) != {"dram", "cpu", "gpu0", "total"}:
        errs.append("fields %r" % sorted(f))
        continue
    parts = f["dram"][0] + f["cpu"][0] + f["gpu0"][0]
    if abs(f["total"][0] - parts) > 0.005 or f["total"][1] != "mixed":
        errs.append("total %r, parts %.3f" % (f["total"], parts))
    if t >= 1.2:
        late += 1
        if not 55.0 <= f["gpu0"][0] <= 72.0:
            errs.append("t=%.3f: gpu0 %.3f W, not a mean over a second" % (t, f["gpu0"][0]))
if late < 5:
    errs.append("%d lines after 1.2 s" % late)
print("; ".join(errs)[:600])
sys.exit(1 if errs else 0)
' k1.out 2>&1); then
    ok "m: gpu0 is the mean over a second; total = sum of the parts, mixed"
  else
    not_ok "m: gpu0 is the mean over a second; total = sum of the parts, mixed" "$msg"
  fi
  unset GREENML_FAKE_NVML_SCRIPT
fi

# ---- n. an energy that rounds to zero prints as 0.000, never -0.000 ----------
new_env n
fake_procfs 2
DMI=$TESTS/fixtures/dmidecode-ddr4.txt
# The idle baseline holds the DRAM model at C = 3.1 nF (the default); the run
# models it at 3.0999999 nF, which its detail still states as C=3.1 nF (the
# same model: the baseline applies), so its net is a few tens of nanojoules
# below zero: within rounding, not below the noise.
gm l1 idle --duration 200ms --dmidecode "$DMI"
expect_rc "n: idle with the DIMM listing exits 0" 0 l1
gm l2 measure --dmidecode "$DMI" --dimm-capacitance 3.0999999e-9 --json l.json -- true
if expect_rc "n: measure at a slightly smaller capacitance exits 0" 0 l2; then
  check_json "n: dram net is negative and rounds to zero" l.json '
c = [c for c in d["components"] if c["name"] == "dram"]
want(len(c) == 1 and num(c[0].get("net_energy_j")) and -0.0005 < c[0]["net_energy_j"] < 0,
     "dram %r" % c)
want(len(c) == 1 and c[0].get("net_below_noise") is True and c[0].get("net_negative") is False,
     "a rounding difference is within noise, not negative: %r" % c)
'
  check "n: the summary prints the dram net as 0.000 J" \
    grep -Eq "^ dram +dram +dram-model +modelled \(model\) +[0-9.]+ J +0\.000 J " l2.err
  check "n: no -0.000 anywhere in the summary" bash -c '! grep -q -- "-0\.000" l2.err'
fi

# ---- o. a baseline applies only to runs measured the same way ---------------
# The issue's fault: a baseline measured with the default CPU model, then a
# run with --cpu-tdp 15. Before, the CPU's net was gross - P_idle(default
# TDP) x T, far below zero; now it is null with the reason, in JSON and in
# the summary, and the measurement itself succeeds. The DRAM, modelled the
# same way in both, keeps its net.
new_env o
fake_procfs 2
gm o1 idle --duration 500ms --db t.db
expect_rc "o: idle on a quiet machine exits 0" 0 o1
check "o: idle prints what each component was measured with and the CPU utilisation" \
  bash -c 'grep -Eq "^ +TDP [0-9.]+ W \(.*\) x CPU utilisation$" o1.out &&
           grep -q "^  measured with interval 100 ms$" o1.out &&
           grep -Eq "^  CPU utilisation during the measurement: 2\.0 % \(busy from 10 %\)$" o1.out'
check "o: the stored baseline holds each component's detail and the configuration" \
  test "$(sqlite3 t.db "SELECT count(*) FROM idle_components WHERE detail LIKE '%x CPU utilisation' OR detail LIKE '%W/GiB%' OR detail LIKE '%DIMM%'")|$(sqlite3 t.db 'SELECT interval_s, busy, round(cpu_util_pct) FROM idle_baselines')" = "2|0.1|0|2.0"
gm o2 measure --db t.db --cpu-tdp 15 --json o.json -- sh -c "$BUSY; sleep 0.5"
if expect_rc "o: measure --cpu-tdp 15 on a default-TDP baseline exits 0" 0 o2; then
  check_json "o: the CPU net is null with the reason; the DRAM net is known" o.json '
import re
c = {x["name"]: x for x in d["components"]}
cpu, dram = c.get("cpu", {}), c.get("dram", {})
want(num(cpu.get("energy_j")) and cpu["energy_j"] > 0, "cpu gross %r" % cpu.get("energy_j"))
want(cpu.get("net_energy_j") is None and cpu.get("idle_power_w") is None, "cpu net %r idle %r" % (cpu.get("net_energy_j"), cpu.get("idle_power_w")))
want(cpu.get("net_below_noise") is None and cpu.get("net_negative") is None, "cpu flags %r" % cpu)
r = cpu.get("net_reason") or ""
want(re.match(r"the baseline #1 was measured with .TDP [0-9.]+ W \(.*\) x CPU utilisation., this run uses .TDP 15 W \(--cpu-tdp\) x CPU utilisation.$", r), "cpu reason %r" % r)
want(num(dram.get("net_energy_j")) and dram.get("net_reason") is None, "dram %r" % dram)
want(dram.get("net_below_noise") is True and dram.get("net_negative") is False and dram.get("net_noise_j") == 0, "dram noise %r" % dram)
want(d["total_net_energy_j"] is None and d["total_net_below_noise"] is None, "total net %r" % d["total_net_energy_j"])
want(d["idle_baseline"] == "subtracted" and d["idle_baseline_id"] == 1, "baseline %r %r" % (d["idle_baseline"], d["idle_baseline_id"]))
want(d["idle_baseline_busy"] is False and close(d["idle_baseline_cpu_util_pct"], 2.0, 1e-6), "busy %r %r" % (d["idle_baseline_busy"], d["idle_baseline_cpu_util_pct"]))
'
  # what the old rule (same name and source) would have subtracted
  check_json "o: the old rule would have given the CPU a negative net" o.json '
cpu = [x for x in d["components"] if x["name"] == "cpu"][0]
idle = float(sys.argv[2])
want(cpu["energy_j"] - idle * d["duration_s"] < 0, "gross %r, idle %r W x %r s" % (cpu["energy_j"], idle, d["duration_s"]))
' "$(sqlite3 t.db "SELECT mean_power_w FROM idle_components WHERE name='cpu'")"
  check "o: the summary says why the CPU net is not computed and how to fix it" \
    grep -Eq "^ note: net not computed for cpu: the baseline #1 was measured with 'TDP [0-9.]+ W .* x CPU utilisation', this run uses 'TDP 15 W \(--cpu-tdp\) x CPU utilisation'; run 'greenml idle --cpu-tdp 15'$" o2.err
  check "o: the summary's CPU net and total net are n/a" \
    bash -c 'grep -Eq "^ cpu +cpu +cpu-tdp-model .* [0-9.]+ [kMG]?J +n/a " o2.err &&
             grep -Eq "^ total +modelled +[0-9.]+ [kMG]?J +n/a " o2.err'
  check "o: the DRAM net is within the baseline's noise, and said so" \
    grep -q "^ note: net energy of dram (0.000 J) is within the baseline's noise (+/- 0.000 J): indistinguishable from zero$" o2.err
fi
gm o3 idle --duration 500ms --db t.db --cpu-tdp 15
expect_rc "o: idle --cpu-tdp 15 exits 0" 0 o3
gm o4 measure --db t.db --cpu-tdp 15 --json o4.json -- true
if expect_rc "o: measure --cpu-tdp 15 on the matching baseline exits 0" 0 o4; then
  check_json "o: the matching baseline applies to every component" o4.json '
for c in d["components"]:
    want(num(c["net_energy_j"]) and c["net_reason"] is None, "%s %r" % (c["name"], c))
want(num(d["total_net_energy_j"]) and num(d["total_net_noise_j"]), "total %r" % d["total_net_energy_j"])
want(d["idle_baseline_id"] == 2, "baseline %r" % d["idle_baseline_id"])
'
fi

# ---- p. a busy baseline is refused, or stored flagged ------------------------
# /proc/stat shows the CPU 95 % busy while idle power is measured.
new_env p
fake_procfs 95
gm p1 idle --duration 500ms --db t.db
expect_rc "p: idle on a 95 % busy CPU exits 75" 75 p1
check "p: the message gives the utilisation, the threshold and the fix" \
  grep -q "^greenml idle: the CPU was 95 % busy during the idle measurement (threshold 10 %): no baseline stored; stop other work and measure again, or pass --force-busy to store it flagged as busy$" p1.err
check "p: nothing is stored" test "$(sqlite3 t.db 'SELECT count(*) FROM idle_baselines')" = 0
gm p2 measure --db t.db --idle 300ms -- touch ran
expect_rc "p: measure --idle 300ms on a busy CPU exits 75" 75 p2
check "p: ... before running the command" test ! -e ran
gm p3 idle --duration 500ms --db t.db --force-busy
expect_rc "p: idle --force-busy exits 0" 0 p3
check "p: --force-busy stores it flagged as busy, with the utilisation" \
  test "$(sqlite3 t.db 'SELECT busy, round(cpu_util_pct) FROM idle_baselines')" = "1|95.0"
check "p: ... and says so" \
  bash -c 'grep -q "^greenml idle: warning: the CPU was 95 % busy during the idle measurement" p3.err &&
           grep -q "CPU utilisation during the measurement: 95.0 % (busy from 10 %): BUSY" p3.out'
# The machine is quiet again: the busy baseline is above what the run draws.
busy_pct 2
gm p4 measure --db t.db --json p.json -- sh -c "$BUSY"
if expect_rc "p: measure on the busy baseline exits 0" 0 p4; then
  check_json "p: the busy flag, and a CPU net below zero beyond the noise" p.json '
cpu = [c for c in d["components"] if c["name"] == "cpu"][0]
want(d["idle_baseline_busy"] is True and close(d["idle_baseline_cpu_util_pct"], 95, 1e-6), "busy %r" % d["idle_baseline_busy"])
want(num(cpu["net_energy_j"]) and cpu["net_energy_j"] < 0, "cpu net %r" % cpu["net_energy_j"])
want(cpu["net_negative"] is True and cpu["net_below_noise"] is True and num(cpu["net_noise_j"]), "cpu flags %r" % cpu)
want(d["total_net_negative"] is True, "total_net_negative %r" % d["total_net_negative"])
'
  check "p: the summary warns about the busy baseline and the negative net" \
    bash -c 'grep -q "^ warning: the idle baseline #1 was measured while the CPU was 95 % busy (threshold 10 %, stored with --force-busy): net energies are too low" p4.err &&
             grep -Eq "^ warning: net energy of cpu is -[0-9.]+ [kMG]?J, below zero beyond the baseline.s noise" p4.err &&
             grep -Eq "^ warning: net energy of the total is -[0-9.]+ [kMG]?J, below zero" p4.err'
fi

# ---- q. the command's share: attributed, labelled, stored --------------------
new_env q
gm q1 measure --db t.db --json q.json --csv q.csv -- sh -c 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done'
if expect_rc "q: measure of a busy loop exits 0" 0 q1; then
  check_json "q: the JSON has the machine's energy and the command's, each labelled" q.json '
import re
a = d["attributed"]
want(isinstance(a, dict), "attributed %r" % a)
if isinstance(a, dict):
    want(re.fullmatch(r"process tree of pid [0-9]+", a["to"]) is not None, "to %r" % a["to"])
    want(a["provenance"] == "attributed by CPU-time share", "provenance %r" % a["provenance"])
    want(num(a["energy_j"]) and 0 < a["energy_j"] <= d["total_energy_j"] * (1 + 1e-9), "energy %r of %r" % (a["energy_j"], d["total_energy_j"]))
    parts = [c["attributed"] for c in d["components"] if c["in_total"]]
    want(close(sum(p["energy_j"] for p in parts), a["energy_j"], 1e-9), "parts do not add up")
    want(all(p["provenance"] == "attributed by CPU-time share" for p in parts), "part provenance")
    want(close(a["share_of_total_pct"], 100 * a["energy_j"] / d["total_energy_j"], 1e-9), "share %r" % a["share_of_total_pct"])
    want(a["unknown_j"] == 0 and a["partial"] is False, "unknown %r partial %r" % (a["unknown_j"], a["partial"]))
'
  check "q: the CSV carries the attributed energy, labelled, ending at the JSON's" python3 -c '
import csv, json
rows = list(csv.reader(open("q.csv")))
d = json.load(open("q.json"))
head = rows[0]
for c in d["components"]:
    col = [i for i, h in enumerate(head) if h.startswith(c["name"] + ".attributed_j[J attributed by ")]
    assert len(col) == 1, (c["name"], head)
    last = float(rows[-1][col[0]])
    assert abs(last - c["attributed"]["energy_j"]) <= 1e-5 + 1e-6 * last, (last, c["attributed"])
'
  gm q2 runs --db t.db --json
  check_json "q: runs --json gives back what was stored" q2.out '
m = json.load(open(sys.argv[2]))
r = d[0]["attributed"]
want(isinstance(r, dict), "attributed %r" % r)
if isinstance(r, dict):
    want(r["to"] == m["attributed"]["to"] and r["provenance"] == m["attributed"]["provenance"], "%r" % r)
    want(close(r["energy_j"], m["attributed"]["energy_j"], 1e-12), "%r vs %r" % (r["energy_j"], m["attributed"]["energy_j"]))
' q.json
  check "q: the summary shows the command's share with its provenance" \
    bash -c "grep -q \"^ The command's share (process tree of pid [0-9]*; the rest is the machine's):\" q1.err &&
             grep -Eq '^ cpu +cpu +attributed by CPU-time share +[0-9.]+ [kMG]?J' q1.err"
  check "q: greenml runs shows it" grep -q "the command's share: .* gross, .* net \[attributed by CPU-time share\] (process tree of pid" <(timeout 60 "$GREENML" runs --db t.db)
fi
# Phases: each has the command's part, stored, and analyze --attributed reads it
gm q6 measure --db p.db --json q6.json -- sh -c '
  for k in 1 2 3; do "$0" mark step-$k; i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; done
  "$0" mark --end' "$GREENML"
if expect_rc "q: measure with three phases exits 0" 0 q6; then
  gm q7 analyze --db p.db --from-run 1 --attributed --json
  expect_rc "q: analyze --from-run --attributed exits 0" 0 q7
  check_json "q: ... analyses the command's share of each phase, labelled" q7.out '
m = json.load(open(sys.argv[2]))
want(d["of"] == "command" and d["provenance"] == "attributed by CPU-time share", "%r %r" % (d["of"], d["provenance"]))
want(d["attributed_to"] == m["attributed"]["to"], "to %r" % d["attributed_to"])
g = d["groups"]
want(len(g) == 1 and g[0]["name"] == "step" and g[0]["phases"] == 3, "groups %r" % g)
ph = [p["attributed_energy_j"] for p in m["phases"]]
want(len(ph) == 3 and all(num(x) and x > 0 for x in ph), "phase shares %r" % ph)
want(all(p["attributed_energy_j"] <= p["energy_j"] * (1 + 1e-9) for p in m["phases"]), "share above the whole")
want(g and close(g[0]["energy_j"], sum(ph), 1e-9), "%r vs %r" % (g and g[0]["energy_j"], sum(ph)))
' q6.json
  gm q8 analyze --db p.db --from-run 1 --json
  check_json "q: ... and without it, the machine's energy" q8.out '
want(d["of"] == "machine" and d["provenance"] == "modelled", "%r %r" % (d["of"], d["provenance"]))
'
fi
# A procfs that does not have the command: unknown, counted, never 0 J quietly
fake_procfs 30
gm q3 measure --no-db --json q3.json -- sleep 0.3
if expect_rc "q: measure with the command outside the procfs exits 0" 0 q3; then
  check_json "q: ... its share is unknown: all of the energy, PARTIAL" q3.json '
a = d["attributed"]
want(a["energy_j"] == 0 and close(a["unknown_j"], d["total_energy_j"], 1e-9), "%r" % a)
want(a["partial"] is True, "partial %r" % a["partial"])
'
  check "q: ... and the summary warns" grep -q "could not be attributed (the command's share was unknown then)" q3.err
fi
stop_procfs
gm q4 measure --no-db --cgroup /no-such.slice -- touch ran
expect_rc "q: --cgroup naming no cgroup exits 69" 69 q4
check "q: ... names it, before running the command" \
  bash -c "grep -q '/no-such.slice' q4.err && test ! -e ran"
gm q5 measure --no-db --cgroup relative/path -- true
expect_rc "q: --cgroup that is not a path exits 64" 64 q5

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
