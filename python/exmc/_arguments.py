"""Checks of the Python API's arguments: each error names the argument as the caller wrote it
(pybind11's "incompatible function arguments" listed the native signature instead, and the
shared C++ checks named the command's options)."""

from __future__ import annotations

import os
import random
from typing import Mapping

import numpy as np


def _is_path(x) -> bool:
    return isinstance(x, (str, os.PathLike))


def _count(name: str, value, lo: int, hi: int = 2**32 - 1) -> int:
    """An integer setting in [lo, hi], or a ValueError/TypeError naming it.

    Without this a negative count or a float reached pybind11, whose "incompatible function
    arguments" listed the whole native signature; seed=1.5 was truncated to 1 silently; and
    chains=10**6 (the command allows 1024) ran on until it was killed.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            value = int(value)
        else:
            raise TypeError(f"{name}: expected an integer, got {value!r}")
    value = int(value)
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be in [{lo}, {hi}], got {value}")
    return value


def _flag(name: str, value) -> bool:
    """A True/False setting: fixed_param="no" ran the fixed_param sampler (bool("no") is True)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, got {value!r}")
    return bool(value)


def _text(name: str, value) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected a string, got {value!r}")
    return value


def _real(name: str, value) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: expected a number, got {value!r}")
    return float(value)


def _seed(seed) -> int:
    if seed is None:  # as the command: a random seed, reported on the Fit
        return random.SystemRandom().randrange(4294967291)
    if isinstance(seed, str):
        # As before, a numeric string is a seed; another said only "invalid literal for int()".
        try:
            seed = int(seed)
        except ValueError:
            raise ValueError(f"seed: expected an integer, got {seed!r}") from None
    return _count("seed", seed, 0, 4294967295)  # the command's (CmdStan's) range


def _shape_words(shape: tuple) -> str:
    return "a single number" if shape == () else f"shape {shape}"


def _flat_value(arg: str, name, v, shapes: Mapping | None = None) -> list:
    """One value of the dict argument `arg` (init, unconstrain's values), flattened column-major;
    errors name the argument and the variable (numpy's "could not convert string to float" did
    not), and None is refused rather than read as NaN. With `shapes` (var_shapes()), a value of
    another shape is refused, as data are: flattened, a matrix given as a row or a vector given
    as a 2-d array passed with the right element count."""
    if v is None:
        hint = " (leave it out of the dict to start it at random)" if arg == "init" else ""
        raise TypeError(f"{arg}: variable '{name}': expected a number or an array of numbers, got None{hint}")
    try:
        a = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise type(e)(f"{arg}: variable '{name}': expected a number or an array of numbers ({e})") from None
    want = None if shapes is None else shapes.get(str(name))
    # Another element count is the density's to refuse ("value has 2 elements; expected 8").
    if want is not None and a.shape != tuple(want) and a.size == int(np.prod(want)):
        found = "a single number" if a.shape == () else (
            f"shape {a.shape}" if tuple(want) == () else str(a.shape))
        raise ValueError(f"{arg}: variable '{name}': expected {_shape_words(tuple(want))}, found {found}")
    return a.ravel(order="F").tolist()


def _refuse_per_chain(init):
    # cmdstanpy takes a list with one entry per chain; here one set of values serves every chain.
    if isinstance(init, (list, tuple)):
        raise TypeError("init: a list (initial values per chain) is not supported: give one dict (or a Stan "
                        "JSON path) for every chain, or a radius")


def _init(init, shapes: Mapping | None = None):
    """(init text, init values) for SampleSettings; `shapes` as _flat_value takes them."""
    _refuse_per_chain(init)
    if init is None:
        return "2", []
    if isinstance(init, bool):
        raise TypeError("init: expected a radius, 'pathfinder', a dict of values or a path")
    if isinstance(init, (int, float, np.integer, np.floating)):
        return repr(float(init)), []
    if isinstance(init, Mapping):
        return "2", [(str(k), _flat_value("init", k, v, shapes)) for k, v in init.items()]
    if _is_path(init):
        return os.fspath(init), []
    raise TypeError("init: expected a radius, 'pathfinder', a dict of values or a path")


def _method_init(init, shapes: Mapping | None = None):
    """(init text, init values) for optimize, laplace, pathfinder and variational: a radius, a
    Stan JSON path or a dict of values by name (a dict was refused: "expected a radius or a
    Stan JSON path", where cmdstanpy takes one)."""
    _refuse_per_chain(init)
    if init is None:
        return "2", []
    if isinstance(init, (int, float, np.integer, np.floating)) and not isinstance(init, bool):
        return repr(float(init)), []
    if _is_path(init):
        return os.fspath(init), []
    if isinstance(init, Mapping):
        return "2", [(str(k), _flat_value("init", k, v, shapes)) for k, v in init.items()]
    raise TypeError("init: expected a radius, a dict of values or a Stan JSON path")
