#!/usr/bin/env bash
# Pathfinder vs ADVI (meanfield, fullrank) against exmc's NUTS on posteriordb posteriors, by
# 1-Wasserstein distance (see PATHFINDER_W1.md). This script runs the commands; pathfinder_w1.py
# reads their CSVs and stderr logs and writes the table.
#
#   bench/methods/pathfinder_w1.sh [OUT_DIR] [POSTERIOR ...]
#
# OUT_DIR (default /tmp/pathfinder_w1) gets <posterior>/ref_{1..4}.csv (NUTS, 4 x 2500 draws,
# seed REF_SEED, the reference's adapt_delta/max_treedepth), <method>_s<seed>.csv for pathfinder,
# meanfield and fullrank with seeds 1..3, and a .log (stderr) beside each. Existing CSVs are
# kept (rerunning resumes). Environment: EXMC (default build/exmc), PDB (the posteriordb folder),
# REF_SEED (default 100), SEEDS (default "1 2 3"), THREADS (default 1, for sample and pathfinder; results do not depend on it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
EXMC=${EXMC:-$root/build/exmc}
PDB=${PDB:-$root/../shared/posteriordb}
SEEDS=${SEEDS:-"1 2 3"}
THREADS=${THREADS:-1}
REF_SEED=${REF_SEED:-100}
out=${1:-/tmp/pathfinder_w1}
shift || true
if [ $# -eq 0 ]; then
  set -- kidiq-kidscore_momiq earnings-logearn_height mesquite-logmesquite nes2000-nes sblri-blr \
    eight_schools-eight_schools_noncentered arK-arK gp_pois_regr-gp_regr \
    low_dim_gauss_mix-low_dim_gauss_mix kidiq_with_mom_work-kidscore_interaction_c
fi

for p in "$@"; do
  dir=$PDB/$p
  mkdir -p "$out/$p"
  data=(); [ -f "$dir/data.json" ] && data=(--data "$dir/data.json")
  # The reference's sampler settings (as exmc-posteriordb uses them).
  read -r delta depth < <(python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))["reference_inference"]["method_arguments"].get("control", {}) or {}
print(c.get("adapt_delta", 0.8), c.get("max_treedepth", 10))' "$dir/reference.json")
  if [ ! -f "$out/$p/ref_4.csv" ]; then
    echo "== $p: NUTS reference (adapt_delta $delta, max_treedepth $depth)" >&2
    "$EXMC" sample "$dir/model.stan" "${data[@]}" --chains 4 --draws 2500 --seed "$REF_SEED" \
      --adapt-delta "$delta" --max-depth "$depth" --threads "$THREADS" --no-progress \
      --output "$out/$p/ref.csv" 2> "$out/$p/ref.log" || echo "   FAILED: see $out/$p/ref.log" >&2
  fi
  for s in $SEEDS; do
    if [ ! -f "$out/$p/pathfinder_s$s.csv" ]; then
      echo "== $p: pathfinder seed $s" >&2
      "$EXMC" pathfinder "$dir/model.stan" "${data[@]}" --seed "$s" --threads "$THREADS" \
        --output "$out/$p/pathfinder_s$s.csv" 2> "$out/$p/pathfinder_s$s.log" \
        || echo "   FAILED: see $out/$p/pathfinder_s$s.log" >&2
    fi
    for a in meanfield fullrank; do
      if [ ! -f "$out/$p/${a}_s$s.csv" ]; then
        echo "== $p: variational $a seed $s" >&2
        "$EXMC" variational "$dir/model.stan" "${data[@]}" --algorithm "$a" --seed "$s" \
          --output "$out/$p/${a}_s$s.csv" 2> "$out/$p/${a}_s$s.log" \
          || echo "   FAILED: see $out/$p/${a}_s$s.log" >&2
      fi
    done
  done
done
echo "done: python3 $here/pathfinder_w1.py $out" >&2
