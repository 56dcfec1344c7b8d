#!/usr/bin/env python3
"""Pathfinder vs ADVI by 1-Wasserstein distance to exmc's NUTS draws (python3 stdlib only).

    python3 bench/methods/pathfinder_w1.py [OUT_DIR] [--mv-n N] [--markdown FILE]

Reads what pathfinder_w1.sh wrote under OUT_DIR (default /tmp/pathfinder_w1): per posterior the
NUTS reference ref_{1..4}.csv and <method>_s<seed>.csv for pathfinder, meanfield and fullrank, with
the stderr logs (for "N gradient evaluations"). Distances are on the constrained values of the
parameters block (the names in posteriordb's info.json), each coordinate divided by the
reference draws' sd:

  * W1 marginal: the mean over coordinates of the exact 1-d W1 between the method's draws and
    all 10,000 reference draws (the integral of |F - G|, exact for unequal sample sizes). This is
    a marginal (sliced along the axes) distance, not the multivariate W1 of Zhang et al. (2022).
  * W1 joint: the multivariate W1 (Euclidean ground cost in the standardised coordinates)
    between N draws of the method and N reference draws (N = --mv-n, default 300, drawn without
    replacement with a fixed seed), solved exactly as an assignment problem (Hungarian algorithm,
    shortest augmenting paths). Empirical W1 between two samples is biased upwards, so each is
    reported beside its floor: the same quantity between two disjoint sets of reference draws.
"""
import glob
import json
import math
import os
import random
import re
import statistics
import sys

METHODS = ("pathfinder", "meanfield", "fullrank")


def read_csv(path):
    """(names, rows) of a CmdStan CSV; drops ADVI's first row (the approximation's mean)."""
    header, rows = None, []
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cells = line.strip().split(",")
            if header is None:
                header = cells
            else:
                rows.append([float(c) for c in cells])
    if header and header[0] == "lp__" and "log_g__" in header and rows:
        rows = rows[1:]
    return header, rows


def param_columns(header, params):
    cols = []
    for i, name in enumerate(header):
        if any(name == p or name.startswith(p + ".") for p in params):
            cols.append(i)
    return cols


def w1_1d(a, b):
    """Exact W1 between the empirical distributions of a and b: integral of |F_a - F_b|."""
    a, b = sorted(a), sorted(b)
    na, nb = len(a), len(b)
    i = j = 0
    fa = fb = 0.0
    x_prev = min(a[0], b[0])
    total = 0.0
    while i < na or j < nb:
        if j >= nb or (i < na and a[i] <= b[j]):
            x = a[i]
        else:
            x = b[j]
        total += abs(fa - fb) * (x - x_prev)
        while i < na and a[i] == x:
            i += 1
        while j < nb and b[j] == x:
            j += 1
        fa, fb, x_prev = i / na, j / nb, x
    return total


