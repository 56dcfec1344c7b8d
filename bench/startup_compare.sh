#!/usr/bin/env bash
# Time to first draw, two builds side by side: `exmc sample MODEL --chains 1 --warmup 1 --draws 1`
# on the benchmark models, REPS times each, the builds alternating run by run (a load burst hits
# both alike). Prints per model and build the medians of the whole process (wall, from fork to
# exit), of "model ready" (parse, check, data, lower, compile: exmc's own account) and of the
# first warmup iteration after start; then `exmc summary` of a small CSV (a command that compiles
# nothing: the process's own start-up). Files stay in the page cache (a warm start, as a user's
# second run of the day; no compiled-code cache is involved: there is none).
# Usage: bench/startup_compare.sh BASE_EXMC NEW_EXMC [--reps 15] [model ...]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
shared="$here/../../shared/bench"
base="$1"; new="$2"; shift 2
reps=15; models=()
while (($#)); do
  case "$1" in
    --reps) reps="$2"; shift ;;
    *) models+=("$1") ;;
  esac
  shift
done
((${#models[@]})) || models=(simple medium stress eight_schools_centered eight_schools_noncentered
                             funnel logistic sv hier_big logistic_big)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
median() { sort -g | awk '{v[NR]=$1} END{if(NR%2) print v[(NR+1)/2]; else printf "%.1f\n", (v[NR/2]+v[NR/2+1])/2}'; }
ms_now() { date +%s%N; }
one() {  # one BIN MODEL -> "wall_ms ready_ms first_ms"
  local program="$shared/models/$2.stan" data="$shared/data/$2.json"
  [[ $2 == logistic_big ]] && program="$shared/models/logistic.stan"
  local t0 t1
  t0=$(ms_now)
  "$1" sample "$program" --data "$data" --chains 1 --warmup 1 --draws 1 --seed 1 --output "$tmp/o.csv" \
    > /dev/null 2> "$tmp/err"
  t1=$(ms_now)
  local ready first
  ready=$(grep -o 'model ready in [0-9.]* ms' "$tmp/err" | awk '{print $4}')
  first=$(grep -o 'first warmup iteration [0-9.]* ms' "$tmp/err" | awk '{print $4}')
  echo "$(( (t1 - t0) / 100000 ))" | awk -v r="$ready" -v f="$first" '{printf "%.1f %s %s\n", $1/10, r, f}'
}
printf 'model\tbuild\twall_ms\tready_ms\tfirst_iteration_ms\n'
for m in "${models[@]}"; do
  : > "$tmp/base.txt"; : > "$tmp/new.txt"
  for ((r = 0; r < reps; r++)); do
    one "$base" "$m" >> "$tmp/base.txt"
    one "$new" "$m" >> "$tmp/new.txt"
  done
  for b in base new; do
    printf '%s\t%s\t%s\t%s\t%s\n' "$m" "$b" "$(awk '{print $1}' "$tmp/$b.txt" | median)" \
      "$(awk '{print $2}' "$tmp/$b.txt" | median)" "$(awk '{print $3}' "$tmp/$b.txt" | median)"
  done
done
# A command that compiles nothing.
"$new" sample "$shared/models/simple.stan" --data "$shared/data/simple.json" --chains 1 --seed 1 \
  --output "$tmp/s.csv" > /dev/null 2>&1
for b in base new; do
  bin=$base; [[ $b == new ]] && bin=$new
  : > "$tmp/sum.txt"
  for ((r = 0; r < reps; r++)); do
    t0=$(ms_now); "$bin" summary "$tmp/s.csv" > /dev/null 2>&1; t1=$(ms_now)
    echo "$(( (t1 - t0) / 100000 ))" | awk '{printf "%.1f\n", $1/10}' >> "$tmp/sum.txt"
  done
  printf 'summary\t%s\t%s\t-\t-\n' "$b" "$(median < "$tmp/sum.txt")"
done
