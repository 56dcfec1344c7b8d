"""Fit: the draws of a NUTS run (exmc's BoundModel.sample returns one), as numpy arrays in their
natural shapes, pandas tables and InferenceData."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import _exmc
from ._data import _column_major_view, _layout
from ._results import Loo, _summary_options, _warn

if TYPE_CHECKING:
    from ._fit import BoundModel


class Fit:
    """Draws of a NUTS run, held in one (chain, draw, column) buffer that the sampler wrote.

    draws(name) / fit[name] are views shaped (chain, draw, *dims); nothing is copied.
    """

    def __init__(self, res: dict, settings: dict, bound: "BoundModel | None" = None):
        counts = list(res["counts"])
        self.interrupted = bool(res["interrupted"])
        # With fewer threads than chains the chains run in turns: Ctrl-C found the later ones
        # without a draw, and keeping the draws every chain has kept none of the earlier
        # chains' (2 chains x 180,000 draws became 4 chains x 0). Those chains are left out.
        kept = [c for c, k in enumerate(counts) if k > 0] if self.interrupted and any(counts) else []
        self.dropped_chains = [c for c in range(len(counts)) if kept and c not in kept]
        # Chains stopped by Ctrl-C can differ in length: keep the draws every chain has.
        n = min(counts[c] for c in kept) if kept else (min(counts) if counts else 0)
        nw = min(res["warmup_counts"][c] for c in kept) if kept else (min(res["warmup_counts"]) if counts else 0)

        def rows(a, m):
            return a[:, :m][kept] if self.dropped_chains else a[:, :m]

        self._values = rows(res["values"], n)
        self._stats = rows(res["stats"], n)
        self._warmup_values = rows(res["warmup_values"], nw)
        self._warmup_stats = rows(res["warmup_stats"], nw)
        self._read_only()
        self.names = list(res["names"])
        self.stat_names = list(res["stat_names"])
        self.fixed_param = bool(res.get("fixed_param", False))
        self._vars = [(v, tuple(s)) for v, s in res["vars"]]
        self._gq_vars = [(v, tuple(s)) for v, s in res["gq_vars"]]
        self._layout = _layout(self._vars + self._gq_vars)
        if sum(int(np.prod(s)) if s else 1 for _, s in self._vars + self._gq_vars) != len(self.names):
            raise RuntimeError("internal: variable shapes do not add up to the columns")
        self.seed = int(res["seed"])
        self.chains = int(self._values.shape[0])
        self.num_draws = int(n)
        self.num_warmup_draws = int(nw)
        self.settings = settings
        self.notes = list(res["notes"])
        self.warnings = list(res["warnings"])
        self.divergences = int(res["divergences"])
        self.grad_evals = int(res["grad_evals"])
        self.wall_seconds = float(res["wall_seconds"])
        self.compile_ms = float(res["compile_ms"])
        self.model = bound

    def _read_only(self):
        # fit[name] is a view of the one buffer: `th = fit["theta"]; th -= th.mean()` changed the
        # fit itself, and its summary() after, without a word. numpy now refuses the write
        # ("assignment destination is read-only"); fit[name].copy() is the user's own.
        for a in (self._values, self._stats, self._warmup_values, self._warmup_stats):
            a.flags.writeable = False

    def __setstate__(self, state):
        self.__dict__.update(state)  # a pickle's arrays come back writeable
        self._read_only()

    def __repr__(self):
        state = ", interrupted" if self.interrupted else ""
        return f"exmc.Fit({self.chains} chains x {self.num_draws} draws, seed {self.seed}{state})"

    @property
    def variables(self) -> list:
        """Parameters, transformed parameters, then generated quantities."""
        return [v for v, _ in self._vars + self._gq_vars]

    @property
    def parameter_variables(self) -> list:
        return [v for v, _ in self._vars]

    @property
    def generated_quantities_variables(self) -> list:
        return [v for v, _ in self._gq_vars]

    def _check_warmup(self, warmup) -> bool:
        # Without save_warmup the warmup arrays are empty: draws("mu", warmup=True) gave a
        # (chains, 0) array as if warmup had kept nothing (cmdstanpy warns; this says what to do).
        if warmup and not self.settings.get("save_warmup", True):
            raise ValueError("warmup=True: this fit kept no warmup draws; sample(..., save_warmup=True) keeps them")
        return bool(warmup)

    def draws_array(self, warmup: bool = False) -> np.ndarray:
        """Every value column as (chain, draw, column), in the order of .names."""
        return self._warmup_values if self._check_warmup(warmup) else self._values

    def draws(self, name: str, warmup: bool = False) -> np.ndarray:
        """A variable's draws, (chain, draw, *dims) in Stan's index order (fit["Sigma"][c, d, i, j]
        is Sigma[i+1, j+1]): a view of the fit's buffer. warmup=True: the warmup draws instead
        (needs sample(..., save_warmup=True))."""
        try:
            start, shape = self._layout[name]
        except KeyError:
            where = (f"; {name!r} is a sampler statistic: fit.sampler_stats()[{name!r}]"
                     if name in self.stat_names else "")
            raise KeyError(f"no variable {name!r}{where}; the fit has {', '.join(self._layout)}") from None
        size = int(np.prod(shape)) if shape else 1
        src = self._warmup_values if self._check_warmup(warmup) else self._values
        return _column_major_view(src[:, :, start:start + size], shape)

    __getitem__ = draws

    def __contains__(self, name) -> bool:
        return name in self._layout

    def __iter__(self):
        # The variables' names, as a dict's keys: with only __getitem__, iter(fit) asked for
        # fit[0], fit[1], ... and list(fit) raised KeyError("no variable 0").
        return iter(self.variables)

    def stan_variables(self, warmup: bool = False) -> dict:
        """{name: draws(name)} for every parameter, transformed parameter and generated quantity."""
        self._check_warmup(warmup)
        return {name: self.draws(name, warmup) for name in self._layout}

    def sampler_stats(self, warmup: bool = False) -> dict:
        """{lp__, accept_stat__, stepsize__, ...: (chain, draw)}, the sampler's columns of each draw."""
        src = self._warmup_stats if self._check_warmup(warmup) else self._stats
        return {name: src[:, :, k] for k, name in enumerate(self.stat_names)}

    def draws_pd(self, vars=None, inc_warmup: bool = False):
        """The draws as one pandas.DataFrame, a row per draw (chain 1's first), as cmdstanpy's
        draws_pd: chain__, iter__ and draw__ (from 1), the sampler statistics (lp__, ...), then
        every variable's values under exmc's flat names (fit.names: "theta.1", "Sigma.2.1",
        column-major, as summary()'s index and the command's CSV; cmdstanpy writes "theta[1]").

        vars: a name or a list of names (variables or sampler statistics) to keep only those
        columns after chain__, iter__ and draw__. inc_warmup: the warmup draws first (needs
        sample(..., save_warmup=True)); iter__ counts them."""
        import pandas as pd

        warmup = self._check_warmup(inc_warmup)
        names = None if vars is None else [vars] if isinstance(vars, str) else list(vars)
        for n in names or []:
            if n not in self._layout and n not in self.stat_names:
                raise KeyError(f"vars: no variable {n!r}; the fit has {', '.join(self.stat_names + self.variables)}")
        parts = [(self._warmup_stats, self._warmup_values)] if warmup else []
        parts.append((self._stats, self._values))
        stats = np.concatenate([p[0] for p in parts], axis=1)
        values = np.concatenate([p[1] for p in parts], axis=1)
        chains, n = values.shape[:2]
        cols = {"chain__": np.repeat(np.arange(1, chains + 1), n), "iter__": np.tile(np.arange(1, n + 1), chains),
                "draw__": np.arange(1, chains * n + 1)}
        for k, s in enumerate(self.stat_names):
            if names is None or s in names:
                cols[s] = stats[:, :, k].reshape(-1)
        for v, (start, shape) in self._layout.items():
            if names is not None and v not in names:
                continue
            for k in range(int(np.prod(shape)) if shape else 1):
                # exmc's flat names, as summary()'s index and the CSV's columns (cmdstanpy's "theta[1]").
                cols[self.names[start + k]] = values[:, :, start + k].reshape(-1)
        return pd.DataFrame(cols)

    # cmdstanpy's and PyMC's names for what a Fit has under another name: without a hint a user
    # porting code got only "'Fit' object has no attribute 'stan_variable'". They are hints, not
    # aliases, where the shapes differ (cmdstanpy's stan_variable joins the chains).
    _OTHER_NAMES = {
        "stan_variable": "fit[name] (or fit.draws(name)) gives (chain, draw, ...); cmdstanpy's stan_variable joins "
                         "the chains: fit[name].reshape(-1, *fit[name].shape[2:])",
        "method_variables": "fit.sampler_stats() gives {name: (chain, draw)} (cmdstanpy's method_variables is "
                            "(draw, chain))",
        "draws_xr": "fit.to_inference_data().posterior is the xarray Dataset",
        "posterior": "fit.to_inference_data().posterior (ArviZ's groups)",
        "sample_stats": "fit.to_inference_data().sample_stats (ArviZ's groups)",
        "column_names": "fit.stat_names + fit.names",
        "num_draws_sampling": "fit.num_draws",
        "step_size": "fit.sampler_stats()['stepsize__'][:, 0]",
    }

    def __getattr__(self, name):
        # Only for names not found the usual way; never for the private state (pickle's copies
        # look up attributes before __setstate__).
        hint = Fit._OTHER_NAMES.get(name)
        if hint is None:
            raise AttributeError(f"'Fit' object has no attribute {name!r}")
        raise AttributeError(f"'Fit' object has no attribute {name!r}: {hint}")

    def summary(self, percentiles=None, sig_figs: int | None = None):
        """pandas.DataFrame of `exmc summary`'s columns (lp__ first), indexed by variable.

        percentiles: more quantiles as columns after q95 (e.g. (2.5, 50, 97.5) gives q2.5,
        q50, q97.5; R's type 7, posterior's quantile2); sig_figs: values rounded to that many
        significant digits (cmdstanpy's arguments)."""
        import pandas as pd

        cols = _exmc.summarise(self._stats, self.stat_names, self._values, self.names,
                               fixed_param=self.fixed_param)
        variable = cols.pop("variable")
        df = pd.DataFrame(cols, index=pd.Index(variable, name="variable"))
        if percentiles is None:
            return _summary_options(df, None, None, sig_figs)
        # The rows' draws by name: lp__ leads the table except for fixed_param fits.
        column = {name: k for k, name in enumerate(self.names)}
        rows = [self._stats[:, :, self.stat_names.index("lp__")] if v == "lp__" else self._values[:, :, column[v]]
                for v in df.index]
        return _summary_options(df, np.stack(rows, axis=2), percentiles, sig_figs)

    def summary_text(self, format: str = "table") -> str:
        """`exmc summary`'s output (table, csv or json) for these draws."""
        return _exmc.summary_text(self._stats, self.stat_names, self._values, self.names, format,
                                  self.settings.get("max_depth", 10), fixed_param=self.fixed_param)

    def diagnose(self) -> str:
        """What `exmc diagnose` prints for these draws: divergences, tree depth, E-BFMI, R-hat, ESS."""
        return _exmc.diagnose(self._stats, self.stat_names, self._values, self.names,
                              self.settings.get("max_depth", 10), fixed_param=self.fixed_param)

    def loo(self, log_lik: str = "log_lik") -> Loo:
        """PSIS-LOO from the pointwise log-likelihood `log_lik` (a generated quantity holding
        log p(y[n] | parameters) for each observation n), as `exmc loo`."""
        if self.num_draws == 0:  # before the name: a draws=0 fit has nothing to look up
            raise ValueError(f"loo: no draws ({self.chains} chains x 0 draws)")
        if not isinstance(log_lik, str):
            raise TypeError(f"log_lik: expected a variable name, got {type(log_lik).__name__}")
        if log_lik not in self._layout:
            # It was a bare KeyError: 'log_lik'.
            raise ValueError(f"log_lik: the fit has no variable {log_lik!r} (it has {', '.join(self._layout) or 'none'}): "
                             "loo needs the pointwise log-likelihood, log p(y[n] | parameters) for each "
                             "observation n, saved in generated quantities")
        start, shape = self._layout[log_lik]
        size = int(np.prod(shape)) if shape else 1
        # Flat (column-major) order: the observations in the order `exmc loo` reads them.
        out = Loo(_exmc.loo(self._values[:, :, start:start + size]))
        # Any quantity gives numbers: say when these look unlike log p(y[n] | parameters) per
        # observation, as `exmc loo` does (fit.loo("mu") returned its numbers without a word).
        if size == 1:
            _warn(f"loo: {log_lik!r} is one number per draw: LOO leaves out one observation at a time and "
                  f"needs the log-likelihood of each ({log_lik}[1], ..., {log_lik}[N]); with one there is "
                  "no standard error")
        if out["p_loo"] > size:
            _warn(f"loo: p_loo ({out['p_loo']:.1f}) exceeds the number of observations ({size}): {log_lik!r} "
                  "looks unlike a pointwise log-likelihood (log p(y[n] | parameters) per observation n), or "
                  "the model is badly misspecified")
        return out

    # ------------------------------------------------------------------ InferenceData
    def to_inference_data(self, log_likelihood="log_lik", posterior_predictive=None, observed_data=None,
                          constant_data=None, dims=None, coords=None):
        """ArviZ-layout InferenceData (exmc.inference_data): posterior, sample_stats,
        log_likelihood (the variable(s) named), posterior_predictive (names, or True for every
        "*_rep"), observed_data / constant_data (default: the data dict, as constant_data)."""
        from .inference_data import to_inference_data

        def names(arg, rep=False):
            if arg is None:
                return []
            if arg is True and rep:
                return [v for v in self.variables if v.endswith("_rep")]
            return [arg] if isinstance(arg, str) else list(arg)

        # As from_cmdstan_csv: only the default "log_lik" may be absent. Another name that the fit
        # lacks was dropped without a word, leaving the log_likelihood group out.
        missing = [n for n in names(log_likelihood) if n not in self._layout]
        if missing and log_likelihood != "log_lik":
            raise KeyError(f"log_likelihood: no variable {', '.join(map(repr, missing))}; the fit has "
                           f"{', '.join(self._layout)}")
        ll = [n for n in names(log_likelihood) if n in self._layout]
        pp = names(posterior_predictive, rep=True)
        rest = [v for v in self.variables if v not in ll and v not in pp]
        if constant_data is None and observed_data is None and self.model is not None and self.model.data:
            constant_data = {k: np.asarray(v) for k, v in self.model.data.items()}

        def group(vs, warmup=False):
            return {v: self.draws(v, warmup) for v in vs} if vs else None

        kw = {}
        if self.num_warmup_draws:
            kw = dict(warmup_posterior=group(rest, True), warmup_sample_stats=self.sampler_stats(True),
                      warmup_log_likelihood=group(ll, True), warmup_posterior_predictive=group(pp, True))
        return to_inference_data(posterior=group(rest), sample_stats=self.sampler_stats(),
                                 log_likelihood=group(ll), posterior_predictive=group(pp),
                                 observed_data=observed_data, constant_data=constant_data, dims=dims,
                                 coords=coords, attrs={"seed": self.seed}, **kw)

    to_xarray = to_inference_data

    def to_netcdf(self, path, **kwargs) -> str:
        return self.to_inference_data(**kwargs).to_netcdf(path)
