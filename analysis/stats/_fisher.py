"""Two-sided Fisher exact p-values for many 2x2 tables at once (private; used by
:func:`analysis.stats.significance.two_proportion_test`).

Why not ``scipy.stats.fisher_exact`` for every slice: it takes one table per call and its hypergeometric pmf
(Boost) costs ~0.2 ms per value for populations of 1e4-1e6, so a slice table pays about 1 ms per slice routed to
Fisher. Measured on this machine (2 cores, shared) with small slices of a large run (``bench/bench_stats.py``)::

    2000 slices, run of   200,000 rows: 1682 to Fisher; vectorised 0.091 s, fisher_exact loop 3.340 s (37x)
    2000 slices, run of 1,000,000 rows: 1684 to Fisher; vectorised 0.037 s, fisher_exact loop 1.694 s (46x)
    5000 slices, run of 1,000,000 rows: 4204 to Fisher; vectorised 0.021 s, fisher_exact loop 3.470 s (167x)

The slicing engine's budget is 2 s for a whole million-row table, so the vectorised path stays. It follows scipy's
algorithm step for step with a fast pmf (Loader's saddle-point method, as R's ``dhyper``) and ratio-recurrence tail
sums; every slice where one of scipy's discrete decisions is within a relative 1e-9 of its threshold (exactly tied
table probabilities, a tail boundary) is handed to ``scipy.stats.fisher_exact`` itself, so those decisions are
scipy's. P-values agree with scipy to ~1e-10 relative (tests/parity/stats/test_significance.py checks every
table with row totals up to 7, tied tables and large runs).

Reference: Loader, C. (2000). Fast and accurate computation of binomial probabilities.
"""

from __future__ import annotations

import decimal
import math

import numpy as np
import scipy.stats
from numpy.typing import NDArray


def _vectorised_binary_search(f, d: NDArray, lo: NDArray, hi: NDArray) -> NDArray[np.int64]:
    """Element-wise port of scipy's ``_binary_search_for_binom_tst``.

    ``f(x, sel)`` evaluates an ascending function at integer points ``x`` for
    the problems with indices ``sel``.  Returns i with ``f(i) <= d < f(i+1)``,
    following scipy's exact sequence of comparisons so results are identical.
    """
    lo = lo.copy()
    hi = hi.copy()
    result = np.empty(lo.shape[0], dtype=np.int64)
    done = np.zeros(lo.shape[0], dtype=bool)
    while True:
        act = np.flatnonzero(~done & (lo < hi))
        if act.size == 0:
            break
        mid = lo[act] + (hi[act] - lo[act]) // 2
        midval = f(mid, act)
        less = midval < d[act]
        greater = midval > d[act]
        equal = ~less & ~greater  # includes NaN, as in scipy's `else` branch
        lo[act[less]] = mid[less] + 1
        hi[act[greater]] = mid[greater] - 1
        result[act[equal]] = mid[equal]
        done[act[equal]] = True
    rest = np.flatnonzero(~done)
    if rest.size:
        val = f(lo[rest], rest)
        result[rest] = np.where(val <= d[rest], lo[rest], lo[rest] - 1)
    return result


# --- Fast, accurate hypergeometric pmf (Loader's saddle-point method) -------
#
# scipy's hypergeom (Boost) costs ~200 us per value for populations around
# 1e4-1e5, which makes a vectorised Fisher test over thousands of slices take
# seconds.  The functions below compute the pmf to ~1e-14 relative accuracy
# in O(1) numpy work per value, following Loader (2000), "Fast and accurate
# computation of binomial probabilities" (the algorithm of R's dhyper).


def _stirlerr_table() -> NDArray[np.float64]:
    # stirlerr(n) = log(n!) - log(sqrt(2 pi n) (n/e)^n), exact to double
    # precision via 50-digit decimal arithmetic (n = 0 is defined as 0).
    ctx = decimal.Context(prec=50)
    two_pi = ctx.multiply(decimal.Decimal(2), decimal.Decimal("3.14159265358979323846264338327950288419716939937510"))
    half_log_2pi = ctx.multiply(decimal.Decimal("0.5"), ctx.ln(two_pi))
    out = [0.0]
    for n in range(1, 16):
        dn = decimal.Decimal(n)
        val = (
            ctx.ln(decimal.Decimal(math.factorial(n)))
            - ctx.multiply(dn + decimal.Decimal("0.5"), ctx.ln(dn))
            + dn
            - half_log_2pi
        )
        out.append(float(val))
    return np.array(out)


_STIRLERR_SMALL = _stirlerr_table()
_LOG_2PI = math.log(2.0 * math.pi)


