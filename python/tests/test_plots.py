"""Each plot produces a PNG with the expected axes; the numerics behind rank and
autocorrelation plots; `python -m exmc plot`.  One PNG of each kind is also saved to
/tmp/exmc_plots/ (EXMC_PLOTS_DIR overrides) for a person to look at."""

import json
import os
import pathlib
import signal
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from exmc import plots  # noqa: E402
from exmc.inference_data import from_cmdstan_csv, to_inference_data  # noqa: E402

from conftest import REPO  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
LOOK_DIR = pathlib.Path(os.environ.get("EXMC_PLOTS_DIR", "/tmp/exmc_plots"))


@pytest.fixture(scope="module")
def idata(centred_csv):
    data = json.loads((REPO / "examples" / "eight_schools.data.json").read_text())
    return from_cmdstan_csv(centred_csv, posterior_predictive="y_rep",
                            observed_data={"y": np.array(data["y"], dtype=float)})


def save(fig, tmp_path, kind):
    out = tmp_path / f"{kind}.png"
    fig.savefig(out, dpi=80)
    LOOK_DIR.mkdir(parents=True, exist_ok=True)
    fig.savefig(LOOK_DIR / f"{kind}.png", dpi=80)
    plt.close(fig)
    blob = out.read_bytes()
    assert blob[:8] == PNG_MAGIC and len(blob) > 5000, (kind, len(blob))
    return out


def test_trace(idata, tmp_path):
    fig = plots.plot_trace(idata, var_names=["mu", "tau", "theta"])
    assert len(fig.axes) == 2 * (1 + 1 + 8)
    # each density/trace panel has one line per chain (4); divergences are marked
    ndiv = int(idata.sample_stats["diverging"].values.sum())
    assert ndiv > 0, "the centred eight schools should diverge with this seed"
    trace_ax = fig.axes[1]
    assert trace_ax.get_title() == "mu"
    marks = [ln for ln in trace_ax.lines if ln.get_label() == "divergent"]
    assert len(marks) == 1 and len(marks[0].get_xdata()) == ndiv
    assert fig.axes[2 * 2 + 1].get_title() == "theta[0]"
    save(fig, tmp_path, "trace")


def test_rank(idata, tmp_path):
    fig = plots.plot_rank(idata, var_names=["mu", "tau"])
    assert len(fig.axes) == 2
    assert len(fig.axes[0].patches) == 4 * 30  # 4 chains x bins (300 draws // 10)
    save(fig, tmp_path, "rank")


def test_pair_marks_divergences(idata, tmp_path):
    fig = plots.plot_pair(idata, var_names=["mu", "tau", "theta"])
    k = 2 + 8
    assert len(fig.axes) == k * (k + 1) // 2
    ndiv = int(idata.sample_stats["diverging"].values.sum())
    red = [ln for ax in fig.axes for ln in ax.lines if ln.get_label() == "divergent"]
    assert len(red) == k * (k - 1) // 2
    assert all(len(ln.get_xdata()) == ndiv for ln in red)
    # the red points sit where the divergent draws are: tau of the divergent draws
    div = idata.sample_stats["diverging"].values.ravel()
    tau = idata.posterior["tau"].values.ravel()
    mu = idata.posterior["mu"].values.ravel()
    first = red[0]  # the (tau vs mu) panel comes first in the lower triangle
    np.testing.assert_array_equal(first.get_xdata(), mu[div])
    np.testing.assert_array_equal(first.get_ydata(), tau[div])
    save(fig, tmp_path, "pair")


def test_forest(idata, tmp_path):
    fig = plots.plot_forest(idata, var_names=["mu", "tau", "theta"])
    assert len(fig.axes) == 1
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["mu", "tau"] + [f"theta[{i}]" for i in range(8)]
    # the median marker of mu is at mu's median
    med = [ln for ln in fig.axes[0].lines if ln.get_marker() == "o"][0]
    assert med.get_xdata()[0] == pytest.approx(np.median(idata.posterior["mu"].values))
    save(fig, tmp_path, "forest")
    fig = plots.plot_forest(idata, var_names="mu", combined=False)
    assert sum(ln.get_marker() == "o" for ln in fig.axes[0].lines) == 4
    plt.close(fig)


def test_energy(idata, tmp_path):
    fig, ax = plt.subplots(figsize=(5, 3))
    assert plots.plot_energy(idata, ax=ax) is fig
    assert len(fig.axes) == 1
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert sum("E-BFMI" in t for t in texts) == 4
    save(fig, tmp_path, "energy")


