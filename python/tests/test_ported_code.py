"""What a cmdstanpy, PyMC or nutpie user's code meets: cmdstanpy's draws_pd table, a hint where
exmc calls an argument or attribute by another name, variational's mean row kept out of its
draws, optimize's mode in the variable's own shape, and help() text for every method."""

import pathlib

import numpy as np
import pytest

exmc = pytest.importorskip("exmc")

REPO = pathlib.Path(__file__).resolve().parents[2]
MODEL = REPO / "examples" / "eight_schools.stan"
DATA = REPO / "examples" / "eight_schools.data.json"

MATRIX = """
parameters { real mu; matrix[2, 3] B; }
model { mu ~ normal(0, 1); to_vector(B) ~ normal(mu, 1); }
generated quantities { array[2] real y = normal_rng(rep_vector(mu, 2), 1); }
"""


@pytest.fixture(scope="module")
def matrix_fit():
    return exmc.compile(MATRIX).sample(chains=2, warmup=50, draws=7, seed=5, progress=False, save_warmup=True)


def test_draws_pd_is_cmdstanpys_table_a_row_per_draw(matrix_fit):
    # There was no pandas table of the draws (cmdstanpy's draws_pd): only summary().
    f = matrix_fit
    df = f.draws_pd()
    stats = f.stat_names
    assert list(df.columns[:3]) == ["chain__", "iter__", "draw__"]
    assert list(df.columns[3:3 + len(stats)]) == stats
    # exmc's flat names (summary()'s index), column-major as CmdStan orders a matrix's columns.
    assert list(df.columns[3 + len(stats):]) == f.names == ["mu", "B.1.1", "B.2.1", "B.1.2", "B.2.2", "B.1.3",
                                                            "B.2.3", "y.1", "y.2"]
    assert len(df) == 14
    assert df["chain__"].tolist() == [1] * 7 + [2] * 7
    assert df["iter__"].tolist() == list(range(1, 8)) * 2
    assert df["draw__"].tolist() == list(range(1, 15))
    for i in range(2):
        for j in range(3):
            np.testing.assert_array_equal(df[f"B.{i + 1}.{j + 1}"].to_numpy(), f["B"][:, :, i, j].reshape(-1))
    np.testing.assert_array_equal(df["lp__"].to_numpy(), f.sampler_stats()["lp__"].reshape(-1))
    np.testing.assert_array_equal(df["y.2"].to_numpy(), f["y"][:, :, 1].reshape(-1))


def test_draws_pd_keeps_the_variables_named_and_the_warmup_when_asked(matrix_fit):
    f = matrix_fit
    df = f.draws_pd(vars=["B", "lp__"], inc_warmup=True)
    assert list(df.columns) == ["chain__", "iter__", "draw__", "lp__", "B.1.1", "B.2.1", "B.1.2", "B.2.2", "B.1.3",
                                "B.2.3"]
    assert len(df) == 2 * (50 + 7)
    assert df["iter__"].tolist()[:3] == [1, 2, 3] and df["iter__"].iloc[56] == 57
    # Warmup first, then the draws, chain by chain.
    np.testing.assert_array_equal(df["B.2.3"].to_numpy()[:50], f.draws("B", warmup=True)[0, :, 1, 2])
    np.testing.assert_array_equal(df["B.2.3"].to_numpy()[50:57], f["B"][0, :, 1, 2])
    assert list(f.draws_pd("mu").columns) == ["chain__", "iter__", "draw__", "mu"]
    with pytest.raises(KeyError, match="vars: no variable 'nope'; the fit has lp__, .*mu, B, y"):
        f.draws_pd(["mu", "nope"])
    plain = exmc.compile(MATRIX).sample(chains=1, warmup=20, draws=3, seed=5, progress=False)
    with pytest.raises(ValueError, match="save_warmup=True"):
        plain.draws_pd(inc_warmup=True)


