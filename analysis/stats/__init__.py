"""Statistics for stratified error analysis, vectorised over slices.

Every function works on numpy arrays of per-slice aggregates (error counts, trial counts, ...) or on raw values
plus integer ``group_codes`` (``0 <= code < n_groups``), so that thousands of slices are post-processed in one call.
Only numpy and scipy are used: no pandas, statsmodels or streamlit (the parity tests compare every statistic with
statsmodels, scipy, sklearn and the ``krippendorff`` package).

Modules, by concern:

- :mod:`~analysis.stats.means`: Student-t interval of a mean from its summary (:func:`mean_interval`).
- :mod:`~analysis.stats.proportions`: Wilson and Clopper-Pearson intervals of a rate (:func:`rate_interval`).
- :mod:`~analysis.stats.significance`: a slice against the rest (Fisher / z), McNemar, paired t, Benjamini-Hochberg.
- :mod:`~analysis.stats.slices`: the row every slice table shows (rate, interval, test, q-value).
- :mod:`~analysis.stats.agreement`: Cohen's kappa and Krippendorff's alpha per group.
- :mod:`~analysis.stats.calibration`: expected calibration error per group.
- :mod:`~analysis.stats.separation`: AUC with DeLong interval, Cohen's d, Mann-Whitney.
- :mod:`~analysis.stats.correlation`: Spearman's rho per group.
- :mod:`~analysis.stats.bootstrap`: grouped and paired percentile bootstrap of a mean.
- :mod:`~analysis.stats.trend`: series of runs: Cochran-Armitage trend, HC3 slope, Kitagawa decomposition, PSI.

Conventions: counts are non-negative integers (integer-valued floats accepted) and broadcast against each other;
rates are fractions in [0, 1]; a statistic undefined for a slice (``n == 0``, a constant sample) is NaN rather than
an error; bad *parameters* raise ``ValueError`` with one of the ``MSG_*`` templates, which name the parameter and
the value it got.
"""

from __future__ import annotations

from analysis.stats._checks import (
    MSG_CHOICE,
    MSG_CODES,
    MSG_CONFIDENCE,
    MSG_COUNTS,
    MSG_ERRORS_GT_N,
    MSG_FINITE,
    MSG_GROUP_CODES,
    MSG_INT_MIN,
    MSG_LENGTH,
    MSG_NDIM,
    MSG_NUMBER_MIN,
    MSG_P_VALUES,
    MSG_RATIO_NEGATIVE,
    MSG_UNIT_INTERVAL,
)
from analysis.stats.agreement import (
    KappaWeights,
    Level,
    grouped_cohen_kappa,
    grouped_krippendorff_alpha,
    krippendorff_alpha_from_coincidences,
)
from analysis.stats.bootstrap import grouped_bootstrap_mean_interval, paired_bootstrap_mean_difference_interval
from analysis.stats.calibration import (
    calibration_bin_edges,
    expected_calibration_error_from_bin_sums,
    grouped_expected_calibration_error,
)
from analysis.stats.correlation import spearman_from_mid_ranks, spearman_from_rank_sums, spearman_per_group
from analysis.stats.means import mean_interval, welch_t_test
from analysis.stats.proportions import rate_interval, wilson_interval
from analysis.stats.separation import (
    AucMethod,
    RankSums,
    auc_from_rank_sums,
    auc_with_interval,
    mann_whitney_p,
    mann_whitney_p_from_rank_sums,
    rank_sums,
    separation_from_sums,
    separation_statistics,
    standardized_mean_difference,
)
from analysis.stats.significance import (
    benjamini_hochberg,
    bh_family_size,
    mcnemar_exact,
    paired_mean_difference,
    paired_mean_difference_from_sums,
    two_proportion_test,
)
from analysis.stats.slices import SliceVsRest, slice_vs_rest
from analysis.stats.trend import (
    Decomposition,
    Shift,
    Trend,
    cochran_armitage,
    distribution_shift,
    kitagawa,
    population_stability_index,
    slope_hc3,
)

__all__ = [
    "Decomposition",
    "Shift",
    "Trend",
    "cochran_armitage",
    "distribution_shift",
    "kitagawa",
    "population_stability_index",
    "slope_hc3",
    "mean_interval",
    "welch_t_test",
    "MSG_CHOICE",
    "MSG_CODES",
    "MSG_CONFIDENCE",
    "MSG_COUNTS",
    "MSG_ERRORS_GT_N",
    "MSG_FINITE",
    "MSG_GROUP_CODES",
    "MSG_INT_MIN",
    "MSG_LENGTH",
    "MSG_NDIM",
    "MSG_NUMBER_MIN",
    "MSG_P_VALUES",
    "MSG_RATIO_NEGATIVE",
    "MSG_UNIT_INTERVAL",
    "AucMethod",
    "KappaWeights",
    "Level",
    "RankSums",
    "SliceVsRest",
    "auc_from_rank_sums",
    "auc_with_interval",
    "benjamini_hochberg",
    "bh_family_size",
    "grouped_bootstrap_mean_interval",
    "grouped_cohen_kappa",
    "calibration_bin_edges",
    "expected_calibration_error_from_bin_sums",
    "grouped_expected_calibration_error",
    "grouped_krippendorff_alpha",
    "krippendorff_alpha_from_coincidences",
    "mann_whitney_p",
    "mann_whitney_p_from_rank_sums",
    "mcnemar_exact",
    "paired_bootstrap_mean_difference_interval",
    "paired_mean_difference",
    "paired_mean_difference_from_sums",
    "rank_sums",
    "rate_interval",
    "separation_from_sums",
    "separation_statistics",
    "slice_vs_rest",
    "spearman_from_mid_ranks",
    "spearman_from_rank_sums",
    "spearman_per_group",
    "standardized_mean_difference",
    "two_proportion_test",
    "wilson_interval",
]
