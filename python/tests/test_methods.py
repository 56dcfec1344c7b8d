"""The other methods from Python (optimize, laplace, pathfinder, variational, smc): results,
equality with the command, and argument errors that name the Python argument. Fixed seeds."""

import pathlib
import re
import subprocess
import warnings

import numpy as np
import pytest

import exmc
from conftest import exmc_binary

EXMC = exmc_binary()
REPO = pathlib.Path(__file__).resolve().parents[2]
needs_command = pytest.mark.skipif(not EXMC.exists(), reason=f"{EXMC} not built")


def read_rows(path):
    """A CmdStan CSV's column names and rows (as strings), comments skipped."""
    lines = [line for line in open(path) if not line.startswith("#")]
    return lines[0].strip().split(","), [line.strip().split(",") for line in lines[1:]]


NORMAL = "data { int N; vector[N] y; }\nparameters { real mu; real<lower=0> s; }\nmodel { y ~ normal(mu, s); }\n"


def test_optimize_and_pathfinder():
    m = exmc.compile(NORMAL)
    data = {"N": 4, "y": np.array([1.0, 2.0, 3.0, 4.0])}
    r = m.optimize(data=data, seed=1)
    assert r.table.columns[0] == "lp__" and r.values.shape == (1, 3)
    # The penalised MLE (Stan's optimize default): the sample mean and the ML standard deviation.
    assert r.draws("mu")[0] == pytest.approx(2.5, abs=1e-4)
    assert r.draws("s")[0] == pytest.approx(np.sqrt(1.25), abs=1e-4)
    p = m.pathfinder(data=data, seed=1)
    assert p.draws("mu").shape == (1000,)
    assert abs(p.draws("mu").mean() - 2.5) < 0.5 and (p.draws("s") > 0).all()


CONJUGATE = "data { real y; }\nparameters { real mu; }\nmodel { mu ~ normal(0, 1); y ~ normal(mu, 1); }\n"


@needs_command
def test_smc_as_the_command_runs_it_with_its_evidence(tmp_path, capfd):
    # The same seed and settings give the command's particles and log marginal likelihood; the
    # evidence of y ~ N(mu, 1), mu ~ N(0, 1) is that of y ~ N(0, 2), within 4 standard errors of
    # its estimate over 8 runs (fixed seed).
    m = exmc.compile(CONJUGATE)
    stages = []
    r = m.smc(data={"y": 1.0}, seed=5, runs=8, progress=True, on_stage=stages.append)
    exact = -0.5 * np.log(4 * np.pi) - 0.25
    assert r.log_marginal_likelihood_se > 0
    assert abs(r.log_marginal_likelihood - exact) < 4 * r.log_marginal_likelihood_se
    assert r.values.shape == (2000, 2) and r.columns == ["lp__", "mu"]
    # One stage line per stage and run, as the command writes them; the callback sees each.
    lines = [x for x in capfd.readouterr().err.splitlines() if x.startswith("exmc smc: stage ")]
    assert len(lines) == len(stages) and stages[-1]["beta"] == 1.0
    assert set(stages[0]) == {"stage", "beta", "ess", "acceptance", "mutation_steps", "log_evidence_increment",
                              "step_size"}
    (tmp_path / "c.stan").write_text(CONJUGATE)
    (tmp_path / "c.json").write_text('{"y": 1.0}')
    subprocess.run([str(EXMC), "smc", str(tmp_path / "c.stan"), "--data", str(tmp_path / "c.json"), "--seed", "5",
                    "--runs", "8", "--no-progress", "--sig-figs", "17", "--output", str(tmp_path / "o.csv")],
                   check=True, capture_output=True)
    header = (tmp_path / "o.csv").read_text()
    assert f"exmc_log_marginal_likelihood = {r.log_marginal_likelihood:.12g}" in header
    cols, rows = read_rows(tmp_path / "o.csv")
    assert cols == r.columns
    assert np.array_equal(np.array(rows, dtype=float), r.values)
    # One run: no standard error; other methods have no evidence.
    assert m.smc(data={"y": 1.0}, seed=5, particles=200).log_marginal_likelihood_se is None
    assert m.optimize(data={"y": 1.0}, seed=5).log_marginal_likelihood is None