def test_autocorr(idata, tmp_path):
    fig = plots.plot_autocorr(idata, var_names=["mu", "tau"], max_lag=50)
    assert len(fig.axes) == 2 * 4
    save(fig, tmp_path, "autocorr")


def test_ppc(idata, tmp_path):
    fig = plots.plot_ppc(idata, "y", "y_rep", num_pp_samples=50)
    assert len(fig.axes) == 1
    assert len(fig.axes[0].lines) == 50 + 2
    save(fig, tmp_path, "ppc")
    with pytest.raises(KeyError):
        plots.plot_ppc(idata, "y", "nope")


def test_dict_input_and_errors(tmp_path):
    rng = np.random.default_rng(0)
    post = {"a": rng.normal(size=(2, 50)), "b": rng.normal(size=(2, 50, 3))}
    fig = plots.plot_trace(post)
    assert len(fig.axes) == 2 * 4
    plt.close(fig)
    fig = plots.plot_rank(to_inference_data(posterior=post), var_names="a", bins=5)
    assert len(fig.axes) == 1 and len(fig.axes[0].patches) == 2 * 5
    plt.close(fig)
    with pytest.raises(KeyError, match="zz"):
        plots.plot_trace(post, var_names=["zz"])
    with pytest.raises(ValueError, match="sample_stats.energy"):
        plots.plot_energy(to_inference_data(posterior=post))


def test_rank_normalize_and_autocorr_numerics():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 200))
    r = plots.rank_normalize(x)
    assert r.shape == x.shape
    np.testing.assert_array_equal(np.sort(r.ravel()), np.arange(1, 601))
    assert np.all(np.argsort(r.ravel()) == np.argsort(x.ravel()))
    np.testing.assert_array_equal(plots.rank_normalize(np.array([[1.0, 1.0, 2.0]])), [[1.5, 1.5, 3]])
    # AR(1) with phi = 0.8: autocorrelation at lag k is about 0.8^k
    e = rng.normal(size=20000)
    y = np.empty_like(e)
    y[0] = e[0]
    for t in range(1, y.size):
        y[t] = 0.8 * y[t - 1] + e[t]
    ac = plots.autocorr(y)
    assert ac[0] == pytest.approx(1.0)
    assert ac[1] == pytest.approx(0.8, abs=0.03)
    assert ac[3] == pytest.approx(0.512, abs=0.05)
    # E-BFMI of white noise is about 2, of a slow random walk far below 1
    assert plots.bfmi(rng.normal(size=(1, 5000)))[0] == pytest.approx(2.0, abs=0.15)
    assert plots.bfmi(np.cumsum(rng.normal(size=(1, 5000)), axis=1))[0] < 0.1