def test_cmdstanpys_attribute_names_say_what_exmc_calls_them(matrix_fit):
    # "'Fit' object has no attribute 'stan_variable'" said nothing of fit[name], whose shape
    # (chain, draw, ...) differs from cmdstanpy's joined chains.
    with pytest.raises(AttributeError, match=r"'stan_variable': fit\[name\] .*\(chain, draw, \.\.\.\); cmdstanpy's "
                                             r"stan_variable joins the chains"):
        matrix_fit.stan_variable("mu")
    with pytest.raises(AttributeError, match=r"'method_variables': fit.sampler_stats\(\)"):
        matrix_fit.method_variables()
    with pytest.raises(AttributeError, match=r"^'Fit' object has no attribute 'nothing_like_this'$"):
        matrix_fit.nothing_like_this
    assert not hasattr(matrix_fit, "posterior") and hasattr(matrix_fit, "draws_pd")


@pytest.mark.parametrize("name,value,exmc_name", [("iter_warmup", 10, "warmup"), ("iter_sampling", 10, "draws"),
                                                  ("tune", 10, "warmup"), ("target_accept", 0.9, "adapt_delta"),
                                                  ("parallel_chains", 2, "threads"), ("max_treedepth", 5, "max_depth"),
                                                  ("inits", 0, "init"), ("random_seed", 1, "seed")])
def test_sample_names_exmcs_argument_for_cmdstanpys_and_pymcs(name, value, exmc_name):
    # Python's own TypeError said only "unexpected keyword argument 'iter_warmup'".
    bound = exmc.compile(MATRIX).bind()
    with pytest.raises(TypeError, match=f"^sample\\(\\) got an unexpected keyword argument '{name}' "
                                        f"\\(exmc's name for it is '{exmc_name}'\\)$"):
        bound.sample(chains=1, draws=5, progress=False, **{name: value})
    with pytest.raises(TypeError, match="^sample\\(\\) got an unexpected keyword argument 'bogus'$"):
        exmc.compile(MATRIX).sample(chains=1, draws=5, progress=False, bogus=1)


def test_the_methods_name_exmcs_argument_and_cmdstans_metrics():
    bound = exmc.compile(MATRIX).bind()
    with pytest.raises(TypeError, match="^optimize\\(\\) got an unexpected keyword argument 'inits' \\(exmc's name "
                                        "for it is 'init'\\)$"):
        bound.optimize(inits={"mu": 0.0})
    with pytest.raises(TypeError, match="^variational\\(\\) .*'output_samples' \\(exmc's name for it is 'draws'\\)$"):
        bound.variational(output_samples=10)
    for method in ("laplace", "pathfinder"):
        with pytest.raises(TypeError, match=f"^{method}\\(\\) .*'random_seed' \\(exmc's name for it is 'seed'\\)$"):
            getattr(bound, method)(random_seed=1)
    # The shared check listed only exmc's spellings.
    with pytest.raises(ValueError, match="got 'dense_e' \\(CmdStan's dense_e is exmc's 'dense'\\)$"):
        bound.sample(metric="dense_e", chains=1, draws=5, progress=False)
    with pytest.raises(ValueError, match="got 'diag_e' \\(CmdStan's diag_e is exmc's 'diag'\\)$"):
        bound.sample(metric="diag_e", chains=1, draws=5, progress=False)


def test_variational_draws_leave_out_the_mean_row():
    # draws() and stan_variables() held the approximation's mean as their first "draw": np.mean
    # of them leaned toward it and np.std shrank (from_cmdstan_csv already left it out).
    bound = exmc.compile(MODEL).bind(DATA)
    v = bound.variational(seed=2, draws=40)
    table = v.table
    assert len(table) == 41
    np.testing.assert_array_equal(v.draws("mu"), table["mu"].to_numpy()[1:])
    assert v.draws("theta").shape == (40, 8)
    np.testing.assert_array_equal(v.draws("theta")[:, 2], table["theta.3"].to_numpy()[1:])
    assert v.draws("mu", mean=True) == table["mu"].iloc[0]
    np.testing.assert_array_equal(v.draws("theta", mean=True), table[[f"theta.{j}" for j in range(1, 9)]].iloc[0])
    assert {k: a.shape[0] for k, a in v.stan_variables().items()} == {k: 40 for k in v.stan_variables()}
    # The mean row is the mean of the approximation, not of these 40 draws.
    assert v.draws("mu").mean() != table["mu"].iloc[0]
    lap = bound.laplace(seed=2, draws=30)
    assert lap.draws("mu").shape == (30,)
    with pytest.raises(ValueError, match="only variational's result has a mean row, not laplace's"):
        lap.draws("mu", mean=True)