def test_smc_settings_and_callback_errors_name_the_argument():
    m = exmc.compile(CONJUGATE)
    for bad, error, message in [(dict(kernel="gibbs"), ValueError, "kernel: expected 'imh' or 'hmc', got 'gibbs'"),
                                (dict(particles=1), ValueError, "particles must be in [2, 100000000], got 1"),
                                (dict(target_ess=1.0), ValueError, "target_ess must be in (0, 1), got 1.0"),
                                (dict(reference_scale=0), ValueError,
                                 "reference_scale must be positive and finite, got 0.0"),
                                (dict(on_stage=3), TypeError,
                                 "on_stage: expected a callable taking a dict, or None, got 3")]:
        with pytest.raises(error, match="^" + re.escape(message) + "$"):
            m.smc(data={"y": 1.0}, seed=1, **bad)

    def stop(stage):
        raise KeyError("enough")

    with pytest.raises(KeyError, match="enough"):
        m.smc(data={"y": 1.0}, seed=1, particles=100, on_stage=stop)


def test_method_settings_name_the_python_argument():
    # adapt_delta=1.5 said "sampler option delta (adapt_delta) must be in (0, 1), got 1.500000" (the
    # sampler's own field); seed="abc" said only "invalid literal for int() with base 10"; the other
    # methods' jacobian="no" and algorithm=1 gave pybind11's "incompatible function arguments" with
    # the whole native signature, and laplace(mode_file=None) "expected str, bytes or os.PathLike".
    model = exmc.compile("parameters { real mu; } model { mu ~ normal(0, 1); }")
    kw = dict(chains=1, warmup=10, draws=10, seed=1, progress=False)
    for bad, error, message in [(dict(adapt_delta=1.5), ValueError, "adapt_delta must be in (0, 1), got 1.5"),
                                (dict(adapt_delta=0), ValueError, "adapt_delta must be in (0, 1), got 0.0"),
                                (dict(adapt_delta=float("nan")), ValueError, "adapt_delta must be in (0, 1), got nan"),
                                (dict(seed="abc"), ValueError, "seed: expected an integer, got 'abc'")]:
        with pytest.raises(error, match="^" + re.escape(message) + "$"):
            model.sample(**{**kw, **bad})
    for method, bad, message in [("optimize", dict(jacobian="no"), "jacobian: expected True or False, got 'no'"),
                                 ("laplace", dict(jacobian=None), "jacobian: expected True or False, got None"),
                                 ("optimize", dict(algorithm=1), "algorithm: expected a string, got 1"),
                                 ("variational", dict(algorithm=None), "algorithm: expected a string, got None"),
                                 ("laplace", dict(mode_file=None),
                                  "mode_file: expected a path (or '' to optimize first), got None"),
                                 ("pathfinder", dict(seed="x"), "seed: expected an integer, got 'x'"),
                                 ("optimize", dict(algorithm="bfgs"), "algorithm: expected 'lbfgs' or 'newton', got 'bfgs'"),
                                 ("variational", dict(algorithm="full"),
                                  "algorithm: expected 'meanfield' or 'fullrank', got 'full'")]:
        with pytest.raises((TypeError, ValueError), match="^" + re.escape(message) + "$"):
            getattr(model, method)(**{"seed": 1, **bad})
    assert model.sample(**{**kw, "seed": "3"}).seed == 3


@needs_command
def test_diagnose_is_the_commands_on_each_methods_file(tmp_path):
    # MethodResult.diagnose() gives `exmc diagnose` of the same run's file: the approximation's
    # Pareto k (laplace, variational, pathfinder), the particles for smc; optimize is refused.
    (tmp_path / "c.stan").write_text(CONJUGATE)
    (tmp_path / "c.json").write_text('{"y": 1.0}')
    m = exmc.compile(CONJUGATE)
    runs = {"laplace": m.laplace(data={"y": 1.0}, seed=3),
            "variational": m.variational(data={"y": 1.0}, seed=3),
            "pathfinder": m.pathfinder(data={"y": 1.0}, seed=3),
            "smc": m.smc(data={"y": 1.0}, seed=3, particles=500)}
    for method, r in runs.items():
        assert r.method == method
        extra = ["--particles", "500"] if method == "smc" else []
        out = tmp_path / f"{method}.csv"
        subprocess.run([str(EXMC), method, str(tmp_path / "c.stan"), "--data", str(tmp_path / "c.json"), "--seed",
                        "3", "--output", str(out), *extra], check=True, capture_output=True)
        command = subprocess.run([str(EXMC), "diagnose", str(out)], check=True, capture_output=True, text=True).stdout
        text = r.diagnose()
        if method == "smc":
            # The command counts copies by lp__ at the 6 digits written; Python has every digit.
            assert "final particles of sequential Monte Carlo" in text and "no problems detected" in text
            assert re.sub(r"\d+ of the", "N of the", text) == re.sub(r"\d+ of the", "N of the", command)
        elif method == "pathfinder":
            assert text == command  # the k the run recorded, in both (-inf: a normal posterior)
        elif method == "laplace":
            # A normal posterior: exact in both (the file's 6 digits and Python's 17 agree on that).
            assert "the approximation is the posterior" in text and "the approximation is the posterior" in command
        else:
            # The file's log densities have 6 significant digits, Python's all 17: k agrees to the
            # tail fit's sensitivity to that rounding (-1.48 here against the file's -1.47).
            k, k_file = (float(re.search(r"Pareto k = (-?[0-9.]+)", t).group(1)) for t in (text, command))
            assert abs(k - k_file) < 0.05, (text, command)
            assert text.split("Pareto k")[0] == command.split("Pareto k")[0]
    with pytest.raises(ValueError, match=r"diagnose: optimize gives one point \(the mode\), nothing to diagnose"):
        m.optimize(data={"y": 1.0}, seed=1).diagnose()


