"""The extension module and the core API: compile errors, data, bit-for-bit equality with
`exmc sample`, shapes, the log density for one's own algorithm, the GIL, Ctrl-C, and the
analysis numbers against `exmc summary`.  Fixed seeds throughout."""

import csv
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import pytest

import exmc

REPO = pathlib.Path(os.environ.get("EXMC_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
BUILD = pathlib.Path(os.environ.get("EXMC_BINARY_DIR", REPO / "build"))
EXMC = BUILD / "exmc"
MODEL = REPO / "examples" / "eight_schools.stan"
DATA = REPO / "examples" / "eight_schools.data.json"

needs_command = pytest.mark.skipif(not EXMC.exists(), reason=f"{EXMC} not built")


def read_csv(path):
    """CmdStan CSV -> (columns, list of rows of strings), comments skipped."""
    with open(path) as f:
        rows = [r for r in csv.reader(line for line in f if not line.startswith("#"))]
    return rows[0], rows[1:]


@pytest.fixture(scope="module")
def eight():
    return exmc.compile(str(MODEL))


@pytest.fixture(scope="module")
def command_run(tmp_path_factory):
    """`exmc sample` of eight schools: seed 7, 2 chains, 200 + 200, every double written exactly."""
    if not EXMC.exists():
        pytest.skip(f"{EXMC} not built")
    out = tmp_path_factory.mktemp("cmd") / "out.csv"
    subprocess.run([str(EXMC), "sample", str(MODEL), "--data", str(DATA), "--seed", "7", "--chains", "2",
                    "--warmup", "200", "--draws", "200", "--sig-figs", "17", "--output", str(out),
                    "--no-progress"],
                   check=True, capture_output=True)
    return [out.parent / f"out_{c}.csv" for c in (1, 2)]


@pytest.fixture(scope="module")
def module_run(eight):
    return eight.sample(data=str(DATA), seed=7, chains=2, warmup=200, draws=200, progress=False)


# ---------------------------------------------------------------------------- errors

def test_compile_error_carries_file_line_column():
    code = "parameters {\n  real x;\n}\nmodel {\n  x ~ normal(0, 1)\n}\n"  # missing ';'
    with pytest.raises(exmc.StanError) as info:
        exmc.compile(code, name="bad.stan")
    e = info.value
    assert isinstance(e, ValueError)
    assert e.file == "bad.stan" and e.line == 6 and e.column >= 1, (e.file, e.line, e.column)
    assert str(e).startswith(f"bad.stan:{e.line}:{e.column}:")


def test_semantic_error_and_data_error():
    with pytest.raises(exmc.StanError) as info:
        exmc.compile("parameters { real x; }\nmodel { y ~ normal(0, 1); }\n", name="undef.stan")
    assert info.value.line == 2 and "y" in str(info.value)
    m = exmc.compile("data { int<lower=0> N; }\nparameters { real x; }\nmodel { x ~ normal(0, 1); }\n")
    with pytest.raises(exmc.StanError) as info:
        m.bind({"N": 2.5})
    assert info.value.variable == "N"
    with pytest.raises(exmc.StanError):
        m.bind({})  # N missing


def test_bad_counts_and_seeds_are_errors_naming_the_argument(eight):
    """Negative counts reached pybind11 (a TypeError listing the native signature), seed=1.5 ran
    as seed 1, and chains=10**6 (the command allows 1024) ran until killed."""
    bound = eight.bind(str(DATA))
    cases = [(dict(chains=-1), ValueError, "chains must be in [1, 1024], got -1"),
             (dict(chains=10**6), ValueError, "chains must be in [1, 1024]"),
             (dict(chains=2.5), TypeError, "chains: expected an integer, got 2.5"),
             (dict(draws=-1), ValueError, "draws must be in [0, "),
             (dict(warmup=-5), ValueError, "warmup must be in [0, "),
             (dict(threads=-1), ValueError, "threads must be in [0, "),
             (dict(max_depth=0), ValueError, "max_depth must be in [1, 30]"),
             (dict(seed=1.5), TypeError, "seed: expected an integer, got 1.5"),
             (dict(seed=2**40), ValueError, "seed must be in [0, 4294967295]"),
             (dict(draws=True), TypeError, "draws: expected an integer")]
    for kwargs, error, message in cases:
        with pytest.raises(error) as info:
            bound.sample(progress=False, **{"chains": 1, "warmup": 10, "draws": 10, "seed": 1, **kwargs})
        assert message in str(info.value), (kwargs, str(info.value))
    with pytest.raises(ValueError, match="num_paths must be in"):
        bound.pathfinder(seed=1, num_paths=-1)
    with pytest.raises(ValueError, match="draws must be in"):
        bound.laplace(seed=1, draws=-1)
    with pytest.raises(ValueError, match="iter must be in"):
        bound.variational(seed=1, iter=-1)
    # Integral floats and numpy integers are counts.
    fit = bound.sample(chains=np.int64(1), warmup=10.0, draws=np.uint16(5), seed=np.int32(3), progress=False)
    assert fit.num_draws == 5


def test_missing_file():
    with pytest.raises(FileNotFoundError):
        exmc.compile("no/such/model.stan")


# ---------------------------------------------------------------------------- data

def test_data_dict_and_file_give_identical_draws(eight):
    raw = json.loads(DATA.read_text())
    data = {"J": np.int64(raw["J"]), "y": np.array(raw["y"], dtype=float), "sigma": np.array(raw["sigma"])}
    a = eight.sample(data=data, seed=11, chains=2, warmup=100, draws=50, progress=False)
    b = eight.sample(data=str(DATA), seed=11, chains=2, warmup=100, draws=50, progress=False)
    assert np.array_equal(a.draws_array(), b.draws_array())
    assert np.array_equal(a.sampler_stats()["lp__"], b.sampler_stats()["lp__"])


def test_to_stan_json_nesting():
    m = np.arange(6).reshape(2, 3)
    text = exmc.to_stan_json({"m": m, "x": np.array([1.5, np.nan, np.inf]), "b": True})
    d = json.loads(text)
    assert d["m"] == [[0, 1, 2], [3, 4, 5]] and isinstance(d["m"][0][0], int)
    assert d["x"] == [1.5, "NaN", "Inf"] and d["b"] == 1


# ---------------------------------------------------------------------------- the command

@needs_command
def test_bit_for_bit_with_the_command(command_run, module_run):
    fit = module_run
    for c, path in enumerate(command_run):
        columns, rows = read_csv(path)
        assert columns == fit.stat_names + fit.names
        assert len(rows) == fit.num_draws == 200
        table = np.concatenate([fit._stats[c], fit.draws_array()[c]], axis=1)
        # 17 significant digits round-trip a double: every value must be the same double.
        theirs = np.array([[float(v) for v in row] for row in rows])
        assert np.array_equal(table, theirs, equal_nan=True)


@needs_command
def test_summary_equals_exmc_summary(command_run, module_run, tmp_path):
    out = subprocess.run([str(EXMC), "summary", *map(str, command_run), "--format", "csv"],
                         check=True, capture_output=True, text=True).stdout
    lines = list(csv.reader(out.splitlines()))
    header, rows = lines[0], lines[1:]
    fit = module_run
    # The command read the same doubles (17 digits): exactly its numbers, to the digits it prints.
    df = fit.summary()
    assert list(df.index) == [r[0] for r in rows]
    assert list(df.columns) == header[1:]
    for k, name in enumerate(header[1:], start=1):
        theirs = np.array([float(r[k]) if r[k] != "NA" else np.nan for r in rows])
        mine = np.array([float(("%.17g" % v)) for v in df[name].to_numpy()])
        np.testing.assert_allclose(mine, theirs, rtol=1e-14, atol=0, equal_nan=True, err_msg=name)


def test_fit_to_netcdf_round_trips_in_arviz_layout(module_run, tmp_path):
    fit = module_run
    path = tmp_path / "fit.nc"
    fit.to_netcdf(str(path))
    idata = exmc.from_netcdf(str(path))
    groups = idata.groups()
    for g in ("posterior", "sample_stats", "log_likelihood", "constant_data"):
        assert g in groups, groups
    theta = idata.posterior["theta"]
    assert theta.dims[:2] == ("chain", "draw") and theta.shape == (2, 200, 8)
    np.testing.assert_array_equal(theta.values, fit["theta"])
    assert idata.sample_stats["diverging"].dtype == bool
    np.testing.assert_array_equal(idata.sample_stats["lp"].values, fit.sampler_stats()["lp__"])
    np.testing.assert_array_equal(idata.log_likelihood["log_lik"].values, fit["log_lik"])
    assert fit.to_xarray().groups() == fit.to_inference_data().groups()


def test_diagnose_and_loo(module_run):
    text = module_run.diagnose()
    assert isinstance(text, str) and len(text) > 20
    loo = module_run.loo()
    assert loo.pareto_k.shape == (8,)
    assert np.isfinite(loo.elpd_loo) and -60 < loo.elpd_loo < -20  # eight schools: about -30.5
    assert abs(loo.looic + 2 * loo.elpd_loo) < 1e-9
    assert "elpd_loo" in str(loo)


def test_no_draws_is_an_error_not_a_crash(eight):
    # draws=0 is a valid run; its summary, diagnosis and loo killed the interpreter (SIGFPE,
    # SIGSEGV) by dividing by the empty half-chains
    fit = eight.sample(data=str(DATA), seed=1, chains=2, warmup=20, draws=0, progress=False)
    assert fit["mu"].shape == (2, 0)
    for call in (fit.summary, fit.diagnose, fit.loo):
        with pytest.raises(ValueError, match="no draws"):
            call()


def test_loo_without_the_log_likelihood_names_it():
    # fit.loo() of a program without log_lik was a bare KeyError: 'log_lik', draws or none.
    model = exmc.compile("parameters { real mu; } model { mu ~ normal(0, 1); }")
    for draws in (0, 10):
        fit = model.sample(chains=1, warmup=10, draws=draws, seed=1, progress=False)
        with pytest.raises(ValueError, match="no draws" if draws == 0 else
                           "log_lik: the fit has no variable 'log_lik' \\(it has mu\\)"):
            fit.loo()
    with pytest.raises(ValueError, match="log_lik: the fit has no variable 'lp__'"):
        fit.loo("lp__")


def test_loo_compare_matches_the_pointwise_differences(module_run):
    a = module_run.loo()
    b = exmc.Loo(a)
    # A worse "model": every pointwise elpd lowered by a different amount.
    shift = np.linspace(0.5, 1.5, len(a.pointwise_elpd_loo))
    b["pointwise_elpd_loo"] = a.pointwise_elpd_loo - shift
    b["elpd_loo"] = a.elpd_loo - shift.sum()
    table = exmc.loo_compare({"worse": b, "best": a})
    assert list(table.index) == ["best", "worse"]
    assert table.loc["best", "elpd_diff"] == 0 and table.loc["best", "se_diff"] == 0
    assert table.loc["worse", "elpd_diff"] == pytest.approx(-shift.sum(), rel=1e-12)
    n = len(shift)
    assert table.loc["worse", "se_diff"] == pytest.approx(np.sqrt(n * np.var(shift, ddof=1)), rel=1e-12)


# ---------------------------------------------------------------------------- GIL, Ctrl-C

def test_other_python_threads_run_while_sampling(eight):
    count = 0
    stop = threading.Event()

    def spin():
        nonlocal count
        while not stop.is_set():
            count += 1

    bm = eight.bind(str(DATA))
    t = threading.Thread(target=spin)
    t.start()
    try:
        # The spinner's rate with the GIL free (the main thread asleep), then while a fit runs.
        before = count
        time.sleep(0.2)
        free_rate = (count - before) / 0.2
        t0 = time.perf_counter()
        before = count
        # One chain (one core) for ~0.8 s, so the compile (~0.1 s, without the GIL in any case) is a
        # small part of the time measured.
        bm.sample(seed=5, chains=1, warmup=1000, draws=100000, progress=False)
        elapsed = time.perf_counter() - t0
        during = count - before
    finally:
        stop.set()
        t.join()
    # Holding the GIL through the chains would starve the spinner for all but the compile
    # (≲ 0.15 of the time); released, it keeps most of its free rate on the other core.
    assert elapsed > 0.4, elapsed
    print(f"[ measured ] spinner kept {during / (free_rate * elapsed):.2f} of its free rate")
    assert during >= 0.3 * free_rate * elapsed, (during, free_rate, elapsed)


CHILD = """
import json, sys, warnings
sys.path.insert(0, {path!r})
import exmc
m = exmc.compile({model!r})
bm = m.bind({data!r})
print("sampling", flush=True)
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    fit = bm.sample(chains=2, warmup=200, draws=1_000_000, seed=1, progress=False)
print(json.dumps(dict(interrupted=fit.interrupted, draws=fit.num_draws, shape=list(fit["theta"].shape),
                      warned=any("interrupted" in str(x.message) for x in w),
                      finite=bool(__import__("numpy").isfinite(fit["theta"]).all()))), flush=True)
"""


def test_ctrl_c_returns_the_draws_so_far(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(path=str(pathlib.Path(exmc.__file__).parents[1]), model=str(MODEL),
                                   data=str(DATA)))
    p = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "sampling"
    time.sleep(1.0)
    t0 = time.perf_counter()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    stopped_in = time.perf_counter() - t0
    assert p.returncode == 0, err
    r = json.loads(out.strip().splitlines()[-1])
    assert r["interrupted"] and r["warned"] and r["finite"]
    assert 0 < r["draws"] < 1_000_000
    assert r["shape"] == [2, r["draws"], 8]
    assert stopped_in < 5


def test_progress_callback_errors_stop_the_run(eight):
    bm = eight.bind(str(DATA))

    class Boom(Exception):
        pass

    calls = []

    def cb(iterations, final):
        calls.append(list(iterations))
        raise Boom()

    with pytest.raises(Boom):
        exmc._exmc.sample(bm._program, 1, 200, 500_000, 1, 0, "diag", 0.8, 10, "2", [], 1, False, "f64",
                          False, cb, 0.01)
    assert calls


def test_progress_sees_warmup_iterations(eight):
    """The bars move during warmup too: the callback gets iterations finished, warmup included."""
    bm = eight.bind(str(DATA))
    seen = []

    def cb(iterations, final):
        seen.append((list(iterations), final))

    exmc._exmc.sample(bm._program, 2, 3000, 10, 1, 0, "diag", 0.8, 10, "2", [], 1, False, "f64",
                      False, cb, 0.001)
    assert seen[-1] == ([3010, 3010], True)
    # Some call before the end saw a chain still in warmup (fewer than 3000 iterations done).
    assert any(not final and 0 < min(it) < 3000 for it, final in seen), seen[:5]


def test_improper_posterior_warns():
    # A scale without a prior over a location: the draws drift to ~1e87 (issue 13). Said, as the
    # command says it.
    m = exmc.compile("parameters { real<lower=0> s; real a; }\nmodel { a ~ normal(0, s); }\n")
    with pytest.warns(RuntimeWarning, match="floating-point range"):
        m.sample(chains=2, warmup=300, draws=300, seed=1, progress=False)


def test_stuck_chain_warns():
    # No warmup: the step size stays 1 on a posterior 1000 times narrower, every proposal is
    # rejected and the chains never move. Said, as the command says it.
    m = exmc.compile("parameters { vector[3] m; }\nmodel { m ~ normal(0, 0.001); }\n")
    with pytest.warns(RuntimeWarning, match="got stuck.*100 draws in a row at one point"):
        m.sample(chains=2, warmup=0, draws=100, seed=1, progress=False)


def test_fixed_param_as_the_command_runs_it(tmp_path):
    # A program without parameters gets the fixed_param sampler (as CmdStan chooses it); the
    # same seed gives the command's rows; summary leaves out lp__ (0 throughout) as the command.
    code = "data { real mu; }\ngenerated quantities { real y = normal_rng(mu, 1); }\n"
    m = exmc.compile(code)
    fit = m.sample(data={"mu": 2.0}, chains=2, draws=100, seed=3, progress=False)
    assert fit.fixed_param
    assert fit.stat_names == ["lp__", "accept_stat__"]
    assert list(fit.summary().index) == ["y"]
    assert "fixed_param sampler" in fit.diagnose()
    if EXMC.exists():
        (tmp_path / "m.stan").write_text(code)
        (tmp_path / "d.json").write_text('{"mu": 2.0}')
        subprocess.run([str(EXMC), "sample", str(tmp_path / "m.stan"), "--data", str(tmp_path / "d.json"),
                        "--seed", "3", "--chains", "2", "--draws", "100", "--sig-figs", "17",
                        "--output", str(tmp_path / "out.csv"), "--no-progress"], check=True, capture_output=True)
        lines = [l for l in (tmp_path / "out_2.csv").read_text().splitlines() if l and not l.startswith("#")]
        assert lines[0] == "lp__,accept_stat__,y"
        assert np.array_equal([float(l.split(",")[2]) for l in lines[1:]], fit.draws("y")[1])
    # Parameters stay where init puts them.
    e = exmc.compile("parameters { real mu; real<lower=0> s; }\nmodel { mu ~ normal(0, 1); s ~ exponential(1); }\n"
                     "generated quantities { real y = normal_rng(mu, s); }\n")
    fit = e.sample(chains=1, draws=50, seed=1, init={"mu": 0.5, "s": 2.0}, fixed_param=True, progress=False)
    assert fit.fixed_param
    assert np.all(fit.draws("mu") == 0.5) and np.allclose(fit.draws("s"), 2.0, rtol=1e-15)
    assert len(np.unique(fit.draws("y"))) == 50


def test_generate_quantities_regenerates_and_extends_a_fit(eight, tmp_path):
    # The fit's seed: its own generated quantities again, exactly. Another program with the same
    # parameters: new quantities at the same draws, without sampling.
    fit = eight.sample(data=str(DATA), seed=11, chains=2, warmup=150, draws=40, progress=False)
    again = eight.bind(str(DATA)).generate_quantities(fit, seed=11)
    assert set(again) >= {"mu", "tau", "theta", "log_lik", "y_rep"}
    for name in ("mu", "theta", "log_lik", "y_rep"):
        assert again[name].shape == fit.draws(name).shape
        assert np.array_equal(again[name], fit.draws(name)), name
    code = MODEL.read_text().split("generated quantities")[0] + "generated quantities { real twice_mu = 2 * mu; }\n"
    other = exmc.compile(code)
    new = other.bind(str(DATA)).generate_quantities(fit, seed=1)
    assert "y_rep" not in new
    assert np.array_equal(new["twice_mu"], 2 * fit.draws("mu"))
    with pytest.raises(TypeError, match="expected an exmc.Fit"):
        other.bind(str(DATA)).generate_quantities({"mu": 1})


@needs_command
def test_generate_quantities_files_read_as_chains(command_run, tmp_path):
    out = tmp_path / "gq.csv"
    subprocess.run([str(EXMC), "generate_quantities", str(MODEL), "--data", str(DATA), "--fitted-params",
                    *map(str, command_run), "--seed", "7", "--output", str(out)], check=True, capture_output=True)
    files = [tmp_path / "gq_1.csv", tmp_path / "gq_2.csv"]
    idata = exmc.from_cmdstan_csv([str(f) for f in files])  # it refused more than one file
    assert idata.posterior["y_rep"].shape[:2] == (2, 200)


def test_data_and_init_values_that_cannot_convert_name_the_variable():
    # "cannot convert NoneType to Stan data" and numpy's "could not convert string to float"
    # named no variable; a ragged nested list gave numpy's "inhomogeneous shape" ValueError; an
    # init value of None became NaN ("value at index 1 is not finite").
    model = exmc.compile("data { int N; vector[N] y; } parameters { real mu; } model { y ~ normal(mu, 1); }")
    with pytest.raises(TypeError, match="data variable 'y': cannot convert NoneType"):
        model.sample(data={"N": 3, "y": None}, chains=1, warmup=10, draws=10, seed=1)
    with pytest.raises(TypeError, match="data variable 'y': cannot convert an array of dtype"):
        model.sample(data={"N": 2, "y": ["a", "b"]}, chains=1, warmup=10, draws=10, seed=1)
    with pytest.raises(ValueError, match="variable 'y': ragged array"):
        model.sample(data={"N": 2, "y": [[1.0, 2.0], [3.0]]}, chains=1, warmup=10, draws=10, seed=1)
    data = {"N": 2, "y": [1.0, 2.0]}
    with pytest.raises(TypeError, match="init: variable 'mu': expected a number .* got None"):
        model.sample(data=data, init={"mu": None}, chains=1, warmup=10, draws=10, seed=1)
    with pytest.raises(ValueError, match="init: variable 'mu': expected a number"):
        model.sample(data=data, init={"mu": "x"}, chains=1, warmup=10, draws=10, seed=1)


def test_bad_initial_values_are_refused_before_any_chain_runs(eight):
    # A value outside the support, of the wrong size or NaN started every chain, and each failed
    # with the same message: RuntimeError "chains failed: chain 1: bad initial values ...".
    kw = dict(data=str(DATA), chains=2, warmup=20, draws=10, seed=1, progress=False)
    cases = [({"tau": -1.0}, "variable 'tau' \\(lower\\): value -1 at index 1 is not above the lower bound 0"),
             ({"mu": 0.0, "theta_tilde": [1.0, 2.0]}, "variable 'theta_tilde': value has 2 elements; "
                                                      "expected 8"),
             ({"mu": float("nan")}, "variable 'mu' \\(identity\\): value at index 1 is not finite"),
             # On the bound itself (Stan rejects it too): the log transform's -inf, accepted before.
             ({"tau": 0.0}, "variable 'tau' \\(lower\\): value 0 at index 1 is on the lower bound 0: an initial "
                            "value must lie strictly inside the support")]
    for init, message in cases:
        with pytest.raises(ValueError, match="^bad initial values: " + message):
            eight.sample(init=init, **kw)
    # A name that matches no parameter is ignored with a warning, as an --init file's (a fit's
    # values passed back carry generated quantities); it failed every chain ("unknown variable").
    fit = eight.sample(**kw)
    values = {k: v[0, -1] for k, v in fit.stan_variables().items()}
    with pytest.warns(RuntimeWarning, match="'log_lik', 'y_rep' match no parameter of the model; ignored"):
        again = eight.sample(init=values, **kw)
    assert again.num_draws == 10


def test_booleans_are_ones_and_zeros_in_a_dict_and_refused_in_a_file(tmp_path):
    # As cmdstanpy (stanio) and cmdstanr: Python's and numpy's booleans are written 1/0; Stan
    # has no bool type and a JSON file's true/false is refused as CmdStan refuses it, now saying
    # what to write (it said only "expected a number, found boolean").
    model = exmc.compile("data { int N; array[N] int<lower=0, upper=1> y; } parameters { real<lower=0, upper=1> p; } "
                         "model { y ~ bernoulli(p); }")
    kw = dict(chains=1, warmup=20, draws=10, seed=3, progress=False)
    as_ints = model.sample(data={"N": 3, "y": [1, 0, 1]}, **kw)
    for y in ([True, False, True], np.array([True, False, True]), np.array([1, 0, 1]).astype(np.bool_)):
        np.testing.assert_array_equal(model.sample(data={"N": 3, "y": y}, **kw)["p"], as_ints["p"])
    assert json.loads(exmc.to_stan_json({"J": np.bool_(True), "y": np.array([[True], [False]])})) == \
        {"J": 1, "y": [[1], [0]]}
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"N": 3, "y": [True, False, True]}))
    with pytest.raises(ValueError, match=r"variable 'y': expected a number, found boolean at \[1\] "
                                         r"\(Stan has no bool type: write 1 for true, 0 for false\)"):
        model.sample(data=str(path), **kw)


