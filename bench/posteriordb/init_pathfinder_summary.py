#!/usr/bin/env python3
"""Summarise exmc-posteriordb --tsv runs, default init vs --init pathfinder (INIT_PATHFINDER.md).

    python3 bench/posteriordb/init_pathfinder_summary.py DIR

DIR holds run_default_s<seed>.tsv and run_pathfinder_s<seed>.tsv (each from
`exmc-posteriordb --init <init> --seed <seed> --tsv`). Prints a markdown table: per posterior the
median over seeds of warmup gradient evaluations (Pathfinder's included), total gradient
evaluations, min bulk ESS and ESS/s, the grade of each seed, and the pathfinder/default ratios
with their geometric means over posteriors.
"""
import glob
import math
import os
import re
import statistics
import sys


def read(path):
    rows, header = {}, None
    for line in open(path):
        if line.startswith("#"):
            continue
        cells = line.rstrip("\n").split("\t")
        if header is None:
            header = cells
            continue
        rows[cells[0]] = dict(zip(header, cells))
    return rows


def num(x):
    try:
        return float(x)
    except ValueError:
        return None


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def gmean(xs):
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else None


def main(d):
    runs = {}
    for f in glob.glob(os.path.join(d, "run_*_s*.tsv")):
        m = re.match(r"run_(\w+?)_s(\d+)\.tsv$", os.path.basename(f))
        runs.setdefault(m.group(1), {})[int(m.group(2))] = read(f)
    seeds = sorted(set(runs["default"]) & set(runs["pathfinder"]))
    names = list(runs["default"][seeds[0]].keys())
    print(f"Seeds {', '.join(map(str, seeds))}; medians over seeds; grade per seed in seed order.\n")
    print("| posterior | dim | warmup grads default | warmup grads pathfinder (of which Pathfinder) | ratio "
          "| total grads default | pathfinder | ratio | ESS/s default | pathfinder | ratio "
          "| min ESS default | pathfinder | grade default | grade pathfinder |")
    print("|---" * 15 + "|")
    ratios = {"warm": [], "total": [], "esss": [], "ess": []}
    passes = {"default": 0, "pathfinder": 0}
    plateau = []  # posteriors where some pathfinder run started its chains on the plateau
    ratios_ok = {"warm": [], "total": [], "esss": []}
    for n in names:
        stats = {}
        for init in ("default", "pathfinder"):
            rs = [runs[init][s].get(n) for s in seeds]
            stats[init] = {
                "warm": med([num(r["warmup_grad_evals"]) for r in rs if r]),
                "init": med([num(r["init_grad_evals"]) for r in rs if r]),
                "total": med([num(r["grad_evals"]) for r in rs if r]),
                "esss": med([num(r["ess_per_s"]) for r in rs if r]),
                "ess": med([num(r["min_ess_bulk"]) for r in rs if r]),
                "grade": " ".join(r["status"] if r else "missing" for r in rs),
            }
            passes[init] += sum(1 for r in rs if r and r["status"] == "pass")
        stuck = any(r and abs(num(r["worst_z_mean"]) or 0) > 1e6
                    for r in (runs["pathfinder"][s].get(n) for s in seeds))
        if stuck:
            plateau.append(n)
        a, b = stats["default"], stats["pathfinder"]
        def ratio(key):
            if a[key] and b[key]:
                ratios[key].append(b[key] / a[key])
                if not stuck and key in ratios_ok:
                    ratios_ok[key].append(b[key] / a[key])
                return f"{b[key] / a[key]:.2f}"
            return "-"
        f = lambda x: "-" if x is None else f"{x:.0f}"
        dim = runs["default"][seeds[0]][n]["dim"]
        print(f"| {n} | {dim} | {f(a['warm'])} | {f(b['warm'])} ({f(b['init'])}) | {ratio('warm')} "
              f"| {f(a['total'])} | {f(b['total'])} | {ratio('total')} "
              f"| {f(a['esss'])} | {f(b['esss'])} | {ratio('esss')} | {f(a['ess'])} | {f(b['ess'])} "
              f"| {a['grade']} | {b['grade']} |")
    g = {k: gmean(v) for k, v in ratios.items()}
    total_runs = len(names) * len(seeds)
    print(f"\nGeometric mean of the pathfinder/default ratios over {len(ratios['warm'])} posteriors: "
          f"warmup gradient evaluations {g['warm']:.3f}, total gradient evaluations {g['total']:.3f}, "
          f"ESS/s {g['esss']:.3f}.")
    h = {k: gmean(v) for k, v in ratios_ok.items()}
    print(f"Without the {len(plateau)} posteriors where a pathfinder run's chains started at the "
          f"transform clamp (|worst z| > 1e6: {', '.join(plateau)}), over {len(ratios_ok['warm'])}: "
          f"warmup gradient evaluations {h['warm']:.3f}, total {h['total']:.3f}, ESS/s {h['esss']:.3f}.")
    print(f"Runs passing the strict grade: default {passes['default']}/{total_runs}, "
          f"pathfinder {passes['pathfinder']}/{total_runs}.")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
