"""Diagnostic plots with matplotlib (safe under the Agg backend); numpy only.

Every function takes an `InferenceData` (from `exmc.inference_data`) or a plain dict
{name: array (chain, draw, *dims)} for the posterior, and returns the matplotlib Figure.
Multi-dimensional variables are split into scalar components labelled name[i, j]
(0-based coordinate values, as ArviZ labels them).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

__all__ = [
    "plot_trace",
    "plot_rank",
    "plot_pair",
    "plot_forest",
    "plot_energy",
    "plot_autocorr",
    "plot_ppc",
    "rank_normalize",
    "autocorr",
    "bfmi",
    "PLOT_KINDS",
]


def _plt():
    # no backend is forced: without a display matplotlib picks Agg itself, and a
    # notebook keeps its inline backend
    import matplotlib.pyplot as plt

    return plt


# ---------------------------------------------------------------- data access
def _group(idata, name):
    if idata is None:
        return None
    if isinstance(idata, Mapping):
        return idata if name == "posterior" else None
    if hasattr(idata, "groups") and name in idata.groups():
        return idata[name]
    return None


def _as_arrays(group) -> dict:
    """{name: (values (chain, draw, *dims), [coordinate value arrays])}."""
    out = {}
    if group is None:
        return out
    if isinstance(group, Mapping):
        for name, v in group.items():
            arr = np.asarray(v)
            if arr.ndim < 2:
                raise ValueError(f"{name}: shape {arr.shape} has no (chain, draw) dimensions")
            out[name] = (arr, [np.arange(s) for s in arr.shape[2:]])
        return out
    for name, da in group.data_vars.items():
        coords = [np.asarray(da.coords[d].values) if d in da.coords else np.arange(da.sizes[d])
                  for d in da.dims[2:]]
        out[name] = (np.asarray(da.values), coords)
    return out


def _components(idata, var_names=None, group="posterior") -> list:
    """[(label, values (chain, draw))] for every scalar component of the variables."""
    arrays = _as_arrays(_group(idata, group))
    if not arrays:
        raise ValueError(f"no {group} draws to plot")
    if isinstance(var_names, str):
        var_names = [var_names]
    if var_names is None:
        var_names = list(arrays)
    missing = [v for v in var_names if v not in arrays]
    if missing:
        raise KeyError(f"no variable {', '.join(map(repr, missing))} in {group} "
                       f"(variables: {', '.join(arrays)})")
    comps = []
    for name in var_names:
        arr, coords = arrays[name]
        arr = arr.astype(float)
        if arr.ndim == 2:
            comps.append((name, arr))
            continue
        for idx in np.ndindex(*arr.shape[2:]):
            label = ", ".join(str(c[i]) for c, i in zip(coords, idx))
            comps.append((f"{name}[{label}]", arr[(slice(None), slice(None)) + idx]))
    return comps


def _diverging(idata, shape):
    stats = _group(idata, "sample_stats")
    if stats is None or "diverging" not in stats:
        return None
    d = np.asarray(stats["diverging"].values).astype(bool)
    return d if d.shape == tuple(shape) else None


def _figure(nrows, ncols, figsize, default_cell=(3.2, 2.0), squeeze=False, **kw):
    plt = _plt()
    if figsize is None:
        figsize = (min(4 + default_cell[0] * ncols, 16), min(1 + default_cell[1] * nrows, 40))
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=squeeze, **kw)
    return fig, axes


def _colors(n):
    plt = _plt()
    cycle = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    return [cycle[i % len(cycle)] for i in range(n)]


# ---------------------------------------------------------------- numerics
def _kde(x, grid_size=256):
    """Gaussian KDE (Silverman's bandwidth) on a grid spanning the data; numpy only."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return np.array([0.0]), np.array([0.0])
    sd = x.std()
    iqr = np.subtract(*np.percentile(x, [75, 25]))
    scale = min(sd, iqr / 1.349) if iqr > 0 else sd
    if scale <= 0:
        return np.array([x[0]]), np.array([1.0])
    bw = 0.9 * scale * x.size ** (-0.2)
    grid = np.linspace(x.min() - 3 * bw, x.max() + 3 * bw, grid_size)
    # bin then convolve: O(n + grid) instead of O(n * grid)
    counts, edges = np.histogram(x, bins=grid_size, range=(grid[0], grid[-1]))
    step = edges[1] - edges[0]
    half = int(np.ceil(4 * bw / step))
    kern = np.exp(-0.5 * (np.arange(-half, half + 1) * step / bw) ** 2)
    dens = np.convolve(counts, kern, mode="same")
    centres = 0.5 * (edges[:-1] + edges[1:])
    area = dens.sum() * step
    return centres, dens / area if area > 0 else dens


def rank_normalize(values: np.ndarray) -> np.ndarray:
    """Ranks (1..N) of all draws pooled over chains, ties averaged; same shape."""
    v = np.asarray(values, dtype=float)
    flat = v.ravel()
    order = np.argsort(flat, kind="mergesort")
    ranks = np.empty(flat.size, dtype=float)
    ranks[order] = np.arange(1, flat.size + 1, dtype=float)
    _, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True)
    if np.any(counts > 1):  # average the ranks of ties
        sums = np.bincount(inverse, weights=ranks)
        ranks = sums[inverse] / counts[inverse]
    return ranks.reshape(v.shape)


