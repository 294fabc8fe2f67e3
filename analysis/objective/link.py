"""The link: every failure mode against every objective component, with the declared rationale
and the measured evidence side by side, and a verdict from documented rules.

For each mode *m* and component *c* a cell holds:

* **Declared relation** (from the spec): *guards against*, *can cause*, both, or *none*.
* **Separation** (for each signal of *c* the run has): does the signal separate the examples
  failing as *m* from the correct examples? Modes overlap (a padded answer can also be
  confidently wrong), so each mode is judged on its own failures: the examples in *m* and in
  no other mode, against the correct examples in no mode (the statistics over every example
  of *m* are reported too, as ``auc_all``). The signal is first
  oriented the way the objective pushes it (a reward as is; a penalty, ``lower_is_better``,
  negated), so the **preference AUC** is the probability that the component prefers a random
  failure of *m* to a random success: above 0.5 the component rewards the failure, below it
  penalises it. Reported with its DeLong interval, Cohen's d (pooled SD, oriented the same
  way), the Mann-Whitney U p-value (the test of AUC = 0.5) and a Benjamini-Hochberg q-value
  over every separation test of the matrix.
* **Surrogate-metric divergence** (per signal): within each slice (single attributes, plus
  the whole run) the Spearman correlation between the oriented signal and the real outcome
  (the score; correctness as 0/1 when scores are only 0/1), with BH q-values over the
  slices. A slice *diverges* when the correlation is negative with q < FDR: there the
  component prefers worse answers.
* **Goodhart quadrant** (with a baseline run, paired on example id; slices of the analysed
  run): per slice the change of the oriented signal (paired mean difference, t interval and
  test) against the change in accuracy (McNemar exact test, Wald interval), BH over slices.
  A slice is in the Goodhart quadrant when the surrogate improved and the outcome got worse,
  both at q < FDR. The change of each mode's rate per slice is tested the same way
  (McNemar on the paired indicators).

**Verdict rules** (applied per signal; a cell takes the strongest verdict of its signals:
implicated, then insufficient evidence, then not implicated). ``min_failures`` defaults to
20, ``min_effect`` to 0.1, ``fdr`` to 0.05.

1. ``no_signal`` -> **no signal**: the component has no signal column in the run (data
   components such as pretraining data, or signals the logs lack). Declared relations and
   where the mode concentrates are shown, but a component is never implicated without a
   measured signal.
2. ``too_few`` -> **insufficient evidence**: fewer than ``min_failures`` examples in the mode,
   or fewer than ``min_failures`` correct examples, have the signal.
3. ``rewards_failure`` -> **implicated**: preference AUC >= 0.5 + ``min_effect`` and q < FDR.
4. ``goodhart`` -> **implicated**: with a baseline, in at least one slice of the Goodhart
   quadrant (the signal improved and accuracy fell) where the mode became more frequent
   (q < FDR) and concentrates (a finding of "where the mode concentrates"), the signal
   rewards this failure *within the slice*: local preference AUC >= 0.5 + ``min_effect`` with
   a one-sided Mann-Whitney test whose BH q < FDR over every such local test of the matrix. (A
   component that rewards a failure only where the objective change made it spread.)
5. ``not_rewarded`` -> **not implicated**: the interval's upper bound is below 0.5 +
   ``min_effect``: a meaningful preference for the failures is ruled out (the signal
   penalises the failure, or does not separate it).
6. ``undecided`` -> **insufficient evidence**: anything else (the interval is too wide to
   implicate the component or to rule it out).

No language model is involved: the sentence of each cell is filled in from these numbers.
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from analysis import stats as _stats
from analysis.errors import FaultlineError
from analysis.formatting import format_q
from analysis.objective.modes import (
    CompiledModes,
    ModeSlices,
    compile_modes,
    concentration_attributes,
    materialise_modes,
    mode_counts,
    modes_slices,
    release_modes,
)
from analysis.objective.predicates import fields_from_table
from analysis.objective.spec import Component, Objective, check_against_run, load_objective
from analysis.slicing import counts as _counts
from analysis.slicing.attributes import describe_condition, prepare_attributes, resolve_attributes, value_label
from analysis.slicing.cohorts import cohort_filter
from analysis.slicing.compare import paired_difference_interval
from analysis.slicing.params import check_slicing_params, support_count
from analysis.sql import features as F
from analysis.sql import modes as M
from analysis.sql import quote_ident
from analysis.store import Store

Verdict = Literal["implicated", "not implicated", "insufficient evidence", "no signal"]
VERDICTS: tuple[str, ...] = ("implicated", "insufficient evidence", "not implicated", "no signal")
RULES = {
    "no_signal": "no signal",
    "too_few": "insufficient evidence",
    "rewards_failure": "implicated",
    "goodhart": "implicated",
    "not_rewarded": "not implicated",
    "undecided": "insufficient evidence",
}
#: Each verdict rule in plain words: why a cell has its verdict (what a finding's sentence and the report say).
RULE_WORDS = {
    "no_signal": "the run has no signal of the component",
    "too_few": "too few examples with the signal to tell",
    "rewards_failure": "the signal rewards this failure",
    "goodhart": "the signal rewards this failure where the objective change spread it",
    "not_rewarded": "a meaningful preference for this failure is ruled out",
    "undecided": "the interval is too wide to tell",
}
ALL = "(all examples)"

MSG_MIN_FAILURES = "Invalid 'min_failures' parameter: expected an integer >= 2, got {value!r}"
MSG_MIN_EFFECT = "Invalid 'min_effect' parameter: expected a number in (0, 0.5), got {value!r}"
MSG_SAME_RUN = "The run and the baseline are the same run ({run!r}); choose two different runs"
MSG_TWO_VALUES = ("Attribute {attribute!r} has two values labelled {label!r}; the divergence needs one slice per "
                  "label")
MSG_NO_MATCH = "Runs {base!r} and {run!r} share no example ids; the Goodhart comparison needs the same examples"
#: The column of the matrix when there is no objective spec (no component): every cell "no signal".
NO_SPEC_COMPONENT = "no_spec"
NO_SPEC_COMPONENT_NAME = "No objective spec"
#: What a spec would add, said once where the matrix has no component.
NO_SPEC_SENTENCE = ("No objective spec: the failure modes come from the built-in detectors and the label columns "
                    "alone. A spec would name the objective's components (a reward model, a judge, a length "
                    "penalty...) and the columns that measure them, and each cell would then say whether that "
                    "component rewards or penalises the mode.")


@dataclass
class LinkResult:
    """The modes x components matrix of one run (and a baseline), with all its evidence."""

    run_id: str
    baseline_id: str | None
    objective: Objective
    cells: pd.DataFrame
    """One row per (mode, component): ``mode``, ``mode_name``, ``component``, ``component_name``,
    ``kind``, ``relation``, ``verdict``, ``rule``, ``sentence``, ``signal``, ``auc``, ``auc_low``,
    ``auc_high``, ``smd``, ``q_value``, ``n_fail``, ``n_ok``, ``goodhart_slices``, ``divergent_slices``."""
    separation: pd.DataFrame
    """One row per (mode, component, signal) with the separation statistics."""
    divergence: pd.DataFrame
    """One row per (component, signal, slice): Spearman rho of oriented signal and outcome, q-value."""
    goodhart: pd.DataFrame | None
    """With a baseline: one row per (component, signal, slice): signal and accuracy changes."""
    mode_change: pd.DataFrame | None
    """With a baseline: one row per (mode, slice): change of the mode's rate, q-value."""
    goodhart_evidence: pd.DataFrame | None
    """With a baseline: per (mode, component, signal) the Goodhart slices where the mode rose,
    with the signal's local separation there (``local_auc``, interval, ``local_q``, ``rewards``)."""
    concentration: dict[str, ModeSlices]
    counts: pd.DataFrame
    problems: list[str] = field(default_factory=list)
    """Spec problems against the runs (only in lenient mode: strict raises)."""
    notes: list[str] = field(default_factory=list)
    settings: dict = field(default_factory=dict)

    def cell(self, mode: str, component: str) -> dict:
        """Everything about one cell: its row, separation per signal, divergent and Goodhart slices,
        where the mode concentrates."""
        rows = self.cells[(self.cells["mode"] == mode) & (self.cells["component"] == component)]
        if rows.empty:
            raise FaultlineError(f"No cell for mode {mode!r} and component {component!r}")
        sep = self.separation[(self.separation["mode"] == mode) & (self.separation["component"] == component)]
        div = self.divergence[self.divergence["component"] == component]
        conc = self.concentration.get(mode)
        findings = conc.findings() if conc is not None else pd.DataFrame()
        conc_desc = set(findings["description"]) if not findings.empty else set()
        div = div.assign(mode_concentrates=div["description"].isin(conc_desc))
        out = {"row": rows.iloc[0].to_dict(), "separation": sep.reset_index(drop=True),
               "divergence": div.reset_index(drop=True), "concentration": conc,
               "goodhart": None, "mode_change": None}
        if self.goodhart is not None:
            good = self.goodhart[self.goodhart["component"] == component]
            change = self.mode_change[self.mode_change["mode"] == mode][["description", "d_rate", "q_value", "up"]]
            good = good.merge(change.rename(columns={"q_value": "q_mode"}), on="description", how="left")
            out["goodhart"] = good.reset_index(drop=True)
            out["mode_change"] = self.mode_change[self.mode_change["mode"] == mode].reset_index(drop=True)
            ev = self.goodhart_evidence
            out["goodhart_evidence"] = ev[(ev["mode"] == mode) & (ev["component"] == component)].reset_index(drop=True)
        return out

    def display_cells(self) -> pd.DataFrame:
        """The cells to draw as the matrix: :attr:`cells`, or, when the objective has no component (no spec),
        one cell per failure mode in a single column :data:`NO_SPEC_COMPONENT` with the verdict ``no signal``
        and the sentence :data:`NO_SPEC_SENTENCE`, so the modes still show as rows (same columns as ``cells``)."""
        if self.objective.components or self.cells.shape[0] or self.counts.empty:
            return self.cells
        modes = self.counts["mode"].astype(str).tolist()
        names = self.counts["name"].astype(str).tolist() if "name" in self.counts else modes
        rows = {c: [None] * len(modes) for c in self.cells.columns}
        rows.update({"mode": modes, "mode_name": names, "component": [NO_SPEC_COMPONENT] * len(modes),
                     "component_name": [NO_SPEC_COMPONENT_NAME] * len(modes), "kind": ["none"] * len(modes),
                     "relation": ["none"] * len(modes), "verdict": ["no signal"] * len(modes),
                     "rule": ["no spec"] * len(modes), "sentence": [NO_SPEC_SENTENCE] * len(modes),
                     "auc": [float("nan")] * len(modes), "auc_low": [float("nan")] * len(modes),
                     "auc_high": [float("nan")] * len(modes)})
        return pd.DataFrame(rows, columns=list(self.cells.columns) or list(rows))

    def implicated(self) -> pd.DataFrame:
        """The implicated cells, strongest first: those the spec declares (the component "can cause" the
        mode) before the others, then by preference AUC, highest first. A ``declared`` column says which."""
        cells = self.cells[self.cells["verdict"] == "implicated"]
        return cells.assign(declared=cells["relation"].str.contains("can cause")).sort_values(
            ["declared", "auc"], ascending=False)

    def default_cell(self) -> tuple[str, str] | None:
        """The cell to show first, as (mode id, component id): the strongest implicated cell (see
        :meth:`implicated`), else the first mode and the first component; None when the spec has
        no mode or no component."""
        implicated = self.implicated()
        if len(implicated):
            return implicated.iloc[0]["mode"], implicated.iloc[0]["component"]
        if self.objective.modes and self.objective.components:
            return self.objective.modes[0].id, self.objective.components[0].id
        return None

    def concentrates_in(self, mode: str, limit: int = 2) -> pd.DataFrame:
        """The slices where a mode is more frequent than in the rest of the run (non-redundant findings
        of "where the mode concentrates", by evidence), at most ``limit``."""
        conc = self.concentration.get(mode)
        found = conc.findings() if conc is not None else pd.DataFrame()
        return found[~found["redundant"]].head(limit) if not found.empty else found

    def goodhart_points(self, mode: str, component: str, *, min_support: int) -> pd.DataFrame:
        """The slices of a cell's Goodhart plot: the rows of ``cell(mode, component)["goodhart"]`` for the
        component's first signal with a measured change, in slices of at least ``min_support``
        examples. Empty without a baseline or a signal."""
        good = self.cell(mode, component)["goodhart"]
        if good is None or good.empty:
            return pd.DataFrame(columns=[] if good is None else good.columns)
        good = good[(good["n"] >= min_support) & good["d_signal"].notna()]
        if good.empty:
            return good.reset_index(drop=True)
        return good[good["signal"] == good["signal"].iloc[0]].reset_index(drop=True)

    def matrix(self, value: str = "verdict") -> pd.DataFrame:
        """Modes (rows) x components (columns) of one cell column (``verdict``, ``auc``, ``relation``...)."""
        table = self.cells.pivot(index="mode", columns="component", values=value)
        return table.loc[[m.id for m in self.objective.modes], [c.id for c in self.objective.components]]

    def to_dict(self, *, slices: int = 5) -> dict:
        """JSON-ready: settings, modes with counts and top slices, every cell, divergences, Goodhart slices."""
        def clean(frame: pd.DataFrame | None) -> list[dict]:
            if frame is None:
                return []
            return [{k: _json(v) for k, v in r.items()} for r in frame.to_dict("records")]

        modes = []
        for row in self.counts.to_dict("records"):
            conc = self.concentration.get(row["mode"])
            modes.append({**{k: _json(v) for k, v in row.items()},
                          "concentrates_in": conc.to_records(limit=slices) if conc is not None else []})
        return {
            "run_id": self.run_id, "baseline_id": self.baseline_id, "objective": self.objective.to_dict(),
            "settings": self.settings, "problems": self.problems, "notes": self.notes, "modes": modes,
            "cells": clean(self.cells), "separation": clean(self.separation),
            "divergence": clean(self.divergence[self.divergence["divergent"]]),
            "goodhart": clean(self.goodhart[self.goodhart["goodhart"]] if self.goodhart is not None else None),
        }


