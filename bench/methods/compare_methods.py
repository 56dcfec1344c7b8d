#!/usr/bin/env python3
"""Compares exmc's optimize/variational outputs with rstan's (stan_methods.R) and posteriordb's
reference posteriors; writes a Markdown report (bench/methods/README.md explains the columns).
python3 standard library only.

Usage: compare_methods.py --shared SHARED --work WORK --seeds "1 2 3" --out RESULTS.md NAME...
WORK/exmc/NAME.{opt,vb}.SEED.{csv,log} come from run_methods.sh, WORK/stan/NAME.stan.json from
stan_methods.R.
"""
import argparse
import csv
import datetime
import json
import math
import os
import platform
import re
import statistics


def read_cmdstan_csv(path):
    """Header and numeric rows of a CmdStan CSV (comment lines skipped)."""
    with open(path) as f:
        rows = [r for r in csv.reader(line for line in f if not line.startswith("#")) if r]
    if not rows:
        return [], []
    return rows[0], [[float(x) for x in r] for r in rows[1:]]


def read_log(path):
    """exmc's stderr: gradient evaluations, algorithm seconds, exit status, wall seconds, message."""
    out = {"rc": None, "wall_s": None, "grad_evals": None, "algo_s": None, "msg": ""}
    if not os.path.exists(path):
        return out
    text = open(path).read()
    m = re.search(r"rc=(\d+) wall_s=([0-9.]+)", text)
    if m:
        out["rc"], out["wall_s"] = int(m.group(1)), float(m.group(2))
    m = re.search(r"; (?:ran )?([0-9.e+-]+) (ms|s), (\d+) gradient evaluations", text)
    if m:
        out["algo_s"] = float(m.group(1)) * (1e-3 if m.group(2) == "ms" else 1.0)
        out["grad_evals"] = int(m.group(3))
    lines = [l for l in text.splitlines() if l.strip() and not l.startswith("rc=")]
    errs = [l for l in lines if "error" in l]
    out["msg"] = errs[0] if errs else (lines[-1] if lines else "")
    return out


def flat_ref_name(n):
    """posteriordb's "beta[1,2]" -> CmdStan's "beta.1.2"."""
    return n.replace("[", ".").replace(",", ".").replace("]", "")


def median(xs):
    xs = [x for x in xs if x is not None and not math.isnan(x)]
    return statistics.median(xs) if xs else None


def fmt(x, spec=".3g"):
    if x is None:
        return "–"
    if isinstance(x, float) and math.isnan(x):
        return "nan"
    return format(x, spec)


def param_names(info, header):
    """Columns of the parameters block (the mode is compared on these; GQs may use RNGs)."""
    pars = [p["name"] for p in info.get("parameters", [])]
    return [h for h in header if h != "lp__" and h.split(".")[0] in pars]


