"""The trajectory statement's two forms (the cells of every attribute, the grouping sets and the explanation passes
then summed from them in memory; or the grouping sets over the rows, one statement per pass) count the same: checked against each other and against pandas on a series with
graded scores, a signal, missing values, a cohort and runs paired both ways."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import analysis.sql.series as S
from analysis.series.trajectories import trajectories
from analysis.store import Store
from analysis.store.series import create_series

N = 600
MAPPING = {"id": "id", "input": "prompt", "score": "score", "correct": "correct"}


def _frames() -> list[pd.DataFrame]:
    rng = np.random.default_rng(21)
    lang = rng.choice(["en", "sw", "fr", None], N)
    domain = rng.choice(["law", "med", "code"], N)
    frames = []
    for k in range(4):
        score = np.clip(0.7 - np.where(lang == "sw", 0.05 * k, 0) + rng.normal(0, 0.15, N), 0, 1)
        frame = pd.DataFrame({"id": [f"e{i}" for i in range(N)], "prompt": [f"q{i}" for i in range(N)],
                              "lang": lang, "domain": domain, "reward": rng.normal(k, 1, N), "score": score,
                              "correct": score >= 0.5})
        frames.append(frame.sample(frac=1, random_state=k) if k == 2 else frame)  # run 3 stored in another order
    return frames


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = Store(tmp_path_factory.mktemp("cells") / "c.duckdb")
    frames = _frames()
    for k, frame in enumerate(frames):
        s.ingest_frame(frame, name=f"step-{k + 1}", mapping=MAPPING)
    create_series(s, "s", [f"step-{k + 1}" for k in range(4)])
    yield s, frames
    s.close()


@pytest.mark.parametrize("where", [None, 'domain != "code"'])
def test_both_forms_count_the_same(store, monkeypatch, where):
    s, frames = store
    forms = []
    for cells in (S.FEW_CELLS, 0):
        monkeypatch.setattr(S, "FEW_CELLS", cells)
        seen: list[str] = []
        real = S.trajectory_sql

        def spy(*a, seen=seen, real=real, **k):
            seen.append(real(*a, **k)[0])
            return real(*a, **k)

        monkeypatch.setattr(S, "trajectory_sql", spy)
        forms.append(trajectories(s, "s", ["lang", "domain"], signals=["reward"], min_support=5, max_drivers=1,
                                  where=where))
        monkeypatch.setattr(S, "trajectory_sql", real)
        assert ("GROUPING SETS" not in seen[0]) == (cells > 0)  # cells: the sets summed in memory
    assert_frame_equal(forms[0].points, forms[1].points, check_exact=False, rtol=1e-12)
    assert_frame_equal(forms[0].slices, forms[1].slices, check_exact=False, rtol=1e-12)
    # and pandas: examples, errors, score sums and the signal's mean per run and domain
    points = forms[0].points
    for k, frame in enumerate(frames):
        if where is not None:
            frame = frame[frame["domain"] != "code"]
        got = points[(points["k"] == k) & (points["attribute"] == "domain")].set_index("value")
        want = frame.groupby("domain").agg(n=("correct", "size"), errors=("correct", lambda c: int((~c).sum())),
                                           score_sum=("score", "sum"), reward=("reward", "mean"))
        assert list(got.loc[want.index, "n"]) == list(want["n"])
        assert list(got.loc[want.index, "errors"]) == list(want["errors"])
        assert np.allclose(got.loc[want.index, "score_sum"], want["score_sum"], rtol=1e-12)
        assert np.allclose(got.loc[want.index, "signal:reward"], want["reward"], rtol=1e-12)


def test_many_cells_or_unknown_counts_use_the_grouping_sets():
    from analysis.sql.slices import AttributeSQL

    few = [AttributeSQL("a", '"a"', n_values=8), AttributeSQL("b", '"b"', n_values=10)]
    many = [AttributeSQL("a", '"a"', n_values=60), AttributeSQL("b", '"b"', n_values=60),
            AttributeSQL("c", '"c"', n_values=60)]
    unknown = [AttributeSQL("a", '"a"', n_values=None), AttributeSQL("b", '"b"', n_values=3)]
    assert S._few_cells(few) and not S._few_cells(many) and not S._few_cells(unknown)