def run_cli(*args):
    env = dict(os.environ)
    import exmc

    pkg_parent = str(pathlib.Path(exmc.__path__[0]).parent)
    env["PYTHONPATH"] = os.pathsep.join([pkg_parent] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env["MPLBACKEND"] = "Agg"
    return subprocess.run([sys.executable, "-m", "exmc", *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=60)


def test_command_line_plot(eight_schools_csv, tmp_path, capsys):
    # the real `python -m exmc plot` in a fresh interpreter
    out = LOOK_DIR / "cli_rank.png"
    LOOK_DIR.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.unlink()
    proc = run_cli("plot", *eight_schools_csv, "--kind", "rank", "--vars", "mu,tau", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:8] == PNG_MAGIC and out.stat().st_size > 5000
    # the same entry point in this process: every kind, and the errors
    from exmc.__main__ import main

    for kind in ("trace", "pair", "forest", "energy", "autocorr"):
        png = tmp_path / f"{kind}.png"
        assert main(["plot", *map(str, eight_schools_csv), "--kind", kind, "--vars", "mu,tau",
                     "-o", str(png)]) == 0
        assert png.read_bytes()[:8] == PNG_MAGIC
        plt.close("all")
    assert main(["plot", *map(str, eight_schools_csv), "--vars", "nope", "-o",
                 str(tmp_path / "x.png")]) == 2
    assert "nope" in capsys.readouterr().err
    assert main(["plot", str(tmp_path / "missing.csv"), "-o", str(tmp_path / "x.png")]) == 2
    assert "missing.csv" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_command_line_plot_bad_output(eight_schools_csv, tmp_path, capsys):
    # -o in a missing folder or with an unknown extension: a message and exit 2 before any
    # work, not savefig's traceback after it; without an extension, the name really written
    from exmc.__main__ import main

    csv = list(map(str, eight_schools_csv))
    assert main(["plot", *csv, "--vars", "mu", "-o", str(tmp_path / "missing" / "t.png")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and str(tmp_path / "missing") in err
    assert main(["plot", *csv, "--vars", "mu", "-o", str(tmp_path / "t.xyz")]) == 2
    err = capsys.readouterr().err
    assert "'.xyz'" in err and "png" in err
    assert not (tmp_path / "t.xyz").exists()
    assert main(["plot", *csv, "--vars", "mu", "-o", str(tmp_path / "noext")]) == 0
    assert f"wrote {tmp_path / 'noext.png'}" in capsys.readouterr().out
    assert (tmp_path / "noext.png").read_bytes()[:8] == PNG_MAGIC
    plt.close("all")
    # A folder as -o wrote FOLDER.png beside it; sizes matplotlib refuses gave its traceback.
    (tmp_path / "figs").mkdir()
    assert main(["plot", *csv, "--vars", "mu", "-o", str(tmp_path / "figs")]) == 2
    assert f"-o {tmp_path / 'figs'}: is a folder" in capsys.readouterr().err
    assert not (tmp_path / "figs.png").exists()
    for bad, said in [(["--figsize", "0,0"], "--figsize '0,0': expected width,height in inches"),
                      (["--figsize=-3,2"], "--figsize '-3,2': expected width,height in inches"),
                      (["--dpi", "-5"], "--dpi -5: expected dots per inch in 1..10000")]:
        assert main(["plot", *csv, "--vars", "mu", "-o", str(tmp_path / "b.png"), *bad]) == 2
        assert said in capsys.readouterr().err
    assert not (tmp_path / "b.png").exists()


def test_command_line_plot_refuses_a_file_given_twice(eight_schools_csv, tmp_path, capsys):
    # One chain's file named twice was plotted as two chains (as exmc summary now refuses it).
    from exmc.__main__ import main

    first = str(eight_schools_csv[0])
    again = os.path.join(os.path.dirname(first), ".", os.path.basename(first))
    assert main(["plot", first, again, "--vars", "mu", "-o", str(tmp_path / "t.png")]) == 2
    assert "the same file as" in capsys.readouterr().err
    assert not (tmp_path / "t.png").exists()


@pytest.mark.parametrize("failure", ["disk full", "ctrl-c", "sigterm"])
def test_command_line_plot_never_leaves_a_partial_image(eight_schools_csv, tmp_path, capsys, monkeypatch, failure):
    # savefig wrote straight to the -o name: a run that failed or was stopped while saving left a
    # truncated image there. Now it goes through a temporary renamed into place when complete.
    from matplotlib.figure import Figure
    from exmc.__main__ import main

    def broken_savefig(self, f, **kwargs):
        f.write(PNG_MAGIC)  # the start of an image, then the failure
        if failure == "disk full":
            raise OSError(28, "No space left on device")
        if failure == "sigterm":
            os.kill(os.getpid(), signal.SIGTERM)  # main() turns it into an exception here
        raise KeyboardInterrupt

    csv = list(map(str, eight_schools_csv))
    out = tmp_path / "t.png"
    handler_before = signal.getsignal(signal.SIGTERM)
    with monkeypatch.context() as m:
        m.setattr(Figure, "savefig", broken_savefig)
        code = main(["plot", *csv, "--vars", "mu", "-o", str(out)])
    err = capsys.readouterr().err
    if failure == "disk full":
        assert code == 1 and "cannot write: No space left on device" in err
    elif failure == "sigterm":
        assert code == 143 and "interrupted (SIGTERM); no image written" in err
        assert signal.getsignal(signal.SIGTERM) == handler_before  # main() put the previous handler back
    else:
        assert code == 130 and "interrupted (Ctrl-C); no image written" in err
    assert list(tmp_path.iterdir()) == []  # neither the image nor a temporary
    plt.close("all")
    assert main(["plot", *csv, "--vars", "mu", "-o", str(out)]) == 0
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # as open() would make it, not mkstemp's 0600
    assert [p.name for p in tmp_path.iterdir()] == ["t.png"]
    plt.close("all")
