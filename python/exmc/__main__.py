"""`python -m exmc plot out_*.csv --kind trace -o trace.png`: plots from CmdStan CSV files.

Reads the files with `exmc.inference_data.from_cmdstan_csv`; needs only numpy, xarray
and matplotlib (not the compiled extension).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m exmc", description="exmc from Python")
    sub = p.add_subparsers(dest="command", required=True)
    plot = sub.add_parser("plot", help="plot draws from CmdStan CSV files (one per chain)",
                          description="Plot draws from CmdStan CSV files written by exmc.")
    plot.add_argument("csv", nargs="+", help="CSV files (exmc sample: one per chain)")
    plot.add_argument("--kind", default="trace",
                      choices=["trace", "rank", "pair", "forest", "energy", "autocorr"])
    plot.add_argument("--vars", default=None,
                      help="comma-separated variable names (default: every posterior variable)")
    plot.add_argument("-o", "--output", required=True, help="image file (.png, .pdf, .svg)")
    plot.add_argument("--figsize", default=None, help="width,height in inches")
    plot.add_argument("--dpi", type=int, default=100)
    plot.add_argument("--allow-mixed-runs", action="store_true",
                      help="combine files of different runs (their exmc_run_id lines differ)")
    return p


def _image_path(output: str) -> tuple[str | None, str | None]:
    """(the file matplotlib will write for -o OUTPUT, None) or (None, what is wrong with it).

    Checked before the CSV files are read and the figure drawn, so that a typo in -o fails at
    once with a message, not with a traceback from savefig after the work is done."""
    import matplotlib
    from matplotlib.backend_bases import FigureCanvasBase

    if os.path.isdir(output):  # before an extension is added: -o /tmp wrote /tmp.png
        return None, f"-o {output}: is a folder (name the image file, e.g. {os.path.join(output, 'plot.png')})"
    ext = os.path.splitext(output)[1][1:].lower()
    if not ext:
        # savefig appends the default format's extension: say the name it really writes.
        ext = matplotlib.rcParams["savefig.format"]
        output = f"{output}.{ext}"
    supported = FigureCanvasBase.get_supported_filetypes()
    if ext not in supported:
        return None, f"-o {output}: '.{ext}' is not an image format matplotlib writes " \
                     f"(expected one of: {', '.join(sorted(supported))})"
    folder = os.path.dirname(output) or "."
    if not os.path.isdir(folder):
        return None, f"-o {output}: the folder {folder} does not exist"
    if os.path.isdir(output):
        return None, f"-o {output}: is a folder"
    return output, None


def _plot(args) -> int:
    import matplotlib

    matplotlib.use("Agg")  # a command writes a file; never opens a window
    if not 0 < args.dpi <= 10000:  # -5 reached savefig, which raised after the figure was drawn
        print(f"exmc plot: --dpi {args.dpi}: expected dots per inch in 1..10000", file=sys.stderr)
        return 2
    output, problem = _image_path(args.output)
    if problem:
        print(f"exmc plot: {problem}", file=sys.stderr)
        return 2
    from .cmdstan_csv import CmdStanCsvError
    from .inference_data import from_cmdstan_csv
    from . import plots

    try:
        idata = from_cmdstan_csv(args.csv, posterior_predictive=True, allow_mixed_runs=args.allow_mixed_runs)
    except (CmdStanCsvError, ValueError, KeyError) as err:
        print(f"exmc plot: {err}", file=sys.stderr)
        return 2
    if idata.posterior.sizes.get("draw", 0) == 0:  # a --draws 0 run: blank axes, or a traceback
        print(f"exmc plot: {args.csv[0]}: no draws after warmup, nothing to plot", file=sys.stderr)
        return 2
    var_names = [v.strip() for v in args.vars.split(",") if v.strip()] if args.vars else None
    figsize = None
    if args.figsize:
        try:
            w, h = (float(v) for v in args.figsize.split(","))
            figsize = (w, h)
        except ValueError:
            figsize = None
        # 0,0 or a negative size reached matplotlib, whose traceback said only "ValueError"
        if figsize is None or not all(0 < v < 1000 for v in figsize):
            print(f"exmc plot: --figsize {args.figsize!r}: expected width,height in inches, each in (0, 1000)",
                  file=sys.stderr)
            return 2
    try:
        if args.kind == "energy":
            if var_names:
                print("exmc plot: --vars is ignored for --kind energy", file=sys.stderr)
            fig = plots.plot_energy(idata, figsize=figsize)
        else:
            fig = plots.PLOT_KINDS[args.kind](idata, var_names=var_names, figsize=figsize)
    except (KeyError, ValueError) as err:
        msg = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"exmc plot: {msg}", file=sys.stderr)
        return 2
    # Into a temporary of its own beside the image, renamed when complete, as the command's CSV
    # files are: a run killed while saving left a truncated image under the name asked for.
    folder, name = os.path.split(os.path.abspath(output))
    temporary = None
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, dpi=args.dpi, format=os.path.splitext(output)[1][1:].lower())
        umask = os.umask(0)  # mkstemp's file is private (0600): give it what open() would
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, output)
    except OSError as err:  # permissions, a full disk: said, not a traceback
        print(f"exmc plot: -o {output}: cannot write: {err.strerror or err}", file=sys.stderr)
        return 1
    finally:
        if temporary is not None and os.path.exists(temporary):
            os.unlink(temporary)
    print(f"exmc plot: wrote {output}")
    return 0


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "plot":
        # SIGTERM unwinds as Ctrl-C does, so the image's temporary is removed on the way out
        # (the default action ended the interpreter where it stood).
        def terminated(signum, frame):
            raise _Terminated()

        in_main_thread = threading.current_thread() is threading.main_thread()  # signal.signal's rule
        previous = signal.signal(signal.SIGTERM, terminated) if in_main_thread else None
        try:
            return _plot(args)
        except (KeyboardInterrupt, _Terminated) as stop:
            # A line and the shell's status, not a traceback; `exmc plot` says it itself.
            term = isinstance(stop, _Terminated)
            if not os.environ.get("EXMC_PLOT_FROM_COMMAND"):
                print(f"exmc plot: interrupted ({'SIGTERM' if term else 'Ctrl-C'}); no image written", file=sys.stderr)
            return 143 if term else 130
        finally:
            if in_main_thread:
                signal.signal(signal.SIGTERM, previous)
    return 2


class _Terminated(BaseException):
    """SIGTERM, raised where the interpreter stands (as KeyboardInterrupt is for SIGINT)."""


if __name__ == "__main__":
    sys.exit(main())