def stan_spread(stan_opt, info, ref):
    """Stan's own mode-to-mode spread across seeds: max over parameters of (max − min) / ref sd."""
    modes = [o["mode"] for o in stan_opt.values() if "mode" in o and o.get("return_code", 0) == 0]
    if len(modes) < 2:
        return None
    out = 0.0
    for q in param_names(info, list(modes[0].keys())):
        if q in ref and ref[q].get("sd"):
            v = [md[q] for md in modes if q in md]
            out = max(out, (max(v) - min(v)) / ref[q]["sd"])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--seeds", default="1 2 3")
    ap.add_argument("--out", required=True)
    ap.add_argument("--note", action="append", default=[], help="extra line for the failures list")
    ap.add_argument("names", nargs="+")
    a = ap.parse_args()
    seeds = [int(s) for s in a.seeds.split()]

    opt_rows, vb_rows, notes, stan_opt_n = [], [], [], {}
    for m in a.names:
        pdir = os.path.join(a.shared, "posteriordb", m)
        info = json.load(open(os.path.join(pdir, "info.json")))
        ref = {flat_ref_name(k): v for k, v in
               json.load(open(os.path.join(pdir, "reference.json")))["parameters"].items()}
        sp = os.path.join(a.work, "stan", m + ".stan.json")
        stan = json.load(open(sp)) if os.path.exists(sp) else {"error": "no Stan output"}
        if "error" in stan:
            notes.append(f"{m}: Stan: {stan['error'][:300]}")
        stan_opt = {o["seed"]: o for o in stan.get("optimize", [])}
        stan_opt_n[m] = stan_opt
        stan_vb = {o["seed"]: o for o in stan.get("vb", [])}

        # ---- optimize ----
        r = {"name": m, "dim": info.get("dim")}
        diffs, rdiffs, lp_gap, offsets, ex_t, st_t, ex_g, st_it, ex_lp, st_lp, lpchk = \
            [], [], [], [], [], [], [], [], [], [], []
        diffs_ok, rdiffs_ok, n_at = [], [], 0
        # Stan's mode: its best converged run (the seeds give different inits on the two sides,
        # so runs are not paired by seed). Without a converged run, its best run, flagged.
        ok = [o for o in stan_opt.values() if "mode" in o and o.get("return_code", 0) == 0]
        anyrun = [o for o in stan_opt.values() if "mode" in o]
        best = max(ok or anyrun, key=lambda o: o["value"]) if (ok or anyrun) else None
        r["stan_ok"] = len(ok)
        if anyrun and not ok:
            notes.append(f"{m}: Stan optimizing converged in no seed; compared with its best run "
                         f"(value {best['value']:.6g})")
        for s in seeds:
            log = read_log(os.path.join(a.work, "exmc", f"{m}.opt.{s}.log"))
            path = os.path.join(a.work, "exmc", f"{m}.opt.{s}.csv")
            ex = None
            if log["rc"] == 0 and os.path.exists(path):
                h, rows = read_cmdstan_csv(path)
                if rows:
                    ex = dict(zip(h, rows[0]))
            else:
                notes.append(f"{m}: exmc optimize seed {s}: rc={log['rc']}: {log['msg'][:300]}")
            so = stan_opt.get(s)
            if so and "error" in so:
                notes.append(f"{m}: Stan optimizing seed {s}: {so['error'][:300]}")
                so = None
            if so and so.get("return_code", 0) != 0:
                notes.append(f"{m}: Stan optimizing seed {s}: return_code {so['return_code']}")
            if ex is not None:
                ex_t.append(log["algo_s"])
                ex_g.append(log["grad_evals"])
                ex_lp.append(ex["lp__"])
            if so:
                st_t.append(so["wall_s"])
                st_it.append(so.get("evals") or so.get("iterations"))
                st_lp.append(so["value"])
                if so.get("log_prob_at_mode") is not None:
                    lpchk.append(abs(so["log_prob_at_mode"] - so["value"]))
            if ex is None or best is None:
                continue
            seed_d, seed_r = [], []
            for q in param_names(info, list(ex.keys())):
                if q not in best["mode"]:
                    continue
                d = abs(ex[q] - best["mode"][q])
                seed_d.append(d)
                if q in ref and ref[q].get("sd"):
                    seed_r.append(d / ref[q]["sd"])
            diffs.extend(seed_d)
            rdiffs.extend(seed_r)
            lpx = (stan.get("log_prob_at_exmc_mode") or {}).get(str(s))
            at_mode = False
            if lpx is not None:
                lp_gap.append(lpx - best["value"])
                offsets.append(ex["lp__"] - lpx)
                at_mode = abs(lpx - best["value"]) <= 1e-8 * max(1.0, abs(best["value"]))
                n_at += at_mode
            if at_mode:
                diffs_ok.extend(seed_d)
                rdiffs_ok.extend(seed_r)
        r.update(n_at=n_at, max_ok=max(diffs_ok) if diffs_ok else None,
                 max_rel_ok=max(rdiffs_ok) if rdiffs_ok else None,
                 max_abs=max(diffs) if diffs else None, max_rel=max(rdiffs) if rdiffs else None,
                 lp_gap=max(lp_gap, key=abs) if lp_gap else None,
                 offset=median(offsets), offset_spread=(max(offsets) - min(offsets)) if offsets else None,
                 ex_lp=max(ex_lp) if ex_lp else None, st_lp=max(st_lp) if st_lp else None,
                 st_spread=stan_spread(stan_opt, info, ref), lpchk=max(lpchk) if lpchk else None,
                 ex_t=median(ex_t), st_t=median(st_t), ex_g=median(ex_g), st_it=median(st_it))
        opt_rows.append(r)

        # ---- variational ----
        v = {"name": m}
        zs = {"exmc": [], "stan": []}
        sr = {"exmc": [], "stan": []}
        times = {"exmc": [], "stan": []}
        grads = []
        for s in seeds:
            log = read_log(os.path.join(a.work, "exmc", f"{m}.vb.{s}.log"))
            path = os.path.join(a.work, "exmc", f"{m}.vb.{s}.csv")
            means = sds = None
            if log["rc"] == 0 and os.path.exists(path):
                h, rows = read_cmdstan_csv(path)
                draws = rows[1:]  # row 1: the approximation's mean
                if len(draws) > 1:
                    cols = list(zip(*draws))
                    means = {k: statistics.fmean(c) for k, c in zip(h, cols)}
                    sds = {k: statistics.stdev(c) for k, c in zip(h, cols)}
                times["exmc"].append(log["algo_s"])
                grads.append(log["grad_evals"])
            else:
                notes.append(f"{m}: exmc variational seed {s}: rc={log['rc']}: {log['msg'][:300]}")
            sv = stan_vb.get(s)
            if sv and "error" in sv:
                notes.append(f"{m}: Stan vb seed {s}: {sv['error'][:300]}")
                sv = None
            if sv:
                times["stan"].append(sv["wall_s"])
            for who, mm, ss in (("exmc", means, sds),
                                ("stan", sv and sv["mean"], sv and sv["sd"])):
                if not mm:
                    continue
                z, rr = [], []
                for q, rv in ref.items():
                    if q in mm and rv.get("sd"):
                        z.append(abs(mm[q] - rv["mean"]) / rv["sd"])
                        rr.append(ss[q] / rv["sd"])
                if z:
                    zs[who].append(median(z))
                    sr[who].append(median(rr))
        v.update(z_ex=median(zs["exmc"]), z_st=median(zs["stan"]), sr_ex=median(sr["exmc"]),
                 sr_st=median(sr["stan"]), t_ex=median(times["exmc"]), t_st=median(times["stan"]),
                 g_ex=median(grads), n_ex=len(zs["exmc"]), n_st=len(zs["stan"]))
        vb_rows.append(v)

    L = []
    L.append("# exmc optimize / variational against rstan: results\n")
    L.append(f"Measured {datetime.date.today().isoformat()} on {platform.node() or 'host'} "
             f"({os.cpu_count()} cores, {platform.machine()}), runs one at a time; "
             f"seeds {' '.join(map(str, seeds))}. Protocol and column meanings: README.md.\n")
    L.append("## (a) optimize: L-BFGS, jacobian=0 (penalised MLE), tight tolerances\n")
    L.append("| posterior | dim | Stan runs converged | exmc runs at Stan's mode | max abs diff (those runs) | max diff / ref sd (those runs) "
             "| Stan's own seed spread / ref sd | max abs diff (all runs) | worst Stan lp at exmc mode − Stan lp at Stan mode "
             "| exmc lp__ | Stan value | exmc − Stan constant | exmc s | exmc grads | Stan s | Stan evals |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in opt_rows:
        L.append(f"| {r['name']} | {r['dim']} | {r['stan_ok']}/{len(stan_opt_n[r['name']])} | {r['n_at']}/{len(seeds)} | {fmt(r['max_ok'], '.2e')} | "
                 f"{fmt(r['max_rel_ok'], '.2e')} | {fmt(r['st_spread'], '.2e')} | {fmt(r['max_abs'], '.2e')} | "
                 f"{fmt(r['lp_gap'], '.2e')} | {fmt(r['ex_lp'], '.10g')} | {fmt(r['st_lp'], '.10g')} | "
                 f"{fmt(r['offset'], '.8g')} | {fmt(r['ex_t'], '.2g')} | {fmt(r['ex_g'], '.0f')} | "
                 f"{fmt(r['st_t'], '.2g')} | {fmt(r['st_it'], '.0f')} |")
    chk = [r["lpchk"] for r in opt_rows if r["lpchk"] is not None]
    spread = [r["offset_spread"] for r in opt_rows if r["offset_spread"] is not None]
    L.append("")
    if chk:
        L.append(f"Check: |Stan's optimizing `value` − Stan's log_prob(adjust_transform=FALSE) at its mode| "
                 f"≤ {max(chk):.2e} over all posteriors and seeds (so `value` has the `~` constants dropped "
                 f"and no Jacobian).")
    if spread:
        L.append(f"Check: the exmc − Stan constant varies by ≤ {max(spread):.2e} across seeds within a "
                 f"posterior (it depends on the data only).")
    L.append("\n## (b) ADVI meanfield (defaults on both sides)\n")
    L.append("| posterior | exmc median z | Stan median z | exmc median sd/ref sd | Stan median sd/ref sd "
             "| exmc s | exmc grads | Stan s | runs exmc/Stan |")
    L.append("|---|---|---|---|---|---|---|---|---|")
    for v in vb_rows:
        L.append(f"| {v['name']} | {fmt(v['z_ex'], '.2f')} | {fmt(v['z_st'], '.2f')} | {fmt(v['sr_ex'], '.2f')} | "
                 f"{fmt(v['sr_st'], '.2f')} | {fmt(v['t_ex'], '.2g')} | {fmt(v['g_ex'], '.0f')} | "
                 f"{fmt(v['t_st'], '.2g')} | {v['n_ex']}/{v['n_st']} |")
    allz = [(v["z_ex"], v["z_st"]) for v in vb_rows if v["z_ex"] is not None and v["z_st"] is not None]
    if allz:
        L.append(f"\nMedian over posteriors of the median z: exmc {median([x for x, _ in allz]):.2f}, "
                 f"Stan {median([y for _, y in allz]):.2f}.")
    notes.extend(a.note)
    if notes:
        L.append("\n## Failures and warnings\n")
        L.extend(f"- {n}" for n in notes)
    with open(a.out, "w") as f:
        f.write("\n".join(L) + "\n")


if __name__ == "__main__":
    main()
