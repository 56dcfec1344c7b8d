#!/usr/bin/env bash
# Sampler benchmark: exmc (both metric adaptations) and Stan (rstan) on the benchmark models,
# 1 chain, 1000 warmup + 1000 draws, adapt_delta 0.8, max depth 10, seeds 1-5, interleaved per
# model in one run; then medians over seeds and exmc/Stan ratios (bench/stan/summarize.R).
# Usage: bench/sampler_bench.sh [--build DIR] [--out DIR] [--seeds 1,2,3,4,5] [--impl graph|handwritten]
#                               [--no-stan] [--setup] [model ...]
# Needs the R peers (r-cran-rstan, r-cran-posterior, r-cran-jsonlite): --setup installs them
# with apt-get through scripts/setup --peers first.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
build="$root/build"; out="$here/out/$(date -u +%Y%m%dT%H%M%S)"; seeds="1,2,3,4,5"
impl=""; stan=1; models=()
while (($#)); do
  case "$1" in
    --build) build="$2"; shift ;;
    --out) out="$2"; shift ;;
    --seeds) seeds="$2"; shift ;;
    --impl) impl="$2"; shift ;;
    --no-stan) stan=0 ;;
    --setup) bash "$root/scripts/setup" --peers ;;
    -h|--help) sed -n 2,8p "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) echo "sampler_bench.sh: unknown option $1" >&2; exit 2 ;;
    *) models+=("$1") ;;
  esac
  shift
done
((${#models[@]})) || models=(simple medium stress eight_schools_centered eight_schools_noncentered
                             funnel logistic sv hier_big logistic_big)
bin="$build/bench/exmc-bench"
[[ -x "$bin" ]] || { echo "sampler_bench.sh: $bin not built (ninja -C $build exmc-bench)" >&2; exit 1; }
mkdir -p "$out"
raw="$out/raw.tsv"
printf 'model\timpl\tmetric\tseed\tsampling_s\twarmup_s\tgrad_evals\tdivergences\tstepsize\tmin_bulk_ess\n' > "$raw"
impl_args=(); [[ -n "$impl" ]] && impl_args=(--impl "$impl")
for m in "${models[@]}"; do
  echo "== $m" >&2
  if ((stan)); then
    Rscript "$here/stan/run_stan.R" --out "$out" --seeds "$seeds" "$m" 2> "$out/stan_$m.log" | tee -a "$raw" >&2
  fi
  # exmc rows get their ESS from the draw CSVs in summarize.R (NA until then).
  "$bin" sample --models "$m" --seeds "$seeds" --metric windowed,gradient --out "$out" "${impl_args[@]}" \
    | tail -n +2 | sed 's/$/\tNA/' | tee -a "$raw" >&2
done
# exmc's own min bulk ESS on every draws file, Stan's included (when built with exmc_analysis).
"$bin" ess "$out"/*.csv > "$out/ess_exmc.tsv" 2> /dev/null || rm -f "$out/ess_exmc.tsv"
Rscript "$here/stan/summarize.R" "$raw" "$out" "$out/ess_exmc.tsv"
echo "(all rows: $out/runs.tsv)"
