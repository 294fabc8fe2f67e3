"""The series gate for CI: the newest run against the reference and against the previous run, with a drift budget.

Three checks per slice (single-attribute slices and the whole run, :func:`analysis.series.trajectories.trajectories`):

- **total**: the newest run against the reference: accuracy dropped by more than ``max_drop_total`` and the
  departure is significant (McNemar on shared examples, two-proportion test otherwise; BH q below ``alpha``);
- **per run**: the newest run against the previous one: dropped by more than ``max_drop_per_run``, significantly
  (the two-run comparison :func:`analysis.slicing.compare.compare_runs` when they share examples, the two-proportion
  test otherwise; BH over the slices);
- **trend**: the slice's accuracy trend across the series is steeper than ``max_drop_per_run`` points per run and
  significant (Cochran-Armitage, BH over slices).

A slice explained by a stronger drifting slice still counts (a budget is about what users see). Small functions
write the result as JUnit XML (:func:`junit_xml`, one test case per slice and check) and Markdown
(:func:`markdown_summary`) for CI systems.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis import stats as _stats
from analysis.errors import FaultlineError
from analysis.export import TestCase, junit_report, markdown_cell
from analysis.formatting import format_q
from analysis.series.trajectories import ALL, Trajectories, trajectories
from analysis.slicing.compare import compare_runs
from analysis.store import Store
from analysis.store.series import SeriesInfo, get_series

MSG_BUDGET = "Invalid {name!r} parameter: expected a number of points as a fraction in [0, 1), got {value!r}"
CHECKS = ("total", "per run", "trend")


@dataclass
class SeriesGateResult:
    """The verdict of the series gate."""

    passed: bool
    checks: pd.DataFrame
    """One row per slice and check: ``check`` ("total", "per run", "trend"), ``description``, ``before``, ``after``
    (accuracy, fractions; for "trend" the first and newest), ``drop`` (before minus after, or minus the slope per run
    for "trend", a fraction: x 100 for points), ``budget`` (fraction), ``q_value``, ``too_small``, ``breaks``."""
    series: SeriesInfo
    max_drop_per_run: float
    max_drop_total: float
    alpha: float
    settings: dict = field(default_factory=dict)

    @property
    def breaking(self) -> pd.DataFrame:
        return self.checks[self.checks["breaks"]].reset_index(drop=True)

    def summary(self) -> str:
        """The text the CLI prints."""
        info = self.series
        head = (f"Series gate {'PASSED' if self.passed else 'FAILED'}: {info.run_names[-1]} against the reference "
                f"{info.run_names[info.reference_index]} (budget {self.max_drop_total * 100:.1f} points in total) and "
                f"the previous run {info.run_names[-2]} (budget {self.max_drop_per_run * 100:.1f} points per run), "
                f"significance level {self.alpha} (BH-adjusted)")
        if self.settings.get("where"):
            head += f"; within the cohort {self.settings['where']}"
        lines = [head]
        for row in self.breaking.itertuples():
            lines.append(f"  BREAKS  {row.description} [{row.check}]: {_words(row)}")
        return "\n".join(lines)

    def cases(self) -> list[TestCase]:
        """Every check as a CI test case (failures say why)."""
        out = []
        for row in self.checks.itertuples():
            name = f"{row.description}: {_CHECK_WORDS[row.check]}"
            out.append(TestCase(name, row.check, _words(row) if row.breaks else None, _words(row), "DriftBudget"))
        return out


_CHECK_WORDS = {"total": "newest vs reference", "per run": "newest vs previous", "trend": "trend across the series"}


def _words(row) -> str:
    q = "n/a" if row.q_value is None or (isinstance(row.q_value, float) and math.isnan(row.q_value)) else \
        format_q(row.q_value)
    if row.check == "trend":
        return (f"accuracy {row.before:.1%} -> {row.after:.1%}, trend {-row.drop * 100:+.2f} points per run "
                f"(budget {row.budget * 100:.1f}), q={q}")
    return (f"accuracy {row.before:.1%} -> {row.after:.1%} (drop {row.drop * 100:.1f} points, budget "
            f"{row.budget * 100:.1f}), q={q}")


def _check_budget(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise FaultlineError(MSG_BUDGET.format(name=name, value=value))
    return float(value)


def series_gate(store: Store, series: str | SeriesInfo, by: Sequence[str] | None = None, *,
                max_drop_per_run: float = 0.02, max_drop_total: float = 0.05, alpha: float = 0.05,
                min_support: int = 30, bins: int = 5, traj: Trajectories | None = None,
                where: str | None = None) -> SeriesGateResult:
    """Gate the newest run of a series against the reference and the previous run, with a drift budget.

    Parameters
    ----------
    store : Store
        The store holding the series.
    series : str or SeriesInfo
        The series (at least two runs; the newest is the last in order).
    by : sequence of str, optional
        Attributes (default: as :func:`analysis.series.trajectories.trajectories`).
    max_drop_per_run : float, default 0.02
        Largest allowed accuracy drop from the previous run, and the steepest allowed downward trend per run
        (fractions: 0.02 is 2 points).
    max_drop_total : float, default 0.05
        Largest allowed accuracy drop from the reference run (fraction).
    alpha : float, default 0.05
        Level the BH q-values must be below for a drop to count.
    min_support : int, default 30
        Least examples of a slice in every run to be checked.
    bins : int, default 5
        Quantile bins of numeric attributes.
    traj : Trajectories, optional
        Trajectories already computed for the series (with the same ``min_support``, ``bins`` and ``where``).
    where : str, optional
        A cohort in the rule language (:mod:`analysis.slicing.cohorts`): every check is the cohort's (the
        trajectories over it, :func:`analysis.series.trajectories.trajectories`, and the newest-against-previous
        comparison within it, :func:`analysis.slicing.compare.compare_runs`), as if the runs held nothing else.

    Returns
    -------
    SeriesGateResult
        ``passed``, ``checks`` (one row per slice and check), ``breaking``; ``summary()``, ``cases()`` (for
        :func:`junit_xml` and :func:`markdown_summary`).

    Raises
    ------
    FaultlineError
        A budget that is not a fraction in [0, 1) (:data:`MSG_BUDGET`), no such series, a cohort that does not
        compile on a run.

    References
    ----------
    McNemar (1947), Cochran (1954), Armitage (1955), Benjamini and Hochberg (1995), through the trajectories and
    the two-run comparison.
    """
    per_run = _check_budget("max_drop_per_run", max_drop_per_run)
    total = _check_budget("max_drop_total", max_drop_total)
    info = get_series(store, series)
    if traj is None:
        traj = trajectories(store, info, by, min_support=min_support, fdr=alpha, bins=bins, max_drivers=0,
                            where=where)
    last = len(info.run_ids) - 1
    ref = info.reference_index
    points, slices = traj.points, traj.slices.set_index("description")
    newest = points[points["k"] == last].set_index("description")
    reference = points[points["k"] == ref].set_index("description")
    previous = points[points["k"] == last - 1].set_index("description")
    descriptions = list(slices.index)
    rows = []
    # total: newest against the reference (the trajectories' departure tests, BH over slices x runs)
    for d in descriptions:
        if d not in newest.index:
            continue
        before = float(reference.loc[d, "accuracy"]) if d in reference.index else float("nan")
        after = float(newest.loc[d, "accuracy"])
        drop = -float(newest.loc[d, "departure"]) if last != ref else 0.0
        q = float(newest.loc[d, "departure_q"])
        small = bool(slices.loc[d, "too_small"])
        rows.append({"check": "total", "description": d, "before": before, "after": after, "drop": drop,
                     "budget": total, "q_value": q, "too_small": small,
                     "breaks": (not small) and q < alpha and drop > total})
    # per run: newest against the previous run
    rows += _per_run(store, info, traj, previous, newest, descriptions, slices, per_run=per_run, alpha=alpha,
                     min_support=min_support, bins=bins, where=where)
    # trend across the series
    for d in descriptions:
        row = slices.loc[d]
        drop = -float(row["slope"]) if np.isfinite(row["slope"]) else float("nan")
        q = float(row["trend_q"])
        rows.append({"check": "trend", "description": d, "before": float(row["first"]), "after": float(row["last"]),
                     "drop": drop, "budget": per_run, "q_value": q, "too_small": bool(row["too_small"]),
                     "breaks": (not bool(row["too_small"])) and q < alpha and drop > per_run})
    checks = pd.DataFrame(rows)
    checks = checks.assign(_b=~checks["breaks"], _all=checks["description"] != ALL)
    checks = checks.sort_values(["_b", "_all"], kind="stable").drop(columns=["_b", "_all"]).reset_index(drop=True)
    settings = {"newest": info.run_names[-1], "reference": info.run_names[ref], "previous": info.run_names[-2],
                "paired": traj.paired, "min_support": min_support, "where": where}
    return SeriesGateResult(not checks["breaks"].any(), checks, info, per_run, total, float(alpha), settings)


def _per_run(store, info, traj, previous, newest, descriptions, slices, *, per_run, alpha, min_support, bins,
             where=None):
    last = len(info.run_ids) - 1
    rows = []
    if traj.paired and last - 1 >= 0:
        try:
            comp = compare_runs(store, info.run_ids[last - 1], info.run_ids[last], traj.settings["attributes"],
                                min_support=min_support, fdr=alpha, bins=bins, where=where)
        except FaultlineError:
            comp = None
        if comp is not None:
            table = comp.table.set_index("description")
            for d in descriptions:
                if d not in table.index:
                    continue
                r = table.loc[d]
                drop = float(r["difference"])  # candidate minus baseline error rate: the accuracy drop
                small = bool(r["too_small"])
                rows.append({"check": "per run", "description": d, "before": 1 - float(r["base_error_rate"]),
                             "after": 1 - float(r["cand_error_rate"]), "drop": drop, "budget": per_run,
                             "q_value": float(r["q_value"]), "too_small": small,
                             "breaks": (not small) and float(r["q_value"]) < alpha and drop > per_run})
            return rows
    keep = [d for d in descriptions if d in previous.index and d in newest.index]
    e1 = previous.loc[keep, "errors"].to_numpy(dtype=np.int64)
    n1 = previous.loc[keep, "n"].to_numpy(dtype=np.int64)
    e2 = newest.loc[keep, "errors"].to_numpy(dtype=np.int64)
    n2 = newest.loc[keep, "n"].to_numpy(dtype=np.int64)
    small = (np.minimum(n1, n2) < min_support) | slices.loc[keep, "too_small"].to_numpy(dtype=bool)
    p, _ = _stats.two_proportion_test(e2, n2, e1, n1)
    q = _stats.benjamini_hochberg(np.where(small, np.nan, p))
    for i, d in enumerate(keep):
        before, after = 1 - e1[i] / max(n1[i], 1), 1 - e2[i] / max(n2[i], 1)
        rows.append({"check": "per run", "description": d, "before": before, "after": after, "drop": before - after,
                     "budget": per_run, "q_value": float(q[i]), "too_small": bool(small[i]),
                     "breaks": (not small[i]) and q[i] < alpha and before - after > per_run})
    return rows


def junit_xml(suite: str, cases: Sequence[TestCase]) -> str:
    """JUnit XML of the series gate: one ``<testcase>`` per check, ``<failure>`` for those that broke it
    (the writer both gates share, :func:`analysis.export.junit_report`)."""
    return junit_report(suite, cases)


def markdown_summary(title: str, passed: bool, cases: Sequence[TestCase], *, limit: int = 50) -> str:
    """A Markdown summary of a gate (for a CI job summary or a pull-request comment): the verdict, then a table of
    the checks that broke it (at most ``limit``; all checks when none broke).

    >>> print(markdown_summary("Series gate", False, [TestCase("lang = sw", "total", "drop 9 points")]))
    ### Series gate: FAILED
    <BLANKLINE>
    | check | slice | result |
    |---|---|---|
    | total | lang = sw | drop 9 points |
    """
    cell = markdown_cell
    shown = [c for c in cases if c.failure is not None] or list(cases)
    lines = [f"### {cell(title)}: {'PASSED' if passed else 'FAILED'}", "", "| check | slice | result |", "|---|---|---|"]
    for c in shown[:limit]:
        name = c.name.rsplit(": ", 1)[0] if ": " in c.name else c.name
        lines.append(f"| {cell(c.classname)} | {cell(name)} | {cell(c.failure or c.detail)} |")
    if len(shown) > limit:
        lines.append(f"| ... | {len(shown) - limit} more | |")
    return "\n".join(lines)
