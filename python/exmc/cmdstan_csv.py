"""Read CmdStan CSV files as `exmc` writes them (pure Python + numpy).

`exmc sample` writes one file per chain; `exmc optimize | laplace | pathfinder |
variational | smc` write one file.  A file is

    # key = value          configuration comments (indented sections, "(Default)" marks)
    lp__,accept_stat__,... the column header
    # Adaptation terminated   (sample only; warmup rows come before it with --save-warmup)
    # Step size = ...
    # Diagonal elements of inverse mass matrix:  / Elements of inverse mass matrix:
    # ...
    1.0,2.0,...            one row per draw
    #  Elapsed Time: ...

`read_cmdstan_csv(paths)` returns a `CmdStanCsv` holding per-chain numpy arrays.
Errors are `CmdStanCsvError` naming the file and the line.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

__all__ = ["CmdStanCsv", "CmdStanCsvError", "read_cmdstan_csv", "parse_flat_name"]

SINGLE_FILE_METHODS = ("optimize", "laplace", "pathfinder", "variational", "smc")


class CmdStanCsvError(ValueError):
    """A CmdStan CSV file could not be read; the message names file and line."""

    def __init__(self, path, line, message):
        self.path = str(path)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


@dataclass
class CmdStanCsv:
    """The contents of one run's CSV files.

    Attributes
    ----------
    paths: the files, in chain order.
    method: "sample", "optimize", "laplace", "pathfinder", "variational", "smc" or
        "generate_quantities" (one file per chain, as sample).
    columns: the header's column names (the same in every file).
    chains: per file, the kept draws as a float64 array (n_draws, n_columns).
    warmup: per file, the saved warmup draws (n_warmup, n_columns); 0 rows unless
        the run used --save-warmup.
    config: per file, the header comments as {dotted.path: value}, e.g.
        "sample.num_samples", "sample.adapt.delta", "random.seed", "method".
    adaptation: per file, None or {"step_size": float, "inv_metric": ndarray
        (1-D for a diagonal metric, 2-D for a dense one)}.
    timing: per file, {"warmup", "sampling", "total"} seconds (what the file says).
    mean: variational only: the approximation's mean (the first data row), else None.
    """

    paths: list
    method: str
    columns: list
    chains: list
    warmup: list
    config: list
    adaptation: list
    timing: list
    mean: np.ndarray | None = None
    _index: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self._index = {name: i for i, name in enumerate(self.columns)}

    @property
    def num_chains(self) -> int:
        return len(self.chains)

    @property
    def draws_per_chain(self) -> list:
        return [c.shape[0] for c in self.chains]

    def _stack(self, arrays, what):
        lengths = {a.shape[0] for a in arrays}
        if len(lengths) > 1:
            raise ValueError(
                f"chains have different numbers of {what} "
                f"({', '.join(str(a.shape[0]) for a in arrays)}): "
                + ", ".join(self.paths))
        return np.stack(arrays, axis=0)

    def draws(self, warmup: bool = False) -> np.ndarray:
        """All columns as one array (chain, draw, column)."""
        return self._stack(self.warmup if warmup else self.chains,
                           "warmup draws" if warmup else "draws")

    def column(self, name: str, warmup: bool = False) -> np.ndarray:
        """One column as an array (chain, draw)."""
        if name not in self._index:
            raise KeyError(f"no column {name!r} in {self.paths[0]}")
        return self.draws(warmup)[:, :, self._index[name]]

    def config_value(self, key: str, default=None):
        """A config value by dotted path or by its last component (first file)."""
        cfg = self.config[0]
        if key in cfg:
            return cfg[key]
        for k, v in cfg.items():
            if k.rsplit(".", 1)[-1] == key:
                return v
        return default


_DEFAULT = re.compile(r"\s*\(Default\)\s*$")


def _convert(value: str):
    value = _DEFAULT.sub("", value).strip()
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return float(value)
    except ValueError:
        return value


def _comment_indent(line: str) -> tuple[int, str]:
    body = line[1:]
    if body.startswith(" "):
        body = body[1:]
    stripped = body.lstrip(" ")
    return len(body) - len(stripped), stripped.rstrip()


def _parse_float_row(text: str, path, lineno, ncols) -> list:
    parts = text.split(",")
    if len(parts) != ncols:
        raise CmdStanCsvError(path, lineno,
                              f"{len(parts)} values, the header has {ncols} columns")
    out = []
    for j, p in enumerate(parts):
        try:
            out.append(float(p))
        except ValueError:
            raise CmdStanCsvError(path, lineno, f"value {p!r} in column {j + 1} is not a number") from None
    return out


# Data rows are parsed this many at a time into float arrays: a file's text, its lines and
# one Python string per value were all held at once before (10^7 draws of a 7-column file, 552
# MB: 8.2 GB and 56 s); now the arrays, one block of lines, and the concatenation at the end.
_ROW_BLOCK = 8192


def _parse_rows(rows, path, ncols):
    """(lineno, text) rows as a float array of ncols columns; a bad row is named by its line."""
    try:
        data = np.array([t.split(",") for _, t in rows], dtype=np.float64)
        if data.ndim != 2 or data.shape[1] != ncols:
            raise ValueError
        return data
    except ValueError:
        return np.array([_parse_float_row(t, path, ln, ncols) for ln, t in rows], dtype=np.float64)


def _read_one(path):
    path = os.fspath(path)
    try:
        fh = open(path, "r", encoding="utf-8")
    except OSError as err:
        raise CmdStanCsvError(path, None, f"cannot read: {err.strerror or err}") from None
    with fh:
        try:
            return _read_lines(path, fh)
        except OSError as err:
            raise CmdStanCsvError(path, None, f"cannot read: {err.strerror or err}") from None


def _read_lines(path, fh):
    lines = (line.rstrip("\r\n") for line in fh)
    lineno = 0
    pending = None  # a line read ahead (after a metric's rows)

    def next_line():
        nonlocal lineno, pending
        if pending is not None:
            line, pending = pending, None
        else:
            line = next(lines, None)
        if line is not None:
            lineno += 1
        return line

    def push_back(line):
        nonlocal lineno, pending
        pending = line
        lineno -= 1

    config: dict = {}
    stack: list = []  # (indent, section name)
    columns = None
    header_line = None
    ncols = 0
    blocks: list = []  # parsed float arrays, _ROW_BLOCK rows each
    rows: list = []  # (lineno, text) not yet parsed
    nrows = 0
    adapt_row = None  # number of data rows before "Adaptation terminated"
    step_size = None
    inv_metric = None
    timing: dict = {}
    while True:
        line = next_line()
        if line is None:
            break
        if not line.strip():
            continue
        if line.startswith("#"):
            indent, text = _comment_indent(line)
            if columns is None:
                if not text:
                    continue
                while stack and stack[-1][0] >= indent:
                    stack.pop()
                if "=" in text:
                    key, _, value = text.partition("=")
                    key = key.strip()
                    full = ".".join([s for _, s in stack] + [key])
                    # A run id is 16 hex digits, not a number ("12e4..." would read as a float).
                    config[full] = value.strip() if full == "exmc_run_id" else _convert(value)
                else:
                    stack.append((indent, text))
                continue
            # comments after the header: adaptation and timing
            at = lineno
            if text == "Adaptation terminated":
                adapt_row = nrows
            elif text.startswith("Step size"):
                try:
                    step_size = float(text.partition("=")[2])
                except ValueError:
                    raise CmdStanCsvError(path, at, f"cannot read the step size in {text!r}") from None
            elif text.startswith("Diagonal elements of inverse mass matrix"):
                row = next_line()
                if row is None or not row.startswith("#"):
                    raise CmdStanCsvError(path, at + 1, "expected the inverse metric's diagonal")
                inv_metric = np.array(_parse_metric_row(row, path, lineno))
            elif text.startswith("Elements of inverse mass matrix"):
                mrows = []
                while True:
                    row = next_line()
                    if row is None:
                        break
                    if not row.startswith("#") or not _comment_indent(row)[1]:
                        push_back(row)
                        break
                    mrows.append(_parse_metric_row(row, path, lineno))
                if not mrows or any(len(r) != len(mrows) for r in mrows):
                    raise CmdStanCsvError(path, at, "the dense inverse metric is not square")
                inv_metric = np.array(mrows)
            elif text.startswith("Elapsed Time:") or re.match(r"^[0-9.eE+-]+ seconds", text):
                m = re.search(r"([0-9.eE+-]+) seconds(?: \(([^)]*)\))?", text)
                if m:
                    label = (m.group(2) or "Total").lower().replace("-", "")
                    timing[label] = float(m.group(1))
            continue
        if columns is None:
            columns = [c.strip() for c in line.split(",")]
            header_line = lineno
            if not columns or any(not c for c in columns):
                raise CmdStanCsvError(path, lineno, "empty column name in the header")
            ncols = len(columns)
            continue
        rows.append((lineno, line))
        nrows += 1
        if len(rows) == _ROW_BLOCK:
            blocks.append(_parse_rows(rows, path, ncols))
            rows = []

    if columns is None:
        raise CmdStanCsvError(path, None, "no column header (is this a CmdStan CSV file?)")
    if rows:
        blocks.append(_parse_rows(rows, path, ncols))
    del rows
    if not blocks:
        data = np.zeros((0, ncols))
    elif len(blocks) == 1:
        data = blocks[0]
    else:
        data = np.concatenate(blocks)
    del blocks
    adaptation = None
    if step_size is not None or inv_metric is not None:
        adaptation = {"step_size": step_size, "inv_metric": inv_metric}
    return dict(path=path, columns=columns, header_line=header_line, data=data,
                config=config, adapt_row=adapt_row, adaptation=adaptation, timing=timing)


def _parse_metric_row(line, path, lineno):
    _, text = _comment_indent(line)
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise CmdStanCsvError(path, lineno, f"cannot read the inverse metric row {text!r}") from None


def _method_of(config, path, columns):
    """The method a file's header names; without a header (CmdStan always writes
    "# method = sample (Default)", but draws exported by cmdstanpy, ArviZ or pandas have no
    comments), the one its columns say: `exmc summary` reads such files as draws too."""
    m = config.get("method")
    if isinstance(m, str) and m:
        return m.split()[0]
    if "method" in config:
        raise CmdStanCsvError(path, None, f"the header's method line names no method ({m!r})")
    cols = set(columns)
    if "lp_approx__" in cols:
        return "pathfinder"
    if {"log_p__", "log_g__"} <= cols:
        return "variational" if "lp__" in cols else "laplace"
    return "sample"


# Bookkeeping columns of cmdstanpy's draws_pd() (and ArviZ's exports): which chain, iteration and
# draw a row is. One such file holds every chain.
_EXPORT_COLUMNS = ("chain__", "iter__", "draw__")


def _split_exported_chains(f):
    """A headerless file with a chain__ column: one entry per chain, bookkeeping columns dropped."""
    cols = f["columns"]
    if "chain__" not in cols:
        return [f]
    keep = [j for j, c in enumerate(cols) if c not in _EXPORT_COLUMNS]
    chain = f["data"][:, cols.index("chain__")]
    ids = list(dict.fromkeys(chain.tolist()))  # in order of appearance
    out = []
    for c in ids:
        g = dict(f)
        g["columns"] = [cols[j] for j in keep]
        g["data"] = f["data"][chain == c][:, keep]
        out.append(g)
    return out


def _refuse_a_file_named_twice(paths) -> None:
    """One file given twice (a_1.csv and ./a_1.csv) would be read as two chains: R-hat near 1
    and twice the draws, from one chain. Compared as files (device and inode), as exmc summary
    compares them; a path that cannot be stat'ed is left to the reader's own message."""
    seen = {}
    for p in paths:
        try:
            st = os.stat(p)
        except OSError:
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen:
            raise ValueError(f"{p}: the same file as {seen[key]}, given twice (it would be read as two chains)")
        seen[key] = p


def read_cmdstan_csv(paths: str | os.PathLike | Sequence, allow_mixed_runs: bool = False) -> CmdStanCsv:
    """Read one run's CmdStan CSV files (one per chain for `sample`, one otherwise).

    Files of different runs (their `exmc_run_id` lines differ: out_3.csv left by an earlier run
    with more chains beside this run's out_1.csv) are refused, as `exmc summary` refuses them,
    unless allow_mixed_runs.  CmdStan's files have no such line and are read as before."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = [os.fspath(p) for p in paths]
    if not paths:
        raise ValueError("no CSV files given")
    _refuse_a_file_named_twice(paths)
    files = [_read_one(p) for p in paths]
    if all("method" not in f["config"] for f in files):
        files = [g for f in files for g in _split_exported_chains(f)]
        paths = [f["path"] for f in files]
    first = files[0]
    method = _method_of(first["config"], first["path"], first["columns"])
    for f in files[1:]:
        if f["columns"] != first["columns"]:
            raise CmdStanCsvError(f["path"], f["header_line"],
                                  f"columns differ from {first['path']}'s")
        m = _method_of(f["config"], f["path"], f["columns"])
        if m != method:
            raise CmdStanCsvError(f["path"], None, f"method {m} differs from {first['path']}'s ({method})")
        run_a, run_b = first["config"].get("exmc_run_id"), f["config"].get("exmc_run_id")
        if run_a != run_b and not allow_mixed_runs:
            def said(run):
                return "no run id" if run is None else f"run {run}"
            raise ValueError(f"{first['path']} ({said(run_a)}) and {f['path']} ({said(run_b)}) are from "
                             "different runs; pass allow_mixed_runs=True (exmc plot: --allow-mixed-runs) "
                             "to combine them anyway")
    if method not in ("sample", "generate_quantities") and len(files) > 1:
        raise ValueError(f"method {method} writes one file; got {len(files)}: " + ", ".join(paths))

    chains, warmup, mean = [], [], None
    for f in files:
        data = f["data"]
        n_warm = 0
        if method == "sample":
            # CmdStan 2.35 writes booleans as true/false ("save_warmup = false"): int() of
            # that was a ValueError on every such file.
            save_warmup = _lookup(f["config"], "save_warmup", 0) in (1, "1", "true", "True")
            if save_warmup:
                if f["adapt_row"] is not None:
                    n_warm = f["adapt_row"]
                else:  # no adaptation block (e.g. adapt engaged = 0): count from the config
                    num_warmup = int(_lookup(f["config"], "num_warmup", 0) or 0)
                    thin = int(_lookup(f["config"], "thin", 1) or 1)
                    n_warm = math.ceil(num_warmup / thin) if num_warmup else 0
                n_warm = min(n_warm, data.shape[0])
        elif method == "variational":
            if data.shape[0] == 0:
                raise CmdStanCsvError(f["path"], None, "no rows: expected the approximation's mean first")
            mean = data[0].copy()
            data = data[1:]
        warmup.append(data[:n_warm])
        chains.append(data[n_warm:])
    return CmdStanCsv(paths=paths, method=method, columns=list(first["columns"]),
                      chains=chains, warmup=warmup,
                      config=[f["config"] for f in files],
                      adaptation=[f["adaptation"] for f in files],
                      timing=[f["timing"] for f in files], mean=mean)


def _lookup(config, key, default=None):
    for k, v in config.items():
        if k.rsplit(".", 1)[-1] == key:
            return v
    return default


_COMPLEX_PART = {"real": 1, "imag": 2}


def parse_flat_name(column: str):
    """Split a CSV column name into (variable, 1-based index tuple).

    "theta.3" -> ("theta", (3,)); "Sigma.2.1" -> ("Sigma", (2, 1)); "mu" -> ("mu", ());
    a complex scalar's "z.real" / "z.imag" -> ("z", (1,)) / ("z", (2,)) (a trailing
    dimension of 2).  Names this cannot split (tuple members "t:1") -> (column, ()).
    """
    if ":" in column:
        return column, ()
    parts = column.split(".")
    base, rest = parts[0], parts[1:]
    idx = []
    for p in rest:
        if p.isdigit():
            idx.append(int(p))
        elif p in _COMPLEX_PART:
            idx.append(_COMPLEX_PART[p])
        else:
            return column, ()
    return base, tuple(idx)


def group_columns(columns: Iterable[str]):
    """Group flat column names into variables.

    Returns {variable: (shape, [(column position, 0-based index tuple), ...])} in the
    order variables first appear.  Raises ValueError when a variable's elements do not
    fill its shape (a missing or repeated element) or its names mix ranks.
    """
    out: dict = {}
    for pos, col in enumerate(columns):
        name, idx = parse_flat_name(col)
        out.setdefault(name, []).append((pos, idx))
    result = {}
    for name, items in out.items():
        ranks = {len(ix) for _, ix in items}
        if len(ranks) != 1:
            raise ValueError(f"variable {name!r}: columns with different numbers of indices")
        rank = ranks.pop()
        if rank == 0:
            if len(items) != 1:
                raise ValueError(f"variable {name!r}: repeated column")
            result[name] = ((), [(items[0][0], ())])
            continue
        shape = tuple(max(ix[k] for _, ix in items) for k in range(rank))
        seen = {ix for _, ix in items}
        if len(seen) != len(items) or len(items) != int(np.prod(shape)) or \
                any(min(ix) < 1 for ix in seen):
            raise ValueError(f"variable {name!r}: columns do not fill its shape {shape}")
        result[name] = (shape, [(pos, tuple(k - 1 for k in ix)) for pos, ix in items])
    return result