def autocorr(x: np.ndarray) -> np.ndarray:
    """Autocorrelation of a 1-D series at lags 0..n-1 (FFT, biased estimator)."""
    x = np.asarray(x, dtype=float)
    n = x.size
    x = x - x.mean()
    size = 1 << int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(x, size)
    acov = np.fft.irfft(f * np.conj(f), size)[:n]
    return acov / acov[0] if acov[0] > 0 else np.zeros(n)


def bfmi(energy: np.ndarray) -> np.ndarray:
    """E-BFMI per chain: mean squared energy change over the energy's variance."""
    e = np.atleast_2d(np.asarray(energy, dtype=float))
    num = np.mean(np.diff(e, axis=1) ** 2, axis=1)
    den = np.var(e, axis=1)
    return num / den


# ---------------------------------------------------------------- plots
def plot_trace(idata, var_names=None, figsize=None, divergences=True):
    """Per scalar component: the marginal density per chain (left), the trace (right).
    Divergent transitions are marked as ticks under the trace.  Axes: 2 per component."""
    comps = _components(idata, var_names)
    fig, axes = _figure(len(comps), 2, figsize, default_cell=(4.0, 1.8),
                        gridspec_kw={"width_ratios": [1, 2]})
    nchain = comps[0][1].shape[0]
    colors = _colors(nchain)
    div = _diverging(idata, comps[0][1].shape) if divergences else None
    for row, (label, vals) in enumerate(comps):
        axd, axt = axes[row]
        for c in range(nchain):
            xs, ys = _kde(vals[c])
            axd.plot(xs, ys, color=colors[c], lw=1)
            axt.plot(np.arange(vals.shape[1]), vals[c], color=colors[c], lw=0.6, alpha=0.8)
        axd.set_title(label, fontsize=9)
        axd.set_yticks([])
        axt.set_title(label, fontsize=9)
        if div is not None and div.any():
            _, draws = np.nonzero(div)
            lo = np.nanmin(vals)
            axt.plot(draws, np.full(draws.size, lo), "|", color="red", ms=10, mew=1.2,
                     label="divergent")
    axes[-1, 1].set_xlabel("draw")
    fig.tight_layout()
    return fig