def assignment_cost(cost):
    """Minimum-cost perfect matching of a square cost matrix (Hungarian algorithm, O(n^3))."""
    n = len(cost)
    inf = float("inf")
    u = [0.0] * (n + 1)
    v = [0.0] * (n + 1)
    p = [0] * (n + 1)  # p[j]: row matched to column j (1-based, 0 = none)
    way = [0] * (n + 1)
    for i in range(1, n + 1):
        p[0] = i
        j0 = 0
        minv = [inf] * (n + 1)
        used = [False] * (n + 1)
        while True:
            used[j0] = True
            i0 = p[j0]
            row = cost[i0 - 1]
            ui0 = u[i0]
            delta, j1 = inf, 0
            for j in range(1, n + 1):
                if not used[j]:
                    cur = row[j - 1] - ui0 - v[j]
                    if cur < minv[j]:
                        minv[j] = cur
                        way[j] = j0
                    if minv[j] < delta:
                        delta, j1 = minv[j], j
            for j in range(n + 1):
                if used[j]:
                    u[p[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while True:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
            if j0 == 0:
                break
    return sum(cost[p[j] - 1][j - 1] for j in range(1, n + 1))


def w1_joint(x, y):
    """Exact W1 between two equal-size point sets (Euclidean cost): mean matched distance."""
    cost = [[math.sqrt(sum((a - b) ** 2 for a, b in zip(xi, yj))) for yj in y] for xi in x]
    return assignment_cost(cost) / len(x)


def grad_evals(log):
    try:
        text = open(log).read()
    except OSError:
        return None
    m = re.findall(r"(\d+) gradient evaluations", text)
    return int(m[-1]) if m else None


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, digits=3):
    if x is None:
        return "fail"
    if isinstance(x, float) and x >= 1e6:
        return f"{x:.2g}"
    if isinstance(x, int) or (isinstance(x, float) and x >= 1000):
        return f"{int(round(x)):,}".replace(",", " ")
    return f"{x:.{digits}f}"


def analyse(out, posterior, pdb, mv_n, seeds):
    d = os.path.join(out, posterior)
    params = [p["name"] for p in json.load(open(os.path.join(pdb, posterior, "info.json")))["parameters"]]
    ref_rows, header = [], None
    for f in sorted(glob.glob(os.path.join(d, "ref_*.csv"))):
        header, rows = read_csv(f)
        ref_rows += rows
    if not ref_rows:
        return None
    names = [header[i] for i in param_columns(header, params)]
    idx = param_columns(header, params)
    ref = [[r[i] for i in idx] for r in ref_rows]
    k = len(names)
    sds = [statistics.stdev(r[c] for r in ref) for c in range(k)]
    keep = [c for c in range(k) if sds[c] > 0]
    std = lambda rows: [[row[c] / sds[c] for c in keep] for row in rows]
    ref_s = std(ref)
    cols = list(zip(*ref_s))
    rng = random.Random(12345)
    # Floors: 1000 reference draws vs the other reference draws (marginal); two disjoint sets
    # of mv_n reference draws (joint).
    perm = list(range(len(ref_s)))
    rng.shuffle(perm)
    a_idx, b_idx = perm[:1000], perm[1000:]
    floor_marg = statistics.mean(
        w1_1d([col[i] for i in a_idx], [col[i] for i in b_idx]) for col in cols)
    floor_joint = w1_joint([ref_s[i] for i in perm[:mv_n]], [ref_s[i] for i in perm[mv_n:2 * mv_n]])
    # Sanity check of the NUTS draws against posteriordb's reference.json: the largest
    # |mean - ref mean| / ref sd and |sd / ref sd - 1| over the parameters it reports.
    refj = json.load(open(os.path.join(pdb, posterior, "reference.json")))["parameters"]
    dev_mean = dev_sd = 0.0
    for q, v in refj.items():
        flat = q.replace("[", ".").replace("]", "").replace(",", ".")
        if flat in names and v.get("sd"):
            c = names.index(flat)
            col = [r[c] for r in ref]
            dev_mean = max(dev_mean, abs(statistics.mean(col) - v["mean"]) / v["sd"])
            dev_sd = max(dev_sd, abs(statistics.stdev(col) / v["sd"] - 1))
    res = {"posterior": posterior, "k": len(keep), "dev_mean": dev_mean, "dev_sd": dev_sd, "ref_draws": len(ref_s),
           "ref_grads": grad_evals(os.path.join(d, "ref.log")),
           "floor_marg": floor_marg, "floor_joint": floor_joint, "methods": {}}
    for m in METHODS:
        per_seed = []
        for s in seeds:
            csv = os.path.join(d, f"{m}_s{s}.csv")
            log = os.path.join(d, f"{m}_s{s}.log")
            entry = {"seed": s, "grads": grad_evals(log), "marg": None, "joint": None,
                     "warn": "did not converge" in (open(log).read() if os.path.exists(log) else "")}
            if os.path.exists(csv):
                h, rows = read_csv(csv)
                if rows and all(name in h for name in names):
                    ci = [h.index(name) for name in names]
                    xs = std([[r[i] for i in ci] for r in rows])
                    if all(all(math.isfinite(v) for v in row) for row in xs):
                        mcols = list(zip(*xs))
                        entry["marg"] = statistics.mean(w1_1d(mcols[c], cols[c]) for c in range(len(keep)))
                        r2 = random.Random(1000 + s)
                        sub_x = r2.sample(xs, min(mv_n, len(xs)))
                        sub_r = [ref_s[i] for i in r2.sample(range(len(ref_s)), len(sub_x))]
                        entry["joint"] = w1_joint(sub_x, sub_r)
            per_seed.append(entry)
        res["methods"][m] = per_seed
    return res


def main(argv):
    out, mv_n, md = "/tmp/pathfinder_w1", 300, None
    seeds = [1, 2, 3]
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--mv-n":
            mv_n = int(args.pop(0))
        elif a == "--markdown":
            md = args.pop(0)
        else:
            out = a
    here = os.path.dirname(os.path.abspath(__file__))
    pdb = os.environ.get("PDB", os.path.join(here, "..", "..", "..", "shared", "posteriordb"))
    posteriors = sorted(p for p in os.listdir(out) if os.path.isdir(os.path.join(out, p)))
    results = []
    for p in posteriors:
        r = analyse(out, p, pdb, mv_n, seeds)
        if r:
            results.append(r)
            print(f"# {p}: done", file=sys.stderr)
    lines = []
    lines.append("| posterior | k | W1 marginal: pathfinder | meanfield | fullrank | floor "
                 f"| W1 joint (n={mv_n}): pathfinder | meanfield | fullrank | floor "
                 "| grad evals: pathfinder | meanfield | fullrank | NUTS ref | NUTS vs posteriordb |")
    lines.append("|---" * 15 + "|")
    for r in results:
        ms = r["methods"]
        cells = [r["posterior"], str(r["k"])]
        for key in ("marg", "joint"):
            for m in METHODS:
                v = median([e[key] for e in ms[m]])
                nconv = sum(e["warn"] for e in ms[m])
                nfail = sum(e[key] is None for e in ms[m])
                tag = (f" ({nfail} fail)" if nfail else "") + ("*" * nconv if key == "marg" else "")
                cells.append(fmt(v) + tag)
            cells.append(fmt(r["floor_marg" if key == "marg" else "floor_joint"]))
        for m in METHODS:
            cells.append(fmt(median([e["grads"] for e in ms[m]])))
        cells.append(fmt(r["ref_grads"]))
        cells.append(f"{r['dev_mean']:.3f} / {r['dev_sd']:.3f}")
        lines.append("| " + " | ".join(cells) + " |")
    # Per seed, for the record.
    lines.append("")
    lines.append("Per seed (W1 marginal / W1 joint / gradient evaluations):")
    lines.append("")
    lines.append("| posterior | method | seed 1 | seed 2 | seed 3 |")
    lines.append("|---|---|---|---|---|")
    for r in results:
        for m in METHODS:
            cells = [r["posterior"], m]
            for e in r["methods"][m]:
                cells.append(f"{fmt(e['marg'])} / {fmt(e['joint'])} / {fmt(e['grads'])}"
                             + (" (not converged)" if e["warn"] else ""))
            lines.append("| " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if md:
        open(md, "w").write(text)
    json.dump(results, open(os.path.join(out, "w1_results.json"), "w"), indent=1)


if __name__ == "__main__":
    main(sys.argv[1:])
