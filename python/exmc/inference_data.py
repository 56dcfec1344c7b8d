"""InferenceData in ArviZ's layout, built from plain numpy arrays with xarray.

ArviZ is not needed: `InferenceData` here is a small container of `xarray.Dataset`
groups whose names, variables, dimensions and attributes follow ArviZ's documented
InferenceData schema, and `to_netcdf` writes the file the way ArviZ does (root
attributes, then one netCDF4 group per InferenceData group), so `arviz.from_netcdf`
reads it.  Nothing here imports the compiled extension `exmc._exmc`.
"""

from __future__ import annotations

import datetime
import os
from typing import Mapping, Sequence

import numpy as np
import xarray as xr

__all__ = [
    "InferenceData",
    "to_inference_data",
    "from_netcdf",
    "from_cmdstan_csv",
    "SAMPLE_STATS_NAMES",
    "SUPPORTED_GROUPS",
]

# ArviZ's group order (arviz.data.inference_data.SUPPORTED_GROUPS), then the warmup ones.
SUPPORTED_GROUPS = [
    "posterior",
    "posterior_predictive",
    "predictions",
    "log_likelihood",
    "sample_stats",
    "prior",
    "prior_predictive",
    "sample_stats_prior",
    "observed_data",
    "constant_data",
    "predictions_constant_data",
]
WARMUP_TAG = "warmup_"
SUPPORTED_GROUPS_WARMUP = [WARMUP_TAG + g for g in
                           ("posterior", "posterior_predictive", "predictions",
                            "sample_stats", "log_likelihood")]
_ALL_GROUPS = SUPPORTED_GROUPS + SUPPORTED_GROUPS_WARMUP
_DATA_GROUPS = ("observed_data", "constant_data", "predictions_constant_data")

# Stan's sampler columns -> ArviZ's sample_stats names (and their dtypes).
SAMPLE_STATS_NAMES = {
    "lp__": "lp",
    "accept_stat__": "acceptance_rate",
    "stepsize__": "step_size",
    "treedepth__": "tree_depth",
    "n_leapfrog__": "n_steps",
    "divergent__": "diverging",
    "energy__": "energy",
}
_STAT_DTYPES = {"diverging": np.bool_, "tree_depth": np.int64, "n_steps": np.int64}


def _library_version() -> str:
    try:  # the extension's version when it is there; never required
        from . import _exmc  # type: ignore
        v = getattr(_exmc, "__version__", None)
        if v:
            return str(v)
    except Exception:
        pass
    return "0.1.0"


def _stat_name(name: str) -> str:
    if name in SAMPLE_STATS_NAMES:
        return SAMPLE_STATS_NAMES[name]
    return name[:-2] if name.endswith("__") else name


class InferenceData:
    """Groups of `xarray.Dataset`, as ArviZ's InferenceData holds them.

    `idata.posterior`, `idata["posterior"]`, `idata.groups()`, `"posterior" in idata`,
    `idata.to_netcdf(path)`, `InferenceData.from_netcdf(path)`, `idata.attrs` (root).
    """

    def __init__(self, attrs: Mapping | None = None, **groups: xr.Dataset):
        self._groups: dict = {}
        self.attrs: dict = dict(attrs or {})
        for name, ds in groups.items():
            if ds is None:
                continue
            if name not in _ALL_GROUPS:
                raise ValueError(f"unknown InferenceData group {name!r} "
                                 f"(ArviZ's groups: {', '.join(_ALL_GROUPS)})")
            if not isinstance(ds, xr.Dataset):
                raise TypeError(f"group {name!r} must be an xarray.Dataset, not {type(ds).__name__}")
            self._groups[name] = ds

    def groups(self) -> list:
        return [g for g in _ALL_GROUPS if g in self._groups]

    def __getattr__(self, name):
        groups = self.__dict__.get("_groups", {})
        if name in groups:
            return groups[name]
        raise AttributeError(f"InferenceData has no group {name!r} (groups: {', '.join(self.groups())})")

    def __getitem__(self, name) -> xr.Dataset:
        if name not in self._groups:
            raise KeyError(name)
        return self._groups[name]

    def __contains__(self, name) -> bool:
        return name in self._groups

    def __iter__(self):
        return iter(self.groups())

    def items(self):
        return [(g, self._groups[g]) for g in self.groups()]

    def __repr__(self) -> str:
        lines = ["Inference data with groups:"]
        for g in self.groups():
            ds = self._groups[g]
            lines.append(f"\t> {g}  ({', '.join(ds.data_vars)})")
        return "\n".join(lines)

    def to_netcdf(self, filename, compress: bool = True, groups: Sequence[str] | None = None) -> str:
        """Write netCDF4 as ArviZ does: root attributes, then one netCDF group per group."""
        filename = os.fspath(filename)
        mode = "w"
        if self.attrs:
            xr.Dataset(attrs=self.attrs).to_netcdf(filename, mode=mode, engine="netcdf4")
            mode = "a"
        names = self.groups() if groups is None else [g for g in self.groups() if g in groups]
        if not names and mode == "w":
            import netCDF4

            netCDF4.Dataset(filename, mode="w", format="NETCDF4").close()
            return filename
        for g in names:
            ds = self._groups[g]
            kwargs = {"engine": "netcdf4"}
            if compress:
                kwargs["encoding"] = {v: {"zlib": True} for v, val in ds.variables.items()
                                      if np.issubdtype(val.dtype, np.number) or val.dtype == bool}
            ds.to_netcdf(filename, mode=mode, group=g, **kwargs)
            mode = "a"
        return filename

    @staticmethod
    def from_netcdf(filename) -> "InferenceData":
        return from_netcdf(filename)


