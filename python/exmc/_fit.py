"""The core Python API over the extension `exmc._exmc`: compile, bind, sample, Fit.

Heavy imports (pandas, tqdm, xarray) happen only in the methods that need them, so
`import exmc` costs numpy and the extension.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Mapping

import numpy as np

from . import _exmc
from ._arguments import _count, _flag, _flat_value, _init, _is_path, _method_init, _real, _seed, _text
from ._data import _column_major_view, _group_flat_names, _layout, to_stan_json
from ._progress import _in_notebook, _TqdmProgress
from ._results import Loo, MethodResult, _summary_options, _warn, loo_compare  # noqa: F401 (exported)

StanError = _exmc.StanError

__all__ = ["compile", "Model", "BoundModel", "Fit", "MethodResult", "Loo", "StanError", "to_stan_json"]



def compile(program_or_path, name: str | None = None) -> "Model":
    """A Stan program from its text (a string with a newline or a '{') or a .stan path.

    Parses and checks it now: errors raise exmc.StanError (a ValueError) whose message starts
    file:line:column, with .file, .line and .column attributes.
    """
    src = os.fspath(program_or_path) if isinstance(program_or_path, os.PathLike) else program_or_path
    if not isinstance(src, str):
        raise TypeError("compile: expected Stan program text or a path")
    if not src.strip():
        # It was read as a path: ": cannot read the Stan program (No such file or directory)".
        raise ValueError(f"compile: program_or_path is {'empty' if not src else 'only white space'} "
                         f"({src!r}): expected Stan program text or a path to a .stan file")
    if "\n" in src or "{" in src:
        text, path = src, None
        name = name or "model.stan"
    else:
        path = src
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise FileNotFoundError(f"{path}: cannot read the Stan program ({e.strerror})") from None
        name = name or path
    _exmc.check_program(text, name)
    return Model(text, name, path)


class Model:
    """A checked Stan program, not yet bound to data."""

    def __init__(self, code: str, name: str, path: str | None = None):
        self.code = code
        self.name = name
        self.path = path

    def __repr__(self):
        return f"exmc.Model({self.name!r})"

    def bind(self, data=None) -> "BoundModel":
        """The program with its data (a dict, a Stan JSON path, or None): lowered and ready."""
        data_dict, data_json = None, ""
        if data is None:
            program = (_exmc.Program.load(self.path, "") if self.path is not None
                       else _exmc.Program.from_source(self.code, self.name, ""))
        elif _is_path(data):
            data_path = os.fspath(data)
            with open(data_path, encoding="utf-8") as f:
                data_json = f.read()
            if self.path is not None:  # exactly what `exmc sample MODEL --data DATA` loads
                program = _exmc.Program.load(self.path, data_path)
            else:
                program = _exmc.Program.from_source(self.code, self.name, data_json)
            # Kept as a dict too (InferenceData's constant_data), as when a dict is given.
            data_dict = json.loads(data_json)
        elif isinstance(data, Mapping):
            data_dict = dict(data)
            data_json = to_stan_json(data_dict)
            program = _exmc.Program.from_source(self.code, self.name, data_json)
        else:
            raise TypeError("data: expected a dict, a path to a Stan JSON file, or None")
        return BoundModel(self, program, data_dict, data_json)

    def sample(self, data=None, **kwargs) -> "Fit":
        """NUTS: see BoundModel.sample."""
        return self.bind(data).sample(**kwargs)

    def optimize(self, data=None, **kwargs) -> "MethodResult":
        return self.bind(data).optimize(**kwargs)

    def laplace(self, data=None, **kwargs) -> "MethodResult":
        return self.bind(data).laplace(**kwargs)

    def pathfinder(self, data=None, **kwargs) -> "MethodResult":
        return self.bind(data).pathfinder(**kwargs)

    def variational(self, data=None, **kwargs) -> "MethodResult":
        return self.bind(data).variational(**kwargs)

    def smc(self, data=None, **kwargs) -> "MethodResult":
        return self.bind(data).smc(**kwargs)

    def diagnose(self, data=None, **kwargs):
        """`bind(data).diagnose(**kwargs)`: the gradient test (cmdstanpy's CmdStanModel.diagnose)."""
        return self.bind(data).diagnose(**kwargs)


class BoundModel:
    """A program bound to its data: the log density for your own algorithm, and the methods.

    log_density / log_density_gradient take an unconstrained point (length dim()); constrain
    maps it to the constrained values of the parameters and transformed parameters.
    """

    def __init__(self, model: Model, program, data: dict | None, data_json: str = ""):
        self.model = model
        self._program = program
        self.data = data
        self._data_json = data_json  # the Stan JSON text bound: what a pickle binds again
        self._density = None

    # The loaded program is C++ state that pickle cannot copy (a Fit, which keeps its BoundModel,
    # failed with "cannot pickle 'exmc._exmc.Program' object"): a pickle holds the Model and the
    # data's JSON text instead, and loading it binds them again, as cmdstanpy's pickled fits
    # keep their model by its files. The compiled density is compiled again on first use.
    def __getstate__(self):
        return {"model": self.model, "data": self.data, "data_json": self._data_json}

    def __setstate__(self, state):
        self.model, self.data, self._data_json = state["model"], state["data"], state["data_json"]
        self._program = _exmc.Program.from_source(self.model.code, self.model.name, self._data_json)
        self._density = None

    def __repr__(self):
        return f"exmc.BoundModel({self.model.name!r}, dim={self.dim()})"

    @property
    def density(self):
        if self._density is None:
            self._density = self._program.compile()
        return self._density

    def dim(self) -> int:
        return self.density.dim()

    def param_names(self) -> list:
        """Flat constrained names ("theta.1", "Sigma.2.1": column-major), what constrain() gives."""
        return self.density.flat_names()

    def param_unc_names(self) -> list:
        return self.density.unconstrained_names()

    def var_shapes(self) -> dict:
        return {n: tuple(s) for n, s in self.density.output_vars()}

    def log_density(self, x) -> float:
        return self.density.logp(np.asarray(x, dtype=np.float64))

    def log_density_gradient(self, x):
        """(log density, gradient ndarray) at the unconstrained point x."""
        return self.density.logp_grad(np.asarray(x, dtype=np.float64))

    def constrain(self, x) -> dict:
        flat = self.density.constrain(np.asarray(x, dtype=np.float64))
        out = {}
        for name, (start, shape) in _layout(self.density.output_vars()).items():
            size = int(np.prod(shape)) if shape else 1
            out[name] = _column_major_view(flat[start:start + size], shape).copy() if shape else float(flat[start])
        return out

    def unconstrain(self, values: Mapping) -> np.ndarray:
        """Constrained values by name (arrays in their natural shape) -> the unconstrained point.

        Errors name this argument, `values` (they spoke of "initial values", the sampler's)."""
        if not isinstance(values, Mapping):
            raise TypeError(f"values: expected a dict of constrained values by name, got {type(values).__name__}")
        shapes = self.var_shapes()
        return self.density.unconstrain([(str(k), _flat_value("values", k, v, shapes)) for k, v in values.items()])

    # ------------------------------------------------------------------ NUTS
    def sample(self, chains: int = 4, warmup: int = 1000, draws: int = 1000, seed=None, threads: int = 0,
               metric: str = "diag", adapt_delta: float = 0.8, max_depth: int = 10, init=None,
               thin: int = 1, save_warmup: bool = False, progress=None, precision: str = "f64",
               fixed_param: bool = False) -> "Fit":
        """NUTS chains, as `exmc sample` with the same settings (same seed: the same draws).

        fixed_param: CmdStan's fixed_param sampler: each chain stays at its initial values (init)
        and every draw evaluates the generated quantities there; no warmup. A program without
        parameters gets it whatever this says (fit.fixed_param tells which ran).

        progress: None shows progress only where someone watches (tqdm bars in a notebook, the
        command's per-chain display on a terminal), True forces it, False shows nothing.
        Ctrl-C stops the chains and returns the draws so far (fit.interrupted is True).
        """
        seed = _seed(seed)
        chains = _count("chains", chains, 1, 1024)  # the command's limits
        warmup, draws = _count("warmup", warmup, 0), _count("draws", draws, 0)
        thin, threads = _count("thin", thin, 1, 1000000), _count("threads", threads, 0)
        max_depth = _count("max_depth", max_depth, 1, 30)
        # Checked here: pybind11's "incompatible function arguments" listed the whole native
        # signature without naming the argument.
        adapt_delta, metric = _real("adapt_delta", adapt_delta), _text("metric", metric)
        # The sampler's own check said "sampler option delta (adapt_delta) must be in (0, 1), got 1.500000".
        if not 0 < adapt_delta < 1:
            raise ValueError(f"adapt_delta must be in (0, 1), got {adapt_delta!r}")
        precision = _text("precision", precision)
        save_warmup, fixed_param = _flag("save_warmup", save_warmup), _flag("fixed_param", fixed_param)
        init_text, init_values = _init(init, self.var_shapes() if isinstance(init, Mapping) else None)
        notebook = _in_notebook()
        interactive = notebook or (hasattr(sys.stderr, "isatty") and sys.stderr.isatty())
        show = interactive if progress is None else bool(progress)
        native, callback = False, None
        if show:
            if notebook or progress == "tqdm":
                callback = _TqdmProgress(chains, warmup + draws, notebook)
            else:
                native = True  # the C++ display also shows warmup, which the draws never reach
        res = _exmc.sample(self._program, chains, warmup, draws, seed, threads, metric, adapt_delta,
                           max_depth, init_text, init_values, thin, save_warmup, precision, native,
                           callback, fixed_param=bool(fixed_param))
        for w in res["warnings"]:
            _warn(w)
        if res["errors"] and not res["interrupted"]:
            lines = "\n".join(f"  chain {c + 1}: {msg}" for c, msg in res["errors"])
            raise RuntimeError("exmc sample: chains failed:\n" + lines)
        fit = Fit(res, dict(chains=chains, warmup=warmup, draws=draws, thin=thin, max_depth=max_depth,
                            metric=metric, adapt_delta=adapt_delta, save_warmup=save_warmup), self)
        if fit.interrupted:
            dropped = ""
            if fit.dropped_chains:
                names = ", ".join(str(c + 1) for c in fit.dropped_chains)
                dropped = (f"; chain{'s' if len(fit.dropped_chains) > 1 else ''} {names} left out, without draws yet "
                           f"(the chains run in turns when there are fewer threads than chains)")
            _warn(f"sampling interrupted: {fit.num_draws} of {-(-draws // thin)} draws per chain kept, "
                  f"{fit.chains} of {chains} chains{dropped}")
        if res["gq_failures"]:
            _warn(f"generated quantities failed in {res['gq_failures']} draws (NaN); the first: "
                  f"{res['first_gq_failure']}")
        if res["runaway"]:
            _warn("the draws run off toward the floating-point range, or adaptation collapsed ("
                  + "; ".join(res["runaway"]) + "): the posterior is probably improper (a parameter "
                  "without a proper prior that the data do not identify)")
        if res["stuck"]:
            _warn("a chain got stuck (" + "; ".join(res["stuck"]) + "): its step size is too large for "
                  "the region it stopped in, so its draws describe that point, not the posterior; try a "
                  "larger adapt_delta, a longer warmup or a non-centred parameterisation")
        return fit

    # ------------------------------------------------------------------ other methods
    def _method_init(self, init):
        return _method_init(init, self.var_shapes() if isinstance(init, Mapping) else None)

    def optimize(self, seed=None, init=None, jacobian: bool = False, algorithm: str = "lbfgs",
                 iter: int = 2000) -> "MethodResult":
        init_text, init_values = self._method_init(init)
        return MethodResult(_exmc.optimize(self._program, _seed(seed), init_text, _flag("jacobian", jacobian),
                                           _text("algorithm", algorithm), _count("iter", iter, 1, 100000000),
                                           init_values=init_values))

    def laplace(self, seed=None, init=None, jacobian: bool = True, draws: int = 1000,
                mode_file: str = "") -> "MethodResult":
        if not _is_path(mode_file):
            raise TypeError(f"mode_file: expected a path (or '' to optimize first), got {mode_file!r}")
        init_text, init_values = self._method_init(init)
        return MethodResult(_exmc.laplace(self._program, _seed(seed), init_text, _flag("jacobian", jacobian),
                                          _count("draws", draws, 1, 100000000), os.fspath(mode_file),
                                          init_values=init_values))

    def pathfinder(self, seed=None, init=None, num_paths: int = 4, draws: int = 1000,
                   psis_draws: int = 1000) -> "MethodResult":
        init_text, init_values = self._method_init(init)
        return MethodResult(_exmc.pathfinder(self._program, _seed(seed), init_text,
                                             _count("num_paths", num_paths, 1, 2**31 - 1),
                                             _count("draws", draws, 1, 2**31 - 1),
                                             _count("psis_draws", psis_draws, 1, 2**31 - 1),
                                             init_values=init_values))

    def diagnose(self, seed=None, init=None, epsilon: float = 1e-6, error: float = 1e-6):
        """CmdStan's diagnose method (`exmc diagnose MODEL.stan`): the gradient at one point against
        central finite differences, per unconstrained coordinate. A pandas DataFrame with
        cmdstanpy's columns (param_idx, value, model, finite_diff, error) and the coordinate's
        variable and whether it fails (|error| above `error` times max(1, |finite_diff|) plus the
        differences' own rounding); `.attrs["log_prob"]` is the log density there."""
        import pandas as pd

        init_text, init_values = self._method_init(init)
        r = _exmc.gradient_test(self._program, _seed(seed), init_text, init_values, _real("epsilon", epsilon),
                                _real("error", error))
        for w in r["warnings"]:
            _warn(w)
        df = pd.DataFrame({"param_idx": range(len(r["value"])), "value": r["value"], "model": r["model"],
                           "finite_diff": r["finite_diff"], "error": r["error"], "variable": r["variable"],
                           "fails": r["fails"]})
        df.attrs["log_prob"] = r["log_prob"]
        return df

    def generate_quantities(self, fit: "Fit", seed=None) -> dict:
        """This program's values at the draws of `fit` (CmdStan's standalone generate_quantities).

        fit: an exmc.Fit, of this program or of another one with the same parameters (e.g. before
        generated quantities were added). Each draw's parameters are taken as they are; the
        transformed parameters and generated quantities are this program's. Returns
        {name: array (chain, draw, *dims)} for every parameter, transformed parameter and
        generated quantity. fit's seed regenerates exactly what the fit's own quantities drew.
        """
        if not isinstance(fit, Fit):
            raise TypeError(f"fit: expected an exmc.Fit, got {type(fit).__name__}")
        if fit.num_draws == 0:
            raise ValueError("fit has no draws")
        columns = list(fit.stat_names) + list(fit.names)
        values = np.concatenate([np.asarray(fit._stats), np.asarray(fit._values)], axis=2)
        tables = [MethodResult(t) for t in _exmc.generate_quantities(self._program, _seed(seed), columns, values)]
        names = list(_group_flat_names(tables[0].columns[tables[0].num_method_columns:]))
        return {name: np.stack([t.draws(name) for t in tables]) for name in names}

    def variational(self, seed=None, init=None, algorithm: str = "meanfield", iter: int = 10000,
                    draws: int = 1000) -> "MethodResult":
        init_text, init_values = self._method_init(init)
        return MethodResult(_exmc.variational(self._program, _seed(seed), init_text,
                                              _text("algorithm", algorithm),
                                              _count("iter", iter, 1, 2**31 - 1), _count("draws", draws, 0),
                                              init_values=init_values))

    def smc(self, seed=None, particles: int = 2000, kernel: str = "imh", target_ess: float = 0.5,
            max_mutation_steps: int = 25, correlation_threshold: float = 0.01, reference_scale: float = 2.0,
            runs: int = 1, threads: int = 0, progress: bool = False, on_stage=None) -> "MethodResult":
        """Sequential Monte Carlo with tempering, as `exmc smc` with the same settings (same seed:
        the same particles): the particles at temperature 1 (result.table, one row each), and the
        log marginal likelihood (result.log_marginal_likelihood; with runs > 1 also its standard
        error across independent runs, result.log_marginal_likelihood_se).

        kernel: "imh" (independent Metropolis-Hastings from a normal fitted to the particles) or
        "hmc". correlation_threshold: a stage's mutation rounds end once one lowers the particles'
        mean |correlation| with their start by less than this (and their mean log density has
        settled); 0 runs max_mutation_steps rounds every stage (docs/methods.md). progress=True writes a line per tempering stage to stderr, as the command does;
        on_stage(dict) is called after each stage with its stage, beta, ess, acceptance,
        mutation_steps, log_evidence_increment and step_size (an exception raised there stops
        the run and is raised here).
        """
        if on_stage is not None and not callable(on_stage):
            raise TypeError(f"on_stage: expected a callable taking a dict, or None, got {on_stage!r}")
        progress = _flag("progress", progress)
        target_ess, reference_scale = _real("target_ess", target_ess), _real("reference_scale", reference_scale)
        if not 0 < target_ess < 1:
            raise ValueError(f"target_ess must be in (0, 1), got {target_ess!r}")
        correlation_threshold = _real("correlation_threshold", correlation_threshold)
        if not 0 <= correlation_threshold < 1:
            raise ValueError(f"correlation_threshold must be in [0, 1), got {correlation_threshold!r}")
        if not 0 < reference_scale < float("inf"):
            raise ValueError(f"reference_scale must be positive and finite, got {reference_scale!r}")
        callback = on_stage
        if progress:
            start = time.monotonic()

            def callback(st):
                n = st["mutation_steps"]
                sys.stderr.write(f"exmc smc: stage {st['stage']}: beta {st['beta']:.4g}, {n} mutation "
                                 f"round{'' if n == 1 else 's'}, acceptance {st['acceptance']:.2f}, "
                                 f"{time.monotonic() - start:.1f} s\n")
                sys.stderr.flush()
                if on_stage is not None:
                    on_stage(st)
        return MethodResult(_exmc.smc(self._program, _seed(seed), _count("particles", particles, 2, 100000000),
                                      _text("kernel", kernel), target_ess,
                                      _count("max_mutation_steps", max_mutation_steps, 1, 2**31 - 1),
                                      correlation_threshold, reference_scale, _count("runs", runs, 1, 1000),
                                      _count("threads", threads, 0, 1024), callback))


class Fit:
    """Draws of a NUTS run, held in one (chain, draw, column) buffer that the sampler wrote.

    draws(name) / fit[name] are views shaped (chain, draw, *dims); nothing is copied.
    """

    def __init__(self, res: dict, settings: dict, bound: BoundModel | None = None):
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
        self._check_warmup(warmup)
        return {name: self.draws(name, warmup) for name in self._layout}

    def sampler_stats(self, warmup: bool = False) -> dict:
        src = self._warmup_stats if self._check_warmup(warmup) else self._stats
        return {name: src[:, :, k] for k, name in enumerate(self.stat_names)}

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
