#!/usr/bin/env bash
# Two builds of `exmc-bench grad` interleaved (base, new, base, new, ...), so that load bursts on a
# shared machine hit both alike; prints per model and column the median over the runs of each
# build's ns per gradient, the range, and new/base. Beside each run, the process's CPU seconds
# (`perf stat -e task-clock`, where perf exists; this machine's VM exposes no cycle or
# instruction counters).
# Usage: bench/compare_grad.sh BASE_EXMC_BENCH NEW_EXMC_BENCH [--runs 7] [--models logistic,logistic_big]
set -euo pipefail
base="$(realpath "$1")"; new="$(realpath "$2")"; shift 2
runs=7; models=logistic,logistic_big
while (($#)); do
  case "$1" in
    --runs) runs="$2"; shift ;;
    --models) models="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for ((r = 1; r <= runs; r++)); do
  for b in base new; do
    bin=$base; [[ $b == new ]] && bin=$new
    if command -v perf > /dev/null; then
      perf stat -x, -e task-clock -o "$tmp/stat" "$bin" grad --models "$models" > "$tmp/out"
      awk -F, -v b=$b '$3 == "task-clock" {printf "%s cpu_ms %.0f\n", b, $1}' "$tmp/stat" >> "$tmp/cpu.txt"
    else
      "$bin" grad --models "$models" > "$tmp/out"
    fi
    awk -v b=$b 'NR > 1 && $1 != "model" {print b, $1, $3, $4, $5}' "$tmp/out" >> "$tmp/all.txt"
  done
done
printf 'model\tcolumn\tbase_median_ns\tnew_median_ns\tnew/base\tbase_range\tnew_range\n'
awk '
  function sort(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t } }
  function med(a, n) { return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  { k = $2; models[k] = 1
    n[$1, k, "f64"]++; v[$1, k, "f64", n[$1, k, "f64"]] = $3
    n[$1, k, "f32"]++; v[$1, k, "f32", n[$1, k, "f32"]] = $4
    n[$1, k, "hand"]++; v[$1, k, "hand", n[$1, k, "hand"]] = $5 }
  END {
    split("f64 f32 hand", cols, " ")
    for (k in models) for (c = 1; c <= 3; c++) {
      col = cols[c]
      for (bi = 0; bi < 2; bi++) {
        b = bi ? "new" : "base"; m = n[b, k, col]
        delete a; for (i = 1; i <= m; i++) a[i] = v[b, k, col, i]
        sort(a, m); md[b] = med(a, m); lo[b] = a[1]; hi[b] = a[m]
      }
      printf "%s\t%s\t%.0f\t%.0f\t%.3f\t%.0f-%.0f\t%.0f-%.0f\n", k, col, md["base"], md["new"], md["new"] / md["base"],
             lo["base"], hi["base"], lo["new"], hi["new"]
    }
  }' "$tmp/all.txt" | sort
if [[ -s $tmp/cpu.txt ]]; then
  awk '{n[$1]++; s[$1] += $3} END {printf "process CPU ms, mean per run: base %.0f, new %.0f\n", s["base"] / n["base"], s["new"] / n["new"]}' "$tmp/cpu.txt"
fi
