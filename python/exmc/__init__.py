"""exmc from Python: Stan programs compiled to log densities, sampled with NUTS.

    import exmc
    model = exmc.compile("examples/eight_schools.stan")
    fit = model.sample(data="examples/eight_schools.data.json", seed=7)
    fit["theta"]          # (chain, draw, 8)
    fit.summary()         # pandas.DataFrame, the numbers `exmc summary` prints

The compiled extension is `exmc._exmc`; InferenceData and plots (exmc.inference_data,
exmc.plots) are loaded on first use, so `import exmc` needs only numpy.
"""

from ._fit import (BoundModel, Fit, Loo, MethodResult, Model, StanError, compile,  # noqa: F401
                   loo_compare, to_stan_json)
from ._exmc import __version__  # noqa: F401

# Loaded on first access: xarray and matplotlib take longer to import than a fit of eight schools.
_LAZY = {
    "InferenceData": "inference_data",
    "to_inference_data": "inference_data",
    "from_cmdstan_csv": "inference_data",
    "from_netcdf": "inference_data",
    "inference_data": None,
    "plots": None,
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module = importlib.import_module(f".{_LAZY[name] or name}", __name__)
        return module if _LAZY[name] is None else getattr(module, name)
    raise AttributeError(f"module 'exmc' has no attribute {name!r}")


__all__ = ["compile", "Model", "BoundModel", "Fit", "MethodResult", "Loo", "StanError", "loo_compare", "to_stan_json",
           *_LAZY]
