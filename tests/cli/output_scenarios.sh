#!/usr/bin/env bash
# output_scenarios.sh: greenml's own outputs under faults, and phase markers
# that come out of order, from the future or malformed, through the command.
#
#   bash tests/cli/output_scenarios.sh GREENML_BINARY TESTS_DIR
#
# THE output rule (README, "Exit codes"): SIGPIPE and closed standard
# streams never lose the JSON, CSV or database, nor change the exit status;
# greenml never exits 0 when an output it was asked for was not written;
# files are written whole or not at all. A pipe "closed" here has no reader
# left when greenml writes to it (python3 closes its read end first), so the
# writes fail with EPIPE every time, not only when a reader has gone.
# shellcheck disable=SC2016
set -u
if [ $# -ne 2 ]; then
  echo "usage: $0 GREENML_BINARY TESTS_DIR" >&2
  exit 2
fi
GM=$1
TESTS=$(cd "$2" && pwd) || exit 2
case $GM in /*) ;; *) GM=$PWD/$GM ;; esac
. "$TESTS/cli/lib.sh"
for tool in python3 sqlite3 timeout; do
  command -v "$tool" >/dev/null || {
    echo "$0: '$tool' is needed" >&2
    exit 2
  }
done
workdir
mkdir -p sys dev
export GREENML_SYSFS=$work/sys GREENML_DEVFS=$work/dev GREENML_PROCFS=/proc \
  GREENML_NVML_LIB=$work/no-such-libnvidia-ml.so.1
unset GREENML_MARK

# closed STREAM NAME ARGS...: runs greenml ARGS with STREAM (stdout or
# stderr) a pipe without a reader, the other stream in NAME.out or NAME.err,
# stdin /dev/null; RC is its status (128+N for signal N, as in sh).
closed() {
  local stream=$1 name=$2
  shift 2
  python3 - "$stream" "$name" "$GM" "$@" <<'PY'
import os, subprocess, sys
stream, name, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
r, w = os.pipe()
os.close(r)
other = "err" if stream == "stdout" else "out"
with open(name + "." + other, "wb") as f:
    kw = {stream: w, ("stderr" if stream == "stdout" else "stdout"): f}
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, timeout=60, **kw)
sys.exit(p.returncode if p.returncode >= 0 else 128 - p.returncode)
PY
  RC=$?
}

# no_temp: no temporary output file left in the working directory.
no_temp() { [ -z "$(find . -maxdepth 2 -name '*.tmp-*' -print -quit)" ]; }

# run_ok NAME DB JSON CSV: the JSON is complete (parses, exit_code 3, the
# keys of a summary), the CSV has a header and rows, the database's newest
# run is complete with exit code 3.
outputs_ok() {
  local what=$1 db=$2 json=$3 csv=${4-}
  py_check "$what: the JSON is complete, exit_code 3" '
d = json.load(open(args[0]))
want(d.get("exit_code") == 3, "exit_code %r" % d.get("exit_code"))
for k in ("duration_s", "total_energy_j", "components", "phases", "markers"):
    want(k in d, "no key " + k)
want(d.get("run_id") is None or isinstance(d.get("run_id"), int), "run_id")
' "$json"
  if [ -n "$csv" ]; then
    py_check "$what: the CSV has its header and rows" '
rows = list(csv.reader(open(args[0])))
want(rows and rows[0][0] == "t_s", "header %r" % rows[:1])
want(len(rows) >= 3, "%d rows" % len(rows))
want(all(len(r) == len(rows[0]) for r in rows), "ragged rows")
want(not any("Energy of" in ",".join(r) for r in rows), "the summary is in the CSV")
' "$csv"
  fi
  if [ -n "$db" ]; then
    check "$what: the database run is complete, exit code 3" \
      '[ "$(sqlite3 "$db" "SELECT complete || \"|\" || exit_code FROM runs ORDER BY id DESC LIMIT 1")" = "1|3" ]' \
      "$(sqlite3 "$db" 'SELECT * FROM runs' 2>&1 | head -3)"
  fi
}

SLOW3='sleep 0.3; exit 3'

# ---- 1. stderr into a pipe with no reader (measure ... 2>&1 | head -1) -----
closed stderr m1 measure --db m1.db --json m1.json --csv m1.csv -- sh -c "$SLOW3"
check "1: stderr into a closed pipe: greenml exits 3, the command's status" \
  "[ $RC -eq 3 ]" "exit $RC: $(head -c 300 m1.out)"
outputs_ok "1" m1.db m1.json m1.csv
check "1: no temporary file left" no_temp

"$GM" measure --db m2.db --json m2.json --csv m2.csv -- \
  sh -c 'echo first; sleep 0.3; exit 3' 2>&1 </dev/null | head -1 >m2.head
RC=${PIPESTATUS[0]}
check "1: measure ... 2>&1 | head -1: exits 3, prints the command's line" \
  "[ $RC -eq 3 ] && [ \"\$(cat m2.head)\" = first ]" "exit $RC"
outputs_ok "1 (| head -1)" m2.db m2.json m2.csv

# ---- 2. closed standard streams -------------------------------------------
"$GM" measure --db m3.db --json m3.json --csv m3.csv -- sh -c "$SLOW3" \
  </dev/null >m3.out 2>&-
RC=$?
check "2: stderr closed (2>&-): exits 3" "[ $RC -eq 3 ]" "exit $RC"
outputs_ok "2 (2>&-)" m3.db m3.json m3.csv
# The command sees its streams as greenml got them: stdout closed.
"$GM" measure --db m4.db --json m4.json --csv m4.csv -- \
  sh -c 'if [ -e /proc/$$/fd/1 ]; then exit 5; fi; exit 3' </dev/null >&- 2>m4.err
RC=$?
check "2: stdout closed (>&-): exits 3; the command's stdout is closed too" \
  "[ $RC -eq 3 ]" "exit $RC: $(head -c 300 m4.err)"
outputs_ok "2 (>&-)" m4.db m4.json m4.csv
"$GM" measure --db m5.db --json m5.json --csv m5.csv -- sh -c "$SLOW3" \
  <&- >&- 2>&-
RC=$?
check "2: stdin, stdout and stderr closed: exits 3" "[ $RC -eq 3 ]" "exit $RC"
outputs_ok "2 (all closed)" m5.db m5.json m5.csv

# ---- 3. stdout is the output: a broken or closed stdout is an error --------
python3 "$TESTS/fixtures/make_study_db.py" "$GM" study.db --single-batch \
  --no-gpu >fixture.out 2>&1
check "3: the study fixture builds" "[ -s study.db ]" "$(head -c 300 fixture.out)"
"$GM" export --db study.db >e0.out 2>e0.err
RC=$?
check "3: export to a pipe that reads: exits 0" "[ $RC -eq 0 ] && [ -s e0.out ]" \
  "exit $RC: $(head -c 300 e0.err)"
closed stdout e1 export --db study.db
check "3: export into a closed pipe: exits 74 and says so" \
  "[ $RC -eq 74 ] && grep -q 'cannot write' e1.err" "exit $RC: $(head -c 300 e1.err)"
"$GM" export --db study.db >&- 2>e2.err
RC=$?
check "3: export with stdout closed: exits 74" "[ $RC -eq 74 ]" \
  "exit $RC: $(head -c 300 e2.err)"
closed stdout e3 runs --db m1.db
check "3: runs into a closed pipe: exits 74" \
  "[ $RC -eq 74 ] && grep -q 'cannot write to standard output' e3.err" \
  "exit $RC: $(head -c 300 e3.err)"
closed stdout e4 models --json
check "3: models --json into a closed pipe: exits 74" "[ $RC -eq 74 ]" \
  "exit $RC: $(head -c 300 e4.err)"
timeout 20 "$GM" monitor --refresh 50ms </dev/null 2>e5.err | head -n 2 >e5.out
RC=${PIPESTATUS[0]}
check "3: monitor | head -2 stops by itself, exits 74" "[ $RC -eq 74 ]" \
  "exit $RC: $(head -c 300 e5.err)"
closed stderr e6 export --db study.db --out exp
check "3: export --out DIR with stderr closed: exits 0, files complete" \
  "[ $RC -eq 0 ] && [ -s exp/phases.csv ] && cmp -s exp/phases.csv e0.out" \
  "exit $RC"
check "3: no temporary file left" no_temp

# ---- 4. an output that cannot be written ------------------------------------
rm -f ran
"$GM" measure --db m6.db --json no/such/dir/o.json -- sh -c 'touch ran' \
  </dev/null >m6.out 2>m6.err
RC=$?
check "4: --json in a missing directory: exits 73 before the command runs" \
  "[ $RC -eq 73 ] && [ ! -e ran ] && [ ! -e no ]" "exit $RC: $(head -c 300 m6.err)"
"$GM" measure --db m7.db --json /dev/full -- sh -c 'exit 3' </dev/null \
  >m7.out 2>m7.err
RC=$?
check "4: --json on a full disk: exits 74, naming the command's status 3" \
  "[ $RC -eq 74 ] && grep -q \"cannot write --json '/dev/full'\" m7.err && grep -q 'exited with status 3' m7.err" \
  "exit $RC: $(tail -c 300 m7.err)"
check "4: ... the database holds the run, complete, exit code 3" \
  '[ "$(sqlite3 m7.db "SELECT complete || \"|\" || exit_code FROM runs")" = "1|3" ]'
"$GM" measure --no-db --json m8.json --csv /dev/full -- sh -c 'exit 3' \
  </dev/null >m8.out 2>m8.err
RC=$?
check "4: --csv on a full disk: exits 74" \
  "[ $RC -eq 74 ] && grep -q \"cannot write --csv '/dev/full'\" m8.err" \
  "exit $RC: $(tail -c 300 m8.err)"
outputs_ok "4 (--csv failed)" "" m8.json
# The destination turns into a directory while the command runs: the rename
# fails at the end; nothing partial is left, the database has the run.
"$GM" measure --db m9.db --json m9.json --csv m9.csv -- \
  sh -c 'mkdir m9.json m9.csv; exit 3' </dev/null >m9.out 2>m9.err
RC=$?
check "4: --json and --csv cannot be renamed into place: exits 74" \
  "[ $RC -eq 74 ] && grep -q \"cannot write --json 'm9.json'\" m9.err && grep -q \"cannot write --csv 'm9.csv'\" m9.err" \
  "exit $RC: $(tail -c 300 m9.err)"
check "4: ... nothing partial left: no file, no temporary" \
  "[ -d m9.json ] && [ -z \"\$(find m9.json m9.csv -mindepth 1)\" ] && no_temp"
check "4: ... the database holds the run, complete, exit code 3" \
  '[ "$(sqlite3 m9.db "SELECT complete || \"|\" || exit_code FROM runs")" = "1|3" ]'

# ---- 5. files are replaced whole, never truncated first ----------------------
printf 'old csv\n' >m10.csv
printf 'old json\n' >m10.json
chmod 640 m10.json
"$GM" measure --no-db --json m10.json --csv m10.csv -- \
  sh -c 'cat m10.csv m10.json >m10.seen; exit 3' </dev/null >m10.out 2>m10.err
RC=$?
check "5: while the command runs, the previous --csv and --json are intact" \
  "[ $RC -eq 3 ] && [ \"\$(cat m10.seen)\" = \"\$(printf 'old csv\nold json')\" ]" \
  "exit $RC; seen: $(head -c 100 m10.seen)"
outputs_ok "5" "" m10.json m10.csv
check "5: the replaced --json keeps its mode (0640)" \
  "[ \"\$(stat -c %a m10.json)\" = 640 ]" "mode $(stat -c %a m10.json)"
"$GM" measure --no-db --json /dev/stdout -- sh -c 'exit 3' </dev/null \
  >m11.out 2>m11.err
RC=$?
py_check "5: --json /dev/stdout is written through: exit 3, the JSON on stdout" '
want(json.load(open(args[0])).get("exit_code") == 3, "exit_code")
want(int(args[1]) == 3, "exit %s" % args[1])
' m11.out "$RC"

# ---- 6. phase markers through the command -----------------------------------
# The measured program writes its own lines to GREENML_MARK (python3:
# time.monotonic_ns() is CLOCK_MONOTONIC): a begin, then a begin stamped
# 0.3 s before it (the issue's -0.3 s phase), one from 10 s ahead, a line
# with a NUL byte, a line of 5 KiB whose tail reads as a marker, then the
# end.
cat >marks.py <<'PY'
import os, time
fd = os.open(os.environ["GREENML_MARK"], os.O_WRONLY)
def put(b):
    os.write(fd, b)
time.sleep(0.5)
t = time.monotonic_ns()
put(b"B %d first\n" % t)
time.sleep(0.2)
put(b"B %d early\n" % (t - 300000000))
put(b"B %d future\n" % (time.monotonic_ns() + 10 * 10**9))
put(b"B %d cut\0B %d hidden\n" % (t + 1000, t + 2000))
put(b"x" * 5120 + b"B %d injected\n" % (t + 3000))
time.sleep(0.2)
put(b"E %d\n" % time.monotonic_ns())
time.sleep(0.1)
PY
"$GM" measure --no-db --interval 10ms --json k.json -- python3 marks.py \
  </dev/null >k.out 2>k.err
RC=$?
check "6: measure with faulty markers exits 0" "[ $RC -eq 0 ]" \
  "exit $RC: $(tail -c 300 k.err)"
py_check "6: one phase 'first', about 0.4 s, energy >= 0; refusals counted" '
d = json.load(open(args[0]))
ph = d["phases"]
want([p["name"] for p in ph] == ["first"], "phases %r" % [(p["name"], p["duration_s"]) for p in ph])
for p in ph:
    want(p["duration_s"] >= 0 and p["energy_j"] >= 0, "negative phase %r" % p)
    want(all(c["energy_j"] >= 0 for c in p["components"]), "negative component")
if ph:
    want(0.35 <= ph[0]["duration_s"] <= 1.0, "duration %r" % ph[0]["duration_s"])
    want(ph[0]["ended_by_exit"] is False, "ended by exit")
want(d["markers"] == {"bad_lines": 2, "rejected_before_start": 0,
                      "rejected_out_of_order": 1, "rejected_in_future": 1},
     "markers %r" % d["markers"])
' k.json
check "6: the summary warns about the refused markers" \
  "grep -q '2 phase markers rejected' k.err && grep -q '2 malformed phase markers ignored' k.err" \
  "$(tail -c 400 k.err)"

tap_done "output scenarios"
