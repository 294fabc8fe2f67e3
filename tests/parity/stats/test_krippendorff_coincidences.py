"""Krippendorff's alpha from the coincidence sums of one aggregate statement
(:func:`analysis.sql.extras.rater_coincidences_sql` + :func:`analysis.stats.krippendorff_alpha_from_coincidences`)
against the ``krippendorff`` package on each slice's reliability data, and the coincidence matrices against a
direct implementation of Krippendorff (2011), unit by unit."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from analysis.sql import extras as X
from analysis.stats import krippendorff_alpha_from_coincidences


def _data(seed: int, n: int, raters: int, labels: int, missing: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, labels, n)
    frame = pd.DataFrame({"example_id": [f"e{i}" for i in range(n)],
                          "lang": rng.choice(["en", "sw", "fr", None], n, p=[0.4, 0.3, 0.2, 0.1])})
    for r in range(raters):
        noisy = np.where(rng.random(n) < 0.3, rng.integers(0, labels, n), truth)
        frame[f"rater_{r}"] = pd.Series([f"L{x}" for x in noisy], dtype=object)
        frame.loc[rng.random(n) < missing, f"rater_{r}"] = None
    return frame


def _coincidences_sql(frame: pd.DataFrame, raters: list[str]) -> tuple[dict, list]:
    con = duckdb.connect()
    con.register("frame", frame)
    con.execute("CREATE TABLE t AS SELECT * FROM frame")
    rows = con.execute(*X.rater_coincidences_sql("t", '"lang"', [], raters)).fetchall()
    labels = sorted({r[2] for r in rows} | {r[3] for r in rows})
    out: dict = {}
    for v, m, c, k, s in rows:
        o = out.setdefault(v, np.zeros((len(labels), len(labels))))
        o[labels.index(c), labels.index(k)] += float(s) / (m - 1)
    return out, labels


def _direct(sub: pd.DataFrame, raters: list[str], labels: list[str]) -> np.ndarray:
    """Krippendorff (2011): o_ck = sum over units u of the ordered pairs of values (c, k) from different coders
    in u, each pair weighted 1 / (m_u - 1)."""
    o = np.zeros((len(labels), len(labels)))
    for _, row in sub.iterrows():
        values = [row[r] for r in raters if row[r] is not None and row[r] == row[r]]
        if len(values) < 2:
            continue
        for i, a in enumerate(values):
            for j, b in enumerate(values):
                if i != j:
                    o[labels.index(a), labels.index(b)] += 1.0 / (len(values) - 1)
    return o


@pytest.mark.parametrize("seed, raters, labels, missing", [(0, 3, 3, 0.1), (1, 4, 2, 0.3), (2, 5, 4, 0.0),
                                                           (3, 3, 5, 0.5)])
def test_alpha_from_sql_coincidences_matches_the_package(seed, raters, labels, missing):
    krippendorff = pytest.importorskip("krippendorff")  # installed in the project's environment
    frame = _data(seed, 400, raters, labels, missing)
    names = [f"rater_{r}" for r in range(raters)]
    found, all_labels = _coincidences_sql(frame, names)
    keys = sorted(found, key=repr)
    alpha = krippendorff_alpha_from_coincidences(np.stack([found[k] for k in keys]), level="nominal")
    code = {lab: float(i) for i, lab in enumerate(all_labels)}
    for key, got in zip(keys, alpha):
        sub = frame[frame["lang"].isna()] if key is None else frame[frame["lang"] == key]
        np.testing.assert_allclose(found[key], _direct(sub, names, all_labels), rtol=0, atol=1e-12)
        matrix = np.array([[code[x] if isinstance(x, str) else np.nan for x in sub[r]] for r in names])
        expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
        assert got == pytest.approx(expected, abs=1e-12)


def test_units_with_one_label_pair_with_nothing():
    frame = pd.DataFrame({"example_id": ["a", "b", "c"], "lang": ["en", "en", "en"],
                          "rater_0": ["x", "x", None], "rater_1": [None, "y", None], "rater_2": [None, "y", "x"]})
    found, labels = _coincidences_sql(frame, ["rater_0", "rater_1", "rater_2"])
    # only b is pairable (x, y, y): o_xy = o_yx = 2 * 1/2, o_yy = 2 * 1/2
    assert labels == ["x", "y"]
    np.testing.assert_array_equal(found["en"], [[0.0, 1.0], [1.0, 1.0]])
