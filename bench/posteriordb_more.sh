#!/usr/bin/env bash
# The programs of ../shared/posteriordb-more (posteriordb's posteriors without reference draws), each
# run as a user runs it: `exmc sample model.stan --data data.json --chains 4 --warmup 1000
# --draws 1000 --seed 1` (default settings otherwise) under `timeout`, then `exmc diagnose` and
# `exmc summary --format csv` on the chains' CSVs. One TSV row per program:
#   program      the folder name (<data>-<model>)
#   status       ok | not-lowered (the front end's "... not lowered yet" / "... is lowered for ... only
#                yet" refusal) | error (another
#                non-zero exit) | timeout | crash (killed by a signal)
#   wall_s       the whole `exmc sample` process, fork to exit
#   ready_ms     "model ready in X ms" (parse, check, data, lower, compile: exmc's stderr)
#   warmup_s, sampling_s   "done in ... (warmup W s, sampling S s per chain, slowest)"
#   dims         unconstrained dimension
#   backend      machine code | interpreted (how the gradient runs, from stderr)
#   max_rhat, max_rhat_var, min_ess_bulk, min_ess_bulk_var, min_ess_tail
#                over every column of `exmc summary` (lp__, parameters, transformed parameters,
#                generated quantities; undefined (NaN) ones skipped)
#   divergences  post-warmup divergent transitions, all chains (from `exmc diagnose`)
#   diagnose     the problems `exmc diagnose` flags (div, treedepth, ebfmi, ess, rhat, stuck,
#                runaway, undefined), or "none"
#   message      error/crash: the first line exmc wrote that says what went wrong
# The TSV is DIR/posteriordb_more.tsv; run again with the same --out to re-run some programs (rows
# of programs run now replace their old rows). The CSVs stay in DIR/runs/<program>/.
#
# Usage: bench/posteriordb_more.sh [--only NAME,...] [--timeout S] [--out DIR] [--exmc PATH]
#                                  [--order size|name] [--warmup N] [--sample-args "ARGS"]
# For a triage rerun, --warmup replaces the 1000 warmup iterations and --sample-args adds options
# to every `exmc sample` (e.g. "--adapt-delta 0.95"; not --warmup, --draws, --chains or --seed).
# Default: every program, 300 s each, DIR a fresh temporary directory (printed), exmc = build/exmc.
# Programs run smallest data.json first (--order size), so a partial run covers the quick ones.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
shared="$(dirname "$repo")/shared/posteriordb-more"
exmc="$repo/build/exmc"
only=""; limit=300; out=""; order=size; extra=""; nwarmup=1000
while (($#)); do
  case "$1" in
    --only) only="$2"; shift ;;
    --timeout) limit="$2"; shift ;;
    --out) out="$2"; shift ;;
    --exmc) exmc="$2"; shift ;;
    --order) order="$2"; shift ;;
    --sample-args) extra="$2"; shift ;;
    --warmup) nwarmup="$2"; shift ;;
    -h|--help) sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "posteriordb_more.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ -d $shared ]] || { echo "posteriordb_more.sh: $shared not found (../shared beside the repository)" >&2; exit 2; }
[[ -x $exmc ]] || { echo "posteriordb_more.sh: $exmc is not an executable (build the exmc target)" >&2; exit 2; }
[[ -n $out ]] || out=$(mktemp -d /tmp/posteriordb_more.XXXXXX)
mkdir -p "$out/runs"
tsv="$out/posteriordb_more.tsv"

programs=()
if [[ -n $only ]]; then
  IFS=, read -r -a programs <<< "$only"
  for p in "${programs[@]}"; do
    [[ -f $shared/$p/model.stan ]] || { echo "posteriordb_more.sh: no program '$p' in $shared" >&2; exit 2; }
  done
