#!/usr/bin/env bash
# The main job (`make run`): shows what greenml can measure on this machine,
# then runs a short benchmark (`greenml bench --quick`: four small models, two
# short epochs each with inference after each, predicted from half an epoch)
# on CIFAR-10 when it is in ./data and on generated data otherwise. Results go
# to build/run/greenml.db.
set -euo pipefail
GM=$(readlink -f "${1:-build/release/greenml}")
out=build/run
mkdir -p "$out"
db="$out/greenml.db"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}

echo "== greenml sources: what can be measured here, and how to measure more"
"$GM" sources
echo
echo "== greenml bench --quick: a short benchmark"
"$GM" bench --quick --db "$db"