def _json(v):
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (list, tuple)):
        return [_json(x) for x in v]
    if isinstance(v, dict):
        return {k: _json(x) for k, x in v.items()}
    return v


def _check(min_failures, min_effect) -> None:
    if isinstance(min_failures, bool) or not isinstance(min_failures, int) or min_failures < 2:
        raise FaultlineError(MSG_MIN_FAILURES.format(value=min_failures))
    if isinstance(min_effect, bool) or not isinstance(min_effect, (int, float)) or not 0 < min_effect < 0.5:
        raise FaultlineError(MSG_MIN_EFFECT.format(value=min_effect))


# ------------------------------------------------------------------------------------- the data
@dataclass
class _RunData:
    frame: pd.DataFrame
    compiled: CompiledModes
    signals: dict[str, str]  # signal key "component:index" -> column expression alias s<k>
    graded: bool
    signal_sql: dict[str, tuple[str, list]] = field(default_factory=dict)  # signal key -> (DOUBLE sql, params)
    texts: dict[str, pa.ChunkedArray] = field(default_factory=dict)  # text attribute a<k> -> its values (Arrow)


def _component_signals(objective: Objective):
    """Every (component, signal index, signal, key) of a spec, in the spec's order."""
    for component in objective.components:
        for index, signal in enumerate(component.signals):
            yield component, index, signal, _signal_key(component, index)


def _signal_key(component: Component, index: int) -> str:
    return f"{component.id}:{index}"


def _signal_exprs(store: Store, run, objective: Objective) -> dict[str, tuple[str, list]]:
    """Signal key -> ``(sql, params)`` of the signal as a DOUBLE over the run's table, for the signals the run has
    as a number column (in the spec's order)."""
    fields = fields_from_table(store.schema(run).stored())
    out = {}
    for _, _, sig, key in _component_signals(objective):
        f = fields.get(sig.column)
        if f is not None and f.kind == "number":
            out[key] = (f"CAST(({f.sql}) AS DOUBLE)", list(f.params))
    return out


def _load(store: Store, run: str, objective: Objective, compiled: CompiledModes, prepared,
          signal_exprs: dict[str, tuple[str, list]] | None = None) -> _RunData:
    """The scored rows of the run (of the cohort ``compiled`` was made for): signals, mode indicators, attributes.

    From the run's table, or from the temporary table of :func:`analysis.objective.modes.materialise_modes` when
    ``compiled`` is materialised (``signal_exprs`` and ``prepared`` then name its columns)."""
    if signal_exprs is None:
        signal_exprs = _signal_exprs(store, run, objective)
    columns = []
    signals = {}
    signal_sql = {}
    for key, (sql, params) in signal_exprs.items():
        alias = f"s{len(signals)}"
        columns.append((alias, sql, params))
        signals[key] = alias
        signal_sql[key] = (sql, list(params))
    for i, mode in enumerate(objective.modes):
        columns.append((f"m{i}", *compiled.mode_sql(mode.id)))
    for k, prep in enumerate(prepared):
        columns.append((f"a{k}", prep.sql.expr, prep.sql.params))
    # whether scores are graded (the one rule) comes with the rows, as a scalar subquery; no example id is read
    # (two runs are paired in SQL, :func:`_paired_positions`)
    # read as Arrow: text attributes stay Arrow arrays (factorised there, :func:`_slice_codes`), the rest become the
    # frame through DuckDB's own conversion (the dtypes of ``.df()``), so no column of strings is made into objects
    materialised = compiled.cursor is not None
    sql, params = M.link_rows_sql(compiled.table, columns, cohort=compiled.cohort_sql,
                                  graded="__graded" if materialised else None)
    cursor = compiled.cursor_of(store)
    table = cursor.sql(sql, params=params).to_arrow_table()
    texts = {name: table.column(name) for name in (f"a{k}" for k in range(len(prepared)))
             if _is_text(table.schema.field(name).type)}
    frame = cursor.from_arrow(table.drop_columns(list(texts))).df()
    graded = bool(frame["__graded"].iloc[0]) if len(frame) else False
    frame = frame.drop(columns="__graded")
    return _RunData(frame, compiled, signals, graded, signal_sql, texts)


#: Above this many scored rows (of the run, or of its cohort) the link's divergence is ranked by the engine
#: (:func:`divergence_by_slice`) on DuckDB too, and without a baseline no row is read into Python; at or below it
#: numpy ranks the rows read (:func:`divergence_table`), measured 5x cheaper at 1M rows on two cores. Both give the
#: same numbers (exact integer sums of the mid-ranks). The Spark engine always ranks in the engine.
ROWS_RANKED_IN_MEMORY = 2_000_000


def ranks_in_engine(store: Store, n_rows: int) -> bool:
    """Whether the link's divergence is ranked by the engine (:data:`ROWS_RANKED_IN_MEMORY`): on Spark, or above
    that many scored rows."""
    return getattr(store, "engine", "duckdb") != "duckdb" or n_rows > ROWS_RANKED_IN_MEMORY


def _totals(store: Store, rows: CompiledModes) -> tuple[int, bool]:
    """The scored rows of ``rows`` (of its cohort) and whether the run's scores are graded (False without a row, as
    :func:`_load` says), from one statement."""
    graded = "bool_or(__graded)" if rows.cursor is not None else F.graded_expr(rows.table)
    sql, params = M.link_totals_sql(rows.table, graded, cohort=rows.cohort_sql)
    n, is_graded = rows.cursor_of(store).execute(sql, params).fetchall()[0]
    return int(n), bool(is_graded) if n else False


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)


def _paired_positions(store: Store, base_schema, schema, base_compiled: CompiledModes,
                      cohort_sql) -> np.ndarray:
    """Per row of the candidate's :func:`_load` frame, the position of the baseline's row with the same example id
    in the baseline's frame, -1 when it has none (int64, one per candidate row); the candidate's rows are those of
    its cohort ``cohort_sql`` (``(sql, params)``, None for every scored row); matched by the engine
    (:func:`analysis.sql.modes.paired_positions_sql`)."""
    sql, params = M.paired_positions_sql(base_schema.run.table_name, schema.run.table_name,
                                         cohort=cohort_sql, base_cohort=base_compiled.cohort_sql)
    got = store.cursor().sql(sql, params=params).to_arrow_table().column("base_pos")  # Arrow: on either engine
    return got.fill_null(-1).to_numpy().astype(np.int64)


def _slice_codes(data: _RunData, prepared) -> list[tuple[str, np.ndarray, list[str]]]:
    """Per attribute: (name, codes per example, labels per code)."""
    out = []
    for k, prep in enumerate(prepared):
        text = data.texts.get(f"a{k}")
        if text is not None:  # as pd.factorize: codes in order of first appearance, -1 for missing
            encoded = text.combine_chunks().dictionary_encode()
            raw_codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
            uniques = encoded.dictionary.to_pylist()
        else:
            raw_codes, values = pd.factorize(data.frame[f"a{k}"], use_na_sentinel=True)
            uniques = values.tolist()
        labels = [value_label(prep, v) for v in uniques]
        if (raw_codes < 0).any():
            labels.append(value_label(prep, None))
            raw_codes = np.where(raw_codes < 0, len(labels) - 1, raw_codes)
        # the same label twice (e.g. 1 and 1.0) is one slice
        merged, label_codes = np.unique(np.array(labels, dtype=object), return_inverse=True)
        codes = label_codes[raw_codes].astype(np.int64)
        names = [describe_condition(prep.attribute.name, u, binned=prep.labels is not None) for u in merged]
        out.append((prep.attribute.name, codes, names))
    return out