def test_optimize_stan_variable_is_the_mode_in_the_variables_shape():
    bound = exmc.compile(MODEL).bind(DATA)
    opt = bound.optimize(seed=1)
    mu = opt.stan_variable("mu")
    assert isinstance(mu, float) and mu == opt.draws("mu")[0]
    np.testing.assert_array_equal(opt.stan_variable("theta"), opt.draws("theta")[0])
    assert opt.stan_variable("theta").shape == (8,)
    # A bare KeyError('nope') before.
    with pytest.raises(KeyError, match="no variable 'nope'; the optimize result has lp__, mu, tau"):
        opt.draws("nope")


def test_help_describes_every_method():
    # help(bound.optimize) showed only the signature: the four methods had no docstring.
    for name, words in (("optimize", "mode"), ("laplace", "normal approximation"), ("pathfinder", "Pareto k"),
                        ("variational", "mean=True"), ("sample", "NUTS"), ("smc", "marginal likelihood")):
        doc = getattr(exmc.BoundModel, name).__doc__
        assert doc and words in doc, name
    for name in ("draws_pd", "draws", "stan_variables", "sampler_stats", "summary", "diagnose", "loo"):
        assert getattr(exmc.Fit, name).__doc__, name


def test_missing_values_in_data_are_refused_saying_where():
    # A pandas nullable column with pd.NA (or None in a list) said "cannot convert NAType to Stan data".
    import pandas as pd

    model = exmc.compile("data { int N; array[N] int y; }\nparameters { real mu; }\nmodel { mu ~ normal(0, 1); }\n")
    for y, shown in ((pd.Series([1, None, 3], dtype="Int64"), "<NA>"), ([1, None, 3], "None")):
        with pytest.raises(ValueError, match=f"^data variable 'y': 1 missing value \\({shown}\\), the first at index "
                                             "\\[2\\]: Stan data has no missing values"):
            model.bind({"N": 3, "y": y})
    table = pd.DataFrame({"a": [1, 2, 3], "b": [True, None, None]}).astype({"b": "boolean"})
    with pytest.raises(ValueError, match="^data variable 'X': 2 missing values \\(<NA>\\), the first at index \\[2,2\\]"):
        exmc.to_stan_json({"X": table})
    # Complete nullable columns are data as any other (and NaN in a float column stays NaN, as in Stan).
    assert exmc.to_stan_json({"y": pd.Series([1, 0, 3], dtype="Int64"), "z": pd.Series([1.0, np.nan])}) == \
        '{"y": [1, 0, 3], "z": [1.0, "NaN"]}'


def test_a_method_results_repr_says_which_method_and_what_its_rows_are():
    # It was "exmc.MethodResult(1 rows, 35 columns)" for every method.
    bound = exmc.compile(MODEL).bind(DATA)
    assert repr(bound.optimize(seed=1)) == "exmc.MethodResult(optimize: 1 row, 35 columns)"
    assert repr(bound.laplace(seed=1, draws=20)) == "exmc.MethodResult(laplace: 20 draws, 36 columns)"
    assert repr(bound.variational(seed=1, draws=20)) == "exmc.MethodResult(variational: 20 draws and the mean, 37 columns)"
    assert repr(bound.smc(seed=1, particles=50)) == "exmc.MethodResult(smc: 50 particles, 35 columns)"


