"""constrain() of non-finite unconstrained values: the log transforms' input clamp (which keeps
exp() finite for the sampler's large finite positions) turned NaN into exp(200) = 7.2e86, and
+-inf into exp(+-200), finite numbers that look like values."""
import math

import numpy as np
import pytest

import exmc

PROGRAM = """
parameters {
  real<lower=0> s;
  real<upper=1> u;
  real<lower=-1, upper=2> b;
  positive_ordered[2] p;
}
transformed parameters { real t = 2 * s; }
model { s ~ exponential(1); u ~ normal(0, 1); p ~ exponential(1); }
"""


@pytest.fixture(scope="module")
def bound():
    return exmc.compile(PROGRAM).bind()


def test_nan_gives_nan_and_infinities_their_limits(bound):
    v = bound.constrain(np.array([np.nan, np.nan, np.nan, np.nan, np.nan]))
    assert math.isnan(v["s"]) and math.isnan(v["u"]) and math.isnan(v["b"]) and math.isnan(v["t"])
    assert np.isnan(v["p"]).all()
    v = bound.constrain(np.array([np.inf, np.inf, np.inf, 0.0, np.inf]))
    assert v["s"] == math.inf and v["t"] == math.inf and v["u"] == -math.inf and v["b"] == 2.0
    assert v["p"][0] == 1.0 and v["p"][1] == math.inf
    v = bound.constrain(np.array([-np.inf, -np.inf, -np.inf, 0.0, -np.inf]))
    assert v["s"] == 0.0 and v["t"] == 0.0 and v["u"] == 1.0 and v["b"] == -1.0
    assert v["p"][0] == 1.0 and v["p"][1] == 1.0


def test_large_finite_values_keep_the_clamp(bound):
    # What the clamp is for: a finite position far out stays finite (exp(200)), as the sampler
    # saw it; unchanged.
    v = bound.constrain(np.array([1000.0, 1000.0, 0.0, 0.0, 0.0]))
    assert v["s"] == math.exp(200) and v["u"] == 1 - math.exp(200)
    # Also beside a non-finite coordinate.
    v = bound.constrain(np.array([1000.0, 1000.0, np.nan, 0.0, 0.0]))
    assert v["s"] == math.exp(200) and v["u"] == 1 - math.exp(200) and math.isnan(v["b"])
