"""The cells of a series: every run's examples counted once per run and combination of the attributes' values.

With few such combinations (:func:`analysis.sql.series.cells_form`), the one statement over all runs
(:func:`analysis.sql.series.trajectory_sql` with ``cells=True``) returns them, and everything else is summed from
them in memory: the single-attribute grouping sets a trajectory needs, the same sets with some slices' examples
left out (the explanation passes of :func:`analysis.series.trajectories.trajectories`, which used to be one more
statement over every run each), and the per-value counts of the mix shift (:func:`analysis.series.mix.mix_along`).
Counts are sums of integers, so they are exactly those of the statement's own ``GROUPING SETS`` (tested in
``tests/unit/series/test_series_cells.py``); sums of scores and signals agree to rounding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse


@dataclass(frozen=True)
class Cells:
    """Counts and sums per run and combination of attribute values (one row per non-empty cell)."""

    n_attributes: int
    """How many attributes the cells are cut by (columns ``a0`` ...)."""
    k: np.ndarray
    """Per cell: the run's position in the series."""
    codes: np.ndarray
    """Per cell and attribute (cells x attributes): the value's index in :attr:`values`, -1 when missing."""
    values: tuple
    """Per attribute: its distinct non-missing values as the statement returned them (a pandas Index)."""
    sums: pd.DataFrame
    """Per cell, the statement's aggregates (``n``, ``errors``, ``score_sum`` ...), in its column order."""
    null_sums: frozenset
    """The aggregates that are sums (NULL, not 0, over no value: kept NaN when a group has none)."""
    matrix: np.ndarray
    """Per cell (cells x columns): every aggregate as a double (NULL as 0), then, per sum, 1 where it is not NULL;
    summed for many groups at once by one sparse product (counts stay exact below 2**53)."""

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, n_attributes: int) -> Cells:
        """Cells from the statement's rows: ``k``, ``a0`` ... ``a<m-1>``, then the aggregates."""
        cols = [f"a{i}" for i in range(n_attributes)]
        codes = np.empty((len(frame), n_attributes), dtype=np.int64)
        values = []
        for i, c in enumerate(cols):
            found, uniques = pd.factorize(frame[c], use_na_sentinel=True)
            codes[:, i] = found
            values.append(uniques)
        sums = frame.drop(columns=["k", *cols]).reset_index(drop=True)
        nulls = frozenset(c for c in sums.columns if c.endswith(("_sum", "_sq")))
        blocks = [sums[c].to_numpy(dtype=float, na_value=np.nan) for c in sums.columns]
        blocks += [~np.isnan(sums[c].to_numpy(dtype=float, na_value=np.nan)) for c in sums.columns if c in nulls]
        matrix = np.nan_to_num(np.column_stack(blocks).astype(float)) if blocks else np.zeros((len(frame), 0))
        return cls(n_attributes, frame["k"].to_numpy(dtype=np.int64), codes, tuple(values), sums, nulls, matrix)

    def code_of(self, attribute: int, value) -> int:
        """The code of ``value`` (None: missing) of attribute number ``attribute``; -2 when no cell holds it."""
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return -1
        hit = np.flatnonzero(np.asarray(self.values[attribute] == value))
        return int(hit[0]) if len(hit) else -2

    def grouping_sets(self, runs: int, exclude: Sequence[tuple[int, object]] = ()) -> pd.DataFrame:
        """The rows of ``GROUP BY GROUPING SETS ((k), (a0, k), (a1, k), ...)`` over the cells' examples.

        Parameters
        ----------
        runs : int
            Runs in the series (positions ``0 .. runs - 1``).
        exclude : sequence of (int, value)
            Slices whose examples are left out of every run first: (attribute number, raw value, None for
            missing), as ``NOT coalesce((a = v) OR ..., false)`` over the rows would.

        Returns
        -------
        pandas.DataFrame
            ``a0`` ... (None where not grouped on), ``gid`` (the GROUPING bitmask), ``k``, then the aggregates; the
            order of rows is not specified (callers sort).
        """
        m = self.n_attributes
        keep = np.ones(len(self.k), dtype=bool)
        for attribute, value in exclude:
            keep &= self.codes[:, attribute] != self.code_of(attribute, value)
        k = self.k[keep]
        codes = self.codes[keep]
        matrix = self.matrix[keep]
        columns = list(self.sums.columns)
        integer = [self.sums[c].dtype.kind in "iub" for c in columns]
        present_at = {c: len(columns) + i for i, c in enumerate(c for c in columns if c in self.null_sums)}
        parts = []
        full = (1 << m) - 1
        for i in [None, *range(m)]:
            width = 1 if i is None else len(self.values[i]) + 1  # missing -> the last code
            key = k * width if i is None else k * width + np.where(codes[:, i] < 0, width - 1, codes[:, i])
            # dense keys (runs x values): a group is a key some cell holds
            present = np.bincount(key, minlength=runs * width) > 0 if len(key) else np.zeros(0, dtype=bool)
            groups = np.flatnonzero(present)
            position = np.cumsum(present) - 1
            inverse = position[key] if len(key) else key
            part: dict[str, object] = {}
            for j in range(m):
                if j == i:
                    labels = np.array([*self.values[j].tolist(), None], dtype=object)
                    part[f"a{j}"] = pd.Series(labels[groups % width], dtype=object)
                else:
                    part[f"a{j}"] = pd.Series([None] * len(groups), dtype=object)
            part["gid"] = np.full(len(groups), full if i is None else full & ~(1 << (m - 1 - i)), dtype=np.int64)
            part["k"] = (groups // width).astype(np.int64)
            # every column summed per group at once: a groups x cells indicator times the cells' matrix
            indicator = sparse.csr_matrix((np.ones(len(inverse)), (inverse, np.arange(len(inverse)))),
                                          shape=(len(groups), len(inverse)))
            summed = np.asarray(indicator @ matrix) if len(inverse) else np.zeros((0, matrix.shape[1]))
            for j, c in enumerate(columns):
                if integer[j]:
                    part[c] = np.rint(summed[:, j]).astype(np.int64)
                elif c in present_at:
                    part[c] = np.where(summed[:, present_at[c]] > 0, summed[:, j], np.nan)
                else:
                    part[c] = summed[:, j]
            parts.append(pd.DataFrame(part))
        return pd.concat(parts, ignore_index=True)
