"""What a Fit and a BoundModel do as Python objects: pickling (multiprocessing, joblib, caches),
iteration, and asking for warmup draws that were not kept."""

import pathlib
import pickle

import numpy as np
import pytest

exmc = pytest.importorskip("exmc")

REPO = pathlib.Path(__file__).resolve().parents[2]
MODEL = REPO / "examples" / "eight_schools.stan"
DATA = REPO / "examples" / "eight_schools.data.json"

PROGRAM = """
data { int N; vector[N] y; }
parameters { real mu; }
model { y ~ normal(mu, 1); }
generated quantities { real y1 = y[1]; }
"""


@pytest.fixture(scope="module")
def fit():
    return exmc.compile(MODEL).sample(data=DATA, chains=2, warmup=100, draws=50, seed=4, progress=False)


@pytest.mark.parametrize("data", ["path", "dict"])
def test_a_pickled_fit_and_bound_model_come_back_whole(data, tmp_path):
    # It raised "cannot pickle 'exmc._exmc.Program' object": a Fit keeps its BoundModel.
    if data == "path":
        model = exmc.compile(MODEL)
        bound = model.bind(DATA)
    else:
        model = exmc.compile(PROGRAM)
        bound = model.bind({"N": 3, "y": np.array([0.5, 1.5, 2.5])})
    fit = bound.sample(chains=2, warmup=100, draws=30, seed=9, progress=False)
    back = pickle.loads(pickle.dumps(fit))
    assert repr(back) == repr(fit)
    for name in fit.variables:
        np.testing.assert_array_equal(back[name], fit[name])
    assert back.summary().equals(fit.summary())
    # The model came back bound to the same data: the same density, the same quantities.
    b2 = back.model
    x = np.linspace(-0.5, 0.5, bound.dim())
    assert b2.log_density_gradient(x)[0] == bound.log_density_gradient(x)[0]
    gq, gq2 = bound.generate_quantities(fit, seed=2), b2.generate_quantities(back, seed=2)
    for name in gq:
        np.testing.assert_array_equal(gq2[name], gq[name])
    assert pickle.loads(pickle.dumps(bound)).sample(chains=1, warmup=50, draws=20, seed=3, progress=False)[
        fit.variables[0]].shape[:2] == (1, 20)
    if data == "dict":
        assert b2.data["N"] == 3


def test_a_pickled_bound_model_rebinds_from_its_text_not_its_files(tmp_path):
    program, data = tmp_path / "m.stan", tmp_path / "d.json"
    program.write_text(PROGRAM)
    data.write_text('{"N": 2, "y": [1.0, 3.0]}')
    bound = exmc.compile(program).bind(data)
    blob = pickle.dumps(bound)
    program.unlink()
    data.unlink()
    back = pickle.loads(blob)
    assert back.log_density([0.0]) == bound.log_density([0.0])


def test_warmup_draws_without_save_warmup_are_refused_saying_how(fit):
    # They were (chains, 0) arrays, as if warmup had kept nothing.
    for call in (lambda: fit.draws("mu", warmup=True), lambda: fit.draws_array(warmup=True),
                 lambda: fit.stan_variables(warmup=True), lambda: fit.sampler_stats(warmup=True)):
        with pytest.raises(ValueError, match="save_warmup=True"):
            call()
    kept = exmc.compile(MODEL).sample(data=DATA, chains=2, warmup=100, draws=50, seed=4, save_warmup=True,
                                      progress=False)
    assert kept.draws("mu", warmup=True).shape == (2, 100)
    assert kept.sampler_stats(warmup=True)["lp__"].shape == (2, 100)
    # warmup=0 with save_warmup: there is no warmup, and that is what it gives.
    none = exmc.compile(MODEL).sample(data=DATA, chains=1, warmup=0, draws=5, seed=4, save_warmup=True,
                                      progress=False)
    assert none.draws("mu", warmup=True).shape == (1, 0)


def test_iterating_a_fit_gives_its_variable_names(fit):
    # iter(fit) fell back on fit[0], fit[1], ...: KeyError("no variable 0").
    assert list(fit) == fit.variables == ["mu", "tau", "theta_tilde", "theta", "log_lik", "y_rep"]
    assert {name: fit[name].shape[:2] for name in fit}["theta"] == (2, 50)


def test_summary_takes_cmdstanpys_percentiles_and_sig_figs(fit):
    # cmdstanpy's fit.summary(percentiles=..., sig_figs=...) raised TypeError here.
    df = fit.summary(percentiles=(2.5, 50, 97.5), sig_figs=3)
    cols = list(df.columns)
    assert cols[cols.index("q95") + 1:cols.index("q95") + 4] == ["q2.5", "q50", "q97.5"]
    mu = fit["mu"].ravel()
    exact = fit.summary(percentiles=[2.5, 97.5])
    assert exact.loc["mu", "q2.5"] == np.quantile(mu, 0.025)  # R's type 7
    assert exact.loc["mu", "q97.5"] == np.quantile(mu, 0.975)
    assert exact.loc["lp__", "q2.5"] == np.quantile(fit.sampler_stats()["lp__"].ravel(), 0.025)
    assert fit.summary(percentiles=[50]).loc["tau", "q50"] == fit.summary().loc["tau", "median"]
    for v in df["sd"]:
        assert float(f"{v:.3g}") == v  # three significant digits
    assert df.loc["mu", "mean"] == float(f"{fit.summary().loc['mu', 'mean']:.3g}")
    for bad in ([101], ["5"], [True]):
        with pytest.raises(ValueError, match="percentiles"):
            fit.summary(percentiles=bad)
    with pytest.raises(ValueError, match="sig_figs"):
        fit.summary(sig_figs=0)


def test_a_sampler_statistic_asked_for_as_a_variable_points_to_sampler_stats(fit):
    with pytest.raises(KeyError, match=r"'lp__' is a sampler statistic: fit.sampler_stats\(\)\['lp__'\]"):
        fit["lp__"]
