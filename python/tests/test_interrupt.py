"""Ctrl-C during a long call: a SIGINT sent to a Python process running a method stops it within
seconds. The methods other than sample raise KeyboardInterrupt (they have no partial result);
sample returns the draws so far, marked interrupted (docs/python.md)."""

import os
import re
import signal
import subprocess
import sys
import time

import pytest

exmc = pytest.importorskip("exmc")

# Each call below runs for a minute or more on this normal model with 200,000 observations
# (about 30 us a gradient): without a working Ctrl-C the child outlives the test's wait.
CHILD = r"""
import signal, sys, time, warnings
import numpy as np
import exmc
# A process started in the background by a non-interactive shell ignores SIGINT, and Python
# then installs no handler: put Python's own back, as an interactive session has it.
signal.signal(signal.SIGINT, signal.default_int_handler)
code = '''
data { int N; vector[N] y; }
parameters { real mu; real<lower=0> sigma; }
model { y ~ normal(mu, sigma); mu ~ normal(0, 10); sigma ~ normal(0, 10); }
'''
y = np.random.default_rng(1).normal(1.0, 2.0, 200000)
bound = exmc.compile(code).bind({"N": len(y), "y": y})
calls = {
    # One thread: chain 2 waits for chain 1, and has no draw when Ctrl-C comes.
    "sample": lambda: bound.sample(chains=2, draws=10**6, seed=1, threads=1, progress=False),
    "laplace": lambda: bound.laplace(seed=1, draws=2 * 10**6),
    "pathfinder": lambda: bound.pathfinder(seed=1, num_paths=20, draws=10**5),
    "variational": lambda: bound.variational(seed=1, draws=2 * 10**6),
    "smc": lambda: bound.smc(seed=1, particles=10**5),
}
call = calls[sys.argv[1]]
print("ready", flush=True)
try:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    print("returned", repr(result), "|", "; ".join(str(w.message) for w in caught), flush=True)
except KeyboardInterrupt:
    print("KeyboardInterrupt", flush=True)
"""


def interrupted_output(method, tmp_path, wait_after_start=2.0, limit=20.0):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.Popen([sys.executable, str(script), method], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(wait_after_start)
        assert proc.poll() is None, f"{method} finished before the interrupt: make its run longer"
        proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
        try:
            out, _ = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{method}: still running {limit:.0f} s after Ctrl-C")
        return out, time.monotonic() - sent, proc.returncode
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.mark.parametrize("method", ["laplace", "pathfinder", "variational", "smc"])
def test_ctrl_c_stops_a_method_with_keyboard_interrupt(method, tmp_path):
    out, _, code = interrupted_output(method, tmp_path)
    assert code == 0, out
    assert out.strip().splitlines()[-1] == "KeyboardInterrupt", out


def test_ctrl_c_keeps_the_draws_of_the_chains_that_ran_when_others_waited_their_turn(tmp_path):
    # It kept the draws every chain had: none, since chain 2 had not started.
    out, _, code = interrupted_output("sample", tmp_path)
    assert code == 0, out
    last = out.strip().splitlines()[-1]
    m = re.match(r"returned exmc\.Fit\(1 chains x (\d+) draws, seed 1, interrupted\)", last)
    assert m and int(m.group(1)) > 0, out
    assert "1 of 2 chains; chain 2 left out, without draws yet" in last, out
