#!/usr/bin/env bash
# Divergences and stuck chains, f64 against f32, over many seeds of one bench model, as the seed
# protocol runs it (1 chain, 500 warmup + 500 draws). One line per run:
#   precision seed divergences longest_run_of_identical_draws step_size
# then totals. Divergence counts are heavy-tailed (one stuck chain adds dozens), so compare
# hundreds of seeds, not ten.
# Usage: bench/divergences_by_precision.sh EXMC [MODEL=funnel] [SEEDS=400]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
shared="$here/../../shared/bench"
exmc="$1"; model="${2:-funnel}"; seeds="${3:-400}"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for prec in f64 f32; do
  for s in $(seq 1 "$seeds"); do
    "$exmc" sample "$shared/models/$model.stan" --data "$shared/data/$model.json" --chains 1 --seed "$s" \
      --warmup 500 --draws 500 --precision "$prec" --output "$tmp/o.csv" > /dev/null 2>&1
    r=$(grep -v '^#' "$tmp/o.csv" | awk -F, 'NR==1{for(i=1;i<=NF;i++){if($i=="divergent__")d=i; if($i=="lp__")l=i}; next}
         {n+=$d; if($l==prev){run++}else{run=1}; if(run>m)m=run; prev=$l} END{print n+0, m+0}')
    echo "$prec $s $r $(grep -m1 'Step size' "$tmp/o.csv" | awk '{print $5}')"
  done
done | tee "$tmp/all.txt"
awk '{n[$1]++; d[$1]+=$3; if($3>0)a[$1]++; if($4>20)s[$1]++}
     END{for(p in n) printf "# %s: %d chains, %d divergences, %d chains with any, %d with more than 20 identical draws in a row\n", p, n[p], d[p], a[p], s[p]}' "$tmp/all.txt"
