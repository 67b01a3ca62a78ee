#!/usr/bin/env bash
# The main job (`make run`): shows what greenml finds on this machine,
# measures its idle power, then measures a CPU-bound job with two phases and
# lists the stored runs. Everything goes to build/run/.
set -euo pipefail
GM=$(readlink -f "${1:-build/release/greenml}")
out=build/run
mkdir -p "$out"
db="$out/greenml.db"

echo "== greenml sources: what can be measured here, and how to measure more"
"$GM" sources
echo
echo "== greenml idle: this host's idle power (3 s)"
"$GM" idle --duration 3s --db "$db"
echo
echo "== greenml measure: a CPU-bound job in two phases"
"$GM" measure --db "$db" --json "$out/run.json" --csv "$out/run.csv" \
  --tag job=demo -- bash -c "
    '$GM' mark compress
    head -c 64M /dev/zero | gzip -6 > /dev/null
    '$GM' mark hash
    head -c 512M /dev/zero | sha256sum > /dev/null
    '$GM' mark --end"
echo "== greenml runs"
"$GM" runs --db "$db" --limit 5
echo
echo "database: $db; summary: $out/run.json; time series: $out/run.csv"
