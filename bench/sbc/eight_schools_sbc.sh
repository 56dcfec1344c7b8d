#!/usr/bin/env bash
# SBC of eight schools (non-centred), 200 simulations, over mpirun: one undisturbed run, and one
# where rank 1 is SIGKILLed mid-run (mpirun --enable-recovery lets the others finish); the two
# must agree simulation by simulation (ranks.csv), and the ranks must look uniform.
# Usage: bench/sbc/eight_schools_sbc.sh [OUT_DIR] [RANKS]   (from the repository root, after a build)
set -euo pipefail
out=${1:-/tmp/exmc_sbc_eight_schools}
n=${2:-3}
exmc=$(pwd)/build/exmc
ex=$(pwd)/examples/sbc/eight_schools_noncentered
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
args=(batch --sbc "$ex.stan" --simulator "$ex.sim.stan" --data "$ex.data.json" --simulations 200
      --seed 2024 --warmup 1000 --draws 1000 --rank-draws 99 --bins 10 --heartbeat-timeout 5)
rm -rf "$out"; mkdir -p "$out"

echo "== undisturbed, $n ranks"
/usr/bin/time -f "wall %e s" mpirun --oversubscribe -n "$n" "$exmc" "${args[@]}" --output "$out/clean" \
  > "$out/clean.txt" 2> "$out/clean.log"
tail -1 "$out/clean.log"; cat "$out/clean.txt"

echo "== rank 1 SIGKILLed after 60 simulations are recorded, $n ranks, --enable-recovery"
start=$(date +%s.%N)
mpirun --oversubscribe --enable-recovery -n "$n" "$exmc" "${args[@]}" --output "$out/killed" \
  > "$out/killed.txt" 2> "$out/killed.log" &
job=$!
while [ "$(ls "$out/killed/items" 2>/dev/null | grep -c json || true)" -lt 60 ]; do sleep 0.2; done
# Rank 1 is the exmc whose environment says OMPI_COMM_WORLD_RANK=1 and whose parent is not an
# exmc (its fit children share the environment).
victim=""
for p in $(pgrep -x exmc); do
  if (tr '\0' '\n' < /proc/$p/environ) 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=1; then
    parent=$(ps -o ppid= -p "$p" | tr -d ' ')
    [ "$(ps -o comm= -p "$parent")" != exmc ] && victim=$p
  fi
done
echo "killing rank 1 (pid $victim) with $(ls "$out/killed/items" | grep -c json) simulations recorded"
kill -9 "$victim"
rc=0; wait $job || rc=$?
echo "mpirun exit status $rc; wall $(python3 -c "import time; print(round(time.time() - $start, 1))") s"
grep -E "presumed dead|retrying|done," "$out/killed.log" || true
cat "$out/killed.txt"
if cmp -s "$out/clean/ranks.csv" "$out/killed/ranks.csv"; then
  echo "ranks.csv identical to the undisturbed run (200 simulations)"
else
  echo "ranks.csv DIFFERS from the undisturbed run"; exit 1
fi