def test_masked_arrays_are_refused_not_read_unmasked():
    # np.asarray dropped the mask: the masked entries' placeholder values were sampled as data.
    model = exmc.compile("data { int N; vector[N] y; } parameters { real mu; } model { y ~ normal(mu, 1); }")
    y = np.ma.masked_array([1.0, 999.0, 3.0], mask=[False, True, False])
    with pytest.raises(ValueError, match="data variable 'y': a masked array with 1 masked entries: Stan data has "
                                         "no missing values"):
        model.sample(data={"N": 3, "y": y}, chains=1, warmup=10, draws=10, seed=1)
    # Nothing masked: the values, as a plain array's.
    assert json.loads(exmc.to_stan_json({"y": np.ma.masked_array([1.0, 2.0])})) == {"y": [1.0, 2.0]}


def test_loo_of_a_quantity_unlike_a_log_likelihood_warns_as_the_command(module_run):
    # fit.loo("mu") and fit.loo("theta") returned numbers without a word; `exmc loo` warns.
    with pytest.warns(RuntimeWarning, match="loo: 'mu' is one number per draw"):
        module_run.loo("mu")
    with pytest.warns(RuntimeWarning, match=r"loo: p_loo \(\d+\.\d\) exceeds the number of observations \(8\): "
                                            "'theta' looks unlike a pointwise log-likelihood"):
        module_run.loo("theta")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        module_run.loo()


