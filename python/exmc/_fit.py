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
from ._fit_draws import Fit
from ._progress import _in_notebook, _TqdmProgress
from ._results import Loo, MethodResult, _warn, loo_compare  # noqa: F401 (exported)

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


# cmdstanpy's, PyMC's and nutpie's names for sample's arguments: Python's own TypeError said only
# "unexpected keyword argument 'iter_warmup'", not what exmc calls it.
_SAMPLE_NAMES = {"iter_warmup": "warmup", "iter_sampling": "draws", "tune": "warmup", "num_warmup": "warmup",
                 "num_samples": "draws", "num_draws": "draws", "parallel_chains": "threads", "cores": "threads",
                 "threads_per_chain": "threads", "max_treedepth": "max_depth", "maxdepth": "max_depth",
                 "target_accept": "adapt_delta", "delta": "adapt_delta", "inits": "init", "initvals": "init",
                 "random_seed": "seed", "show_progress": "progress", "progressbar": "progress",
                 "inc_warmup": "save_warmup", "save_warmup_draws": "save_warmup", "num_chains": "chains"}
_METHOD_NAMES = {"inits": "init", "initvals": "init", "random_seed": "seed", "output_samples": "draws",
                 "num_draws": "draws", "num_single_draws": "draws", "max_iter": "iter", "maxiter": "iter"}
_CMDSTAN_METRICS = {"diag_e": "CmdStan's diag_e is exmc's 'diag'", "dense_e": "CmdStan's dense_e is exmc's 'dense'",
                    "unit_e": "exmc has no unit metric: 'diag' adapts a diagonal one"}


