"""Statistics of a series of runs: trend tests, the Kitagawa decomposition of a rate change, distribution shift.

Everything works on per-run aggregates (counts and sums per slice and run), so a series of 20 runs of a million
examples each is tested from a few thousand numbers that one grouping statement returns.

- :func:`cochran_armitage`: the Cochran-Armitage test for a trend in proportions across ordered runs (equal to the
  score test of the slope in a logistic regression of the outcome on the run's score; ``statsmodels``
  ``Table.test_ordinal_association`` is the same statistic with the permutation variance, ``N - 1`` for ``N``).
- :func:`slope_hc3`: the least-squares slope of a graded score on the run's position with an HC3 (heteroskedasticity
  robust) interval, computed from per-run sums (equal to ``statsmodels`` ``OLS(...).fit(cov_type="HC3")`` on the
  example rows).
- :func:`kitagawa`: a change in an overall rate split into composition (changed shares of slices) and within-slice
  (changed rates) parts, with delta-method intervals.
- :func:`distribution_shift`: chi-square test of homogeneity and the population stability index of an attribute's
  distribution in two runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.stats
from numpy.typing import ArrayLike, NDArray

from analysis.stats._checks import MSG_NDIM, check_confidence, check_le, counts, float_values, z_quantile

__all__ = ["Decomposition", "Shift", "Trend", "cochran_armitage", "distribution_shift", "kitagawa",
           "population_stability_index", "slope_hc3"]

MSG_SCORES = "scores must have one finite value per run ({expected}), got {value!r}"

#: Share used instead of 0 in the population stability index (an empty bin would make it infinite).
PSI_FLOOR = 1e-4


@dataclass(frozen=True)
class Trend:
    """A trend test per slice (arrays of one value per slice)."""

    slope: NDArray[np.float64]
    """Change of the rate (or mean score) per unit of the run score: a fraction per step of 1 for rates."""
    ci_low: NDArray[np.float64]
    """Lower end of the slope's interval (same unit)."""
    ci_high: NDArray[np.float64]
    """Upper end of the slope's interval."""
    z: NDArray[np.float64]
    """The test statistic (standard normal under no trend); > 0 when the rate rises with the score."""
    p_value: NDArray[np.float64]
    """Two-sided p-value; NaN when the test is undefined (one run with data, no variation)."""


def _two_d(name: str, x: NDArray) -> NDArray:
    x = np.atleast_2d(x)
    if x.ndim != 2:
        raise ValueError(MSG_NDIM.format(name=name, ndim=2, value=x.shape))
    return x