else
  for d in "$shared"/*/; do [[ -f $d/model.stan ]] && programs+=("$(basename "$d")"); done
fi
if [[ $order == size ]]; then
  mapfile -t programs < <(for p in "${programs[@]}"; do
    printf '%s %s\n' "$(stat -c %s "$shared/$p/data.json" 2>/dev/null || echo 0)" "$p"; done | sort -n | cut -d' ' -f2)
fi

header=$'program\tstatus\twall_s\tready_ms\twarmup_s\tsampling_s\tdims\tbackend\tmax_rhat\tmax_rhat_var\tmin_ess_bulk\tmin_ess_bulk_var\tmin_ess_tail\tdivergences\tdiagnose\tmessage'
rows="$out/rows.new"; : > "$rows"
clean() { tr '\t\r\n' '   ' | sed "s|$shared/||g; s/ *\$//" | cut -c1-300; }

for p in "${programs[@]}"; do
  dir="$out/runs/$p"; rm -rf "$dir"; mkdir -p "$dir"
  t0=$(date +%s%N)
  timeout -k 10 "$limit" "$exmc" sample "$shared/$p/model.stan" --data "$shared/$p/data.json" \
    --chains 4 --warmup "$nwarmup" --draws 1000 --seed 1 --output "$dir/output.csv" $extra \
    > "$dir/stdout.txt" 2> "$dir/stderr.txt"
  rc=$?
  t1=$(date +%s%N)
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", (b - a) / 1e9}')
  # Progress lines end in \r; keep the lines that end in \n.
  err=$(tr '\r' '\n' < "$dir/stderr.txt" | grep -v '^chain [0-9]' || true)
  ready=$(grep -o 'model ready in [0-9.]* ms' <<< "$err" | head -1 | awk '{print $4}')
  dims=$(grep -oE '[0-9]+ unconstrained dimensions?' <<< "$err" | head -1 | awk '{print $1}')
  backend=$(grep -oE 'machine code\)|interpreted\)' <<< "$err" | head -1 | tr -d ')')
  done_line=$(grep -o 'done in .*' <<< "$err" | head -1)
  warmup=$(grep -oE 'warmup [0-9.]+ s' <<< "$done_line" | awk '{print $2}')
  sampling=$(grep -oE 'sampling [0-9.]+ s' <<< "$done_line" | awk '{print $2}')
  message=""
  if ((rc == 0)); then
    status=ok
  elif ((rc == 124)) || { ((rc == 137)) && awk -v w="$wall" -v l="$limit" 'BEGIN{exit !(w >= l)}'; }; then
    status=timeout
  elif ((rc > 128)); then
    status=crash; message="signal $((rc - 128)): $(grep -m1 -iE 'error|fault|abort|terminate|what\(\)' <<< "$err" | clean)"
  else
    message=$(grep -m1 -E 'error|rror:' <<< "$err" | clean)
    [[ -n $message ]] || message=$(grep -v '^exmc: [0-9]* variables' <<< "$err" | grep -m1 . | clean)
    if grep -qE 'lowered[^.]* yet' <<< "$err"; then status=not-lowered; else status=error; fi
  fi
  max_rhat=""; max_rhat_var=""; min_bulk=""; min_bulk_var=""; min_tail=""; div=""; diag=""
  shopt -s nullglob; csvs=("$dir"/output_*.csv); shopt -u nullglob
  if [[ $status == ok ]] && ((${#csvs[@]})); then
    "$exmc" summary --format csv "${csvs[@]}" > "$dir/summary.csv" 2> "$dir/summary.err"
    "$exmc" diagnose "${csvs[@]}" > "$dir/diagnose.txt" 2>&1
    read -r max_rhat max_rhat_var min_bulk min_bulk_var min_tail < <(awk -F, '
      NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
      { r = $col["rhat"]; b = $col["ess_bulk"]; t = $col["ess_tail"]
        if (r ~ /^[0-9.eE+-]+$/ && (mr == "" || r + 0 > mr)) { mr = r + 0; mrv = $1 }
        if (b ~ /^[0-9.eE+-]+$/ && (mb == "" || b + 0 < mb)) { mb = b + 0; mbv = $1 }
        if (t ~ /^[0-9.eE+-]+$/ && (mt == "" || t + 0 < mt)) mt = t + 0 }
      END { printf "%s %s %s %s %s\n", (mr == "" ? "NA" : sprintf("%.4f", mr)), (mrv == "" ? "NA" : mrv),
                   (mb == "" ? "NA" : sprintf("%.0f", mb)), (mbv == "" ? "NA" : mbv),
                   (mt == "" ? "NA" : sprintf("%.0f", mt)) }' "$dir/summary.csv")
    d=$(cat "$dir/diagnose.txt")
    div=$(grep -oE '^[0-9]+ of [0-9]+ \([0-9.]+%\) transitions ended with a divergence' <<< "$d" | awk '{print $1}')
    [[ -n $div ]] || div=0
    flags=()
    grep -q 'ended with a divergence' <<< "$d" && flags+=(div)
    grep -q 'hit the maximum treedepth' <<< "$d" && flags+=(treedepth)
    grep -q 'E-BFMI of these chains is below' <<< "$d" && flags+=(ebfmi)
    grep -q 'effective sample size below' <<< "$d" && flags+=(ess)
    grep -q 'split R-hat above' <<< "$d" && flags+=(rhat)
    grep -q 'Checking for stuck chains' <<< "$d" && flags+=(stuck)
    grep -q 'Checking the scale of the draws' <<< "$d" && flags+=(runaway)
    grep -q 'undefined (constant or non-finite' <<< "$d" && flags+=(undefined)
    if ((${#flags[@]})); then diag=$(IFS=,; echo "${flags[*]}"); else diag=none; fi
    grep -q 'no problems detected' <<< "$d" || [[ $diag != none ]] || diag="unparsed"
  fi
  row=$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$p" "$status" "$wall" \
    "${ready:-NA}" "${warmup:-NA}" "${sampling:-NA}" "${dims:-NA}" "${backend:-NA}" "${max_rhat:-NA}" \
    "${max_rhat_var:-NA}" "${min_bulk:-NA}" "${min_bulk_var:-NA}" "${min_tail:-NA}" "${div:-NA}" \
    "${diag:-NA}" "$message")
  echo "$row" >> "$rows"
  printf '%-60s %-11s %7ss  dims %-6s rhat %-7s ess %-6s div %-5s %s\n' "$p" "$status" "$wall" "${dims:-NA}" \
    "${max_rhat:-NA}" "${min_bulk:-NA}" "${div:-NA}" "${message:0:80}" >&2
done

# Merge: rows of the programs run now replace their old rows; sorted by program.
{
  echo "$header"
  { [[ -f $tsv ]] && tail -n +2 "$tsv" | awk -F'\t' 'NR == FNR { new[$1] = 1; next } !($1 in new)' "$rows" -
    cat "$rows"; } | sort -t$'\t' -k1,1
} > "$tsv.tmp" && mv "$tsv.tmp" "$tsv"
rm -f "$rows"

awk -F'\t' 'NR > 1 { n++; s[$2]++
  if ($2 == "ok" && (($9 != "NA" && $9 > 1.01) || ($11 != "NA" && $11 < 100) || $14 > 0)) sus++ }
  END { printf "%d programs:", n; for (k in s) printf " %s %d,", k, s[k]; printf " suspect (ok, but R-hat > 1.01, bulk ESS < 100 or divergences) %d\n", sus }' "$tsv"
echo "TSV: $tsv (CSVs under $out/runs)"
