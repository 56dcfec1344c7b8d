"""Python threads on one BoundModel: the density evaluated from several threads at once gives
the serial results, without holding the GIL, and two fits run at once give the draws each
gives alone."""

import pathlib
import sys
import threading
import time

import numpy as np
import pytest

exmc = pytest.importorskip("exmc")

REPO = pathlib.Path(__file__).resolve().parents[2]
MODEL = REPO / "examples" / "eight_schools.stan"
DATA = REPO / "examples" / "eight_schools.data.json"


def test_threads_evaluating_one_density_at_once_get_the_serial_results():
    bound = exmc.compile(MODEL).bind(DATA)
    xs = np.random.default_rng(5).normal(size=(4000, bound.dim()))
    serial = [bound.log_density_gradient(x) for x in xs]
    got = [None] * len(xs)

    def work(k):
        for i in range(k, len(xs), 6):
            got[i] = bound.log_density_gradient(xs[i])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for (v, g), (w, h) in zip(serial, got):
        assert v == w
        np.testing.assert_array_equal(g, h)
    assert [bound.log_density(x) for x in xs[:50]] == [v for v, _ in serial[:50]]


def test_log_density_gradient_lets_other_threads_run():
    # It held the GIL: a thread spinning beside it made no step during a 15 ms evaluation.
    code = """
data { int N; vector[N] y; }
parameters { real mu; real<lower=0> sigma; }
model { y ~ student_t(3, mu, sigma); }
"""
    y = np.random.default_rng(1).normal(1.0, 2.0, 500000)
    bound = exmc.compile(code).bind({"N": len(y), "y": y})
    x = np.array([0.3, 0.1])
    bound.log_density_gradient(x)
    count, stop = [0], threading.Event()

    def spin():
        while not stop.is_set():
            count[0] += 1

    old = sys.getswitchinterval()
    # Far longer than one evaluation: a thread holding the GIL through it is not asked to let go.
    sys.setswitchinterval(0.2)
    spinner = threading.Thread(target=spin)
    spinner.start()
    steps = []
    try:
        for _ in range(5):
            time.sleep(0.01)  # the spinner takes the GIL; this thread gets it back with a fresh interval
            before = count[0]
            bound.log_density_gradient(x)
            steps.append(count[0] - before)
    finally:
        stop.set()
        spinner.join()
        sys.setswitchinterval(old)
    assert max(steps) > 0, steps


def test_two_fits_at_once_from_two_threads_are_each_the_fit_alone():
    bound = exmc.compile(MODEL).bind(DATA)
    alone = {seed: bound.sample(chains=2, warmup=200, draws=200, seed=seed, progress=False) for seed in (1, 2)}
    fits = {}

    def run(seed):
        fits[seed] = bound.sample(chains=2, warmup=200, draws=200, seed=seed, progress=False)

    threads = [threading.Thread(target=run, args=(seed,)) for seed in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for seed in (1, 2):
        np.testing.assert_array_equal(fits[seed].draws_array(), alone[seed].draws_array())
        np.testing.assert_array_equal(fits[seed].sampler_stats()["lp__"], alone[seed].sampler_stats()["lp__"])
