"""What the methods and loo return: MethodResult (the rows of optimize, laplace, pathfinder,
variational and smc), Loo and loo_compare; and Fit.summary's options."""

from __future__ import annotations

import os
import sys
import warnings
from typing import Mapping

import numpy as np

from . import _exmc
from ._data import _group_flat_names

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _warn(message: str, category=RuntimeWarning) -> None:
    """warnings.warn attributed to the user's call: the first frame outside this package.

    A fixed stacklevel pointed into _fit.py whenever the call came through another of its
    functions (Model.sample -> BoundModel.sample, optimize -> MethodResult). Python 3.12's
    skip_file_prefixes does this; the frames are walked by hand for 3.11."""
    level, frame = 2, sys._getframe(1)  # level 2: _warn's caller
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == _PACKAGE_DIR:
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def _summary_options(df, values, percentiles, sig_figs):
    """Fit.summary's percentiles and sig_figs on its table `df`; `values` (chain, draw, row of
    df) are the draws of df's rows in order (lp__ first)."""
    if percentiles is not None:
        ps = [percentiles] if np.isscalar(percentiles) else list(percentiles)
        for p in ps:
            if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) or not 0 <= p <= 100:
                raise ValueError(f"percentiles: {p!r} is not a number from 0 to 100")
        flat = values.reshape(-1, values.shape[2])
        at = df.columns.get_loc("q95") + 1
        for p in ps:
            name = f"q{float(p):g}"
            if name in df.columns:
                continue
            # R's type 7 (numpy's default "linear"); NaN where a draw is NaN, as posterior's NA.
            q = np.quantile(flat, float(p) / 100, axis=0)
            df.insert(at, name, q)
            at += 1
    if sig_figs is not None:
        if isinstance(sig_figs, bool) or not isinstance(sig_figs, (int, np.integer)) or not 1 <= sig_figs <= 18:
            raise ValueError(f"sig_figs: {sig_figs!r} is not a whole number from 1 to 18")
        def round_sig(x):
            x = np.asarray(x, dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                mag = np.where(np.isfinite(x) & (x != 0), np.floor(np.log10(np.abs(x))), 0)
            out = np.empty_like(x)
            for i, (v, m) in enumerate(zip(x, mag)):
                out[i] = round(v, int(sig_figs - 1 - m)) if np.isfinite(v) and v != 0 else v
            return out
        df = df.apply(round_sig)
    return df


def loo_compare(loos: Mapping[str, "Loo"]):
    """loo::loo_compare: a pandas DataFrame indexed by model, best first, with elpd_diff and
    se_diff (from the pointwise differences to the best model), elpd_loo, se_elpd_loo, p_loo
    and looic. `loos` maps a name to what Fit.loo() returned, all on the same observations."""
    # A list, or fits instead of their loo(), were an AttributeError ('list' object has no
    # attribute 'keys') or a KeyError ('no variable 0': dict() of a Fit indexes it by number).
    if not isinstance(loos, Mapping):
        raise TypeError(f"loos: expected a dict {{name: fit.loo()}}, got {type(loos).__name__}")
    needed = ("elpd_loo", "se_elpd_loo", "p_loo", "se_p_loo", "looic", "se_looic", "pointwise_elpd_loo")
    for name, v in loos.items():
        if type(v).__name__ == "Fit":  # not imported: _fit imports this module
            raise TypeError(f"loos[{name!r}]: an exmc.Fit; pass its fit.loo()")
        if not isinstance(v, Mapping):
            raise TypeError(f"loos[{name!r}]: expected what Fit.loo() returns, got {type(v).__name__}")
        missing = [k for k in needed if k not in v]
        if missing:
            raise ValueError(f"loos[{name!r}]: not a Fit.loo() result (no {', '.join(missing)})")
    import pandas as pd

    rows = _exmc.loo_compare([str(k) for k in loos.keys()], [dict(v) for v in loos.values()])
    return pd.DataFrame(rows).set_index("model")


class Loo(dict):
    """PSIS-LOO estimates (elpd_loo, p_loo, looic and their SEs) and pointwise arrays."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __str__(self):
        return self["text"]

    def __repr__(self):
        return (f"Loo(elpd_loo={self['elpd_loo']:.2f} (se {self['se_elpd_loo']:.2f}), "
                f"p_loo={self['p_loo']:.2f}, looic={self['looic']:.2f})")


class MethodResult:
    """Rows of optimize / laplace / pathfinder / variational / smc: CmdStan's columns."""

    def __init__(self, res: dict):
        self.method = str(res.get("method", ""))
        self.columns = list(res["columns"])
        self.values = res["values"]  # (row, column)
        self.num_method_columns = int(res["num_method_columns"])
        self.notes = list(res["notes"])
        self.warnings = list(res["warnings"])
        self.grad_evals = int(res["grad_evals"])
        extra = dict(res.get("extra", {}))
        self._extra = {str(k): str(v) for k, v in extra.items()}
        # smc's evidence, as its CSV header carries it; None for the other methods.
        lml, se = extra.get("exmc_log_marginal_likelihood"), extra.get("exmc_log_marginal_likelihood_se")
        self.log_marginal_likelihood = None if lml is None else float(lml)
        self.log_marginal_likelihood_se = None if se is None else float(se)
        self.seconds = float(res["seconds"])
        self._groups = _group_flat_names(self.columns)
        for w in self.warnings:
            _warn(w)

    def __repr__(self):
        # "exmc.MethodResult(1 rows, 35 columns)" did not say which method gave it.
        n = self.values.shape[0]
        what = " draws" if self.method in ("laplace", "pathfinder", "variational") else " particles" if \
            self.method == "smc" else ""
        if self.method == "variational":
            n, what = n - 1, " draws and the mean"
        return (f"exmc.MethodResult({self.method or 'method'}: {n}{what or (' row' if n == 1 else ' rows')}, "
                f"{len(self.columns)} columns)")

    # cmdstanpy's names on its CmdStanMLE / CmdStanVB / CmdStanLaplace / CmdStanPathfinder: a hint
    # of exmc's instead of a bare "'MethodResult' object has no attribute 'optimized_params_dict'".
    _OTHER_NAMES = {
        "optimized_params_dict": "result.stan_variable(name) is optimize's mode in the variable's shape; "
                                 "result.table.iloc[0] the row by flat name",
        "optimized_params_pd": "result.table", "optimized_params_np": "result.values[0]",
        "variational_params_dict": "result.draws(name, mean=True) is the approximation's mean",
        "variational_params_pd": "result.table.iloc[[0]] (variational's first row is the mean)",
        "variational_sample": "result.stan_variables() (the draws, without the mean row)",
        "draws_pd": "result.table", "column_names": "result.columns", "stan_variables_dict": "result.stan_variables()",
        "method_variables": "result.draws('lp__') (and the table's other columns ending in __)",
    }

    def __getattr__(self, name):
        hint = MethodResult._OTHER_NAMES.get(name)
        raise AttributeError(f"'MethodResult' object has no attribute {name!r}" + (f": {hint}" if hint else ""))

    @property
    def table(self):
        import pandas as pd

        return pd.DataFrame(self.values, columns=self.columns)

    def draws(self, name: str, mean: bool = False) -> np.ndarray:
        """(row, *dims) for a variable (or a method column such as lp__).

        variational's first row is the approximation's mean, not a draw (the command's file, as
        CmdStan's, and .table keep it): its draws are the rows after it, and mean=True gives the
        mean, (*dims). Only variational has a mean row."""
        if name not in self._groups:
            raise KeyError(f"no variable {name!r}; the {self.method or 'method'} result has "
                           f"{', '.join(self._groups)}")
        if mean and self.method != "variational":
            raise ValueError(f"mean=True: only variational's result has a mean row, not {self.method}'s")
        shape, items = self._groups[name]
        # np.mean of draws that held the mean row was pulled toward it, and their sd shrunk.
        rows = self.values[:1] if mean else self.values[1:] if self.method == "variational" else self.values
        out = np.empty((rows.shape[0],) + shape)
        for col, ix in items:
            out[(slice(None),) + ix] = rows[:, col]
        return out[0] if mean else out

    def stan_variables(self, mean: bool = False) -> dict:
        """{name: draws(name, mean)} for every parameter, transformed parameter and generated quantity."""
        return {n: self.draws(n, mean) for n in self._groups if not n.endswith("__")}

    def stan_variable(self, name: str, mean: bool = False) -> np.ndarray:
        """cmdstanpy's stan_variable: optimize's mode in the variable's own shape (*dims; a float
        for a scalar), as CmdStanMLE's; for the other methods draws(name, mean), (row, *dims)."""
        out = self.draws(name, mean)
        if self.method == "optimize":
            out = out[0]
        return float(out) if out.ndim == 0 else out

    def diagnose(self) -> str:
        """`exmc diagnose` of this method's file: for laplace, variational and pathfinder the
        approximation's Pareto k; for smc the particles (copies of a few points?) and their scale.
        Raises ValueError for optimize (one point) and generate_quantities (another fit's draws)."""
        if self.method in ("optimize", "generate_quantities"):
            what = "one point (the mode)" if self.method == "optimize" else "the draws of another fit"
            raise ValueError(f"diagnose: {self.method} gives {what}, nothing to diagnose; diagnose checks "
                             "the draws of laplace, variational, pathfinder and smc (and sample's Fit)")
        return _exmc.diagnose_method(self.method, self.columns, self.values, self._extra)
