"""Stan's bernoulli_logit_glm and normal_id_glm written in a program: the same log density and
gradient as the regression written out element by element, and arguments of the wrong shape
refused when the model is built (the kernel read past x for a beta longer than x's columns).
Before, such programs stopped at "unknown distribution 'bernoulli_logit_glm'"."""

import numpy as np
import pytest

import exmc

DATA_BLOCK = "data { int N; int K; matrix[N, K] X; array[N] int y; vector[N] yr; }\n"
PRIORS = "a ~ normal(0, 1); b ~ normal(0, 1); s ~ exponential(1);"


def data():
    rng = np.random.default_rng(1)
    n, k = 50, 3
    return {"N": n, "K": k, "X": rng.normal(size=(n, k)), "y": (rng.uniform(size=n) < 0.5).astype(int),
            "yr": rng.normal(size=n)}


def test_glm_densities_equal_the_regression_written_element_by_element():
    params = "parameters { real a; vector[K] b; real<lower=0> s; }\n"
    glm = exmc.compile(DATA_BLOCK + params + "model { y ~ bernoulli_logit_glm(X, a, b); "
                       "yr ~ normal_id_glm(X, a, b, s); " + PRIORS + " }").bind(data())
    loop = exmc.compile(DATA_BLOCK + params + "model { for (n in 1:N) { y[n] ~ bernoulli_logit(a + dot_product(X[n], b)); "
                        "yr[n] ~ normal(a + dot_product(X[n], b), s); } " + PRIORS + " }").bind(data())
    rng = np.random.default_rng(2)
    for _ in range(5):
        x = rng.normal(size=glm.dim())
        lp_glm, g_glm = glm.log_density_gradient(x)
        lp_loop, g_loop = loop.log_density_gradient(x)
        assert lp_glm == pytest.approx(lp_loop, rel=1e-13)
        np.testing.assert_allclose(g_glm, g_loop, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("params, call, said", [
    ("real a; vector[K + 1] b;", "y ~ bernoulli_logit_glm(X, a, b)", "beta has 4 elements but x has 3 columns"),
    ("vector[N + 2] a; vector[K] b;", "y ~ bernoulli_logit_glm(X, a, b)",
     "alpha has 52 elements: expected 1 or one per element of y (50)"),
    ("real a; vector[K] b;", "y[1:40] ~ bernoulli_logit_glm(X, a, b)", "x has 50 rows but y has 40 elements"),
    ("real a; vector[K] b; vector<lower=0>[3] s;", "yr ~ normal_id_glm(X, a, b, s)",
     "sigma has 3 elements: expected 1 or one per element of y (50)"),
])
def test_glm_arguments_of_the_wrong_shape_are_refused(params, call, said):
    program = DATA_BLOCK + "parameters { " + params + " }\nmodel { " + call + "; }\n"
    bound = exmc.compile(program).bind(data())
    with pytest.raises(ValueError, match=said.replace("(", r"\(").replace(")", r"\)")):
        bound.dim()  # the model is built (and checked) when the density is first needed