def test_methods_take_initial_values_as_a_dict_as_sample_does():
    # A dict was refused ("expected a radius or a Stan JSON path"), where sample and cmdstanpy take one.
    bound = exmc.compile(REPO / "examples" / "eight_schools.stan").bind(REPO / "examples" / "eight_schools.data.json")
    init = {"mu": 3.0, "tau": 2.0, "theta_tilde": np.arange(8.0) / 10}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one iteration: "may not be a mode"
        one_step = bound.optimize(seed=1, init=init, iter=1)
    assert abs(one_step.draws("mu")[0] - 3.0) < 0.5
    start = bound.constrain(bound.unconstrain(init))
    assert start["mu"] == 3.0
    for call in (lambda i: bound.laplace(seed=1, init=i, draws=5), lambda i: bound.pathfinder(seed=1, init=i, num_paths=1, draws=5),
                 lambda i: bound.variational(seed=1, init=i, draws=5)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call({"mu": 3.0, "nope": 1.0})
        assert any("'nope' matches no parameter" in str(w.message) for w in caught)
        with pytest.raises(ValueError, match="init: variable 'theta_tilde': expected shape \\(8,\\), found \\(2, 4\\)"):
            call({"theta_tilde": np.zeros((2, 4))})
        # ValueError, as sample's (the methods raised RuntimeError for the same bad value).
        with pytest.raises(ValueError, match="bad initial values: variable 'tau' .*lower bound 0"):
            call({"tau": -1.0})
        with pytest.raises(ValueError, match="bad initial values: variable 'tau' .*is on the lower bound 0: an initial "
                                             "value must lie strictly inside the support"):
            call({"tau": 0.0})


def test_a_list_of_initial_values_per_chain_is_refused_saying_what_instead():
    bound = exmc.compile(REPO / "examples" / "eight_schools.stan").bind(REPO / "examples" / "eight_schools.data.json")
    for call in (lambda: bound.sample(chains=2, draws=5, init=[{"mu": 1.0}, {"mu": 2.0}], progress=False),
                 lambda: bound.optimize(init=[{"mu": 1.0}])):
        with pytest.raises(TypeError, match="a list \\(initial values per chain\\) is not supported: give one dict"):
            call()


def test_diagnose_is_cmdstans_gradient_test_at_the_point_given():
    # cmdstanpy's CmdStanModel.diagnose(): the gradient against finite differences per coordinate.
    model = exmc.compile("""data { int N; vector[N] y; }
parameters { real mu; real<lower=0> sigma; }
model { mu ~ normal(0, 10); sigma ~ exponential(1); y ~ normal(mu, sigma); }
""")
    data = {"N": 4, "y": [1.0, 2.5, 0.3, 1.7]}
    df = model.diagnose(data=data, init={"mu": 1.0, "sigma": 2.0})
    assert list(df.columns) == ["param_idx", "value", "model", "finite_diff", "error", "variable", "fails"]
    assert list(df["variable"]) == ["mu", "sigma"]
    ss = 0.0 + 2.25 + 0.49 + 0.49  # residual squares at mu = 1
    assert df.attrs["log_prob"] == pytest.approx(-0.005 - 2.0 - ss / 8 - 4 * np.log(2.0) + np.log(2.0), rel=1e-12)
    assert df["value"].tolist() == pytest.approx([1.0, np.log(2.0)], rel=1e-12)
    assert df["model"].tolist() == pytest.approx([-0.01 + 1.5 / 4, 2.0 * (-1 + ss / 8 - 4 / 2.0) + 1], rel=1e-12)
    assert not df["fails"].any() and (df["error"].abs() < 1e-6).all()
    # A step of 1: exact for mu (quadratic), far off for log sigma, which fails.
    coarse = model.diagnose(data=data, init={"mu": 1.0, "sigma": 2.0}, epsilon=1.0)
    assert coarse["fails"].tolist() == [False, True]
    # A random point: the seed decides it.
    assert model.diagnose(data=data, seed=3).equals(model.diagnose(data=data, seed=3))
    with pytest.raises(ValueError, match="epsilon"):
        model.diagnose(data=data, epsilon=0.0)


def test_variational_and_laplace_say_how_close_their_approximation_is():
    # The Pareto k of the draws' importance ratios, in the run's notes and, above 0.7, a Python
    # warning: as the command prints (services record it). A meanfield fit of a 0.99-correlated
    # normal is poor; laplace at the mode of a normal is the posterior itself.
    m = exmc.compile("data { matrix[2, 2] S; }\nparameters { vector[2] x; }\n"
                     "model { x ~ multi_normal(rep_vector(0, 2), S); }\n")
    data = {"S": [[1, 0.99], [0.99, 1]]}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        v = m.variational(data=data, seed=1, draws=10000)
    noted = [n for n in v.notes if n.startswith("Pareto k of the importance ratios: ")]
    assert len(noted) == 1, v.notes
    assert float(noted[0].split(": ")[1]) > 0.7
    assert any("Pareto k = " in str(w.message) and "> 0.7: the approximation is poor" in str(w.message)
               for w in caught), [str(w.message) for w in caught]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lap = m.laplace(data=data, seed=1)
    assert not any("approximation is poor" in str(w.message) for w in caught)
    assert any(n.startswith("Pareto k of the importance ratios: ") or "ratios p/q are constant" in n
               for n in lap.notes), lap.notes


def test_smc_warns_of_stages_that_end_still_moving_and_takes_correlation_threshold():
    # A narrow regression (sigma 0.1 against x of scale 10): with 2 mutation rounds a stage the
    # particles are still travelling when the stage ends (sigma 0.14 here, the posterior's ~0.10),
    # which the service warns of, as the command does; 25 rounds settle (one tempering,
    # refit_passes=0: a refit pass from the particles settles in 2 rounds and the warning counts
    # the last pass's stages). correlation_threshold is the command's --correlation-threshold,
    # refused outside [0, 1).
    rng = np.random.default_rng(1)
    x = rng.normal(0, 10, 100)
    data = {"N": 100, "x": x, "y": 2 + 3 * x + rng.normal(0, 0.1, 100)}
    m = exmc.compile("data { int N; vector[N] x; vector[N] y; }\nparameters { real a; real b; real<lower=0> s; }\n"
                     "model { a ~ normal(0, 10); b ~ normal(0, 10); s ~ normal(0, 5); y ~ normal(a + b * x, s); }\n")
    for steps, unsettled in ((2, True), (25, False)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            r = m.smc(data=data, seed=1, particles=1000, max_mutation_steps=steps, refit_passes=0)
        said = [str(w.message) for w in caught if "with the particles still moving" in str(w.message)]
        assert bool(said) == unsettled, [str(w.message) for w in caught]
        assert any("still moving" in w for w in r.warnings) == unsettled
    for bad in (1, -0.1, float("nan")):
        with pytest.raises(ValueError, match=r"^correlation_threshold must be in \[0, 1\), got "):
            m.smc(data=data, seed=1, correlation_threshold=bad)
    every_round = m.smc(data=data, seed=1, particles=300, correlation_threshold=0)
    default = m.smc(data=data, seed=1, particles=300)
    assert not np.array_equal(every_round.draws("s"), default.draws("s"))  # the option reaches smc
    once = m.smc(data=data, seed=1, particles=300, refit_passes=0)
    assert not np.array_equal(once.draws("s"), default.draws("s"))  # so does refit_passes
    assert any("tempering stages from the reference and earlier passes" in n for n in default.notes), default.notes
    assert not any("earlier passes" in n for n in once.notes), once.notes
    with pytest.raises(ValueError, match="refit_passes"):
        m.smc(data=data, seed=1, refit_passes=17)