def from_netcdf(filename) -> InferenceData:
    """Read a file written by `InferenceData.to_netcdf` (or by ArviZ) into memory."""
    import netCDF4

    filename = os.fspath(filename)
    with netCDF4.Dataset(filename, mode="r") as nc:
        names = list(nc.groups)
        attrs = {k: nc.getncattr(k) for k in nc.ncattrs()}
    groups = {}
    for g in names:
        if g not in _ALL_GROUPS:
            continue
        with xr.open_dataset(filename, group=g, engine="netcdf4") as ds:
            groups[g] = ds.load()
    return InferenceData(attrs=attrs, **groups)


def _group_attrs(extra: Mapping | None = None) -> dict:
    attrs = {
        "created_at": datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None).isoformat(),
        "inference_library": "exmc",
        "inference_library_version": _library_version(),
    }
    if extra:
        attrs.update(extra)
    return attrs


def _dataset(data: Mapping | None, dims: Mapping | None, coords: Mapping | None,
             sample_dims: bool, attrs: Mapping | None, group: str) -> xr.Dataset | None:
    """Build one group's Dataset: (chain, draw, <var>_dim_k...) unless dims name them."""
    if data is None:
        return None
    if isinstance(data, xr.Dataset):
        return data
    dims = dims or {}
    coords = dict(coords or {})
    data_vars = {}
    used_coords = {}
    nchain = ndraw = None
    for name, values in data.items():
        arr = np.asarray(values)
        lead = 2 if sample_dims else 0
        if arr.ndim < lead:
            raise ValueError(f"{group}.{name}: shape {arr.shape} has no (chain, draw) dimensions")
        if sample_dims:
            if nchain is None:
                nchain, ndraw = arr.shape[:2]
            elif arr.shape[:2] != (nchain, ndraw):
                raise ValueError(f"{group}.{name}: (chain, draw) = {arr.shape[:2]}, "
                                 f"other variables have {(nchain, ndraw)}")
        var_dims = list(dims.get(name, []))
        extra = arr.ndim - lead
        if len(var_dims) > extra:
            raise ValueError(f"{group}.{name}: {len(var_dims)} dims given for {extra} dimensions")
        var_dims += [f"{name}_dim_{k}" for k in range(len(var_dims), extra)]
        all_dims = (["chain", "draw"] if sample_dims else []) + var_dims
        for d, size in zip(var_dims, arr.shape[lead:]):
            if d in coords:
                c = np.asarray(coords[d])
                if c.shape != (size,):
                    raise ValueError(f"{group}.{name}: coords[{d!r}] has {c.size} values, "
                                     f"the dimension has {size}")
                used_coords[d] = c
            elif d in used_coords:
                if used_coords[d].shape != (size,):
                    raise ValueError(f"{group}.{name}: dimension {d!r} has size {size} here "
                                     f"and {used_coords[d].size} elsewhere")
            else:
                used_coords[d] = np.arange(size)
        data_vars[name] = (all_dims, arr)
    if sample_dims and nchain is not None:
        used_coords = {"chain": np.asarray(coords.get("chain", np.arange(nchain))),
                       "draw": np.asarray(coords.get("draw", np.arange(ndraw))),
                       **used_coords}
    return xr.Dataset(data_vars=data_vars, coords=used_coords, attrs=_group_attrs(attrs))