def _stirlerr(n: NDArray) -> NDArray:
    n = np.asarray(n, dtype=np.float64)
    small = n <= 15
    out = np.empty_like(n)
    out[small] = _STIRLERR_SMALL[n[small].astype(np.int64)]
    nb = n[~small]
    nn = nb * nb
    s0, s1, s2, s3, s4 = 1.0 / 12, 1.0 / 360, 1.0 / 1260, 1.0 / 1680, 1.0 / 1188
    out[~small] = (s0 - (s1 - (s2 - (s3 - s4 / nn) / nn) / nn) / nn) / nb
    return out


def _bd0(x: NDArray, np_: NDArray) -> NDArray:
    """Deviance term x log(x / np) + np - x, accurate when x ~ np."""
    x = np.asarray(x, dtype=np.float64)
    np_ = np.asarray(np_, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = x * np.log(x / np_) + np_ - x
    out = np.where(x == 0, np_, out)
    close = np.abs(x - np_) < 0.1 * (x + np_)
    if np.any(close):
        xc, mc = x[close], np_[close]
        v = (xc - mc) / (xc + mc)
        s = (xc - mc) * v
        ej = 2.0 * xc * v
        v2 = v * v
        for j in range(1, 60):
            ej = ej * v2
            s_new = s + ej / (2 * j + 1)
            if np.array_equal(s_new, s):
                break
            s = s_new
        out[close] = s
    return out


def _log_dbinom_raw(x: NDArray, n: NDArray, p: NDArray, q: NDArray) -> NDArray:
    """log P(Binomial(n, p) = x) for 0 <= x <= n, 0 < p < 1 (Loader)."""
    out = np.empty(np.broadcast(x, n, p, q).shape)
    x, n, p, q = np.broadcast_arrays(x, n, p, q)
    zero = x == 0
    full = (x == n) & ~zero
    mid = ~zero & ~full
    if np.any(zero):
        nz, pz, qz = n[zero], p[zero], q[zero]
        out[zero] = np.where(pz < 0.1, -_bd0(nz, nz * qz) - nz * pz, nz * np.log(qz))
    if np.any(full):
        nf, pf, qf = n[full], p[full], q[full]
        out[full] = np.where(qf < 0.1, -_bd0(nf, nf * pf) - nf * qf, nf * np.log(pf))
    if np.any(mid):
        xm, nm, pm, qm = x[mid], n[mid], p[mid], q[mid]
        lc = _stirlerr(nm) - _stirlerr(xm) - _stirlerr(nm - xm) - _bd0(xm, nm * pm) - _bd0(nm - xm, nm * qm)
        lf = _LOG_2PI + np.log(xm) + np.log1p(-xm / nm)
        out[mid] = lc - 0.5 * lf
    return out


def _hypergeom_pmf(x: NDArray, n1: NDArray, n2: NDArray, k: NDArray) -> NDArray[np.float64]:
    """P(X = x) for X ~ Hypergeom(population n1 + n2, n1 successes, k draws).

    Requires n1, n2 >= 1 and 0 < k < n1 + n2; returns 0 outside the support.
    """
    x, n1, n2, k = (np.asarray(v, dtype=np.float64) for v in (x, n1, n2, k))
    x, n1, n2, k = np.broadcast_arrays(x, n1, n2, k)
    inside = (x >= np.maximum(0.0, k - n2)) & (x <= np.minimum(k, n1))
    out = np.zeros(x.shape)
    if np.any(inside):
        xi, ai, bi, ki = x[inside], n1[inside], n2[inside], k[inside]
        tot = ai + bi
        p = ki / tot
        q = (tot - ki) / tot
        logp = _log_dbinom_raw(xi, ai, p, q) + _log_dbinom_raw(ki - xi, bi, p, q) - _log_dbinom_raw(ki, tot, p, q)
        out[inside] = np.exp(logp)
    return out


def _hypergeom_outer_tail(start: NDArray, step: int, n1: NDArray, n2: NDArray, k: NDArray) -> NDArray[np.float64]:
    """Sum of the pmf from ``start`` outward (``step`` = +1 up, -1 down).

    Only used for tails lying beyond the mode, where terms decrease.  Terms
    follow the exact ratio recurrence; summation stops at the support edge or
    once the log-concavity bound on the remainder (term * r / (1 - r)) is
    below 1e-17 of the running sum.
    """
    n1 = n1.astype(np.float64)
    n2 = n2.astype(np.float64)
    k = k.astype(np.float64)
    y = start.astype(np.float64).copy()
    term = _hypergeom_pmf(y, n1, n2, k)
    total = term.copy()
    lo_s = np.maximum(0.0, k - n2)
    hi_s = np.minimum(k, n1)
    active = np.flatnonzero((term > 0) & ((y < hi_s) if step > 0 else (y > lo_s)))
    while active.size:
        ya = y[active]
        a_, b_, k_ = n1[active], n2[active], k[active]
        if step > 0:
            ratio = (a_ - ya) * (k_ - ya) / ((ya + 1.0) * (b_ - k_ + ya + 1.0))
        else:
            ratio = ya * (b_ - k_ + ya) / ((a_ - ya + 1.0) * (k_ - ya + 1.0))
        t = term[active] * ratio
        term[active] = t
        total[active] += t
        y[active] = ya + step
        with np.errstate(divide="ignore", invalid="ignore"):
            converged = (ratio < 1.0) & (t * ratio / (1.0 - ratio) <= 1e-17 * total[active])
        at_edge = (y[active] >= hi_s[active]) if step > 0 else (y[active] <= lo_s[active])
        active = active[~(converged | at_edge | (t == 0))]
    return total


def _fisher_two_sided(a: NDArray, n1: NDArray, n2: NDArray, k: NDArray) -> NDArray[np.float64]:
    """Fast two-sided Fisher exact p-values, matching ``scipy.stats.fisher_exact``.

    Follows scipy's algorithm (mode tie check with relative tolerance 1e-14,
    own tail, opposite tail of tables with pmf <= pmf(a) * (1 + 1e-14) found
    by binary search) but with the fast pmf above and ratio-recurrence tail
    sums.  Any slice where one of these discrete decisions is within a
    relative 1e-9 of its threshold (e.g. exactly tied table probabilities) is
    recomputed with ``scipy.stats.fisher_exact``, so decisions always agree
    with scipy; the p-values then agree to ~1e-10 relative.
    """
    p = np.ones(a.shape[0])
    ok = (n1 > 0) & (n2 > 0) & (k > 0) & (k < n1 + n2)
    if not np.any(ok):
        return p
    sel = np.flatnonzero(ok)
    a, n1, n2, k = a[sel], n1[sel], n2[sel], k[sel]
    M = n1 + n2

    def pmf(x: NDArray, idx: NDArray) -> NDArray:
        return _hypergeom_pmf(x, n1[idx], n2[idx], k[idx])

    margin = 1e-9
    epsilon = 1e-14
    gamma = 1.0 + epsilon
    allidx = np.arange(a.shape[0])
    mode = ((k + 1) * (n1 + 1) / (M + 2)).astype(np.int64)
    pexact = pmf(a, allidx)
    pmode = pmf(mode, allidx)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.abs(pexact - pmode) / np.maximum(pexact, pmode)
    tie = (a == mode) | (rel <= epsilon)
    unsure = (a != mode) & (rel <= margin)
    d = pexact * gamma
    out = np.ones(a.shape[0])

    def near(v: NDArray, idx: NDArray) -> NDArray:
        return np.abs(v - d[idx]) <= margin * d[idx]

    for lower_side in (True, False):
        side = ~tie & ~unsure & ((a < mode) if lower_side else (a >= mode))
        idx = np.flatnonzero(side)
        if idx.size == 0:
            continue
        if lower_side:
            own = _hypergeom_outer_tail(a[idx], -1, n1[idx], n2[idx], k[idx])
            p_end = pmf(k[idx], idx)
        else:
            own = _hypergeom_outer_tail(a[idx], +1, n1[idx], n2[idx], k[idx])
            p_end = pmf(np.zeros_like(idx), idx)
        unsure[idx[near(p_end, idx)]] = True
        res = own.copy()
        need = p_end <= d[idx]
        ni = idx[need]
        if ni.size:
            if lower_side:
                guess = _vectorised_binary_search(lambda x, s, ni=ni: -pmf(x, ni[s]), -d[ni], mode[ni], k[ni])
                other = _hypergeom_outer_tail(guess + 1, +1, n1[ni], n2[ni], k[ni])
            else:
                guess = _vectorised_binary_search(lambda x, s, ni=ni: pmf(x, ni[s]), d[ni], np.zeros_like(ni), mode[ni])
                other = _hypergeom_outer_tail(guess, -1, n1[ni], n2[ni], k[ni])
            # The decision boundary lies between guess and guess + 1.
            unsure[ni[near(pmf(guess, ni), ni) | near(pmf(guess + 1, ni), ni)]] = True
            res[need] = own[need] + other
        out[idx] = res
    out = np.where(tie & ~unsure, 1.0, np.minimum(out, 1.0))
    for i in np.flatnonzero(unsure):
        table = [[a[i], n1[i] - a[i]], [k[i] - a[i], n2[i] - k[i] + a[i]]]
        out[i] = scipy.stats.fisher_exact(table).pvalue
    p[sel] = out
    return p