def _no_other_arguments(method: str, other: dict, names: dict) -> None:
    if not other:
        return
    name = next(iter(other))
    instead = names.get(name)
    hint = f" (exmc's name for it is {instead!r})" if instead else ""
    raise TypeError(f"{method}() got an unexpected keyword argument {name!r}{hint}")


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
        self._variants = {}  # (propto, jacobian) -> the density compiled with those terms

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
        self._variants = {}

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

    def _density_with(self, propto, jacobian):
        # BridgeStan's options: log_density(x, propto=False) raised "unexpected keyword argument".
        propto, jacobian = _flag("propto", propto), _flag("jacobian", jacobian)
        if propto and jacobian:
            return self.density  # what the sampler runs on
        key = (propto, jacobian)
        if key not in self._variants:
            self._variants[key] = self._program.compile("f64", propto, jacobian)
        return self._variants[key]

    def log_density(self, x, propto: bool = True, jacobian: bool = True) -> float:
        """The log density at the unconstrained point x (length dim()), as BridgeStan's:
        propto=False keeps the constants that `~` statements drop (the full log density),
        jacobian=False leaves out the change of variables' log |Jacobian| (the density of the
        constrained values, what optimize maximises by default)."""
        return self._density_with(propto, jacobian).logp(np.asarray(x, dtype=np.float64))

    def log_density_gradient(self, x, propto: bool = True, jacobian: bool = True):
        """(log density, gradient ndarray) at the unconstrained point x; propto and jacobian as
        log_density's."""
        return self._density_with(propto, jacobian).logp_grad(np.asarray(x, dtype=np.float64))

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
               fixed_param: bool = False, **other) -> "Fit":
        """NUTS chains, as `exmc sample` with the same settings (same seed: the same draws).

        fixed_param: CmdStan's fixed_param sampler: each chain stays at its initial values (init)
        and every draw evaluates the generated quantities there; no warmup. A program without
        parameters gets it whatever this says (fit.fixed_param tells which ran).

        progress: None shows progress only where someone watches (tqdm bars in a notebook, the
        command's per-chain display on a terminal), True forces it, False shows nothing.
        Ctrl-C stops the chains and returns the draws so far (fit.interrupted is True).
        """
        _no_other_arguments("sample", other, _SAMPLE_NAMES)
        seed = _seed(seed)
        chains = _count("chains", chains, 1, 1024)  # the command's limits
        warmup, draws = _count("warmup", warmup, 0), _count("draws", draws, 0)
        thin, threads = _count("thin", thin, 1, 1000000), _count("threads", threads, 0)
        max_depth = _count("max_depth", max_depth, 1, 30)
        # Checked here: pybind11's "incompatible function arguments" listed the whole native
        # signature without naming the argument.
        adapt_delta, metric = _real("adapt_delta", adapt_delta), _text("metric", metric)
        if metric in _CMDSTAN_METRICS:  # the shared check named only exmc's spellings
            raise ValueError(f"metric: expected diag, dense, grad-diag or low-rank, got {metric!r} "
                             f"({_CMDSTAN_METRICS[metric]})")
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
                 iter: int = 2000, **other) -> "MethodResult":
        """The posterior mode, as `exmc optimize` (CmdStan's optimize): one row, the mode's values.

        jacobian=False finds the mode of the density on the constrained scale (the MAP, CmdStan's
        default); True the mode on the unconstrained scale, as laplace uses. algorithm: "lbfgs" or
        "newton"; iter: the most iterations. init: a radius, a Stan JSON path or a dict of
        values by name. result.stan_variable(name) is the mode in the variable's shape."""
        _no_other_arguments("optimize", other, _METHOD_NAMES)
        init_text, init_values = self._method_init(init)
        return MethodResult(_exmc.optimize(self._program, _seed(seed), init_text, _flag("jacobian", jacobian),
                                           _text("algorithm", algorithm), _count("iter", iter, 1, 100000000),
                                           init_values=init_values))

    def laplace(self, seed=None, init=None, jacobian: bool = True, draws: int = 1000,
                mode_file: str = "", **other) -> "MethodResult":
        """A normal approximation at the mode on the unconstrained scale, as `exmc laplace`:
        `draws` rows of draws from it, with log_p__ and log_g__ (the density and the
        approximation's), and its Pareto k in result.notes (a warning above 0.7).

        mode_file: the mode, a Stan JSON file or an `exmc optimize` CSV; "" optimizes first."""
        _no_other_arguments("laplace", other, _METHOD_NAMES)
        if not _is_path(mode_file):
            raise TypeError(f"mode_file: expected a path (or '' to optimize first), got {mode_file!r}")
        init_text, init_values = self._method_init(init)
        return MethodResult(_exmc.laplace(self._program, _seed(seed), init_text, _flag("jacobian", jacobian),
                                          _count("draws", draws, 1, 100000000), os.fspath(mode_file),
                                          init_values=init_values))

    def pathfinder(self, seed=None, init=None, num_paths: int = 4, draws: int = 1000,
                   psis_draws: int = 1000, **other) -> "MethodResult":
        """Pathfinder, as `exmc pathfinder`: `num_paths` L-BFGS paths, each giving `draws` draws
        from its best normal approximation, resampled by Pareto-smoothed importance sampling to
        `psis_draws` rows; the Pareto k is in result.notes (a warning above 0.7)."""
        _no_other_arguments("pathfinder", other, _METHOD_NAMES)
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
                    draws: int = 1000, **other) -> "MethodResult":
        """ADVI, as `exmc variational`: a "meanfield" or "fullrank" normal approximation on the
        unconstrained scale, fitted in at most `iter` iterations; `draws` draws from it.
        result.table holds the command's rows, the approximation's mean first; result.draws(name)
        and stan_variables() the draws only, and draws(name, mean=True) the mean. The Pareto k
        is in result.notes (a warning above 0.7)."""
        _no_other_arguments("variational", other, _METHOD_NAMES)
        init_text, init_values = self._method_init(init)
        return MethodResult(_exmc.variational(self._program, _seed(seed), init_text,
                                              _text("algorithm", algorithm),
                                              _count("iter", iter, 1, 2**31 - 1), _count("draws", draws, 0),
                                              init_values=init_values))

    def smc(self, seed=None, particles: int = 2000, kernel: str = "imh", target_ess: float = 0.5,
            max_mutation_steps: int = 25, correlation_threshold: float = 0.01, reference_scale: float = 2.0,
            runs: int = 1, threads: int = 0, progress: bool = False, on_stage=None,
            refit_passes: int = 3) -> "MethodResult":
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
        the run and is raised here). refit_passes: temper again up to this many times, each from a
        normal fitted to the last particles, until two passes' log evidence agree within 1 (0:
        once from the N(0, reference_scale^2) reference), as `exmc smc --refit-passes`.
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
                                      _count("threads", threads, 0, 1024), callback,
                                      _count("refit_passes", refit_passes, 0, 16)))
