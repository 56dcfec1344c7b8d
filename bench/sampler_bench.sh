#!/usr/bin/env bash
# Sampler benchmark: exmc (both metric adaptations) and Stan (rstan) on the benchmark models,
# 1 chain, 1000 warmup + 1000 draws, adapt_delta 0.8, max depth 10, seeds 1-5, interleaved per
# model in one run; then medians over seeds and exmc/Stan ratios (bench/stan/summarize.R).
# Usage: bench/sampler_bench.sh [--build DIR] [--out DIR] [--seeds 1,2,3,4,5] [--impl graph|handwritten]
#                               [--no-stan] [--cli] [--setup] [model ...]
# --cli also runs `exmc sample` on the Stan programs as a user does (CSV written; impl "cli",
# Stan's windowed adaptation), right after Stan's seeds of each model.
# Needs the R peers (r-cran-rstan, r-cran-posterior, r-cran-jsonlite): --setup installs them
# with apt-get through scripts/setup --peers first.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
build="$root/build"; out="$here/out/$(date -u +%Y%m%dT%H%M%S)"; seeds="1,2,3,4,5"
impl=""; stan=1; cli=0; models=()
while (($#)); do
  case "$1" in
    --build) build="$2"; shift ;;
    --out) out="$2"; shift ;;
    --seeds) seeds="$2"; shift ;;
    --impl) impl="$2"; shift ;;
    --no-stan) stan=0 ;;
    --cli) cli=1 ;;
    --setup) bash "$root/scripts/setup" --peers ;;
    -h|--help) sed -n 2,10p "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) echo "sampler_bench.sh: unknown option $1" >&2; exit 2 ;;
    *) models+=("$1") ;;
  esac
  shift
done
((${#models[@]})) || models=(simple medium stress eight_schools_centered eight_schools_noncentered
                             funnel logistic sv hier_big logistic_big)
bin="$build/bench/exmc-bench"
shared="${EXMC_SHARED_DIR:-$root/../shared}/bench"
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
  if ((cli)); then
    # The user's path: the Stan program through `exmc sample`, its CSV footer's times. Its
    # gradient count is not in the CSV without --save-warmup (which would time the writing of
    # warmup rows too), so grad_evals is NA; ESS comes from the parameters' columns in summarize.R.
    program="$shared/models/$m.stan"; [[ $m == logistic_big ]] && program="$shared/models/logistic.stan"
    IFS=, read -ra seed_list <<<"$seeds"
    for s in "${seed_list[@]}"; do
      csv="$out/exmc_cli_${m}_windowed_seed$s.csv"
      "$build/exmc" sample "$program" --data "$shared/data/$m.json" --chains 1 --seed "$s" \
        --warmup 1000 --draws 1000 --output "$csv" > /dev/null 2> "$out/cli_${m}_seed$s.log"
      awk -F, -v m="$m" -v s="$s" '
        /seconds \(Warm-up\)/ { w = $0; sub(/^#[ \t]*Elapsed Time:[ \t]*/, "", w); sub(/ .*/, "", w) }
        /seconds \(Sampling\)/ { t = $0; sub(/^#[ \t]*/, "", t); sub(/ .*/, "", t) }
        /^#/ { next }
        !h { for (i = 1; i <= NF; i++) { if ($i == "divergent__") dc = i; if ($i == "stepsize__") sc = i }; h = 1; next }
        { d += $dc; step = $sc }
        END { printf "%s\tcli\twindowed\t%s\t%s\t%s\tNA\t%d\t%s\tNA\n", m, s, t, w, d, step }' "$csv" |
        tee -a "$raw" >&2
    done
  fi
  # exmc rows get their ESS from the draw CSVs in summarize.R (NA until then).
  "$bin" sample --models "$m" --seeds "$seeds" --metric windowed,gradient --out "$out" "${impl_args[@]}" \
    | tail -n +2 | sed 's/$/\tNA/' | tee -a "$raw" >&2
done
# exmc's own min bulk ESS on every plain draws file, Stan's included (when built with exmc_analysis).
"$bin" ess $(ls "$out"/*.csv | grep -v /exmc_cli_) > "$out/ess_exmc.tsv" 2> /dev/null || rm -f "$out/ess_exmc.tsv"
Rscript "$here/stan/summarize.R" "$raw" "$out" "$out/ess_exmc.tsv"
echo "(all rows: $out/runs.tsv)"
