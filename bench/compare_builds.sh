#!/usr/bin/env bash
# Two builds of `exmc sample` side by side on the benchmark models, as a user runs them: 1 chain,
# 1000 warmup + 1000 draws, seeds 1-5 (each seed runs both builds back to back, so a load burst
# hits both alike). Prints per model the medians over seeds of warmup and sampling seconds (the
# CSV footer's), min bulk ESS over the parameters (exmc summary) and ESS per sampling second, and
# the ratios new/base. For measuring a change to the sampler or the output path.
# Usage: bench/compare_builds.sh BASE_EXMC NEW_EXMC [--seeds 1,2,3,4,5] [--draws N] [model ...]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
shared="$here/../../shared/bench"
base="$1"; new="$2"; shift 2
seeds="1,2,3,4,5"; draws=1000; models=()
while (($#)); do
  case "$1" in
    --seeds) seeds="$2"; shift ;;
    --draws) draws="$2"; shift ;;
    *) models+=("$1") ;;
  esac
  shift
done
((${#models[@]})) || models=(simple medium stress eight_schools_centered eight_schools_noncentered
                             funnel logistic sv hier_big)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
run() {  # run BIN MODEL SEED -> "warmup_s sampling_s min_ess divergences"
  local program="$shared/models/$2.stan" data="$shared/data/$2.json"
  [[ $2 == logistic_big ]] && program="$shared/models/logistic.stan"
  "$1" sample "$program" --data "$data" --chains 1 --seed "$3" --draws "$draws" --output "$tmp/o.csv" \
    > /dev/null 2>&1
  local w s
  w=$(grep -m1 'seconds (Warm-up)' "$tmp/o.csv" | awk '{print $4}')
  s=$(grep -m1 'seconds (Sampling)' "$tmp/o.csv" | awk '{print $2}')
  local div
  div=$(grep -v '^#' "$tmp/o.csv" | awk -F, 'NR==1{for(i=1;i<=NF;i++) if($i=="divergent__") c=i; next} {d+=$c} END{print d+0}')
  local ess
  ess=$("$1" summary --format csv --no-sampler-stats "$tmp/o.csv" |
        awk -F, 'NR==1{for(i=1;i<=NF;i++) if($i=="ess_bulk") c=i; next} $1!="lp__" && $1!="\"lp__\"" {if(m==""||$c<m) m=$c} END{print m}')
  echo "$w $s $ess $div"
}
printf 'model\tbuild\twarmup_s\tsampling_s\tmin_ess\tess_per_s\tdivergences\n'
IFS=, read -ra seed_list <<<"$seeds"
for m in "${models[@]}"; do
  : > "$tmp/base.txt"; : > "$tmp/new.txt"
  for s in "${seed_list[@]}"; do
    run "$base" "$m" "$s" >> "$tmp/base.txt"
    run "$new" "$m" "$s" >> "$tmp/new.txt"
  done
  for b in base new; do
    awk -v m="$m" -v b="$b" '
      function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
                                     return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
      { n++; w[n] = $1; s[n] = $2; e[n] = $3; r[n] = $3 / $2; d[n] = $4 }
      END { printf "%s\t%s\t%.5f\t%.5f\t%.0f\t%.0f\t%g\n", m, b, med(w, n), med(s, n), med(e, n), med(r, n), med(d, n) }' "$tmp/$b.txt"
  done
done
