"""Python values and flat names: data dicts as Stan JSON, and CmdStan's flat column names
("theta.2.3", column-major) as arrays in their natural shape."""

from __future__ import annotations

import json
import math
from typing import Any, Mapping

import numpy as np


# ---------------------------------------------------------------------------- data

def _jsonable(value: Any) -> Any:
    """A value as Stan JSON nests it: arrays row-major (the last index fastest), ints as ints,
    non-finite reals as the strings Stan's JSON reader takes ("NaN", "Inf", "-Inf")."""
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isfinite(v):
            return v
        return "NaN" if math.isnan(v) else ("Inf" if v > 0 else "-Inf")
    if isinstance(value, np.ma.MaskedArray):
        # np.asarray drops the mask: the masked entries' placeholder values were the data.
        masked = int(np.ma.getmaskarray(value).sum())
        if masked:
            raise ValueError(f"a masked array with {masked} masked entries: Stan data has no missing values "
                             "(model them as parameters, or leave those observations out)")
        value = np.ma.getdata(value)
    if isinstance(value, np.ndarray) or isinstance(value, (list, tuple)):
        try:
            arr = np.asarray(value)
        except ValueError:  # ragged nested lists (numpy >= 1.24 refuses them): the reader names the shape
            return [_jsonable(v) for v in value]
        if arr.dtype == object:  # ragged or mixed: element by element
            _refuse_missing(arr)
            return [_jsonable(v) for v in value]
        if arr.dtype.kind == "b":
            return arr.astype(np.int64).tolist()
        if arr.dtype.kind in "iu":
            return arr.tolist()
        if arr.dtype.kind == "f":
            if np.isfinite(arr).all():
                return arr.astype(np.float64).tolist()
            return [_jsonable(v) for v in arr] if arr.ndim else _jsonable(arr[()])
        raise TypeError(f"cannot convert an array of dtype {arr.dtype} to Stan data")
    if hasattr(value, "to_numpy"):  # pandas Series / DataFrame
        return _jsonable(value.to_numpy())
    raise TypeError(f"cannot convert {type(value).__name__} to Stan data")


def _is_missing(v) -> bool:
    return v is None or type(v).__name__ in ("NAType", "NaTType")


def _refuse_missing(arr: np.ndarray) -> None:
    """A pandas nullable column (Int64, boolean) with pd.NA, or None in a list, said only "cannot
    convert NAType to Stan data": say where, and that Stan data has none."""
    if not arr.ndim:
        return
    missing = np.frompyfunc(_is_missing, 1, 1)(arr).astype(bool)
    if missing.any():
        first = np.argwhere(missing)[0]
        what = "None" if arr[tuple(first)] is None else repr(arr[tuple(first)])
        n = int(missing.sum())
        raise ValueError(f"{n} missing value{'s' if n > 1 else ''} ({what}), the first at index "
                         f"[{','.join(str(int(i) + 1) for i in first)}]: Stan data has no missing values "
                         "(model them as parameters, or leave those observations out)")


def to_stan_json(data: Mapping[str, Any]) -> str:
    """A dict of numpy arrays, lists and scalars as Stan JSON text.

    Booleans (True/False, numpy bool arrays, pandas bool columns) are written 1/0, as cmdstanpy
    and cmdstanr write them: Stan has no bool type, and its JSON reader (exmc's, CmdStan's)
    refuses true/false in a file."""
    out = {}
    for k, v in data.items():
        # The message names the variable: "cannot convert NoneType to Stan data" did not say which.
        try:
            out[str(k)] = _jsonable(v)
        except (TypeError, ValueError) as e:
            raise type(e)(f"data variable '{k}': {e}") from None
    return json.dumps(out)


# ---------------------------------------------------------------------------- shapes

def _column_major_view(block: np.ndarray, shape: tuple) -> np.ndarray:
    """(..., prod(shape)) columns flattened column-major (CmdStan's order) -> (..., *shape), a view."""
    lead = block.shape[:-1]
    if not shape:
        return block[..., 0]
    k = len(shape)
    rev = block.reshape(*lead, *reversed(shape))
    n = len(lead)
    return rev.transpose(*range(n), *reversed(range(n, n + k)))


def _layout(vars_: list) -> dict:
    """name -> (first column, shape) for consecutive variables."""
    out, start = {}, 0
    for name, shape in vars_:
        shape = tuple(int(s) for s in shape)
        out[name] = (start, shape)
        start += int(np.prod(shape)) if shape else 1
    return out


def _group_flat_names(columns: list) -> dict:
    """name -> (shape, [(column index, zero-based index tuple)]) from flat names "a.2.3"."""
    groups: dict = {}
    for i, c in enumerate(columns):
        base, *idx = c.split(".")
        ix = tuple(int(j) - 1 for j in idx)
        groups.setdefault(base, []).append((i, ix))
    out = {}
    for name, items in groups.items():
        rank = len(items[0][1])
        shape = tuple(max(ix[d] for _, ix in items) + 1 for d in range(rank))
        out[name] = (shape, items)
    return out