def _rename_stats(stats: Mapping | None) -> dict | None:
    if stats is None:
        return None
    out = {}
    for name, values in stats.items():
        new = _stat_name(name)
        arr = np.asarray(values)
        if new in _STAT_DTYPES:
            if _STAT_DTYPES[new] is np.bool_:
                arr = arr != 0
            else:
                arr = arr.astype(_STAT_DTYPES[new])
        out[new] = arr
    return out


def to_inference_data(posterior: Mapping | None = None,
                      sample_stats: Mapping | None = None,
                      log_likelihood: Mapping | None = None,
                      posterior_predictive: Mapping | None = None,
                      observed_data: Mapping | None = None,
                      constant_data: Mapping | None = None,
                      dims: Mapping | None = None,
                      coords: Mapping | None = None,
                      warmup_posterior: Mapping | None = None,
                      warmup_sample_stats: Mapping | None = None,
                      warmup_log_likelihood: Mapping | None = None,
                      warmup_posterior_predictive: Mapping | None = None,
                      attrs: Mapping | None = None,
                      group_attrs: Mapping | None = None) -> InferenceData:
    """InferenceData from dicts of numpy arrays.

    posterior, log_likelihood, posterior_predictive (and the warmup_ ones): name ->
    array (chain, draw, *dims).  sample_stats: Stan's column names (lp__, accept_stat__,
    ...) or ArviZ's; Stan's are renamed to ArviZ's (lp, acceptance_rate, step_size,
    tree_depth, n_steps, diverging (bool), energy), other "x__" lose the "__".
    observed_data, constant_data: name -> array (*dims), no chain/draw.
    dims: name -> [dim names] for the non-sample dimensions (default <name>_dim_k);
    coords: dim name -> values (default 0..n-1; also "chain", "draw").
    attrs: the file's root attributes; group_attrs: extra attributes on every group.
    """
    def sampled(d):
        return _dataset(d, dims, coords, True, group_attrs, "")

    def constant(d):
        return _dataset(d, dims, coords, False, group_attrs, "")

    root = {"inference_library": "exmc", "inference_library_version": _library_version()}
    root.update(attrs or {})
    groups = dict(
        posterior=sampled(posterior),
        posterior_predictive=sampled(posterior_predictive),
        log_likelihood=sampled(log_likelihood),
        sample_stats=sampled(_rename_stats(sample_stats)),
        observed_data=constant(observed_data),
        constant_data=constant(constant_data),
        warmup_posterior=sampled(warmup_posterior),
        warmup_posterior_predictive=sampled(warmup_posterior_predictive),
        warmup_sample_stats=sampled(_rename_stats(warmup_sample_stats)),
        warmup_log_likelihood=sampled(warmup_log_likelihood),
    )
    groups = {k: v for k, v in groups.items() if v is not None and (len(v.data_vars) or k in _DATA_GROUPS)}
    return InferenceData(attrs=root, **groups)


def _names(arg, available, pattern_rep=False) -> list:
    if arg is None or arg is False:
        return []
    if arg is True or arg == "auto":
        return [v for v in available if v.endswith("_rep")] if pattern_rep else []
    if isinstance(arg, str):
        arg = [arg]
    missing = [a for a in arg if a not in available]
    if missing:
        raise KeyError(f"no variable {', '.join(map(repr, missing))} in the CSV "
                       f"(variables: {', '.join(available)})")
    return list(arg)