# ------------------------------------------------------------------------------- divergence
def _group_order(order: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """``order`` (a sort of the values) re-sorted stably by group: the rows sorted by (group, value). Codes of fewer
    than 2**15 groups sort as int16, which numpy's stable sort orders by radix (one linear pass); one group is
    ``order`` itself."""
    if n_groups == 1:
        return order
    small = codes.astype(np.int16 if n_groups < 2 ** 15 else np.int64)[order]
    return order[np.argsort(small, kind="stable")]


def _twice_mid_ranks(values: np.ndarray, n: np.ndarray, order: np.ndarray, starts: np.ndarray, k: int
                     ) -> tuple[np.ndarray, list[int] | None]:
    """Twice the average (mid) ranks of ``values`` within each group, as integers (int64), and per group the exact
    sum of their squares (Python integers; None above :data:`_LIMB_ROWS` rows); ``order`` sorts the rows by
    (group, value), so the groups follow one another in it, ``n`` rows each (group ``g`` from ``starts[g]``)."""
    vs = values[order]
    gs = np.repeat(np.arange(k, dtype=np.int64), n)  # each row's group in sorted order: no gather needed
    new_run = np.ones(values.size, dtype=bool)
    new_run[1:] = vs[1:] != vs[:-1]
    new_run[starts[n > 0]] = True  # a group's first row begins a run whatever its value
    first = np.flatnonzero(new_run)  # where each run of ties begins, in sorted order
    length = np.diff(np.append(first, values.size))
    # a run's ranks are consecutive integers: their mean is its first rank plus (length - 1) / 2, so twice the mean is
    # 2 (first rank) + length - 1, an integer (exact), without summing them
    twice = 2 * (first - starts[gs[first]] + 1) + length - 1
    ranks = np.empty(values.size, dtype=np.int64)
    ranks[order] = np.repeat(twice, length)
    squares = None
    if values.size <= _LIMB_ROWS:  # once per run of ties: length (2r)^2, in two limbs each summed exactly
        square = twice * twice  # below 2**44 (r at most 2**25)
        run_group = gs[first]
        high = np.bincount(run_group, weights=(length * (square >> 26)).astype(np.float64), minlength=k)
        low = np.bincount(run_group, weights=(length * (square & 0x3FFFFFF)).astype(np.float64), minlength=k)
        squares = [(int(h) << 26) + int(lo) for h, lo in zip(high.tolist(), low.tolist())]
    return ranks, squares


#: Rows up to which :func:`_grouped_exact_sums` sums in float limbs (each limb's sum below 2**53, exact).
_LIMB_ROWS = 2**25


def _grouped_exact_sums(values: np.ndarray, codes: np.ndarray, k: int, order: np.ndarray, starts: np.ndarray,
                        n: np.ndarray) -> list[int]:
    """Per group the exact sum of ``values`` (non-negative int64, at most ``4 m^2`` for a group of ``m`` rows, as a
    product of twice mid-ranks), as Python integers. Up to :data:`_LIMB_ROWS` rows: ``np.bincount`` over two limbs
    (the low 26 bits and the rest), each limb's sum below 2**53 so exact in float64; beyond, ``np.add.reduceat``
    over two 32-bit limbs in int64, the rows in group order (``order``, groups starting at ``starts``, ``n`` rows
    each)."""
    if values.size <= _LIMB_ROWS:
        high = np.bincount(codes, weights=(values >> 26).astype(np.float64), minlength=k)
        low = np.bincount(codes, weights=(values & 0x3FFFFFF).astype(np.float64), minlength=k)
        return [(int(h) << 26) + int(lo) for h, lo in zip(high.tolist(), low.tolist())]
    sorted_values = values[order]
    out = [0] * k
    nonempty = np.flatnonzero(n > 0)
    if nonempty.size:
        at = starts[nonempty]
        high = np.add.reduceat(sorted_values >> 32, at)
        low = np.add.reduceat(sorted_values & 0xFFFFFFFF, at)
        for g, h, lo in zip(nonempty.tolist(), high.tolist(), low.tolist()):
            out[g] = (h << 32) + lo
    return out


def _spearman_from_twice_rank_sums(n: Sequence[int], xy: Sequence[int], xx: Sequence[int], yy: Sequence[int]
                                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per slice (n, rho, p) from exact integer sums of twice the mid-ranks (``2 rx * 2 ry``, ``(2 rx)^2``,
    ``(2 ry)^2``) over its ``n`` rows: the centred sums made exactly in integers
    (``sum (rx - m)(ry - m) = (sum (2 rx)(2 ry) - n (n + 1)^2) / 4``, ``m = (n + 1) / 2``), rounded once, then
    :func:`analysis.stats.spearman_from_rank_sums`. The one conversion of the engine's sums
    (:func:`divergence_by_slice`) and of numpy's (:func:`divergence_table`): the same numbers from either."""
    counts = [int(c) for c in n]
    dev = [np.array([float(int(s) - c * (c + 1) ** 2) / 4.0 for s, c in zip(sums, counts)], dtype=np.float64)
           for sums in (xy, xx, yy)]
    rho, p = _stats.spearman_from_rank_sums(np.array(counts, dtype=np.float64), *dev)
    return np.array(counts, dtype=np.int64), rho, p


def _spearman_slices(x: np.ndarray, y: np.ndarray, groups, *, y_ranks: dict | None = None
                     ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Spearman's rho and its two-sided p-value in every slice of every attribute, one pass per attribute.

    ``x`` and ``y`` are finite, shape (n,); ``groups`` yields (name, codes, labels) with codes in
    ``[0, len(labels))``. The value orders are sorted once (``x`` here, ``y`` once per link call when ``y_ranks``
    caches the outcome's ranks by attribute position); each attribute then needs only a stable sort of its small codes.
    Twice the mid-ranks within the slice (integers), their exact integer sums per slice, and rho and
    ``p = 2 T_{n-2}.sf(|rho| sqrt((n-2) / ((1+rho)(1-rho))))`` as ``scipy.stats.spearmanr``
    (:func:`_spearman_from_twice_rank_sums`, as from the engine's sums); rho NaN for fewer than 2 rows or a constant x
    or y in the slice, p NaN also for 2 rows. Per attribute: (n, rho, p), shape (n_labels,).
    """
    # the value orders need not be stable: tied values share one mid-rank whatever their order (the group orders
    # made from them are stable sorts, so each group keeps its values sorted)
    x_order = np.argsort(x)
    y_order = None
    out = []
    for index, (_, codes, labels) in enumerate(groups):
        k = len(labels)
        n = np.bincount(codes, minlength=k).astype(np.int64)
        starts = np.concatenate(([0], np.cumsum(n)[:-1])).astype(np.int64)
        order = _group_order(x_order, codes, k)
        rx, xx = _twice_mid_ranks(x, n, order, starts, k)
        ry, yy = (None, None) if y_ranks is None else y_ranks.get(index, (None, None))
        if ry is None:
            if y_order is None:
                y_order = np.argsort(y)
            ry, yy = _twice_mid_ranks(y, n, _group_order(y_order, codes, k), starts, k)
            if y_ranks is not None:
                y_ranks[index] = (ry, yy)
        xy = _grouped_exact_sums(rx * ry, codes, k, order, starts, n)
        if xx is None:
            xx = _grouped_exact_sums(rx * rx, codes, k, order, starts, n)
        if yy is None:
            yy = _grouped_exact_sums(ry * ry, codes, k, order, starts, n)
        out.append(_spearman_from_twice_rank_sums(n, xy, xx, yy))
    return out


def divergence_table(oriented: np.ndarray, outcome: np.ndarray, attributes, *, min_support: int,
                     fdr: float, outcome_ranks: dict | None = None) -> pd.DataFrame:
    """Spearman rho of an oriented signal and the outcome within each slice (and the whole run),
    BH q-values over the slices tested; slices below ``min_support`` are not tested.

    Ranked in numpy over rows in memory, from exact integer sums of twice the mid-ranks: the same numbers, bit for
    bit, as :func:`divergence_by_slice` (the engine's ranks over the rows where they lie).

    Parameters
    ----------
    oriented, outcome : ndarray of float, shape (n,)
        The signal oriented the way the objective pushes it, and the outcome (score, or correctness as 0/1); rows
        where either is not finite are left out.
    attributes : list of (str, ndarray of int, list of str)
        Per attribute: its name, the slice code of each row (in ``[0, len(labels))``) and the slice labels.
    min_support : int
        Slices with fewer rows are not tested (p and q NaN).
    fdr : float
        Benjamini-Hochberg level of ``divergent`` (rho < 0 and q < fdr).
    outcome_ranks : dict, optional
        A cache of the outcome's mid-ranks per attribute (by position in ``attributes``), shared by the calls of one link (every signal's
        divergence ranks the same outcome in the same slices); used only when every row has a finite signal and
        outcome, so the ranks are over the same rows.

    Returns
    -------
    DataFrame
        One row per slice (the whole run first, then each attribute's slices in label order): ``attribute``,
        ``description``, ``n``, ``rho`` (Spearman, in [-1, 1]; NaN below 2 rows or a constant signal or outcome),
        ``p_value`` (two-sided, ``scipy.stats.spearmanr``'s t approximation), ``q_value`` (BH over the tested
        slices), ``divergent``.
    """
    keep = np.isfinite(oriented) & np.isfinite(outcome)
    every = bool(keep.all())
    x, y = (oriented, outcome) if every else (oriented[keep], outcome[keep])
    groups = [("", np.zeros(x.size, dtype=np.int64), [ALL])]
    groups += [(name, codes if every else codes[keep], labels) for name, codes, labels in attributes]
    stats = _spearman_slices(x, y, groups, y_ranks=outcome_ranks if every else None)
    n = np.concatenate([s[0] for s in stats]) if stats else np.zeros(0, dtype=np.int64)
    rho = np.concatenate([s[1] for s in stats])
    p = np.concatenate([s[2] for s in stats])
    return _divergence_frame([name for name, _, labels in groups for _ in labels],
                             [label for _, _, labels in groups for label in labels], n, rho, p,
                             min_support=min_support, fdr=fdr)


def _divergence_frame(attributes: list, descriptions: list, n: np.ndarray, rho: np.ndarray, p: np.ndarray, *,
                      min_support: int, fdr: float) -> pd.DataFrame:
    """The divergence table from per-slice Spearman statistics (either path's): slices under ``min_support`` are
    not tested (no p-value, outside the BH family); a slice diverges when rho < 0 with q below ``fdr``."""
    table = pd.DataFrame({"attribute": attributes, "description": descriptions, "n": n.astype(int), "rho": rho,
                          "p_value": np.where(n >= min_support, p, np.nan)})
    table["q_value"] = _stats.benjamini_hochberg(table["p_value"].to_numpy(dtype=float))
    table["divergent"] = (table["rho"] < 0) & (table["q_value"] < fdr)
    return table


def _outcome_sql(graded: bool) -> tuple[str, list]:
    """The outcome of the divergence as an SQL DOUBLE: the score when scores are graded, else correctness as 0/1."""
    return ("CAST(score AS DOUBLE)", []) if graded else ("CASE WHEN correct THEN 1.0 ELSE 0.0 END", [])


def _rank_statistics(got: list[dict], count: int):
    """Per result row of :func:`analysis.sql.modes.rank_correlation_sums_sql`, for value ``count``: (n, rho, p) from
    its exact integer sums of twice the mid-ranks (a sum over no row, NULL, as 0)."""
    def whole(name: str) -> list[int]:
        return [0 if r.get(f"{name}{count}") is None else int(r[f"{name}{count}"]) for r in got]

    return _spearman_from_twice_rank_sums(whole("n"), whole("xy"), whole("xx"), whole("yy"))


def _slice_value(value):
    """A slice value read by ``fetchall`` as the pandas frame of the rows held it (a DECIMAL as a float), so that
    :func:`~analysis.slicing.attributes.value_label` labels it as :func:`_slice_codes` did."""
    return float(value) if isinstance(value, Decimal) else value


def divergence_by_slice(store: Store, rows: CompiledModes, objective: Objective, signals: dict[str, tuple[str, list]],
                        prepared, *, graded: bool, min_support: int, fdr: float, labelled=None) -> pd.DataFrame:
    """Spearman rho of each oriented signal and the outcome within each slice (and the whole run), BH q-values
    over the slices tested per signal; computed by the engine, one row per slice read back.

    The statistics of :func:`divergence_table` (the same rows, order and columns) without reading an example
    into Python: per attribute one statement (:func:`analysis.sql.modes.rank_correlation_sums_sql`) ranks every
    signal and the outcome within each slice by window functions and returns exact integer sums of the
    mid-ranks per slice; :func:`analysis.stats.spearman_from_rank_sums` makes rho and the p-value.

    Parameters
    ----------
    store : Store
        The store holding the run.
    rows : CompiledModes
        The run's modes whose ``table`` (and cursor, :meth:`CompiledModes.cursor_of`) hold the rows: the temporary
        table of :func:`analysis.objective.modes.materialise_modes`, or the run's table (with its cohort).
    objective : Objective
        The spec: its components' signals, in order; a signal is oriented the way the objective pushes it (a
        ``lower_is_better`` one ranked negated).
    signals : dict
        Signal key (``component:index``) -> its SQL DOUBLE over ``rows.table`` and parameters; signals not in it
        (the run lacks them) are left out.
    prepared : list of PreparedAttribute
        The attributes, their SQL over ``rows.table``.
    graded : bool
        The outcome is the score (True) or correctness as 0/1.
    min_support : int
        Slices with fewer rows (with a finite signal and outcome) are not tested (p and q NaN).
    fdr : float
        Benjamini-Hochberg level of ``divergent`` (rho < 0 and q < fdr).
    labelled : list of PreparedAttribute, optional
        The same attributes as ``prepared`` for their labels (bins), when ``prepared`` names the columns of a
        temporary table; default ``prepared``.

    Returns
    -------
    DataFrame
        One row per (signal, slice): ``component``, ``signal``, then the columns of :func:`divergence_table`
        (``attribute``, ``description``, ``n`` (a count), ``rho`` (in [-1, 1]), ``p_value``, ``q_value``,
        ``divergent``); slices as :func:`divergence_table` orders them (the whole run first, then each attribute's
        slices by label).

    Raises
    ------
    FaultlineError
        Two values of an attribute with one label (other than NaN and a missing value, counted as one slice).
    """
    labelled = prepared if labelled is None else labelled
    chosen = [(comp, sig, key) for comp, _, sig, key in _component_signals(objective) if key in signals]
    cols = ["component", "signal", "attribute", "description", "n", "rho", "p_value", "q_value", "divergent"]
    if not chosen:
        return pd.DataFrame({c: [] for c in cols})
    values = [(*signals[key], sig.direction != "higher_is_better") for _, sig, key in chosen]
    outcome = _outcome_sql(graded)
    cursor = rows.cursor_of(store)

    def sums(attribute, nan_as_null=False) -> list[dict]:
        sql, params, names = M.rank_correlation_sums_sql(rows.table, values, outcome, attribute,
                                                         nan_as_null=nan_as_null, cohort=rows.cohort_sql)
        return [dict(zip(names, r)) for r in cursor.execute(sql, params).fetchall()]

    whole = sums(None) or [{}]  # no scored row: one slice of none
    parts = [("", [ALL], [whole])]  # per attribute: name, labels, per label its result rows
    for prep, labels_of in zip(prepared, labelled):
        got = sums((prep.sql.expr, prep.sql.params))
        if any(isinstance(r["slice"], float) and math.isnan(r["slice"]) for r in got):
            got = sums((prep.sql.expr, prep.sql.params), nan_as_null=True)  # NaN and missing: one slice
        by_label: dict[str, dict] = {}
        for r in got:
            label = value_label(labels_of, _slice_value(r["slice"]))
            if label in by_label:
                raise FaultlineError(MSG_TWO_VALUES.format(attribute=labels_of.attribute.name, label=label))
            by_label[label] = r
        order = sorted(by_label)  # as np.unique orders the labels in _slice_codes
        names = [describe_condition(labels_of.attribute.name, u, binned=labels_of.labels is not None) for u in order]
        parts.append((labels_of.attribute.name, names, [[by_label[u]] for u in order]))
    tables = []
    for i, (comp, sig, _) in enumerate(chosen):
        flat = [r for _, _, groups in parts for group in groups for r in group]
        n, rho, p = _rank_statistics(flat, i)
        table = _divergence_frame([name for name, labels, _ in parts for _ in labels],
                                  [label for _, labels, _ in parts for label in labels], n, rho, p,
                                  min_support=min_support, fdr=fdr)
        table.insert(0, "component", comp.id)
        table.insert(1, "signal", sig.column)
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


# --------------------------------------------------------------------------------- Goodhart
def _paired_groups(attributes, n: int):
    yield "", np.zeros(n, dtype=np.int64), [ALL]
    yield from attributes


def _round_units(x: np.ndarray) -> np.ndarray:
    """``x`` as whole numbers of ``1 / SCORE_SCALE`` (integral float64): ``x * SCORE_SCALE`` rounded half away from
    zero, as :func:`analysis.sql.features.score_units` makes them in the engine (the same product, the same
    rounding)."""
    y = x * float(F.SCORE_SCALE)
    whole = np.trunc(y)
    return whole + np.where(np.abs(y - whole) >= 0.5, np.sign(y), 0.0)


#: Integral floats below this (in magnitude) are summed in int64 limbs by :func:`_grouped_int_sums`.
_INT_LIMBS = 2.0**62


def _grouped_int_sums(units: np.ndarray, codes: np.ndarray, k: int) -> list[int]:
    """Per group the exact sum of integral floats (:func:`_round_units`), as Python integers: values below
    :data:`_INT_LIMBS` as limbs of their int64 (:class:`_IntLimbs`: each limb's grouped float sum exact), larger ones
    one by one."""
    return _IntLimbs(units).grouped(codes, k)


class _IntLimbs:
    """Integral floats (:func:`_round_units`) split once into what :func:`_grouped_int_sums` sums: the limbs (as
    float64) of those below :data:`_INT_LIMBS`, and the larger ones apart; summed per group for any grouping of the
    same rows (:meth:`grouped`) without splitting them again.

    A limb is ``w = 52 - bit_length(n)`` bits wide for ``n`` rows (every lower limb non-negative, the top one
    signed, each below ``2**w`` in magnitude), so any sum of at most ``n`` of them stays below ``2**52`` and
    float64 adds them exactly: two limbs up to 2**21 rows, more beyond."""

    def __init__(self, units: np.ndarray) -> None:
        big = np.abs(units) >= _INT_LIMBS
        small = np.where(big, 0.0, units).astype(np.int64)
        width = 52 - max(int(units.size), 1).bit_length()
        mask = (1 << width) - 1
        shifts = list(range(0, 62, width))
        self.limbs = [((small >> shift if shift == shifts[-1] else (small >> shift) & mask).astype(np.float64), shift)
                      for shift in shifts]
        self.big = np.flatnonzero(big)
        self.big_values = units[self.big].tolist()

    def grouped(self, codes: np.ndarray, k: int) -> list[int]:
        """Per group (``codes``: one int per row, in ``[0, k)``) the exact sum, as Python integers."""
        out = [0] * k
        for limb, shift in self.limbs:
            for g, v in enumerate(np.bincount(codes, weights=limb, minlength=k).tolist()):
                out[g] += int(v) << shift
        for g, v in zip(codes[self.big].tolist(), self.big_values):
            out[g] += int(v)
        return out

    def total(self) -> int:
        """The exact sum of every row, as a Python integer (:meth:`grouped` with one group)."""
        return sum(int(limb.sum()) << shift for limb, shift in self.limbs) + sum(int(v) for v in self.big_values)


def _paired_signals(objective: Objective, cand_keys, base_keys) -> tuple[list, list[str]]:
    """The signals compared across the runs, ``(component, index, signal, key)`` in the spec's order (those of the
    candidate the baseline also has), and a note per signal the baseline lacks."""
    chosen, notes = [], []
    for comp, j, sig, key in _component_signals(objective):
        if key not in cand_keys:
            continue
        if key not in base_keys:
            notes.append(f"The baseline has no column {sig.column!r}: no Goodhart comparison for {comp.name}")
            continue
        chosen.append((comp, j, sig, key))
    return chosen, notes


def _paired_sums(base: _RunData, cand: _RunData, objective: Objective, attributes, chosen, *,
                 position: np.ndarray) -> list[tuple[str, list[str], dict[str, list[int]]]]:
    """From the rows of both runs (numpy): per attribute (the whole run first) its name, labels and the exact
    integer sums of :func:`analysis.sql.modes.goodhart_sums_sql` per label (the same sums the engine makes).
    ``position`` holds, per row of ``cand.frame``, the row of ``base.frame`` with the same id (-1 for none;
    :func:`_paired_positions`)."""
    matched = position >= 0
    b_cols = ["correct", *(base.signals[key] for *_, key in chosen), *(f"m{i}" for i in range(len(objective.modes)))]
    c_cols = ["correct", *(cand.signals[key] for *_, key in chosen), *(f"m{i}" for i in range(len(objective.modes)))]
    bm = base.frame[b_cols].take(position[matched]).reset_index(drop=True)
    every = bool(matched.all())  # every example paired (the usual case): no copy of the candidate's rows
    cm = cand.frame[c_cols].reset_index(drop=True) if every else cand.frame[c_cols][matched].reset_index(drop=True)
    attrs = list(attributes) if every else [(name, codes[matched], labels) for name, codes, labels in attributes]
    bc = bm["correct"].to_numpy(dtype=bool)
    cc = cm["correct"].to_numpy(dtype=bool)
    # two flags of a row (the baseline's, the candidate's) as one state in 0..3 (2 baseline + candidate): one count of
    # (slice, state) per attribute gives the four counts of :func:`analysis.sql.modes.goodhart_sums_sql` (either
    # flag, and each without the other), where counting each over its own rows takes a pass of its own:
    # (names of those four, the state per row)
    pairs = [(("acc_b", "acc_c", "b", "c"), 2 * bc.astype(np.int64) + cc)]
    # the per-row columns once, not once per attribute: (name, rows counted, their integral values: None to count)
    columns = []
    for i, (_, _, sig, key) in enumerate(chosen):
        sign = 1.0 if sig.direction == "higher_is_better" else -1.0
        sb = sign * bm[base.signals[key]].to_numpy(dtype=float)
        sc = sign * cm[cand.signals[key]].to_numpy(dtype=float)
        with np.errstate(invalid="ignore", over="ignore"):
            sd = sc - sb
            keep = np.isfinite(sb) & np.isfinite(sc) & np.isfinite(sd)
            columns.append((f"sn{i}", keep, None))
            columns += [(f"{name}{i}", keep, _IntLimbs(_round_units(v[keep])))
                        for name, v in (("sb", sb), ("sc", sc), ("sd", sd), ("sdd", sd * sd))]
    for j in range(len(objective.modes)):
        mb = bm[f"m{j}"].to_numpy(dtype=bool)
        mc = cm[f"m{j}"].to_numpy(dtype=bool)
        pairs.append(((f"rb{j}", f"rc{j}", f"down{j}", f"up{j}"), 2 * mb.astype(np.int64) + mc))
    shared = {id(kept) for _, kept, units in columns if units is not None}  # masks of several columns
    parts = []
    for name, codes, labels in _paired_groups(attrs, len(cm)):
        k = len(labels)
        sums = {"n": np.bincount(codes, minlength=k).tolist()}
        by_state = 4 * codes.astype(np.int64)
        for (first, second, first_only, second_only), state in pairs:
            counts = np.bincount(by_state + state, minlength=4 * k).reshape(k, 4)
            sums[first] = (counts[:, 2] + counts[:, 3]).tolist()
            sums[second] = (counts[:, 1] + counts[:, 3]).tolist()
            sums[first_only] = counts[:, 2].tolist()
            sums[second_only] = counts[:, 1].tolist()
        kept_codes: dict[int, np.ndarray] = {}  # a signal's finite rows: their codes once for its five columns
        for col, kept, units in columns:
            if id(kept) in shared:
                if id(kept) not in kept_codes:
                    kept_codes = {id(kept): codes[kept]}  # one signal's at a time (the columns come signal by signal)
                chosen_codes = kept_codes[id(kept)]
            else:
                chosen_codes = codes[kept]
            if units is None:
                sums[col] = np.bincount(chosen_codes, minlength=k).tolist()
            else:
                sums[col] = units.grouped(chosen_codes, k)
        parts.append((name, list(labels), sums))
    return parts


def _goodhart_from_sums(parts, objective: Objective, chosen, *, min_support: int, fdr: float,
                        confidence: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Goodhart table and the change of every mode's rate from the exact per-slice sums of either path
    (:func:`_paired_sums`, numpy; :func:`_goodhart_by_slice`, the engine): the one conversion, so the same numbers
    from either."""
    def column(name: str) -> np.ndarray:
        return np.array([0 if v is None else int(v) for _, _, sums in parts for v in sums[name]], dtype=np.int64)

    names = [name for name, labels, _ in parts for _ in labels]
    labels = [label for _, ls, _ in parts for label in ls]
    nn = column("n")
    has = nn > 0
    b_, c_ = column("b").astype(float), column("c").astype(float)
    acc_b, acc_c = column("acc_b").astype(float), column("acc_c").astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        low, high = paired_difference_interval(c_, b_, nn, confidence=confidence)  # accuracy change
        p = _stats.mcnemar_exact(b_.astype(np.int64), c_.astype(np.int64))
        outcome = pd.DataFrame({"attribute": names, "description": labels, "n": nn.astype(int),
                                "acc_base": np.where(has, acc_b / nn, math.nan),
                                "acc_cand": np.where(has, acc_c / nn, math.nan),
                                "d_accuracy": np.where(has, (c_ - b_) / nn, math.nan),
                                "d_acc_low": low, "d_acc_high": high,
                                "p_outcome": np.where(nn >= min_support, p, math.nan)})
    outcome["q_outcome"] = _stats.benjamini_hochberg(outcome["p_outcome"].to_numpy(dtype=float))

    scale = F.SCORE_SCALE
    tables = []
    for i, (comp, _, sig, _) in enumerate(chosen):
        sign = 1.0 if sig.direction == "higher_is_better" else -1.0
        n_ = [int(v) for _, _, sums in parts for v in sums[f"sn{i}"]]
        whole = {name: [0 if v is None else int(v) for _, _, sums in parts for v in sums[f"{name}{i}"]]
                 for name in ("sb", "sc", "sd", "sdd")}
        mean, low, high, p = _stats.paired_mean_difference_from_sums(n_, whole["sd"], whole["sdd"], scale=scale,
                                                                     confidence=confidence)
        t = pd.DataFrame({"attribute": names, "description": labels,
                          "signal_base": [sign * float(Fraction(v, m * scale)) if m else math.nan
                                          for v, m in zip(whole["sb"], n_)],
                          "signal_cand": [sign * float(Fraction(v, m * scale)) if m else math.nan
                                          for v, m in zip(whole["sc"], n_)],
                          "d_signal": mean, "d_signal_low": low, "d_signal_high": high,
                          "p_signal": np.where(np.array(n_) >= min_support, p, math.nan)})
        t["q_signal"] = _stats.benjamini_hochberg(t["p_signal"].to_numpy(dtype=float))
        t = t.merge(outcome, on=["attribute", "description"], how="left")
        t["goodhart"] = ((t["d_signal"] > 0) & (t["q_signal"] < fdr) & (t["d_accuracy"] < 0)
                         & (t["q_outcome"] < fdr))
        t.insert(0, "component", comp.id)
        t.insert(1, "signal", sig.column)
        t.insert(2, "direction", sig.direction)
        tables.append(t)
    cols = ["component", "signal", "direction", "attribute", "description", "signal_base", "signal_cand", "d_signal",
            "d_signal_low", "d_signal_high", "p_signal", "q_signal", "n", "acc_base", "acc_cand", "d_accuracy",
            "d_acc_low", "d_acc_high", "p_outcome", "q_outcome", "goodhart"]
    goodhart = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame({c: [] for c in cols})

    change_rows = []
    for j, mode in enumerate(objective.modes):
        up, down = column(f"up{j}").astype(float), column(f"down{j}").astype(float)
        rate_b, rate_c = column(f"rb{j}").astype(float), column(f"rc{j}").astype(float)
        p = _stats.mcnemar_exact(up.astype(np.int64), down.astype(np.int64))
        with np.errstate(invalid="ignore", divide="ignore"):
            t = pd.DataFrame({"mode": mode.id, "attribute": names, "description": labels, "n": nn.astype(int),
                              "base_rate": np.where(has, rate_b / nn, math.nan),
                              "cand_rate": np.where(has, rate_c / nn, math.nan),
                              "d_rate": np.where(has, (up - down) / nn, math.nan),
                              "p_value": np.where(nn >= min_support, p, math.nan)})
        t["q_value"] = _stats.benjamini_hochberg(t["p_value"].to_numpy(dtype=float))
        t["up"] = (t["d_rate"] > 0) & (t["q_value"] < fdr)
        change_rows.append(t)
    mode_change = pd.concat(change_rows, ignore_index=True) if change_rows else pd.DataFrame(
        {c: [] for c in ["mode", "attribute", "description", "n", "base_rate", "cand_rate", "d_rate", "p_value",
                         "q_value", "up"]})
    return goodhart, mode_change


def goodhart_tables(base: _RunData, cand: _RunData, objective: Objective, attributes, *, min_support: int,
                    fdr: float, confidence: float, position: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Per signal and slice: signal change vs accuracy change (the Goodhart quadrant); per mode and slice:
    the change of its rate. Examples are matched on example id: ``position`` holds, per row of ``cand.frame``, the
    row of ``base.frame`` with the same id (-1 for none; :func:`_paired_positions`); slices are the candidate's.

    From the rows in memory: exact integer sums per slice (:func:`_paired_sums`; counts, and the signal values,
    their paired differences and squared differences as whole numbers of ``1 / SCORE_SCALE``), turned into the
    statistics by :func:`_goodhart_from_sums` exactly as the engine's sums (:func:`_goodhart_by_slice`): the same
    numbers, bit for bit. Accuracy: McNemar exact test and Wald interval; signal: paired t test and interval
    (:func:`analysis.stats.paired_mean_difference_from_sums`); mode rates: McNemar exact; BH over slices."""
    chosen, notes = _paired_signals(objective, cand.signals, base.signals)
    parts = _paired_sums(base, cand, objective, attributes, chosen, position=position)
    goodhart, mode_change = _goodhart_from_sums(parts, objective, chosen, min_support=min_support, fdr=fdr,
                                                confidence=confidence)
    return goodhart, mode_change, notes


def _goodhart_by_slice(store: Store, rows: CompiledModes, base_table: str, base_compiled: CompiledModes,
                       objective: Objective, signals: dict[str, tuple[str, list]],
                       base_signals: dict[str, tuple[str, list]], prepared, labelled, *, min_support: int,
                       fdr: float, confidence: float):
    """:func:`goodhart_tables` computed by the engine: one statement (:func:`analysis.sql.modes.goodhart_sums_sql`,
    GROUPING SETS over every attribute; once more when an attribute has NaN values) joins the candidate's rows (``rows``: the materialised table or
    the run's, with its cohort) to the baseline's on example id and returns the exact sums per slice; no example row
    is read into Python.

    Returns the Goodhart table, the change of every mode's rate, the notes, the pairs of the whole run and, per
    slice description, the slice as an SQL condition over ``rows.table`` (``(sql, params)``; None for the whole
    run) for the evidence (:func:`_local_separation_by_engine`)."""
    chosen, notes = _paired_signals(objective, signals, base_signals)
    values = [(signals[key], base_signals[key], sig.direction != "higher_is_better") for *_, sig, key in chosen]
    cand_modes = [rows.mode_sql(mode.id) for mode in objective.modes]
    base_modes = [base_compiled.mode_sql(mode.id) for mode in objective.modes]
    cursor = rows.cursor_of(store)
    names = list(M.GOODHART_COUNTS) + [f"{n}{i}" for i in range(len(chosen)) for n in M.GOODHART_SIGNAL_SUMS] \
        + [f"{n}{j}" for j in range(len(objective.modes)) for n in M.GOODHART_MODE_COUNTS]

    def sums(nan_as_null: list[bool]) -> list[dict]:
        attributes = [(p.sql.expr, list(p.sql.params), flag) for p, flag in zip(prepared, nan_as_null)]
        sql, params, cols = M.goodhart_sums_sql(rows.table, base_table, attributes, values, cand_modes, base_modes,
                                                cohort=rows.cohort_sql, base_cohort=base_compiled.cohort_sql)
        return [dict(zip(cols, r)) for r in cursor.execute(sql, params).fetchall()]

    def stacked(rows_: list[dict]) -> dict[str, list]:
        return {name: [r.get(name) for r in rows_] for name in names}

    k = len(prepared)
    full = (1 << k) - 1  # the whole run's grouping bitmask; attribute i's is full without bit k - 1 - i

    def of(got: list[dict], i: int) -> list[dict]:
        return [r for r in got if r["gid"] == full ^ (1 << (k - 1 - i))]

    flags = [False] * k
    got = sums(flags)
    flags = [any(isinstance(r[f"a{i}"], float) and math.isnan(r[f"a{i}"]) for r in of(got, i)) for i in range(k)]
    if any(flags):
        got = sums(flags)  # NaN and missing: one slice
    whole = [r for r in got if r.get("gid", 0) == full] or [{}]  # no scored row: one slice of none
    parts = [("", [ALL], stacked(whole))]
    where: dict[str, tuple[str, list] | None] = {ALL: None}
    for i, (prep, labels_of) in enumerate(zip(prepared, labelled)):
        expr, params = prep.sql.expr, list(prep.sql.params)
        by_label: dict[str, dict] = {}
        for r in of(got, i):
            label = value_label(labels_of, _slice_value(r[f"a{i}"]))
            if label in by_label:
                raise FaultlineError(MSG_TWO_VALUES.format(attribute=labels_of.attribute.name, label=label))
            by_label[label] = r
        order = sorted(by_label)  # as np.unique orders the labels in _slice_codes
        descriptions = [describe_condition(labels_of.attribute.name, u, binned=labels_of.labels is not None)
                        for u in order]
        for u, description in zip(order, descriptions):
            value = by_label[u][f"a{i}"]
            if value is None:
                missing = f"({expr}) IS NULL" + (f" OR isnan(({expr}))" if flags[i] else "")
                where[description] = (f"({missing})", params * (2 if flags[i] else 1))
            else:
                where[description] = (f"({expr}) = ?", [*params, value])
        parts.append((labels_of.attribute.name, descriptions, stacked([by_label[u] for u in order])))
    goodhart, mode_change = _goodhart_from_sums(parts, objective, chosen, min_support=min_support, fdr=fdr,
                                                confidence=confidence)
    pairs = int(whole[0].get("n") or 0)
    return goodhart, mode_change, notes, pairs, where


# --------------------------------------------------------------------------------- verdicts
def signal_verdict(stats: dict, *, min_failures: int = 20, min_effect: float = 0.1, fdr: float = 0.05,
                   goodhart_slices: int = 0) -> str:
    """The rule (see the module docstring) that decides one signal of one cell.

    ``stats`` holds ``n_fail``, ``n_ok``, ``auc``, ``auc_high`` and ``q_value``;
    ``goodhart_slices`` counts the Goodhart slices where the mode rose and the signal rewards
    the failure locally (rule 4; 0 without a baseline).

    >>> base = {"n_fail": 500, "n_ok": 5000, "auc": 0.8, "auc_low": 0.78, "auc_high": 0.82, "q_value": 1e-9}
    >>> signal_verdict(base), signal_verdict({**base, "n_fail": 5})
    ('rewards_failure', 'too_few')
    >>> signal_verdict({**base, "auc": 0.3, "auc_high": 0.33}), signal_verdict({**base, "auc": 0.58, "auc_high": 0.7})
    ('not_rewarded', 'undecided')
    >>> signal_verdict({**base, "auc": 0.45, "auc_high": 0.47}, goodhart_slices=1)
    'goodhart'
    """
    if stats["n_fail"] < min_failures or stats["n_ok"] < min_failures:
        return "too_few"
    auc, high, q = stats["auc"], stats["auc_high"], stats["q_value"]
    significant = q == q and q < fdr
    if auc == auc and auc >= 0.5 + min_effect and significant:
        return "rewards_failure"
    if goodhart_slices > 0:
        return "goodhart"
    if high == high and high < 0.5 + min_effect:
        return "not_rewarded"
    return "undecided"


STRENGTH = {"implicated": 0, "insufficient evidence": 1, "not implicated": 2, "no signal": 3}


def _q_phrase(q: float) -> str:
    """``q = 0.012``, or ``q < 1e-300`` when it underflows."""
    text = format_q(q)
    return f"q < {text[1:]}" if text.startswith("<") else f"q = {text}"


def _relation_words(relation: str) -> str:
    return {"guards against": "guards against it", "can cause": "can cause it",
            "guards against and can cause": "both guards against it and can cause it",
            "none": "declares no relation to it"}[relation]


def explain(rule: str, *, component: Component, mode_name: str, relation: str, stats: dict | None = None,
            signal: str | None = None, direction: str | None = None, min_failures: int = 20,
            min_effect: float = 0.1, goodhart: dict | None = None, concentrates: str | None = None) -> str:
    """The plain sentence of a cell, filled in from its numbers (no language model).

    >>> from analysis.objective.spec import Component
    >>> c = Component("rm", "The helpfulness RM", "reward_model", "why", "accuracy")
    >>> explain("no_signal", component=c, mode_name="Hallucination", relation="can cause")
    'The helpfulness RM has no per-example signal in these logs, so its link to hallucination cannot be measured; the spec says it can cause it.'
    """
    mode = mode_name[0].lower() + mode_name[1:] if mode_name[:2] != mode_name[:2].upper() else mode_name
    if rule == "no_signal":
        where = f" The mode concentrates in {concentrates}." if concentrates else ""
        spec = ("the spec declares no relation" if relation == "none" else f"the spec says it {_relation_words(relation)}")
        return (f"{component.name} has no per-example signal in these logs, so its link to {mode} cannot be "
                f"measured; {spec}.{where}")
    assert stats is not None
    n_fail, n_ok = stats["n_fail"], stats["n_ok"]
    auc = f"preference AUC {stats['auc']:.2f} [{stats['auc_low']:.2f}, {stats['auc_high']:.2f}]"
    if rule == "too_few":
        return (f"Only {n_fail:,} examples failing as {mode} and {n_ok:,} correct examples have {signal}; at least "
                f"{min_failures} of each are needed to judge {component.name}.")
    side = "higher" if direction == "higher_is_better" else "lower (which the objective prefers)"
    # Cohen's d is signed as the preference is (> 0: the objective prefers the failures), so beside "lower" it says so
    oriented = "" if direction == "higher_is_better" else " in the preferred direction"
    undeclared = "" if "can cause" in relation else "; the spec does not declare this link"
    if rule == "rewards_failure":
        return (f"{component.name} rewards {mode}: {signal} is {side} on the {n_fail:,} examples failing this way "
                f"than on the {n_ok:,} correct ones ({auc}, d = {stats['smd']:+.2f}{oriented}, "
                f"{_q_phrase(stats['q_value'])})"
                f"{undeclared}.")
    if rule == "goodhart":
        g = goodhart or {}
        return (f"{component.name} is implicated in {mode} by the objective change: where {g.get('description')}, "
                f"{signal} improved by {g.get('d_signal', math.nan):+.2f} while accuracy changed by "
                f"{g.get('d_accuracy', math.nan) * 100:+.1f} points and this failure by "
                f"{g.get('d_rate', math.nan) * 100:+.1f} points, and there {signal} prefers these failures to the "
                f"correct answers (local preference AUC {g.get('local_auc', math.nan):.2f} "
                f"[{g.get('local_low', math.nan):.2f}, {g.get('local_high', math.nan):.2f}]){undeclared}.")
    if rule == "not_rewarded":
        if stats["auc_high"] < 0.5 and stats["q_value"] < 1:
            return (f"{component.name} does not reward {mode}: {signal} prefers the correct examples to the "
                    f"{n_fail:,} failures ({auc}, {_q_phrase(stats['q_value'])}).")
        return (f"{component.name} is not implicated in {mode}: {signal} barely separates the {n_fail:,} failures "
                f"from the correct examples ({auc}), ruling out a preference of AUC {0.5 + min_effect:.2f} or more.")
    return (f"The evidence on {component.name} and {mode} is inconclusive: {signal} gives {auc} "
            f"({_q_phrase(stats['q_value'])}), too uncertain to implicate it or to rule it out.")


# ------------------------------------------------------------------------------------ link
def separation_by_mode(store: Store, table: str | None, signal: tuple[str, list], compiled: CompiledModes,
                       objective: Objective, *, sign: float = 1.0, confidence: float = 0.95,
                       where: tuple[str, list] | None = None) -> dict[str, tuple[dict, dict]]:
    """Per failure mode, the separation statistics of one signal, from one statement over the run.

    The statement (:func:`analysis.sql.modes.separation_sums_sql`) returns exact integer sums only, per mode: for
    the mode's own failures (in it and in no other mode) and for every example in it, each against the correct
    examples in no mode; :func:`analysis.stats.separation_from_sums` turns them into the statistics of
    :func:`analysis.stats.separation_statistics` (preference AUC with its DeLong interval, Cohen's d, Mann-Whitney
    p). No example row is read into Python.

    Parameters
    ----------
    store : Store
        The store holding the run.
    table : str or None
        The run's examples table (None: ``compiled``'s, e.g. the temporary table of
        :func:`analysis.objective.modes.materialise_modes`, whose cursor then runs the statement).
    signal : (str, list)
        The signal as an SQL DOUBLE expression and its parameters (missing, NaN or infinite values are left out).
    compiled : CompiledModes
        The run's compiled failure modes (with a cohort, the statistics are over its examples only).
    objective : Objective
        The spec whose modes are separated.
    sign : {1.0, -1.0}, default 1.0
        Orientation: -1 negates the signal (a penalty, ``lower_is_better``); the means are reported unoriented.
    confidence : float, default 0.95
        Coverage of the AUC interval, in (0, 1).
    where : (str, list), optional
        A condition over the rows (``(sql, params)``, e.g. one slice): the statistics over the examples meeting it
        only (and the cohort's).

    Returns
    -------
    dict
        Mode id -> (statistics of its own failures, statistics of every example in it); each a dict with
        ``n_fail``, ``n_ok``, ``mean_fail``, ``mean_ok`` (signal units), ``auc``, ``auc_low``, ``auc_high``
        (fractions), ``smd`` (pooled-SD units, oriented), ``p_value``.
    """
    sql_expr, params = signal
    if sign < 0:
        sql_expr = f"(-({sql_expr}))"
    modes = [compiled.mode_sql(mode.id) for mode in objective.modes]
    cohort = compiled.cohort_sql
    if where is not None:
        cohort = where if cohort is None else (f"({cohort[0]}) AND ({where[0]})", [*cohort[1], *where[1]])
    sql, all_params, names = M.separation_sums_sql(table or compiled.table, (sql_expr, params), modes,
                                                   cohort=cohort)
    values = compiled.cursor_of(store).execute(sql, all_params).fetchall()[0]  # drained: the cursor is reused
    got = {n: int(v) if v is not None else 0 for n, v in zip(names, values)}
    out = {}
    for i, mode in enumerate(objective.modes):
        pair = []
        for g in (f"o{i}", f"e{i}"):
            sums = _stats.RankSums(got[f"{g}_n"], got["ok_n"], got[f"{g}_pos_sum"], got[f"{g}_pos_sq"],
                                   got[f"{g}_neg_sum"], got[f"{g}_neg_sq"], got[f"{g}_tie_term"])
            st = _stats.separation_from_sums(sums, sum_fail=got[f"{g}_sum"], sum_ok=got["ok_sum"],
                                             sq_fail=got[f"{g}_sq"], sq_ok=got["ok_sq"], scale=F.SCORE_SCALE,
                                             confidence=confidence)
            st["mean_fail"] *= sign
            st["mean_ok"] *= sign
            pair.append(st)
        out[mode.id] = (pair[0], pair[1])
    return out


def link(store: Store, run: str, objective: Objective | str | None = None, *, baseline: str | None = None,
         by: Sequence[str] | None = None, strict: bool = True, max_order: int = 1, min_support: int | float = 30,
         min_failures: int = 20, min_effect: float = 0.1, fdr: float = 0.05, confidence: float = 0.95,
         bins: int = 5, where: str | None = None) -> LinkResult:
    """Link every failure mode of a run to every component of its objective, with the evidence.

    Verdict rules: see the module docstring.

    Parameters
    ----------
    store : Store
        The store holding the run(s).
    run : str
        The run analysed (name or id); with a baseline, the run after the objective change.
    objective : Objective or str or os.PathLike, optional
        An :class:`Objective`, a spec file path (:func:`~analysis.objective.spec.load_objective`),
        or None (default taxonomy and no components, so ``cells`` is empty).
    baseline : str, optional
        A run before the objective change, paired on example id (Goodhart quadrant, change of
        each mode's rate).
    by : sequence of str, optional
        Attributes for "where a mode concentrates" and the per-slice evidence; default
        :func:`~analysis.objective.modes.concentration_attributes` (output features left out).
    strict : bool, default True
        Raise on the first spec problem against the runs; with False carry on without the
        broken parts (their signals say "no signal") and list the problems.
    max_order : {1, 2, 3}, default 1
        Largest conjunction in "where a mode concentrates".
    min_support : int or float, default 30
        Least slice size to be tested: a count of examples, or a fraction in (0, 1) of the
        run's scorable examples.
    min_failures : int, default 20
        Least examples in the mode, and correct examples, with the signal for a verdict (>= 2).
    min_effect : float, default 0.1
        Least preference-AUC excess over 0.5 that implicates a component, in (0, 0.5)
        (an AUC is a probability in [0, 1]).
    fdr : float, default 0.05
        False discovery rate of every test, in (0, 1).
    confidence : float, default 0.95
        Coverage of the intervals (DeLong AUC interval, paired intervals), in (0, 1).
    bins : int, default 5
        Quantile bins of numeric attributes (2 to 20).
    where : str, optional
        A cohort: a condition in the rule language (``language = "sw" and domain = "legal"``,
        :mod:`analysis.slicing.cohorts`) read on the analysed run's fields. Everything is computed
        over the cohort's examples only, as if the run held nothing else (see
        :func:`~analysis.objective.modes.compile_modes`): mode counts and rates, where the modes
        concentrate (the cohort's bins), separation, divergence, verdicts. With a baseline, the
        cohort's examples are paired with the baseline's examples of the same ids. None or
        empty: every example.

    Returns
    -------
    LinkResult
        ``cells``: one row per (mode, component), with ``relation``, ``verdict``, ``rule``,
        ``sentence``, ``signal``, ``auc``, ``auc_low``, ``auc_high`` (preference AUC and its
        DeLong interval, probabilities in [0, 1]), ``smd`` (Cohen's d, pooled-SD units),
        ``q_value``, ``n_fail``, ``n_ok`` (counts), ``goodhart_slices``,
        ``divergent_slices`` (counts of slices). ``separation``: per (mode, component,
        signal) the same statistics plus ``mean_fail``, ``mean_ok`` (signal units),
        ``p_value`` (Mann-Whitney U), ``auc_all``. ``divergence``: per (component, signal,
        slice) ``rho`` (Spearman, in [-1, 1]), ``p_value``, ``q_value``, ``divergent``. With a
        baseline, ``goodhart`` (per slice ``d_signal`` in signal units, ``d_accuracy`` a
        difference of fractions, x 100 for percentage points, with intervals and q-values),
        ``mode_change`` and ``goodhart_evidence``; None otherwise. Also ``concentration``
        (mode id -> ``ModeSlices``), ``counts`` (per mode ``n``, ``rate`` as a fraction of
        the scored examples), ``problems``, ``notes``, ``settings``.

    Raises
    ------
    ParameterError
        A ``max_order``, ``min_support``, ``fdr``, ``bins`` or ``confidence`` outside its range.
    FaultlineError
        A ``min_failures`` or ``min_effect`` outside its range (:data:`MSG_MIN_FAILURES`,
        :data:`MSG_MIN_EFFECT`); the baseline is the run itself (:data:`MSG_SAME_RUN`); the two
        runs share no example id (:data:`MSG_NO_MATCH`); an attribute the run does not have.
    RunNotFoundError
        When the store has no such run or baseline.
    SpecError
        A spec file that cannot be read or is invalid; with ``strict``, the first problem of
        the spec against either run.
    ValueError
        A ``confidence`` outside (0, 1).
    PredicateError
        A ``where`` that cannot be read or does not fit the run (its position and field named).

    References
    ----------
    .. [1] E. R. DeLong, D. M. DeLong and D. L. Clarke-Pearson, "Comparing the areas under two
       or more correlated receiver operating characteristic curves: a nonparametric approach",
       Biometrics 44 (1988).
    .. [2] H. B. Mann and D. R. Whitney, "On a test of whether one of two random variables is
       stochastically larger than the other", Ann. Math. Statist. 18 (1947).
    .. [3] J. Cohen, Statistical Power Analysis for the Behavioral Sciences (1988): d.
    .. [4] C. Spearman, "The proof and measurement of association between two things", Am. J.
       Psychol. 15 (1904).
    .. [5] Q. McNemar, Psychometrika 12 (1947): exact test on discordant pairs; paired t test
       for the signal change.
    .. [6] Y. Benjamini and Y. Hochberg, JRSS B 57 (1995).

    Examples
    --------
    >>> import tempfile, numpy as np, pandas as pd
    >>> from analysis.objective.spec import parse_objective
    >>> s = Store(tempfile.mkdtemp() + "/l.duckdb")
    >>> rng = np.random.default_rng(0)
    >>> long = rng.random(400) < 0.3
    >>> df = pd.DataFrame({"prompt": ["q"] * 400, "gold": ["short answer"] * 400,
    ...                    "response": np.where(long, "padding " * 60, "short answer"), "correct": ~long,
    ...                    "rm_help": rng.normal(0, 1, 400) + 2 * long})
    >>> _ = s.ingest_frame(df, name="r")
    >>> spec = parse_objective('''
    ... objective: demo
    ... components:
    ...   - {id: rm, name: Helpfulness RM, kind: reward_model, why: useful answers, serves: accuracy,
    ...      signals: [{column: rm_help, direction: higher_is_better}], can_cause: [reward_hacking]}
    ... ''')
    >>> result = link(s, "r", spec)
    >>> result.cells.set_index("mode").loc["reward_hacking", ["verdict", "rule"]].tolist()
    ['implicated', 'rewards_failure']
    """
    check_slicing_params(max_order, min_support, fdr, bins, confidence)
    _check(min_failures, min_effect)
    if objective is None:
        objective = Objective.default()
    elif not isinstance(objective, Objective):
        objective = load_objective(objective)
    schema = store.schema(run)
    info = schema.run
    base_schema = store.schema(baseline) if baseline is not None else None
    base_info = base_schema.run if base_schema is not None else None
    if base_info is not None and base_info.run_id == info.run_id:
        raise FaultlineError(MSG_SAME_RUN.format(run=info.name))
    problems = []
    for which in [schema] + ([base_schema] if base_schema is not None else []):
        for problem in check_against_run(objective, store, which):
            if strict:
                raise problem
            problems.append(str(problem))
    # the baseline's side (its modes and, when the rows are read, the pairing and its rows: statements over the
    # baseline's table) needs nothing of the analysed run's but its cohort and its count of scored rows (whether the
    # rows are read): on DuckDB it starts here, in a thread of its own, while the run's modes are compiled,
    # materialised and analysed (the engine's statements and the numpy work share the cores); the same calls, the
    # same numbers
    threaded = getattr(store, "engine", "duckdb") == "duckdb"
    baseline_side = None
    try:
        if base_info is not None:
            cohort = cohort_filter(schema, where)
            cohort_sql = None if cohort is None else cohort.as_sql
            read = not ranks_in_engine(store, _scored_count(store, info.table_name, cohort_sql))
            baseline_side = _Background(lambda: _baseline_rows(store, base_schema, schema, objective, cohort_sql,
                                                               fdr=fdr, read=read), threaded=threaded)
        return _link(store, schema, base_schema, objective, problems, baseline_side, by=by, max_order=max_order,
                     min_support=min_support, min_failures=min_failures, min_effect=min_effect, fdr=fdr,
                     confidence=confidence, bins=bins, where=where, threaded=threaded)
    except BaseException:
        if baseline_side is not None:
            baseline_side.wait()  # its statements done before the caller goes on (or closes the store)
        raise


def _scored_count(store: Store, table: str, cohort_sql) -> int:
    """The scored rows of the run's ``table`` (of the cohort ``cohort_sql``, if given)."""
    sql, params = M.link_totals_sql(table, "false", cohort=cohort_sql)
    return int(store.cursor().execute(sql, params).fetchall()[0][0])


def _link(store: Store, schema, base_schema, objective: Objective, problems: list[str], baseline_side, *, by,
          max_order: int, min_support: float, min_failures: int, min_effect: float, fdr: float, confidence: float,
          bins: int, where: str | None, threaded: bool) -> LinkResult:
    """:func:`link` once the baseline's side is started (``baseline_side``, None without a baseline)."""
    info = schema.run
    base_info = base_schema.run if base_schema is not None else None
    # the attribute choice first: the group-disparity detector's slice table (compiling the modes) then takes its
    # profiles of the run's attributes instead of profiling them itself
    names = concentration_attributes(store, schema, by)
    compiled = compile_modes(store, schema, objective, fdr=fdr, strict=False, where=where)
    attrs = resolve_attributes(store, schema, names)
    if compiled.cohort_sql is None:  # the profiles the attribute choice just made, not made again
        prepared = _counts.prepared_attributes(store, info.table_name, attrs, bins=bins, edges=None)
    else:
        prepared = prepare_attributes(store, info.table_name, attrs, bins=bins, edges=None,
                                      cohort=compiled.cohort_sql)
    if by is None:
        prepared = [p for p in prepared if not p.constant] or prepared
    # every mode's sources (the detectors), the signals and the attributes evaluated once, into a temporary table
    # that the run's statements below read (DuckDB; on Spark, ``rows`` is ``compiled`` and each statement
    # evaluates them over the run's table)
    signal_exprs = _signal_exprs(store, schema, objective)
    # the example ids only where the Goodhart sums pair the table's rows with the baseline's in the engine (the run's
    # rows, a bound of its scored rows, above the threshold; on Spark nothing is materialised)
    rows = materialise_modes(store, compiled, [(f"__s{i}", sql, params) for i, (sql, params)
                                               in enumerate(signal_exprs.values())]
                             + [(f"__a{k}", p.sql.expr, p.sql.params) for k, p in enumerate(prepared)],
                             with_ids=base_info is not None and ranks_in_engine(store, int(info.row_count)))
    rows_signals, rows_prepared = signal_exprs, prepared
    if rows is not compiled:
        rows_signals = {key: (quote_ident(f"__s{i}"), []) for i, key in enumerate(signal_exprs)}
        rows_prepared = [replace(p, sql=replace(p.sql, expr=quote_ident(f"__a{k}"), params=[]))
                         for k, p in enumerate(prepared)]
    separation_side = goodhart_side = None
    try:
        n_rows, graded = _totals(store, rows)
        in_engine = ranks_in_engine(store, n_rows)
        # the rows are read only for the numpy path (few rows, on DuckDB): on the engine's path every statistic,
        # the Goodhart tables with a baseline too, comes from aggregates
        data = None if in_engine else _load(store, schema, objective, rows, rows_prepared, rows_signals)
        if data is not None:
            graded = data.graded
        min_count = support_count(min_support, n_rows)
        attributes = _slice_codes(data, prepared) if data is not None else None
        notes = [n for n in compiled.notes if n not in problems]

        concentration = modes_slices(store, schema, objective, None, compiled=rows, prepared=rows_prepared,
                                     max_order=max_order, min_support=min_count, confidence=confidence, fdr=fdr,
                                     bins=bins)
        counts = mode_counts(store, schema, compiled=rows)

        frame = data.frame if data is not None else None

        # separation for every (mode, signal): the mode's own failures (in no other mode) against
        # the correct examples (in no mode), from exact sums computed in SQL (one statement per signal); on the
        # numpy path (DuckDB, few rows) its statements run in a thread of their own (on the temporary table's
        # cursor, which nothing else uses meanwhile) while numpy ranks the divergence and the Goodhart tables
        # below: the same calls, the same numbers
        def separation_table() -> pd.DataFrame:
            sep_rows = []
            for comp, j, sig, key in _component_signals(objective):
                if key not in rows_signals:
                    continue
                sign = 1.0 if sig.direction == "higher_is_better" else -1.0
                per_mode = separation_by_mode(store, None, rows_signals[key], rows, objective,
                                              sign=sign, confidence=confidence)
                for mode in objective.modes:
                    stats, every = per_mode[mode.id]
                    sep_rows.append((mode.id, {"mode": mode.id, "component": comp.id, "signal": sig.column,
                                               "signal_index": j, "direction": sig.direction, **stats,
                                               "n_fail_all": every["n_fail"], "auc_all": every["auc"]}))
            order = {m.id: i for i, m in enumerate(objective.modes)}
            sep_rows = [row for _, row in sorted(sep_rows, key=lambda r: order[r[0]])]  # modes first, as before
            sep_cols = ["mode", "component", "signal", "signal_index", "direction", "n_fail", "n_ok", "mean_fail",
                        "mean_ok", "auc", "auc_low", "auc_high", "smd", "p_value", "n_fail_all", "auc_all"]
            table = pd.DataFrame(sep_rows, columns=sep_cols)
            tested = (table["n_fail"] >= min_failures) & (table["n_ok"] >= min_failures)
            table["q_value"] = _stats.benjamini_hochberg(np.where(tested, table["p_value"].to_numpy(dtype=float),
                                                                  np.nan))
            return table

        separation_side = _Background(separation_table, threaded=not in_engine and threaded,
                                      name="faultline-link-separation")
        if in_engine:
            separation = separation_side.result()

        # the Goodhart quadrant across two runs from the rows read (the numpy path): on DuckDB in a thread of its own
        # too (once the baseline's rows are read), beside the divergence below; pure functions of the rows in memory
        def goodhart_in_memory():
            base_compiled, position, base_data = baseline_side.result()
            if base_data is None:
                raise FaultlineError(MSG_NO_MATCH.format(base=base_info.name, run=info.name))
            tables = goodhart_tables(base_data, data, objective, attributes, min_support=min_count, fdr=fdr,
                                     confidence=confidence, position=position)
            local = _local_separation_in_memory(frame, data, objective, attributes, confidence=confidence)
            evidence = _goodhart_evidence(
                local, data.signals, objective, tables[0], tables[1],
                {m: set(c.findings()["description"]) for m, c in concentration.items()}, min_effect=min_effect,
                min_failures=min_failures, fdr=fdr)
            return base_compiled, tables, evidence

        if baseline_side is not None and not in_engine:
            goodhart_side = _Background(goodhart_in_memory, threaded=threaded, name="faultline-link-goodhart")

        # divergence per signal and slice, from exact integer sums of the mid-ranks: made by the engine (one statement
        # per attribute, no row read) on Spark and for many rows, else by numpy over the rows read (the same numbers)
        divergence = divergence_by_slice(store, rows, objective, rows_signals, rows_prepared, graded=graded,
                                         min_support=min_count, fdr=fdr, labelled=prepared) if in_engine else None

        # the Goodhart quadrant across two runs, on the engine's path: exact sums per slice of the two runs joined on
        # example id, and the evidence's local separations, by the engine
        goodhart = mode_change = goodhart_evidence = None
        if baseline_side is not None and in_engine:
            base_compiled, _, _ = baseline_side.result()
            goodhart, mode_change, more, pairs, slice_where = _goodhart_by_slice(
                store, rows, base_schema.run.table_name, base_compiled, objective, rows_signals,
                _signal_exprs(store, base_schema, objective), rows_prepared, prepared, min_support=min_count,
                fdr=fdr, confidence=confidence)
            if pairs == 0:
                raise FaultlineError(MSG_NO_MATCH.format(base=base_info.name, run=info.name))
            notes += [n for n in base_compiled.notes if n not in notes and n not in problems] + more
            local = _local_separation_by_engine(store, rows, objective, rows_signals, slice_where,
                                                confidence=confidence)
            goodhart_evidence = _goodhart_evidence(
                local, rows_signals, objective, goodhart, mode_change,
                {m: set(c.findings()["description"]) for m, c in concentration.items()}, min_effect=min_effect,
                min_failures=min_failures, fdr=fdr)

        if divergence is None:  # the outcome ranked once per slice attribute, for every signal
            outcome = frame["score"].to_numpy(dtype=float) if graded else frame["correct"].to_numpy(dtype=float)
            div_tables = []
            outcome_ranks: dict = {}
            for comp, _, sig, key in _component_signals(objective):
                if key not in data.signals:
                    continue
                sign = 1.0 if sig.direction == "higher_is_better" else -1.0
                t = divergence_table(sign * frame[data.signals[key]].to_numpy(dtype=float), outcome, attributes,
                                     min_support=min_count, fdr=fdr, outcome_ranks=outcome_ranks)
                t.insert(0, "component", comp.id)
                t.insert(1, "signal", sig.column)
                div_tables.append(t)
            divergence = (pd.concat(div_tables, ignore_index=True) if div_tables else pd.DataFrame(
                {c: [] for c in ["component", "signal", "attribute", "description", "n", "rho", "p_value", "q_value",
                                 "divergent"]}))

        # Goodhart quadrant across two runs, from the rows read (the numpy path)
        if goodhart_side is not None:
            base_compiled, (goodhart, mode_change, more), goodhart_evidence = goodhart_side.result()
            notes += [n for n in base_compiled.notes if n not in notes and n not in problems] + more

        if not in_engine:
            separation = separation_side.result()

    except BaseException:
        for side in (separation_side, goodhart_side):
            if side is not None:
                side.wait()  # its statements done before the temporary table is dropped or the store closed
        raise
    finally:
        release_modes(rows)

    # verdicts
    cell_rows = []
    for mode in objective.modes:
        conc = concentration[mode.id].findings()
        conc = conc[~conc["redundant"]] if not conc.empty else conc
        top = conc["description"].iloc[0] if not conc.empty else None
        for comp in objective.components:
            relation = objective.relation(mode.id, comp.id)
            sep = separation[(separation["mode"] == mode.id) & (separation["component"] == comp.id)]
            row = {"mode": mode.id, "mode_name": mode.name, "component": comp.id, "component_name": comp.name,
                   "kind": comp.kind, "relation": relation, "signal": None, "auc": math.nan, "auc_low": math.nan,
                   "auc_high": math.nan, "smd": math.nan, "q_value": math.nan, "n_fail": int(
                       concentration[mode.id].total_in_mode), "n_ok": math.nan, "goodhart_slices": 0,
                   "divergent_slices": 0}
            if sep.empty:
                row.update(verdict="no signal", rule="no_signal",
                           sentence=explain("no_signal", component=comp, mode_name=mode.name, relation=relation,
                                            concentrates=top))
                cell_rows.append(row)
                continue
            best = None
            for s in sep.to_dict("records"):
                g_rows = pd.DataFrame()
                if goodhart_evidence is not None:
                    ev = goodhart_evidence
                    g_rows = ev[(ev["mode"] == mode.id) & (ev["component"] == comp.id)
                                & (ev["signal_index"] == s["signal_index"]) & ev["rewards"]]
                rule = signal_verdict(s, min_failures=min_failures, min_effect=min_effect, fdr=fdr,
                                      goodhart_slices=len(g_rows))
                div = divergence[(divergence["component"] == comp.id) & (divergence["signal"] == s["signal"])]
                candidate = (STRENGTH[RULES[rule]], -(s["auc"] if s["auc"] == s["auc"] else 0), rule, s, g_rows,
                             int(div["divergent"].sum()))
                if best is None or candidate[:2] < best[:2]:
                    best = candidate
            _, _, rule, s, g_rows, n_div = best
            g_best = g_rows.sort_values("local_auc", ascending=False).iloc[0].to_dict() if len(g_rows) else None
            row.update(verdict=RULES[rule], rule=rule, signal=s["signal"], auc=s["auc"], auc_low=s["auc_low"],
                       auc_high=s["auc_high"], smd=s["smd"], q_value=s["q_value"], n_fail=s["n_fail"], n_ok=s["n_ok"],
                       goodhart_slices=len(g_rows), divergent_slices=n_div,
                       sentence=explain(rule, component=comp, mode_name=mode.name, relation=relation, stats=s,
                                        signal=s["signal"], direction=s["direction"], min_failures=min_failures,
                                        min_effect=min_effect, goodhart=g_best))
            cell_rows.append(row)
    cells = pd.DataFrame(cell_rows, columns=[
        "mode", "mode_name", "component", "component_name", "kind", "relation", "verdict", "rule", "sentence",
        "signal", "auc", "auc_low", "auc_high", "smd", "q_value", "n_fail", "n_ok", "goodhart_slices",
        "divergent_slices"])
    settings = {"attributes": [p.attribute.name for p in prepared], "max_order": max_order, "min_support": min_support,
                "min_failures": min_failures, "min_effect": min_effect, "fdr": fdr, "confidence": confidence,
                "bins": bins, "outcome": "score" if graded else "correctness (0/1)",
                "separation": "preference AUC (DeLong interval), Cohen's d, Mann-Whitney U p, BH over the matrix",
                "divergence": "Spearman rho per slice of oriented signal and outcome, BH over slices per signal",
                "goodhart": "paired t for the signal change, McNemar exact for accuracy and mode rates, BH over slices"}
    if compiled.cohort is not None:
        settings["where"] = compiled.cohort.text
    return LinkResult(info.run_id, base_info.run_id if base_info else None, objective, cells, separation, divergence,
                      goodhart, mode_change, goodhart_evidence, concentration, counts, problems, notes, settings)


def _baseline_rows(store: Store, base_schema, schema, objective: Objective, cohort_sql, *,
                   fdr: float, read: bool = True) -> tuple[CompiledModes, np.ndarray | None, _RunData | None]:
    """The baseline's side of the Goodhart comparison: its compiled modes, the position of each of the analysed
    run's rows among its rows (:func:`_paired_positions`; ``cohort_sql`` is the run's cohort) and its rows
    (:func:`_load`), None when the two runs share no example; without ``read`` (the engine's path), the modes only
    (position and rows None)."""
    base_compiled = compile_modes(store, base_schema, objective, fdr=fdr, strict=False)
    if not read:
        return base_compiled, None, None
    position = _paired_positions(store, base_schema, schema, base_compiled, cohort_sql)
    if not (position >= 0).any():
        return base_compiled, position, None
    return base_compiled, position, _load(store, base_schema, objective, base_compiled, [])


class _Background:
    """A call run in a thread of its own (``threaded``) or, when its result is asked for, in place; ``result()``
    returns its value or raises its exception. The thread is a daemon: a link that fails first does not wait."""

    def __init__(self, call, *, threaded: bool, name: str = "faultline-link-baseline") -> None:
        self._call, self._done, self._value, self._error = call, threading.Event(), None, None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True) \
            if threaded else None
        if self._thread is not None:
            self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._call()
        except BaseException as err:  # handed to the caller by result()
            self._error = err
        finally:
            self._done.set()

    def wait(self) -> None:
        """Wait until the call is over and its thread ended (nothing when it runs in place)."""
        if self._thread is not None:
            self._thread.join()

    def result(self):
        if self._thread is None:
            return self._call()
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


class _Flags(list):
    """Per mode: (in the mode, in the mode and in no other mode); ``any_mode``: in some mode."""

    any_mode: np.ndarray


def _mode_flags(frame: pd.DataFrame, objective: Objective) -> _Flags:
    flags = np.column_stack([frame[f"m{i}"].to_numpy(dtype=bool) for i in range(len(objective.modes))]) \
        if objective.modes else np.zeros((len(frame), 0), dtype=bool)
    count = flags.sum(axis=1)
    out = _Flags((flags[:, i], flags[:, i] & (count == 1)) for i in range(flags.shape[1]))
    out.any_mode = count > 0
    return out


def _separation_in_memory(fail: np.ndarray, ok: np.ndarray, *, confidence: float) -> dict:
    """:func:`analysis.stats.separation_statistics` of two finite samples from the sums
    :func:`analysis.sql.modes.separation_sums_sql` makes in the engine (rank sums, fixed-point sums of the values and
    their squares), turned into statistics as :func:`separation_by_mode` turns the engine's: the same numbers."""
    def units(v: np.ndarray) -> int:
        return _IntLimbs(_round_units(v)).total()

    return _stats.separation_from_sums(_stats.rank_sums(fail, ok), sum_fail=units(fail), sum_ok=units(ok),
                                       sq_fail=units(fail * fail), sq_ok=units(ok * ok), scale=F.SCORE_SCALE,
                                       confidence=confidence)


def _local_separation_in_memory(frame: pd.DataFrame, data: _RunData, objective: Objective, attributes, *,
                                confidence: float):
    """``local(key, signal, description, mode index)``: the separation of the mode's own failures from the correct
    examples (in no mode) by the oriented signal, within one slice, from the rows in memory."""
    where = {ALL: None}  # each slice's (codes, code), its mask made only for the slices tested (Goodhart slices)
    for _, codes, labels in attributes:
        for g, label in enumerate(labels):
            where[label] = (codes, g)
    masks: dict[str, np.ndarray] = {}
    values: dict[str, np.ndarray] = {}
    correct = frame["correct"].to_numpy(dtype=bool)
    flags = _mode_flags(frame, objective)
    ok = correct & ~flags.any_mode

    def local(key: str, sig, label: str, i: int) -> dict:
        if label not in masks:
            codes_g = where[label]
            masks[label] = np.ones(len(frame), dtype=bool) if codes_g is None else codes_g[0] == codes_g[1]
        if key not in values:
            sign = 1.0 if sig.direction == "higher_is_better" else -1.0
            values[key] = sign * frame[data.signals[key]].to_numpy(dtype=float)
        v = values[key]
        mask = masks[label] & np.isfinite(v)
        return _separation_in_memory(v[mask & flags[i][1]], v[mask & ok], confidence=confidence)

    return local


def _local_separation_by_engine(store: Store, rows: CompiledModes, objective: Objective,
                                signals: dict[str, tuple[str, list]], where: dict, *, confidence: float):
    """``local(key, signal, description, mode index)`` as :func:`_local_separation_in_memory`, from one statement
    per (signal, slice) over ``rows`` (:func:`separation_by_mode` kept to the slice ``where[description]``)."""
    cache: dict[tuple[str, str], dict] = {}

    def local(key: str, sig, label: str, i: int) -> dict:
        if (key, label) not in cache:
            sign = 1.0 if sig.direction == "higher_is_better" else -1.0
            cache[(key, label)] = separation_by_mode(store, None, signals[key], rows, objective, sign=sign,
                                                     confidence=confidence, where=where[label])
        return cache[(key, label)][objective.modes[i].id][0]

    return local


def _goodhart_evidence(local, signal_keys, objective: Objective, goodhart: pd.DataFrame, mode_change: pd.DataFrame,
                       concentrates: dict[str, set], *, min_effect: float, min_failures: int, fdr: float
                       ) -> pd.DataFrame:
    """Rule 4's evidence: for each (mode, signal), the Goodhart slices where the mode rose and
    concentrates, and the signal's separation of the mode's failures from the correct answers there
    (``local``: :func:`_local_separation_in_memory` or :func:`_local_separation_by_engine`, the same numbers)."""
    rows = []
    for i, mode in enumerate(objective.modes):
        up = mode_change[(mode_change["mode"] == mode.id) & mode_change["up"]
                         & mode_change["description"].isin(concentrates.get(mode.id, set()))]
        up = up[["description", "d_rate", "q_value"]]
        if up.empty:
            continue
        for comp, j, sig, key in _component_signals(objective):
            if key not in signal_keys:
                continue
            g = goodhart[(goodhart["component"] == comp.id) & (goodhart["signal"] == sig.column)
                         & goodhart["goodhart"]]
            g = g.merge(up.rename(columns={"q_value": "q_mode"}), on="description")
            if g.empty:
                continue
            found = []
            for r in g.to_dict("records"):
                st = local(key, sig, r["description"], i)
                enough = st["n_fail"] >= min_failures and st["n_ok"] >= min_failures
                one_sided = st["p_value"] / 2 if st["auc"] > 0.5 else 1 - st["p_value"] / 2
                found.append({"mode": mode.id, "component": comp.id, "signal": sig.column, "signal_index": j,
                              "description": r["description"], "d_signal": r["d_signal"],
                              "d_accuracy": r["d_accuracy"], "d_rate": r["d_rate"], "q_mode": r["q_mode"],
                              "n_fail": st["n_fail"], "n_ok": st["n_ok"], "local_auc": st["auc"],
                              "local_low": st["auc_low"], "local_high": st["auc_high"],
                              "local_p": one_sided if enough else math.nan})
            rows += found
    cols = ["mode", "component", "signal", "signal_index", "description", "d_signal", "d_accuracy", "d_rate", "q_mode",
            "n_fail", "n_ok", "local_auc", "local_low", "local_high", "local_p", "local_q", "rewards"]
    table = pd.DataFrame(rows, columns=cols)
    # BH over every local test of the matrix (as the separation tests), not per cell
    table["local_q"] = _stats.benjamini_hochberg(table["local_p"].to_numpy(dtype=float))
    table["rewards"] = (table["local_auc"] >= 0.5 + min_effect) & (table["local_q"] < fdr)
    return table


# ---------------------------------------------------------------------------------- the report
def report_section(store: Store, run: str, *, baseline: str | None = None, objective: str | os.PathLike,
                   where: str | None = None) -> dict:
    """The numbers of the audit report's "Failure modes and objective components" section (the report's
    templates render them; see :mod:`analysis.report`). With a cohort (``where``, as :func:`link` takes it)
    every number is the cohort's.

    Returns
    -------
    dict
        ``summary`` (plain sentences), ``modes`` (one record per failure mode: ``name``, ``dimension``,
        ``n``, ``rate`` (a fraction), ``where`` (where it concentrates, in words)), ``implicated`` (the
        sentence of every implicated cell), ``problems`` (spec problems against these logs: lenient, listed
        not raised), ``objective_sha256``, ``cells`` (the records of :attr:`LinkResult.cells`, from which
        the report draws the matrix with :func:`analysis.figures.modes_matrix`) and ``settings``.

    Raises
    ------
    FaultlineError
        When the spec file cannot be read.
    PredicateError
        A ``where`` that cannot be read or does not fit the run.
    """
    path = Path(objective)
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as err:
        raise FaultlineError(f"The objective spec {path} cannot be read: {err.strerror}") from err
    result = link(store, run, load_objective(path), baseline=baseline, strict=False, where=where)
    cells = result.cells
    implicated = result.implicated()
    summary = [f"Objective {result.objective.name!r}: {len(implicated)} of {len(cells)} failure mode x component "
               f"cells are implicated by measured evidence; {int((cells['verdict'] == 'no signal').sum())} have no "
               "signal in the logs."]
    summary += implicated["sentence"].tolist()
    modes = []
    for row in result.counts.itertuples():
        found = result.concentrates_in(row.mode)
        where = "; ".join(f"{r.description} ({r.mode_rate:.0%} vs {r.rest_mode_rate:.0%}, {_q_phrase(r.q_value)})"
                          for r in found.itertuples()) if not found.empty else "-"
        modes.append({"name": row.name, "dimension": row.dimension, "n": int(row.n), "rate": float(row.rate),
                      "where": where})
    records = [{k: _json(v) for k, v in r.items()} for r in cells.to_dict("records")]
    return {"summary": summary, "modes": modes, "implicated": implicated["sentence"].tolist(),
            "objective_sha256": digest, "cells": records, "settings": result.settings,
            "problems": list(result.problems)}


# ------------------------------------------------------------------------------------- CLI
__all__ = ["LinkResult", "RULES", "VERDICTS", "divergence_table", "explain", "goodhart_tables",
           "link", "report_section", "signal_verdict"]
