"""The compiled density from Python: variable shapes and flat names, the log density and its
gradient, constrain/unconstrain and their errors (moved out of test_module.py)."""

import os
import pathlib
import re

import numpy as np
import pytest

import exmc

REPO = pathlib.Path(os.environ.get("EXMC_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
MODEL = REPO / "examples" / "eight_schools.stan"
DATA = REPO / "examples" / "eight_schools.data.json"


@pytest.fixture(scope="module")
def eight():
    return exmc.compile(str(MODEL))


# ---------------------------------------------------------------------------- shapes

SHAPES = """
parameters {
  matrix[2, 3] M;
  array[2] vector[3] a;
  real s;
}
model {
  to_vector(M) ~ normal(0, 1);
  for (i in 1:2) a[i] ~ normal(i, 1);
  s ~ normal(0, 1);
}
generated quantities {
  matrix[3, 2] Mt = M';
  array[2, 3] real b;
  for (i in 1:2) for (j in 1:3) b[i, j] = a[i][j] + 10 * j;
}
"""


def test_shapes_match_flat_names():
    fit = exmc.compile(SHAPES).sample(seed=3, chains=2, warmup=50, draws=30, progress=False)
    flat = fit.draws_array()
    assert fit["M"].shape == (2, 30, 2, 3)
    # array[2] vector[3] a: the library reports it as one vector of 6 ("a.1" ... "a.6", a[1]
    # first), not as CmdStan's (2, 3) "a.1.1", "a.2.1", ...; the module follows the library.
    assert fit["a"].shape == (2, 30, 6)
    assert [n for n in fit.names if n.startswith("a.")] == [f"a.{k}" for k in range(1, 7)]
    for k in range(6):
        assert np.array_equal(fit["a"][:, :, k], flat[:, :, fit.names.index(f"a.{k + 1}")])
    assert fit["s"].shape == (2, 30)
    assert fit["Mt"].shape == (2, 30, 3, 2) and fit["b"].shape == (2, 30, 2, 3)
    checked = 0
    for name in ("M", "Mt", "b"):
        arr = fit[name]
        for i in range(arr.shape[2]):
            for j in range(arr.shape[3]):
                col = fit.names.index(f"{name}.{i + 1}.{j + 1}")
                assert np.array_equal(arr[:, :, i, j], flat[:, :, col])
                checked += 1
    assert checked == 18
    # The values mean what the names say: Mt is M's transpose, b[i, j] = a[i][j] + 10 j.
    assert np.array_equal(fit["Mt"], np.swapaxes(fit["M"], 2, 3))
    assert np.allclose(fit["b"], fit["a"].reshape(2, 30, 2, 3) + 10 * np.arange(1, 4))
    assert np.shares_memory(fit["M"], flat)  # a view, not a copy
    assert set(fit.stan_variables()) == {"M", "a", "s", "Mt", "b"}
    assert fit.sampler_stats()["lp__"].shape == (2, 30)


# ---------------------------------------------------------------------------- log density

def test_log_density_gradient_matches_finite_differences(eight):
    bm = eight.bind(str(DATA))
    assert bm.dim() == 10
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, bm.dim())
    v, g = bm.log_density_gradient(x)
    assert v == pytest.approx(bm.log_density(x), rel=1e-12)
    h = 1e-6
    fd = np.array([(bm.log_density(x + h * e) - bm.log_density(x - h * e)) / (2 * h) for e in np.eye(bm.dim())])
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError):
        bm.log_density(np.zeros(3))


def test_constrain_unconstrain_round_trip(eight):
    bm = eight.bind(str(DATA))
    x = np.random.default_rng(2).normal(size=bm.dim())
    values = bm.constrain(x)
    assert set(values) == {"mu", "tau", "theta_tilde", "theta"}
    assert values["tau"] > 0 and values["theta"].shape == (8,)
    np.testing.assert_allclose(values["theta"], values["mu"] + values["tau"] * values["theta_tilde"], rtol=1e-12)
    back = bm.unconstrain({k: values[k] for k in ("mu", "tau", "theta_tilde")})
    np.testing.assert_allclose(back, x, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError):
        bm.unconstrain({"mu": 0.0, "tau": -1.0, "theta_tilde": np.zeros(8)})
    names = bm.param_names()
    assert names[:3] == ["mu", "tau", "theta_tilde.1"] and len(names) == 2 + 8 + 8


def test_matrix_constrain_column_major():
    bm = exmc.compile(SHAPES).bind()
    x = np.arange(bm.dim(), dtype=float) / 10
    v = bm.constrain(x)
    flat = dict(zip(bm.param_names(), np.concatenate([np.ravel(v["M"], order="F"),
                                                      np.ravel(v["a"], order="F"), [v["s"]]])))
    assert bm.param_names()[:2] == ["M.1.1", "M.2.1"]
    back = bm.unconstrain({"M": v["M"], "a": v["a"], "s": v["s"]})
    np.testing.assert_allclose(back, x, atol=1e-12)
    assert len(flat) == 13


def test_unconstrain_errors_speak_of_its_values_not_initial_values(eight):
    # bind(data).unconstrain(...) said "variable 'tau': no initial value given", "initial value has 7
    # elements" and "unknown variable 'foo' in the initial values": the sampler's words, not its own.
    bound = eight.bind(str(DATA))
    good = {"mu": 1.0, "tau": 2.0, "theta_tilde": np.zeros(8)}
    for values, error, message in [
            ({"mu": 1.0}, ValueError, "values: variable 'tau': no value given"),
            ({**good, "theta_tilde": np.zeros(7)}, ValueError,
             "values: variable 'theta_tilde': value has 7 elements; expected 8"),
            ({**good, "foo": 1.0}, ValueError, "values: unknown variable 'foo'"),
            ({**good, "tau": -1.0}, ValueError,
             "values: variable 'tau' (lower): value -1 at index 1 is not above the lower bound 0"),
            ({**good, "mu": None}, TypeError,
             "values: variable 'mu': expected a number or an array of numbers, got None"),
            ([1.0, 2.0], TypeError, "values: expected a dict of constrained values by name, got list")]:
        with pytest.raises(error, match="^" + re.escape(message) + "$"):
            bound.unconstrain(values)
    x = bound.unconstrain(good)
    assert bound.constrain(x)["tau"] == pytest.approx(2.0)