def test_loo_compare_names_what_it_was_given_instead_of_loo_results(module_run):
    # A list was "AttributeError: 'list' object has no attribute 'keys'"; fits instead of their
    # loo() a KeyError "no variable 0" (dict() of a Fit indexed it by number).
    loo = module_run.loo()
    with pytest.raises(TypeError, match=r"loos: expected a dict \{name: fit.loo\(\)\}, got list"):
        exmc.loo_compare([loo, loo])
    with pytest.raises(TypeError, match=r"loos\['b'\]: an exmc.Fit; pass its fit.loo\(\)"):
        exmc.loo_compare({"a": loo, "b": module_run})
    with pytest.raises(ValueError, match=r"loos\['b'\]: not a Fit.loo\(\) result \(no se_elpd_loo"):
        exmc.loo_compare({"a": loo, "b": {"elpd_loo": 1.0}})


def test_to_inference_data_names_a_missing_log_likelihood(module_run):
    # log_likelihood="loglik" (a misspelling) gave InferenceData without the group, silently;
    # from_cmdstan_csv raised. Only the default "log_lik" may be absent.
    with pytest.raises(KeyError, match="log_likelihood: no variable 'loglik'; the fit has mu, tau"):
        module_run.to_inference_data(log_likelihood="loglik")
    with pytest.raises(KeyError, match="log_likelihood: no variable 'nope'"):
        module_run.to_inference_data(log_likelihood=["log_lik", "nope"])
    assert "log_likelihood" in module_run.to_inference_data().groups()