def _run_scores(scores: ArrayLike | None, t: int) -> NDArray[np.float64]:
    if scores is None:
        return np.arange(t, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 1 or s.shape[0] != t or not np.all(np.isfinite(s)):
        raise ValueError(MSG_SCORES.format(expected=t, value=s.tolist()))
    return s


def cochran_armitage(events: ArrayLike, n: ArrayLike, scores: ArrayLike | None = None, *,
                     confidence: float = 0.95) -> Trend:
    """Cochran-Armitage test for a trend in a proportion across ordered runs, per slice.

    With ``x_j`` events of ``n_j`` in run ``j`` (score ``t_j``), ``N = sum n_j``, ``p = sum x_j / N``:
    ``T = sum t_j (x_j - n_j p)``, ``Var T = p (1 - p) (sum n_j t_j^2 - (sum n_j t_j)^2 / N)``,
    ``z = T / sqrt(Var T)``. This is the score test of ``beta = 0`` in the logistic regression
    ``logit P(event) = alpha + beta t`` (Agresti 2013, 5.3.5). The slope is the least-squares line through the
    run proportions weighted by ``n_j`` (``T / sum n_j (t_j - tbar)^2``) with the Wald interval of that weighted
    regression under the null variance, so the interval excludes 0 exactly when the test rejects at
    ``1 - confidence``.

    Parameters
    ----------
    events, n : array_like of int, shape (n_slices, n_runs) or (n_runs,)
        Events (errors, or correct answers) and examples per slice and run. A run where a slice has no example
        (``n == 0``) contributes nothing.
    scores : array_like of float, shape (n_runs,), optional
        The run's position (a training step, a date in days); default 0, 1, 2...
    confidence : float, default 0.95
        Coverage of the slope's interval.

    Returns
    -------
    Trend
        Arrays of shape (n_slices,): ``slope`` (change of the proportion per unit of score, a fraction),
        ``ci_low``, ``ci_high``, ``z`` (> 0: rising), ``p_value`` (two-sided; NaN when fewer than two runs have
        examples or the proportion is 0 or 1 throughout).

    Raises
    ------
    ValueError
        Counts that are negative or not integers, events above ``n``, scores not one finite value per run, a
        ``confidence`` outside (0, 1).

    References
    ----------
    Cochran, W. G. (1954), Biometrics 10, 417-451; Armitage, P. (1955), Biometrics 11, 375-386; Agresti, A.
    (2013), Categorical Data Analysis, 3rd ed., 5.3.5 (the logistic score test).

    Examples
    --------
    >>> t = cochran_armitage([[10, 15, 20, 25]], [[100, 100, 100, 100]])
    >>> round(float(t.z[0]), 3), round(float(t.slope[0]), 3), bool(t.p_value[0] < 0.01)
    (2.942, 0.05, True)
    """
    confidence = check_confidence(confidence)
    x = _two_d("events", counts("events", events))
    m = _two_d("n", counts("n", n))
    x, m = np.broadcast_arrays(x, m)
    check_le("events", x, "n", m)
    t = _run_scores(scores, x.shape[1])
    xf, mf = x.astype(np.float64), m.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        total = mf.sum(axis=1)
        p = xf.sum(axis=1) / total
        tbar = (mf * t).sum(axis=1) / total
        sxx = (mf * (t - tbar[:, None]) ** 2).sum(axis=1)
        stat = (t * (xf - mf * p[:, None])).sum(axis=1)
        var = p * (1.0 - p) * sxx
        z = stat / np.sqrt(var)
        slope = stat / sxx
        half = z_quantile(confidence) * np.sqrt(p * (1.0 - p) / sxx)
        pv = 2.0 * scipy.stats.norm.sf(np.abs(z))
    bad = ~(var > 0) | ((m > 0).sum(axis=1) < 2)
    nan = np.full(z.shape, np.nan)
    return Trend(np.where(sxx > 0, slope, np.nan), np.where(bad, nan, slope - half), np.where(bad, nan, slope + half),
                 np.where(bad, nan, z), np.where(bad, nan, pv))


def slope_hc3(n: ArrayLike, sums: ArrayLike, sums_sq: ArrayLike, scores: ArrayLike | None = None, *,
              confidence: float = 0.95) -> Trend:
    """Least-squares slope of a graded score on the run's position, with an HC3 robust interval, per slice.

    The regression is over the example rows (``y_i = a + b t_i + e_i`` with ``t_i`` the score of the example's run),
    computed from per-run sums: within a run ``t`` is constant, so the residuals' squares sum to
    ``Q_j - 2 f_j S_j + n_j f_j^2`` (``f_j`` the fitted value) and every example of run ``j`` has the leverage
    ``h_j = 1 / N + (t_j - tbar)^2 / Sxx``. HC3: ``Var b = sum_j (t_j - tbar)^2 RSS_j / (1 - h_j)^2 / Sxx^2``
    (MacKinnon and White 1985); the interval and the p-value use the normal distribution, as statsmodels does for
    ``cov_type="HC3"``.

    Parameters
    ----------
    n : array_like of int, shape (n_slices, n_runs) or (n_runs,)
        Scored examples per slice and run.
    sums, sums_sq : array_like of float, same shape
        Sum of the scores and of their squares per slice and run.
    scores : array_like of float, shape (n_runs,), optional
        The run's position; default 0, 1, 2...
    confidence : float, default 0.95
        Coverage of the interval.

    Returns
    -------
    Trend
        ``slope`` (score units per unit of run score), ``ci_low``, ``ci_high``, ``z``, ``p_value`` (two-sided);
        NaN where fewer than two runs have scores or every example has a leverage of 1.

    Raises
    ------
    ValueError
        Negative or non-integer ``n``, non-finite sums, bad scores or ``confidence``.

    References
    ----------
    MacKinnon, J. G. and White, H. (1985), J. Econometrics 29, 305-325; Long, J. S. and Ervin, L. H. (2000),
    The American Statistician 54, 217-224; statsmodels ``RegressionResults`` with ``cov_type="HC3"``.

    Examples
    --------
    >>> t = slope_hc3([[2, 2, 2]], [[1.0, 2.0, 3.2]], [[0.5, 2.5, 5.3]])
    >>> round(float(t.slope[0]), 3), round(float(t.ci_low[0]), 3) > 0
    (0.55, True)
    """
    confidence = check_confidence(confidence)
    m = _two_d("n", counts("n", n)).astype(np.float64)
    s = _two_d("sums", float_values("sums", sums))
    q = _two_d("sums_sq", float_values("sums_sq", sums_sq))
    m, s, q = np.broadcast_arrays(m, s, q)
    t = _run_scores(scores, m.shape[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        total = m.sum(axis=1)
        tbar = (m * t).sum(axis=1) / total
        dt = t - tbar[:, None]
        sxx = (m * dt ** 2).sum(axis=1)
        slope = (dt * s).sum(axis=1) / sxx
        intercept = s.sum(axis=1) / total - slope * tbar
        fitted = intercept[:, None] + slope[:, None] * t
        rss = np.maximum(q - 2.0 * fitted * s + m * fitted ** 2, 0.0)
        lev = 1.0 / total[:, None] + dt ** 2 / sxx[:, None]
        var = np.where(m > 0, dt ** 2 * rss / (1.0 - lev) ** 2, 0.0).sum(axis=1) / sxx ** 2
        se = np.sqrt(var)
        z = slope / se
        pv = 2.0 * scipy.stats.norm.sf(np.abs(z))
    half = z_quantile(confidence) * se
    bad = ~(sxx > 0) | ~np.isfinite(se) | ((m > 0).sum(axis=1) < 2)
    nan = np.full(slope.shape, np.nan)
    return Trend(np.where(bad, nan, slope), np.where(bad, nan, slope - half), np.where(bad, nan, slope + half),
                 np.where(bad, nan, z), np.where(bad, nan, pv))


@dataclass(frozen=True)
class Decomposition:
    """A change in an overall rate, split into composition and within-slice parts (all fractions)."""

    before: float
    """Overall rate in the first run."""
    after: float
    """Overall rate in the second run."""
    total: float
    """``after - before``; equal to ``composition + within``."""
    composition: float
    """The part from the changed shares of the slices (mix shift)."""
    composition_low: float
    composition_high: float
    within: float
    """The part from changed rates inside the slices (model change)."""
    within_low: float
    within_high: float
    total_low: float
    total_high: float
    slice_composition: NDArray[np.float64]
    """Each slice's contribution to ``composition`` (sums to it)."""
    slice_within: NDArray[np.float64]
    """Each slice's contribution to ``within`` (sums to it)."""


def _share_var(w: NDArray, g: NDArray, big_n: float) -> float:
    """Variance of ``g . w_hat`` for multinomial shares ``w_hat`` of ``big_n`` examples."""
    return float((w * g ** 2).sum() - (w * g).sum() ** 2) / big_n


def kitagawa(events_1: ArrayLike, n_1: ArrayLike, events_2: ArrayLike, n_2: ArrayLike, *,
             confidence: float = 0.95) -> Decomposition:
    """Split the change in an overall rate between two runs into composition and within-slice parts.

    With shares ``w_js = n_js / N_j`` and rates ``r_js = x_js / n_js`` of slice ``s`` in run ``j``, the overall rate
    is ``R_j = sum_s w_js r_js`` and (Kitagawa 1955, the symmetric two-factor form)
    ``R_2 - R_1 = sum_s (w_2s - w_1s) (r_1s + r_2s) / 2  +  sum_s (r_2s - r_1s) (w_1s + w_2s) / 2``:
    composition plus within. A slice present in one run only has its missing rate set to the present one (its
    change is all composition). Intervals are delta-method intervals treating the two runs as independent
    samples: the rates binomial given the slice sizes, the shares multinomial (rates and shares uncorrelated).

    Parameters
    ----------
    events_1, n_1 : array_like of int, shape (n_slices,)
        Events and examples per slice in the first run (slices are the values of one attribute).
    events_2, n_2 : array_like of int, shape (n_slices,)
        The same in the second run.
    confidence : float, default 0.95
        Coverage of the intervals.

    Returns
    -------
    Decomposition
        ``before``, ``after``, ``total``, ``composition``, ``within`` with their intervals and the per-slice parts
        (fractions; x 100 for points).

    Raises
    ------
    ValueError
        Bad counts (negative, events above ``n``), shapes that differ, a run without examples, a bad ``confidence``.

    References
    ----------
    Kitagawa, E. M. (1955), "Components of a difference between two rates", JASA 50, 1168-1194; Das Gupta, P.
    (1993), Standardization and Decomposition of Rates, US Census Bureau P23-186.

    Examples
    --------
    >>> d = kitagawa([10, 40], [100, 100], [5, 60], [50, 150])
    >>> round(d.total, 3), round(d.composition, 3), round(d.within, 3)
    (0.075, 0.075, 0.0)
    """
    confidence = check_confidence(confidence)
    x1, m1, x2, m2 = (counts(k, v).astype(np.float64).ravel() for k, v in
                      (("events_1", events_1), ("n_1", n_1), ("events_2", events_2), ("n_2", n_2)))
    if not (x1.shape == m1.shape == x2.shape == m2.shape):
        raise ValueError(MSG_NDIM.format(name="the four count arrays (one shape)", ndim=1,
                                         value=[x1.shape, m1.shape, x2.shape, m2.shape]))
    check_le("events_1", x1, "n_1", m1)
    check_le("events_2", x2, "n_2", m2)
    big1, big2 = m1.sum(), m2.sum()
    if big1 <= 0 or big2 <= 0:
        raise ValueError(MSG_NDIM.format(name="each run (at least one example)", ndim=1, value=[big1, big2]))
    w1, w2 = m1 / big1, m2 / big2
    with np.errstate(divide="ignore", invalid="ignore"):
        r1 = np.where(m1 > 0, x1 / m1, np.nan)
        r2 = np.where(m2 > 0, x2 / m2, np.nan)
    r1 = np.where(np.isnan(r1), r2, r1)
    r2 = np.where(np.isnan(r2), r1, r2)
    r1, r2 = np.nan_to_num(r1), np.nan_to_num(r2)
    mid_r, mid_w = (r1 + r2) / 2.0, (w1 + w2) / 2.0
    comp_s = (w2 - w1) * mid_r
    within_s = (r2 - r1) * mid_w
    with np.errstate(divide="ignore", invalid="ignore"):
        v1 = np.where(m1 > 0, r1 * (1 - r1) / m1, 0.0)
        v2 = np.where(m2 > 0, r2 * (1 - r2) / m2, 0.0)
    # composition: d/dr_j = (w2 - w1) / 2, d/dw2 = mid_r, d/dw1 = -mid_r
    g_r = (w2 - w1) / 2.0
    var_c = float((g_r ** 2 * (v1 + v2)).sum()) + _share_var(w1, mid_r, big1) + _share_var(w2, mid_r, big2)
    # within: d/dr2 = mid_w, d/dr1 = -mid_w, d/dw_j = (r2 - r1) / 2
    d_r = (r2 - r1) / 2.0
    var_w = float((mid_w ** 2 * (v1 + v2)).sum()) + _share_var(w1, d_r, big1) + _share_var(w2, d_r, big2)
    # the total: R_j = w_j . r_j
    var_t = float((w1 ** 2 * v1).sum() + (w2 ** 2 * v2).sum()) + _share_var(w1, r1, big1) + _share_var(w2, r2, big2)
    z = z_quantile(confidence)
    comp, within = float(comp_s.sum()), float(within_s.sum())
    before, after = float((w1 * r1).sum()), float((w2 * r2).sum())
    return Decomposition(before, after, after - before, comp, comp - z * np.sqrt(var_c), comp + z * np.sqrt(var_c),
                         within, within - z * np.sqrt(var_w), within + z * np.sqrt(var_w),
                         after - before - z * np.sqrt(var_t), after - before + z * np.sqrt(var_t), comp_s, within_s)


@dataclass(frozen=True)
class Shift:
    """How an attribute's distribution moved between two runs."""

    chi2: float
    """Pearson's chi-square statistic of homogeneity (no continuity correction)."""
    dof: int
    """Degrees of freedom: values present in either run, minus 1."""
    p_value: float
    """Its p-value (NaN with fewer than two values)."""
    psi: float
    """Population stability index, ``sum (q - p) ln(q / p)`` over the shares (>= 0; 0.1 and 0.25 are the usual
    "moderate" and "large" marks)."""


def population_stability_index(counts_1: ArrayLike, counts_2: ArrayLike, *, floor: float = PSI_FLOOR) -> float:
    """Population stability index of two distributions given as counts over the same values.

    ``PSI = sum_k (q_k - p_k) ln(q_k / p_k)`` with ``p``, ``q`` the shares in the first and second run, each share
    raised to at least ``floor`` (an empty value would make it infinite).

    Parameters
    ----------
    counts_1, counts_2 : array_like of int, shape (n_values,)
        Examples per value in each run.
    floor : float, default 1e-4
        Smallest share used.

    Returns
    -------
    float
        The index (>= 0); NaN when a run has no example.

    Raises
    ------
    ValueError
        Negative or non-integer counts.

    References
    ----------
    Yurdakul, B. (2018), "Statistical properties of population stability index", Western Michigan University.

    Examples
    --------
    >>> round(population_stability_index([50, 50], [25, 75]), 4)
    0.2747
    """
    a = counts("counts_1", counts_1).astype(np.float64).ravel()
    b = counts("counts_2", counts_2).astype(np.float64).ravel()
    if a.sum() <= 0 or b.sum() <= 0:
        return float("nan")
    p = np.maximum(a / a.sum(), floor)
    q = np.maximum(b / b.sum(), floor)
    return float(((q - p) * np.log(q / p)).sum())


def distribution_shift(counts_1: ArrayLike, counts_2: ArrayLike) -> Shift:
    """Chi-square test of homogeneity and the population stability index of one attribute in two runs.

    Values absent from both runs are dropped; the chi-square statistic is Pearson's on the 2 x K table (no Yates
    correction), as ``scipy.stats.chi2_contingency(table, correction=False)``.

    Parameters
    ----------
    counts_1, counts_2 : array_like of int, shape (n_values,)
        Examples per value of the attribute in each run.

    Returns
    -------
    Shift
        ``chi2``, ``dof``, ``p_value``, ``psi`` (see :func:`population_stability_index`).

    Raises
    ------
    ValueError
        Negative or non-integer counts.

    References
    ----------
    Pearson, K. (1900); ``scipy.stats.chi2_contingency``.

    Examples
    --------
    >>> s = distribution_shift([50, 50], [25, 75])
    >>> round(s.chi2, 3), s.dof
    (13.333, 1)
    """
    a = counts("counts_1", counts_1).astype(np.float64).ravel()
    b = counts("counts_2", counts_2).astype(np.float64).ravel()
    keep = (a + b) > 0
    a, b = a[keep], b[keep]
    psi = population_stability_index(a.astype(np.int64), b.astype(np.int64)) if keep.any() else float("nan")
    if a.size < 2 or a.sum() == 0 or b.sum() == 0:
        return Shift(float("nan"), max(int(a.size) - 1, 0), float("nan"), psi)
    table = np.vstack([a, b])
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    chi2 = float(((table - expected) ** 2 / expected).sum())
    dof = int(a.size - 1)
    return Shift(chi2, dof, float(scipy.stats.chi2.sf(chi2, dof)), psi)