def test_a_fits_draws_cannot_be_changed_through_the_arrays_it_hands_out(matrix_fit, tmp_path):
    # fit[name] is a view of the fit's one buffer: an in-place edit of it (centring the draws,
    # say) changed the fit, and every summary after, silently. cmdstanpy hands out copies.
    import pickle

    before = matrix_fit.summary()
    for f in (matrix_fit, pickle.loads(pickle.dumps(matrix_fit))):
        for get in (lambda: f["B"], lambda: f.draws("mu", warmup=True), lambda: f.draws_array(),
                    lambda: f.sampler_stats()["lp__"], lambda: f.stan_variables()["y"]):
            a = get()
            with pytest.raises(ValueError, match="read-only"):
                a -= 1.0
        own = f["B"].copy()
        own -= 1.0  # a copy is the user's own
        np.testing.assert_array_equal(own, f["B"] - 1.0)
    assert matrix_fit.summary().equals(before)


def test_log_density_takes_bridgestans_propto_and_jacobian():
    # BridgeStan's log_density(x, propto=..., jacobian=...) raised "unexpected keyword argument":
    # the full density (model comparison, a user's own importance sampler) was out of reach.
    import math

    bound = exmc.compile("data { int N; vector[N] y; }\nparameters { real mu; real<lower=0> sigma; }\n"
                         "model { mu ~ normal(0, 10); sigma ~ exponential(1); y ~ normal(mu, sigma); }\n").bind(
        {"N": 4, "y": [1.0, 2.5, 0.3, 1.7]})
    x = np.array([1.0, math.log(2.0)])  # mu = 1, sigma = 2
    ss = 0.0 + 2.25 + 0.49 + 0.49  # the residuals' squares at mu = 1
    log_jacobian = math.log(2.0)  # sigma = exp(x[1])
    kept = -0.005 - 2.0 - ss / 8 - 4 * math.log(2.0)  # what ~ keeps: the terms with a parameter
    constants = -math.log(10.0) - 0.5 * math.log(2 * math.pi) + 0.0 - 4 * 0.5 * math.log(2 * math.pi)
    expected = {(True, True): kept + log_jacobian, (True, False): kept,
                (False, True): kept + constants + log_jacobian, (False, False): kept + constants}
    for (propto, jacobian), value in expected.items():
        assert bound.log_density(x, propto=propto, jacobian=jacobian) == pytest.approx(value, rel=1e-13, abs=1e-13)
        lp, grad = bound.log_density_gradient(x, propto=propto, jacobian=jacobian)
        assert lp == pytest.approx(value, rel=1e-13, abs=1e-13)
        # d/dmu: -0.01 mu + sum(y - mu) / sigma^2; d/dlog(sigma): sigma (-1 + ss / sigma^3 - 4 / sigma) (+ 1).
        assert grad.tolist() == pytest.approx([-0.01 + 1.5 / 4, 2.0 * (-1 + ss / 8 - 4 / 2.0) + (1 if jacobian else 0)],
                                              rel=1e-12)
    assert bound.log_density(x) == bound.log_density(x, propto=True, jacobian=True)
    with pytest.raises(TypeError, match="propto: expected True or False"):
        bound.log_density(x, propto="no")


def test_cmdstanpys_method_attribute_names_say_what_exmc_calls_them():
    import pickle

    opt = exmc.compile(MODEL).bind(DATA).optimize(seed=1)
    with pytest.raises(AttributeError, match=r"'optimized_params_dict': result.stan_variable\(name\) is optimize's mode"):
        opt.optimized_params_dict
    with pytest.raises(AttributeError, match=r"'variational_sample': result.stan_variables\(\) \(the draws, without"):
        opt.variational_sample
    with pytest.raises(AttributeError, match=r"^'MethodResult' object has no attribute 'nothing_like_this'$"):
        opt.nothing_like_this
    assert pickle.loads(pickle.dumps(opt)).stan_variable("mu") == opt.stan_variable("mu")
