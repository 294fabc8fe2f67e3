"""Series statistics against independent implementations: statsmodels (Cochran-Armitage as the ordinal association
test and as the logistic score test; OLS with HC3), scipy (chi-square of homogeneity), a direct computation of the
population stability index and of the Kitagawa decomposition on hand-worked tables, and a numerical delta method
over the full multinomial of cells for the decomposition's intervals."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
import statsmodels.api as sm
from statsmodels.stats.contingency_tables import Table

from analysis.stats.trend import cochran_armitage, distribution_shift, kitagawa, population_stability_index, slope_hc3

CASES = [
    ([10, 15, 20, 25], [100, 100, 100, 100], None),
    ([3, 9, 2, 30, 12], [40, 90, 15, 120, 33], [0, 1000, 2000, 4000, 8000]),
    ([50, 48, 52], [500, 510, 490], [1.0, 2.0, 3.5]),
    ([0, 1, 5], [10, 10, 10], None),
]


@pytest.mark.parametrize("events,n,scores", CASES)
def test_cochran_armitage_is_the_ordinal_association_test_with_n_for_n_minus_1(events, n, scores):
    t = np.arange(len(n), dtype=float) if scores is None else np.asarray(scores, dtype=float)
    table = np.column_stack([np.subtract(n, events), events])
    reference = Table(table, shift_zeros=False).test_ordinal_association(row_scores=t, col_scores=np.array([0.0, 1.0]))
    total = float(np.sum(n))
    mine = cochran_armitage([events], [n], scores)
    assert mine.z[0] == pytest.approx(reference.zscore * np.sqrt(total / (total - 1)), rel=1e-10)


@pytest.mark.parametrize("events,n,scores", CASES)
def test_cochran_armitage_is_the_logistic_regression_score_test(events, n, scores):
    t = np.arange(len(n), dtype=float) if scores is None else np.asarray(scores, dtype=float)
    y = np.concatenate([np.r_[np.ones(e), np.zeros(m - e)] for e, m in zip(events, n)])
    x = np.concatenate([np.full(m, s) for m, s in zip(n, t)])
    null = sm.GLM(y, np.ones((len(y), 1)), family=sm.families.Binomial())
    fitted = null.fit()
    chi2, p, _ = null.score_test(fitted.params, exog_extra=x[:, None])
    mine = cochran_armitage([events], [n], scores)
    assert mine.z[0] ** 2 == pytest.approx(float(np.squeeze(chi2)), rel=1e-8)
    assert mine.p_value[0] == pytest.approx(float(np.squeeze(p)), rel=1e-6)


def test_cochran_armitage_slope_is_the_weighted_least_squares_line_and_is_vectorised():
    events = np.array([[10, 15, 20, 25], [5, 5, 5, 5], [30, 20, 10, 0]])
    n = np.array([[100, 100, 100, 100], [50, 50, 50, 50], [60, 60, 60, 60]])
    got = cochran_armitage(events, n)
    for row in range(3):
        fit = sm.WLS(events[row] / n[row], sm.add_constant(np.arange(4.0)), weights=n[row]).fit()
        assert got.slope[row] == pytest.approx(fit.params[1], abs=1e-12)
        assert got.p_value[row] == pytest.approx(cochran_armitage(events[row], n[row]).p_value[0])
    assert got.slope[1] == 0.0 and got.p_value[1] == pytest.approx(1.0)


def test_cochran_armitage_undefined_cases_are_nan():
    got = cochran_armitage([[0, 0, 0], [5, 0, 0]], [[10, 10, 10], [10, 0, 0]])
    assert np.isnan(got.p_value).all()


def _rows(rng, n_runs=5):
    n = rng.integers(20, 80, n_runs)
    t = np.sort(rng.uniform(0, 10, n_runs))
    y = [rng.normal(0.3 + 0.05 * s, 0.1 + 0.05 * s, m) for s, m in zip(t, n)]
    return n, t, y


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_slope_hc3_equals_statsmodels_ols_hc3_on_the_rows(seed):
    n, t, y = _rows(np.random.default_rng(seed))
    sums = np.array([v.sum() for v in y])
    sums_sq = np.array([(v ** 2).sum() for v in y])
    mine = slope_hc3([n], [sums], [sums_sq], t)
    x = np.concatenate([np.full(m, s) for m, s in zip(n, t)])
    fit = sm.OLS(np.concatenate(y), sm.add_constant(x)).fit(cov_type="HC3")
    low, high = fit.conf_int(alpha=0.05)[1]
    assert mine.slope[0] == pytest.approx(fit.params[1], rel=1e-9)
    assert mine.z[0] == pytest.approx(fit.tvalues[1], rel=1e-8)
    assert mine.p_value[0] == pytest.approx(fit.pvalues[1], rel=1e-6, abs=1e-300)
    assert (mine.ci_low[0], mine.ci_high[0]) == pytest.approx((low, high), rel=1e-8)


def test_kitagawa_on_a_hand_worked_table():
    # run 1: slice A 20/100 wrong (20%), B 30/100 (30%) -> 25%; run 2: A 10/40 (25%), B 48/160 (30%) -> 29%
    # composition: (0.2 - 0.5) * 0.225 + (0.8 - 0.5) * 0.30 = -0.0675 + 0.09 = 0.0225
    # within:      (0.25 - 0.20) * 0.35 + (0.30 - 0.30) * 0.65 = 0.0175
    d = kitagawa([20, 30], [100, 100], [10, 48], [40, 160])
    assert (d.before, d.after) == pytest.approx((0.25, 0.29))
    assert d.composition == pytest.approx(0.0225)
    assert d.within == pytest.approx(0.0175)
    assert d.total == pytest.approx(d.composition + d.within)
    assert d.slice_composition == pytest.approx([-0.0675, 0.09])
    assert d.slice_within == pytest.approx([0.0175, 0.0])


def test_kitagawa_all_composition_when_rates_stay():
    d = kitagawa([10, 40], [100, 100], [10, 120], [100, 300])
    assert d.within == pytest.approx(0.0)
    assert d.composition == pytest.approx(d.total)
    assert d.composition_low > 0


def _numerical_delta(x1, m1, x2, m2, which):
    """Delta method over the cells (slice x event) of two independent multinomials, with a numerical gradient."""
    def parts(cells1, cells2):
        def wr(cells):
            k = len(cells) // 2
            ev, ok = cells[:k], cells[k:]
            size = ev + ok
            return size / size.sum(), ev / size
        w1, r1 = wr(cells1)
        w2, r2 = wr(cells2)
        comp = ((w2 - w1) * (r1 + r2) / 2).sum()
        within = ((r2 - r1) * (w1 + w2) / 2).sum()
        return {"composition": comp, "within": within, "total": comp + within}[which]

    pi1 = np.r_[x1, np.subtract(m1, x1)] / np.sum(m1)
    pi2 = np.r_[x2, np.subtract(m2, x2)] / np.sum(m2)
    var = 0.0
    for pi, other, first, big in ((pi1, pi2, True, np.sum(m1)), (pi2, pi1, False, np.sum(m2))):
        grad = np.zeros(len(pi))
        for i in range(len(pi)):
            h = 1e-7
            up, down = pi.copy(), pi.copy()
            up[i] += h
            down[i] -= h
            f_up = parts(up, other) if first else parts(other, up)
            f_down = parts(down, other) if first else parts(other, down)
            grad[i] = (f_up - f_down) / (2 * h)
        cov = (np.diag(pi) - np.outer(pi, pi)) / big
        var += grad @ cov @ grad
    return np.sqrt(var)


@pytest.mark.parametrize("which", ["composition", "within", "total"])
def test_kitagawa_intervals_equal_the_delta_method_over_the_cells(which):
    x1, m1, x2, m2 = [20, 30, 5], [100, 100, 50], [10, 48, 30], [40, 160, 90]
    d = kitagawa(x1, m1, x2, m2)
    se = _numerical_delta(np.array(x1, float), np.array(m1, float), np.array(x2, float), np.array(m2, float), which)
    z = scipy.stats.norm.isf(0.025)
    value, low, high = {"composition": (d.composition, d.composition_low, d.composition_high),
                        "within": (d.within, d.within_low, d.within_high),
                        "total": (d.total, d.total_low, d.total_high)}[which]
    assert (low, high) == pytest.approx((value - z * se, value + z * se), rel=1e-5)


@pytest.mark.parametrize("a,b", [([50, 50], [25, 75]), ([10, 0, 30, 7], [12, 3, 20, 9]), ([1, 2, 3], [3, 2, 1])])
def test_distribution_shift_equals_scipy_chi2_contingency(a, b):
    reference = scipy.stats.chi2_contingency(np.array([a, b]), correction=False)
    got = distribution_shift(a, b)
    assert got.chi2 == pytest.approx(reference.statistic)
    assert got.p_value == pytest.approx(reference.pvalue)
    assert got.dof == reference.dof


def test_population_stability_index_direct():
    a, b = np.array([40, 30, 20, 10]), np.array([20, 30, 30, 20])
    p, q = a / a.sum(), b / b.sum()
    expected = sum((qi - pi) * np.log(qi / pi) for pi, qi in zip(p, q))
    assert population_stability_index(a, b) == pytest.approx(expected)
    assert population_stability_index(a, a) == 0.0
    # an empty value is floored, not infinite
    assert np.isfinite(population_stability_index([10, 0], [5, 5]))