def plot_rank(idata, var_names=None, bins=None, figsize=None, ax=None):
    """Rank plots: the draws' ranks pooled over chains (rank normalisation), one
    histogram per chain stacked vertically, with the uniform expectation as a dashed
    line.  Chains that mix well give flat histograms.  Axes: 1 per component
    (`ax` may be given when there is exactly one component)."""
    comps = _components(idata, var_names)
    if ax is not None:
        if len(comps) != 1:
            raise ValueError(f"ax given but {len(comps)} components to plot")
        fig, axes = ax.figure, np.array([ax])
    else:
        ncols = min(len(comps), 3)
        nrows = int(np.ceil(len(comps) / ncols))
        fig, axes2 = _figure(nrows, ncols, figsize, default_cell=(3.6, 2.6))
        axes = axes2.ravel()
        for extra in axes[len(comps):]:
            fig.delaxes(extra)
        axes = axes[:len(comps)]
    for axr, (label, vals) in zip(axes, comps):
        nchain, ndraw = vals.shape
        ranks = rank_normalize(vals)
        total = ranks.size
        nb = bins or int(max(5, min(50, ndraw // 10 or 1)))
        edges = np.linspace(0.5, total + 0.5, nb + 1)
        counts = np.array([np.histogram(ranks[c], bins=edges)[0] for c in range(nchain)])
        expected = ndraw / nb
        scale = 0.9 / max(counts.max(), 1)  # the tallest bar fills 0.9 of a chain's row
        colors = _colors(nchain)
        for c in range(nchain):
            axr.bar(edges[:-1], counts[c] * scale, width=np.diff(edges), bottom=c,
                    align="edge", color=colors[c], edgecolor="white", lw=0.3)
            axr.axhline(c + expected * scale, color="k", ls="--", lw=0.7)
        axr.set_yticks(np.arange(nchain) + 0.45, [str(c) for c in range(nchain)])
        axr.set_ylabel("chain")
        axr.set_xlabel("rank (all chains)")
        axr.set_title(label, fontsize=9)
    fig.tight_layout()
    return fig


def plot_pair(idata, var_names=None, figsize=None, divergences=True, max_points=2000):
    """Scatter of every pair of scalar components (lower triangle) with histograms on
    the diagonal; divergent transitions in red.  Axes: k(k+1)/2 for k components."""
    comps = _components(idata, var_names)
    k = len(comps)
    if k < 2:
        raise ValueError("plot_pair needs at least two scalar components")
    fig, axes = _figure(k, k, figsize or (min(2.2 * k + 1, 16),) * 2, squeeze=False)
    shape = comps[0][1].shape
    div = _diverging(idata, shape) if divergences else None
    flat = [v.ravel() for _, v in comps]
    n = flat[0].size
    keep = np.arange(n)
    if n > max_points:
        keep = np.random.default_rng(0).choice(n, max_points, replace=False)
    dflat = div.ravel() if div is not None else np.zeros(n, bool)
    for i in range(k):
        for j in range(k):
            a = axes[i, j]
            if j > i:
                fig.delaxes(a)
                continue
            if i == j:
                a.hist(flat[i], bins=30, color="C0", alpha=0.7)
                a.set_yticks([])
            else:
                sel = keep[~dflat[keep]]
                a.plot(flat[j][sel], flat[i][sel], ".", ms=2, alpha=0.4, color="C0")
                if dflat.any():
                    a.plot(flat[j][dflat], flat[i][dflat], ".", ms=4, color="red",
                           label="divergent")
            if i == k - 1:
                a.set_xlabel(comps[j][0], fontsize=8)
            else:
                a.set_xticklabels([])
            if j == 0 and i > 0:
                a.set_ylabel(comps[i][0], fontsize=8)
    if dflat.any():
        fig.suptitle(f"{int(dflat.sum())} divergent transitions (red)", fontsize=9)
    fig.tight_layout()
    return fig


def plot_forest(idata, var_names=None, combined=True, intervals=(0.5, 0.94), ax=None,
                figsize=None):
    """Median with central intervals (thick: 50 %, thin: 94 %) per scalar component;
    per chain when combined=False.  One axes."""
    comps = _components(idata, var_names)
    plt = _plt()
    if ax is None:
        nrow = len(comps) * (1 if combined else comps[0][1].shape[0])
        fig, ax = plt.subplots(figsize=figsize or (6, max(2, 0.3 * nrow + 1)))
    else:
        fig = ax.figure
    inner, outer = sorted(intervals)
    yticks, ylabels = [], []
    nchain = comps[0][1].shape[0]
    colors = _colors(nchain)
    for row, (label, vals) in enumerate(comps):
        series = [vals.ravel()] if combined else list(vals)
        offsets = [0.0] if combined else np.linspace(0.3, -0.3, nchain)
        for c, (s, off) in enumerate(zip(series, offsets)):
            lo_o, lo_i, med, hi_i, hi_o = np.quantile(
                s, [(1 - outer) / 2, (1 - inner) / 2, 0.5, (1 + inner) / 2, (1 + outer) / 2])
            col = "C0" if combined else colors[c]
            y = -row + off
            ax.plot([lo_o, hi_o], [y, y], color=col, lw=1)
            ax.plot([lo_i, hi_i], [y, y], color=col, lw=3.5)
            ax.plot([med], [y], "o", color="white", mec=col, ms=5)
        yticks.append(-row)
        ylabels.append(label)
    ax.set_yticks(yticks, ylabels)
    ax.axvline(0, color="grey", lw=0.5, ls=":")
    ax.set_title(f"median, {int(inner * 100)}% and {int(outer * 100)}% intervals", fontsize=9)
    fig.tight_layout()
    return fig


def plot_energy(idata, ax=None, figsize=None):
    """The marginal energy distribution (centred) against the energy transitions'
    distribution, with E-BFMI per chain; a transition distribution much narrower than
    the marginal one means the sampler explores slowly.  One axes."""
    stats = _group(idata, "sample_stats")
    if stats is None or "energy" not in stats:
        raise ValueError("plot_energy needs sample_stats.energy (NUTS draws)")
    energy = np.asarray(stats["energy"].values, dtype=float)
    plt = _plt()
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize or (6, 4))
    else:
        fig = ax.figure
    centred = (energy - energy.mean(axis=1, keepdims=True)).ravel()
    trans = np.diff(energy, axis=1).ravel()
    for data, label, col in ((centred, "marginal energy", "C0"), (trans, "energy transition", "C1")):
        xs, ys = _kde(data)
        ax.fill_between(xs, ys, alpha=0.35, color=col, label=label)
        ax.plot(xs, ys, color=col, lw=1)
    values = bfmi(energy)
    for c, b in enumerate(values):
        ax.plot([], [], " ", label=f"chain {c}: E-BFMI {b:.2f}")
    ax.set_yticks([])
    ax.set_xlabel("energy - mean")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_autocorr(idata, var_names=None, max_lag=100, combined=False, figsize=None):
    """Autocorrelation by lag as bars, one axes per scalar component and chain (grid
    component x chain), or per component with chains averaged when combined=True."""
    comps = _components(idata, var_names)
    nchain = comps[0][1].shape[0]
    ncols = 1 if combined else nchain
    fig, axes = _figure(len(comps), ncols, figsize, default_cell=(3.0, 1.8), sharey=True)
    for row, (label, vals) in enumerate(comps):
        lags = min(max_lag, vals.shape[1] - 1)
        acs = np.array([autocorr(v)[:lags + 1] for v in vals])
        series = [acs.mean(axis=0)] if combined else list(acs)
        for c, ac in enumerate(series):
            a = axes[row, c]
            a.vlines(np.arange(ac.size), 0, ac, color="C0", lw=1)
            a.axhline(0, color="k", lw=0.5)
            a.set_ylim(-1, 1)
            a.set_title(label if combined else f"{label} (chain {c})", fontsize=8)
    for a in axes[-1]:
        a.set_xlabel("lag")
    fig.tight_layout()
    return fig


def plot_ppc(idata, observed_name, predictive_name=None, num_pp_samples=100, ax=None,
             figsize=None, seed=0):
    """Posterior predictive check: the density of the observed values (black) over the
    densities of `num_pp_samples` replicated data sets (blue) and their mean (orange
    dashed).  One axes.  predictive_name defaults to observed_name."""
    predictive_name = predictive_name or observed_name
    obs_group = _group(idata, "observed_data")
    pp_group = _group(idata, "posterior_predictive")
    if obs_group is None or observed_name not in obs_group:
        raise KeyError(f"no observed_data variable {observed_name!r}")
    if pp_group is None or predictive_name not in pp_group:
        raise KeyError(f"no posterior_predictive variable {predictive_name!r}")
    obs = np.asarray(obs_group[observed_name].values, dtype=float).ravel()
    pp = np.asarray(pp_group[predictive_name].values, dtype=float)
    pp = pp.reshape(pp.shape[0] * pp.shape[1], -1)
    if pp.shape[1] != obs.size:
        raise ValueError(f"{predictive_name} has {pp.shape[1]} values per draw, "
                         f"{observed_name} has {obs.size}")
    plt = _plt()
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize or (6, 4))
    else:
        fig = ax.figure
    rng = np.random.default_rng(seed)
    pick = rng.choice(pp.shape[0], min(num_pp_samples, pp.shape[0]), replace=False)
    for i, r in enumerate(pick):
        xs, ys = _kde(pp[r])
        ax.plot(xs, ys, color="C0", alpha=0.15, lw=0.8,
                label=f"{predictive_name} (posterior predictive)" if i == 0 else None)
    xs, ys = _kde(pp.ravel())
    ax.plot(xs, ys, color="C1", ls="--", lw=1.5, label="posterior predictive mean")
    xs, ys = _kde(obs)
    ax.plot(xs, ys, color="k", lw=2, label=f"{observed_name} (observed)")
    ax.set_yticks([])
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


PLOT_KINDS = {
    "trace": plot_trace,
    "rank": plot_rank,
    "pair": plot_pair,
    "forest": plot_forest,
    "energy": plot_energy,
    "autocorr": plot_autocorr,
}
