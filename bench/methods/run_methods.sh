#!/usr/bin/env bash
# exmc optimize / variational against rstan on posteriordb posteriors (bench/methods/README.md).
# Builds nothing: expects build/exmc and build/tests/stan/pdb_old_syntax.
# Usage: bench/methods/run_methods.sh [NAME...]   (default: the small set below; "all": every
#        posterior in SHARED/posteriordb/index.tsv)
# Environment: EXMC_SHARED_DIR (default ../shared), WORK (default /tmp/exmc-methods/run),
#   STAN_CACHE (default /tmp/exmc-stan-cache), SEEDS (default "1 2 3"),
#   RESULTS (default bench/methods/RESULTS.md), SKIP_STAN=1 reuses WORK/stan/*.json,
#   EXTRA_NOTE (a line added to the report's failures list).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
shared="${EXMC_SHARED_DIR:-$(cd "$root/../shared" && pwd)}"
work="${WORK:-/tmp/exmc-methods/run}"
cache="${STAN_CACHE:-/tmp/exmc-stan-cache}"
seeds="${SEEDS:-1 2 3}"
results="${RESULTS:-$here/RESULTS.md}"
exmc="$root/build/exmc"
old_tool="$root/build/tests/stan/pdb_old_syntax"
for f in "$exmc" "$old_tool"; do
  [[ -x "$f" ]] || { echo "missing $f (build the targets exmc and pdb_old_syntax)" >&2; exit 1; }
done

default_set=(kidiq-kidscore_momiq earnings-logearn_height mesquite-logmesquite nes2000-nes sblri-blr
  eight_schools-eight_schools_noncentered arK-arK gp_pois_regr-gp_regr
  low_dim_gauss_mix-low_dim_gauss_mix arma-arma11)
if [[ $# -eq 0 ]]; then names=("${default_set[@]}")
elif [[ "$1" == all ]]; then mapfile -t names < <(tail -n +2 "$shared/posteriordb/index.tsv" | cut -f1)
else names=("$@"); fi

# The optimizer's stopping rule on both sides (stan_methods.R's opt_tol holds the same numbers).
# tol_rel_obj and tol_rel_grad are in units of machine epsilon, as in Stan.
opt_args=(--tol-obj 1e-12 --tol-rel-obj 1 --tol-grad 1e-8 --tol-rel-grad 1e3 --tol-param 1e-8
  --iter 10000 --init-alpha 0.001 --history 5 --sig-figs 17)

mkdir -p "$work/old" "$work/exmc" "$work/stan"
"$old_tool" "$shared" "$work/old" "${names[@]}" >/dev/null

now() { date +%s.%N; }
for m in "${names[@]}"; do
  d="$shared/posteriordb/$m"
  for s in $seeds; do
    for meth in opt vb; do
      if [[ $meth == opt ]]; then args=(optimize "${opt_args[@]}")
      else args=(variational --algorithm meanfield --sig-figs 17); fi
      t0=$(now)
      rc=0
      "$exmc" "${args[@]}" "$d/model.stan" --data "$d/data.json" --seed "$s" \
        --output "$work/exmc/$m.$meth.$s.csv" >"$work/exmc/$m.$meth.$s.log" 2>&1 || rc=$?
      t1=$(now)
      echo "rc=$rc wall_s=$(echo "$t1 - $t0" | bc -l)" >>"$work/exmc/$m.$meth.$s.log"
    done
  done
  echo "exmc: $m done" >&2
done

if [[ "${SKIP_STAN:-0}" != 1 ]]; then
  Rscript "$here/stan_methods.R" "$work/old" "$shared" "$cache" "$work/stan" \
    --seeds "$(echo $seeds | tr ' ' ',')" --exmc-dir "$work/exmc" "${names[@]}"
fi

note_args=()
[[ -n "${EXTRA_NOTE:-}" ]] && note_args=(--note "$EXTRA_NOTE")
python3 "$here/compare_methods.py" --shared "$shared" --work "$work" --seeds "$seeds" \
  --out "$results" "${note_args[@]}" "${names[@]}"
echo "wrote $results" >&2