def _regroup(draws: np.ndarray, groups: Mapping) -> dict:
    """(chain, draw, column) -> {name: (chain, draw, *shape)} from grouped flat names."""
    out = {}
    nchain, ndraw = draws.shape[:2]
    for name, (shape, items) in groups.items():
        arr = np.empty((nchain, ndraw) + tuple(shape), dtype=draws.dtype)
        for pos, idx in items:
            arr[(slice(None), slice(None)) + idx] = draws[:, :, pos]
        out[name] = arr
    return out


def from_cmdstan_csv(paths, log_likelihood="log_lik", posterior_predictive=None,
                     observed_data: Mapping | None = None,
                     constant_data: Mapping | None = None,
                     dims: Mapping | None = None, coords: Mapping | None = None,
                     allow_mixed_runs: bool = False) -> InferenceData:
    """InferenceData from CmdStan CSV files written by `exmc` (see `read_cmdstan_csv`).

    Columns ending in "__" go to sample_stats (renamed to ArviZ's names), the rest are
    regrouped from flat names ("theta.3", "Sigma.2.1") into arrays (chain, draw, *dims).
    log_likelihood: a variable name or list moved to the log_likelihood group (a name
    that is not in the files is skipped when it is the default "log_lik").
    posterior_predictive: None, a name or list, or True for every "*_rep" variable.
    With --save-warmup, warmup draws go to the warmup_* groups.  For a variational
    file the approximation's mean (its first row, not a draw) is kept apart in the
    root attributes "variational_mean" (values) and "variational_mean_columns".
    Files of different runs are refused unless allow_mixed_runs (see `read_cmdstan_csv`).
    """
    from .cmdstan_csv import group_columns, read_cmdstan_csv

    csv = read_cmdstan_csv(paths, allow_mixed_runs=allow_mixed_runs)
    stat_cols = [c for c in csv.columns if c.endswith("__")]
    var_cols = [(i, c) for i, c in enumerate(csv.columns) if not c.endswith("__")]
    grouped = group_columns([c for _, c in var_cols])
    # group_columns numbers positions among var_cols: map back to the full column index
    grouped = {name: (shape, [(var_cols[p][0], ix) for p, ix in items])
               for name, (shape, items) in grouped.items()}
    names = list(grouped)
    if log_likelihood == "log_lik" and "log_lik" not in grouped:
        ll_names = []
    else:
        ll_names = _names(log_likelihood, names)
    pp_names = _names(posterior_predictive, names, pattern_rep=True)
    overlap = set(ll_names) & set(pp_names)
    if overlap:
        raise ValueError(f"{', '.join(sorted(overlap))} asked for in both log_likelihood and posterior_predictive")
    post_names = [n for n in names if n not in ll_names and n not in pp_names]

    def split(draws):
        # No early return for zero draws (a --draws 0 run): unpacking None was a TypeError; the
        # groups have a draw dimension of length 0, as Fit.to_inference_data gives them.
        everything = _regroup(draws, grouped)
        stats = {c: draws[:, :, csv.columns.index(c)] for c in stat_cols}
        return ({n: everything[n] for n in post_names},
                stats,
                {n: everything[n] for n in ll_names} or None,
                {n: everything[n] for n in pp_names} or None)

    post, stats, ll, pp = split(csv.draws())
    warm = split(csv.draws(warmup=True)) if any(w.shape[0] for w in csv.warmup) else None
    root = {"method": csv.method}
    cfg = csv.config[0]
    for key in ("random.seed", "model"):
        if key in cfg:
            root[key.replace(".", "_")] = cfg[key]
    if csv.method == "sample":
        root["num_chains"] = csv.num_chains
    if csv.mean is not None:
        root["variational_mean"] = csv.mean
        root["variational_mean_columns"] = list(csv.columns)
    if "exmc_log_marginal_likelihood" in cfg:
        root["log_marginal_likelihood"] = cfg["exmc_log_marginal_likelihood"]
    kwargs = {}
    if warm is not None:
        kwargs = dict(warmup_posterior=warm[0], warmup_sample_stats=warm[1] or None,
                      warmup_log_likelihood=warm[2], warmup_posterior_predictive=warm[3])
    return to_inference_data(posterior=post, sample_stats=stats or None, log_likelihood=ll,
                             posterior_predictive=pp, observed_data=observed_data,
                             constant_data=constant_data, dims=dims, coords=coords,
                             attrs=root, **kwargs)
