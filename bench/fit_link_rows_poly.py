#!/usr/bin/env python3
"""Minimax coefficients of fast::exp_in_range16 and the double fast::log1p_unit (fast_math.hpp).

exp(r) ~ 1 + r + c2 r^2 + ... + c6 r^6 on |r| <= ln 2 / 32 (relative error), and
log1p(r) ~ r + d2 r^2 + ... + d9 r^9 on r in [-0.0285, 0.0329] (relative error; the reduced
range of log1p_unit's c = j / 16, j = round(15.484375 x)). The constant and linear terms are kept
exact (1 and r). A Remez exchange in mpmath fits the rest; the coefficients are then rounded to
double, and the relative error printed is that of the rounded polynomial (evaluated exactly)
over the range: the rounding adds under 1e-4 of an ulp. Prints the coefficients as C++ hex literals and the relative error of the rounded polynomial (evaluated
exactly) over the range. Run: python3 bench/fit_link_rows_poly.py
"""
import mpmath as mp

mp.mp.dps = 40


def remez(f, w, lo, hi, degs, iters=8, grid=800):
    """Coefficients a of sum a_i r^degs[i] minimising max |w(r) (f(r) - p(r))| on [lo, hi]."""
    n = len(degs)
    m = n + 1
    xs = [(lo + hi) / 2 - (hi - lo) / 2 * mp.cos(mp.pi * k / (m - 1)) for k in range(m)]
    pts = [lo + (hi - lo) * k / grid for k in range(grid + 1)]
    pts = [p for p in pts if p != 0]
    a = None
    for _ in range(iters):
        A = mp.matrix(m, m)
        b = mp.matrix(m, 1)
        for k, x in enumerate(xs):
            for i, d in enumerate(degs):
                A[k, i] = x ** d
            A[k, n] = (-1) ** k / w(x)
            b[k] = f(x)
        sol = mp.lu_solve(A, b)
        a = [sol[i] for i in range(n)]
        err = lambda x: w(x) * (f(x) - sum(c * x ** d for c, d in zip(a, degs)))
        es = [err(x) for x in pts]
        # local extrema of the error, alternating in sign
        ext = []
        for k in range(len(pts)):
            left = es[k - 1] if k > 0 else None
            right = es[k + 1] if k + 1 < len(pts) else None
            v = es[k]
            if (left is None or abs(v) >= abs(left)) and (right is None or abs(v) >= abs(right)):
                ext.append((pts[k], v))
        alt = []
        for x, v in ext:
            if alt and mp.sign(alt[-1][1]) == mp.sign(v):
                if abs(v) > abs(alt[-1][1]):
                    alt[-1] = (x, v)
            else:
                alt.append((x, v))
        while len(alt) > m:  # drop the smaller end
            if abs(alt[0][1]) < abs(alt[-1][1]):
                alt.pop(0)
            else:
                alt.pop()
        if len(alt) < m:
            break
        xs = [x for x, _ in alt]
    return a


def fit_rounded(f, w, lo, hi, degs):
    """The minimax coefficients rounded to double. Rounding c_k moves the polynomial by at most
    2^-53 |c_k| r^k, under 2^-53 * 2.4e-4 relative to the result for k >= 2 here, far below the
    fit's own error; show() measures the error of the rounded coefficients."""
    return [(d, float(c)) for d, c in zip(degs, remez(f, w, lo, hi, degs))]


def max_rel(f_true, poly, lo, hi, n=4000):
    worst = 0
    for k in range(n + 1):
        x = lo + (hi - lo) * k / n
        if x == 0:
            continue
        t = f_true(x)
        worst = max(worst, abs((poly(x) - t) / t))
    return worst


def show(name, lead, fixed, f_true, lo, hi):
    print(f"{name}:")
    for d, c in fixed:
        print(f"  r^{d}: {c.hex()}  ({c!r})")
    poly = lambda x: lead(x) + sum(mp.mpf(c) * x ** d for d, c in fixed)
    e = max_rel(f_true, poly, lo, hi)
    print(f"  max relative error {mp.nstr(e, 4)} = {mp.nstr(e / mp.mpf(2) ** -53, 4)} half-ulp units (2^-53)")


if __name__ == "__main__":
    h = mp.log(2) / 32 * (1 + mp.mpf(2) ** -40)
    exp_f = lambda x: mp.exp(x) - 1 - x
    exp_w = lambda x: 1 / mp.exp(x)
    ex = fit_rounded(exp_f, exp_w, -h, h, [2, 3, 4, 5, 6])
    show("exp_in_range16 (1 + r + ...)", lambda x: 1 + x, ex, mp.exp, -h, h)
    lo, hi = mp.mpf("-0.0285"), mp.mpf("0.0329")
    l_f = lambda x: mp.log1p(x) - x
    l_w = lambda x: 1 / abs(mp.log1p(x))
    lg = fit_rounded(l_f, l_w, lo, hi, [2, 3, 4, 5, 6, 7, 8, 9])
    show("log1p_unit (r + ...)", lambda x: x, lg, mp.log1p, lo, hi)