def test_sample_settings_of_the_wrong_type_name_the_argument():
    # fixed_param="no" ran the fixed_param sampler (bool("no") is True); the others gave
    # pybind11's "incompatible function arguments" with the whole native signature.
    model = exmc.compile("parameters { real mu; } model { mu ~ normal(0, 1); }")
    kw = dict(chains=1, warmup=10, draws=10, seed=1, progress=False)
    for bad, message in [(dict(fixed_param="no"), "fixed_param: expected True or False, got 'no'"),
                         (dict(save_warmup="yes"), "save_warmup: expected True or False, got 'yes'"),
                         (dict(adapt_delta="0.9"), "adapt_delta: expected a number, got '0.9'"),
                         (dict(metric=None), "metric: expected a string, got None"),
                         (dict(precision=32), "precision: expected a string, got 32")]:
        with pytest.raises(TypeError, match="^" + re.escape(message) + "$"):
            model.sample(**bad, **kw)
    assert model.sample(adapt_delta=np.float32(0.9), save_warmup=np.bool_(True), **kw).num_warmup_draws == 10


def test_init_messages_name_the_python_argument_not_the_commands_option(eight, tmp_path):
    # init=-1 said "--init: the radius must be ...": the command's option, not the argument given;
    # so did a bad init for the other methods, an init file's unknown names and the Pathfinder note.
    kw = dict(data=str(DATA), chains=1, warmup=10, draws=10, seed=1, progress=False)
    for init, message in [(-1, "init: the radius must be a finite number >= 0, got -1.0"),
                          (float("nan"), "init: the radius must be a finite number >= 0, got nan"),
                          ("-2", "init: the radius must be a finite number >= 0, got -2"),
                          ("no_such_init.json", "init: 'no_such_init.json' is neither a number nor a readable file")]:
        with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
            eight.sample(init=init, **kw)
    for method in ("optimize", "laplace", "pathfinder", "variational"):
        with pytest.raises(ValueError, match="^" + re.escape("init: the radius must be a finite number >= 0, got -1.0")):
            getattr(eight, method)(data=str(DATA), init=-1, seed=1)
    path = tmp_path / "init.json"
    path.write_text(json.dumps({"mu": 1.0, "nu": 2.0}))
    ignored = f"init {path}: 'nu' matches no parameter of the model; ignored"
    with pytest.warns(RuntimeWarning, match="^" + re.escape(ignored) + "$"):
        eight.sample(init=str(path), **kw)
    with pytest.warns(RuntimeWarning, match="^" + re.escape(ignored) + "$"):
        eight.optimize(data=str(DATA), init=str(path), seed=1)
    fit = eight.sample(init="pathfinder", **kw)
    assert [n for n in fit.notes if "pathfinder" in n][0].startswith("init pathfinder: "), fit.notes


