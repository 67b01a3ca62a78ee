#!/usr/bin/env bash
# merge_scenarios.sh: `greenml merge` end to end. Two fake hosts (their own
# procfs, whose CPU models differ, so their fingerprints do) measure into
# a.db and b.db with `greenml idle` and two `greenml measure` runs with
# phases each; merged into out.db, `runs --json` lists every run with its
# host, `analyze --from-run` and `export --from-run` read a merged run, a
# second merge copies nothing, and the inputs are left byte for byte. Then
# the refusals and their exit codes: bad usage, the output as an input,
# missing, newer, foreign and damaged inputs.
#
#   bash tests/cli/merge_scenarios.sh GREENML_BINARY
# shellcheck disable=SC2016
set -u
GREENML=$1
case $GREENML in /*) ;; *) GREENML=$PWD/$GREENML ;; esac
. "$(dirname "$0")/lib.sh"
for tool in python3 sqlite3 sha256sum; do
  command -v "$tool" >/dev/null || { echo "$0: '$tool' is needed" >&2; exit 2; }
done
workdir
unset GREENML_MARK GREENML_FAKE_NVML_SCRIPT GREENML_FAKE_NVML_INIT

# on NAME ARGS...: greenml ARGS on host NAME; output in last.out, last.err.
on() {
  local h=$1
  shift
  GREENML_SYSFS=$work/$h/sys GREENML_PROCFS=$work/$h/proc \
    GREENML_DEVFS=$work/$h/dev GREENML_NVML_LIB=$work/no-libnvidia-ml.so.1 \
    PATH="$(dirname "$GREENML"):$PATH" \
    timeout 60 "$GREENML" "$@" </dev/null >last.out 2>last.err
}

# gm ARGS...: greenml ARGS; RC its status, output in last.out, last.err.
gm() {
  timeout 60 "$GREENML" "$@" </dev/null >last.out 2>last.err
  RC=$?
}

fake_host ha "Test CPU Alpha 1000"
fake_host hb "Test CPU Beta 2000"
work_cmd='greenml mark train; sleep 0.3; greenml mark --end'
for h in a b; do
  on "h$h" idle --duration 1s --db "$h.db" &&
    on "h$h" measure --db "$h.db" --quiet --idle auto -- sh -c "$work_cmd" &&
    on "h$h" measure --db "$h.db" --quiet --idle auto -- sh -c "$work_cmd"
  st=$?
  check "host $h: idle and two measured runs into $h.db" '[ $st -eq 0 ]' \
    "$(head -c 300 last.err)"
done
sha_a=$(sha256sum a.db)
sha_b=$(sha256sum b.db)

gm merge out.db a.db b.db
check "merge out.db a.db b.db exits 0" '[ $RC -eq 0 ]' "$RC: $(head -c 300 last.err)"
check "it says what it copied from each input" \
  'grep -q "^a.db (schema 9" last.out && grep -q "^b.db (schema 9" last.out &&
   [ "$(grep -c "2 runs copied, 0 already there" last.out)" -eq 2 ]' \
  "$(head -c 400 last.out)"
check "the inputs are byte for byte as they were, without -wal or -shm" \
  '[ "$(sha256sum a.db)" = "$sha_a" ] && [ "$(sha256sum b.db)" = "$sha_b" ] &&
   [ ! -e a.db-wal ] && [ ! -e a.db-shm ] && [ ! -e b.db-wal ]'

gm runs --db out.db --json
cp last.out runs.json
py_check "runs --json lists the four runs with their two hosts" '
runs = json.load(open("runs.json"))
want(len(runs) == 4, "%d runs" % len(runs))
fps = {r["host"]["fingerprint"] for r in runs}
want(len(fps) == 2, "hosts %s" % fps)
want(all(r["complete"] and r["total_energy_j"] > 0 for r in runs), "a run incomplete or empty")
for fp in fps:
    want(sum(r["host"]["fingerprint"] == fp for r in runs) == 2, "host %s" % fp)
'
py_check "every run, baseline, sample and phase once; energies as in the inputs" '
out, a, b = connect("out.db"), connect("a.db"), connect("b.db")
def one(db, q):
    return db.execute(q).fetchone()[0]
for q in ("SELECT count(*) FROM runs", "SELECT count(*) FROM samples",
          "SELECT count(*) FROM metric_samples", "SELECT count(*) FROM phases",
          "SELECT count(*) FROM idle_baselines", "SELECT count(*) FROM idle_components"):
    want(one(out, q) == one(a, q) + one(b, q), q)
for q in ("SELECT sum(energy_j) FROM samples", "SELECT sum(total_energy_j) FROM runs",
          "SELECT sum(energy_j) FROM phases"):
    want(close(one(out, q), one(a, q) + one(b, q)), q)
want(one(out, "SELECT count(*) FROM hosts") == 2, "hosts")
want(one(out, "SELECT count(*) FROM runs r JOIN idle_baselines i ON i.id=r.idle_baseline_id "
              "WHERE i.host_id=r.host_id") == 4, "a run without its host'"'"'s baseline")
want(one(out, "SELECT count(DISTINCT db_uid) FROM store_meta") == 1, "store_meta")
ua, ub = one(a, "SELECT db_uid FROM store_meta"), one(b, "SELECT db_uid FROM store_meta")
want(ua != ub and len(ua) == 32, "ids %s %s" % (ua, ub))
want(one(out, "SELECT count(*) FROM runs WHERE origin_db=?".replace("?", repr(ua))) == 2,
     "origins of a")
'

# a merged run read by analyze and export
run=$(python3 -c 'import json; print(json.load(open("runs.json"))[0]["id"])')
gm analyze --db out.db --from-run "$run" --json
check "analyze --from-run reads a merged run" \
  '[ $RC -eq 0 ] && python3 -c "import json,sys; json.load(open(\"last.out\"))"' \
  "$RC: $(head -c 300 last.err)"
gm export --db out.db --from-run "$run" --what samples --format csv
check "export --from-run writes a merged run's samples" \
  '[ $RC -eq 0 ] && [ "$(wc -l <last.out)" -gt 2 ] && head -1 last.out | grep -q "^run_id,seq,t_s"' \
  "$RC: $(head -c 300 last.err)"

# again: nothing copied twice; JSON
gm merge --json out.db b.db a.db
cp last.out again.json
py_check "merged again, nothing is copied (--json)" '
r = json.load(open("again.json"))
want([x["input"] for x in r] == ["b.db", "a.db"], "inputs")
want(all(x["runs"] == {"copied": 0, "skipped": 2} for x in r), "runs %s" % r)
want(all(x["idle_baselines"]["copied"] == 0 and x["hosts"]["matched"] == 1 for x in r), "rows")
want(all(x["samples_copied"] == 0 for x in r), "samples")
'
check "out.db still has four runs" \
  '[ "$(sqlite3 out.db "SELECT count(*) FROM runs")" -eq 4 ]'
# A into B, then B into a new database: A's runs come once
gm merge b.db a.db && gm merge out2.db a.db b.db
check "A into B, then A and B into out2: four runs" \
  '[ $RC -eq 0 ] && [ "$(sqlite3 out2.db "SELECT count(*) FROM runs")" -eq 4 ]'

# ---- refusals -----------------------------------------------------------
sha_out=$(sha256sum out.db)
gm merge out.db
check "one path is a usage error (64)" '[ $RC -eq 64 ]' "$RC"
gm merge --bogus out.db a.db
check "an unknown flag is a usage error (64)" '[ $RC -eq 64 ]' "$RC"
gm merge '' a.db
check "an empty output is a usage error (64)" '[ $RC -eq 64 ]' "$RC"
ln -s out.db link.db
for same in out.db ./out.db link.db; do
  gm merge out.db a.db "$same"
  check "the output as an input ($same) is refused with 64" \
    '[ $RC -eq 64 ] && grep -q "itself" last.err' "$RC: $(cat last.err)"
done
gm merge out.db a.db missing.db
check "a missing input exits 66 and is not created" \
  '[ $RC -eq 66 ] && [ ! -e missing.db ]' "$RC"
cp a.db newer.db
sqlite3 newer.db 'PRAGMA user_version=99'
sqlite3 foreign.db 'CREATE TABLE photos(x); INSERT INTO photos VALUES (1)'
sha_n=$(sha256sum newer.db)
sha_f=$(sha256sum foreign.db)
gm merge out.db newer.db
check "an input of a newer schema exits 65" '[ $RC -eq 65 ]' "$RC"
gm merge out.db foreign.db
check "another program's database exits 65" '[ $RC -eq 65 ]' "$RC"
check "both are left byte for byte, without -wal or -shm" \
  '[ "$(sha256sum newer.db)" = "$sha_n" ] && [ "$(sha256sum foreign.db)" = "$sha_f" ] &&
   [ ! -e newer.db-wal ] && [ ! -e newer.db-shm ] && [ ! -e foreign.db-wal ]'
gm merge new.db newer.db
check "a refused input creates no output" '[ $RC -eq 65 ] && [ ! -e new.db ]' "$RC"
# damaged: the samples table's root page overwritten
fake_host hc "Test CPU Gamma 3000"
on hc measure --db c.db --quiet -- sh -c 'sleep 1'
damage_samples c.db
gm merge out.db c.db
check "a damaged input exits 65 and names the table" \
  '[ $RC -eq 65 ] && grep -q samples last.err' "$RC: $(cat last.err)"
check "out.db is left as it was by every refusal" \
  '[ "$(sha256sum out.db)" = "$sha_out" ] && [ ! -e out.db-wal ]'

tap_done merge
