"""Values given by name (sample's init dict, unconstrain's values) are checked against their
variable's shape, as data are: only the element count was checked, so an array of another shape
with as many elements was taken flat (a matrix given as a row, a vector as a 2-d array)."""

import re

import numpy as np
import pytest

import exmc

CODE = ("parameters { vector[4] v; matrix[2, 2] m; real s; } "
        "model { v ~ normal(0, 1); to_vector(m) ~ normal(0, 1); s ~ normal(0, 1); }")

GOOD = {"v": np.arange(4.0), "m": np.array([[1.0, 2.0], [3.0, 4.0]]), "s": 0.5}

WRONG = [({"v": np.zeros((2, 2))}, "variable 'v': expected shape (4,), found (2, 2)"),
         ({"m": np.zeros(4)}, "variable 'm': expected shape (2, 2), found (4,)"),
         ({"m": [[1.0, 2.0, 3.0, 4.0]]}, "variable 'm': expected shape (2, 2), found (1, 4)"),
         ({"s": [1.0]}, "variable 's': expected a single number, found shape (1,)"),
         ({"s": [[1.0]]}, "variable 's': expected a single number, found shape (1, 1)")]


@pytest.fixture(scope="module")
def bound():
    return exmc.compile(CODE).bind()


@pytest.mark.parametrize("values, message", WRONG)
def test_init_of_another_shape_is_refused(bound, values, message):
    with pytest.raises(ValueError, match=re.escape("init: " + message)):
        bound.sample(chains=1, warmup=10, draws=10, seed=1, progress=False, init=values)


@pytest.mark.parametrize("values, message", WRONG)
def test_unconstrain_of_another_shape_is_refused(bound, values, message):
    with pytest.raises(ValueError, match=re.escape("values: " + message)):
        bound.unconstrain({**GOOD, **values})


def test_values_of_their_shape_are_taken(bound):
    fit = bound.sample(chains=1, warmup=0, draws=1, seed=1, progress=False, init=GOOD, fixed_param=True)
    assert np.array_equal(fit["m"][0, 0], GOOD["m"])
    x = bound.unconstrain(GOOD)
    assert np.array_equal(bound.constrain(x)["m"], GOOD["m"])
    # Unknown names are the sampler's to warn about, not shapes to check.
    with pytest.warns(RuntimeWarning, match="'zz'"):
        bound.sample(chains=1, warmup=0, draws=1, seed=1, progress=False, init={**GOOD, "zz": [1, 2]},
                     fixed_param=True)