def test_compile_of_an_empty_string_says_it_is_empty():
    # exmc.compile("") read "" as a path: ": cannot read the Stan program (No such file or directory)",
    # naming no file and not saying that the argument was empty.
    for src, what in [("", "empty"), ("  ", "only white space")]:
        with pytest.raises(ValueError, match="^" + re.escape(f"compile: program_or_path is {what} (")):
            exmc.compile(src)


def test_warnings_point_at_the_callers_line_not_into_the_package(eight, tmp_path):
    # Through Model.sample (-> BoundModel.sample) and Model.optimize (-> MethodResult) the fixed
    # stacklevel pointed at a line of exmc/_fit.py, so a warning's location was the package's.
    path = tmp_path / "init.json"
    path.write_text(json.dumps({"mu": 1.0, "nu": 2.0}))
    kw = dict(data=str(DATA), chains=1, warmup=10, draws=10, seed=1, progress=False)
    calls = [lambda: eight.sample(init={"mu": 1.0, "nu": 2.0}, **kw),
             lambda: eight.bind(str(DATA)).sample(chains=1, warmup=10, draws=10, seed=1, progress=False,
                                                  init=str(path)),
             lambda: eight.optimize(data=str(DATA), init=str(path), seed=1),
             lambda: eight.bind(str(DATA)).pathfinder(init=str(path), seed=1)]
    for call in calls:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call()
        ignored = [w for w in caught if "'nu' matches no parameter" in str(w.message)]
        assert ignored, [str(w.message) for w in caught]
        assert all(w.filename == __file__ for w in ignored), [(w.filename, w.lineno) for w in ignored]
