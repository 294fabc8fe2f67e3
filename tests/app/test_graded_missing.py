"""AppTest of every page on a run with graded scores and attributes with missing values (issue #12): no exception
reaches a page, ``(missing)`` is a slice like any other, and no error alert is shown where nothing went wrong."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analysis import open_store
from tests.conftest import ROOT, shown

TIMEOUT = 120
PAGES = ["app.py", "pages/1_Data.py", "pages/2_Slices.py", "pages/3_Compare.py", "pages/5_Failure_modes.py",
         "pages/6_Report.py"]


def graded_missing_frame(n: int = 600, seed: int = 0, shift: float = 0.0) -> pd.DataFrame:
    """A log with graded scores in [0, 1] (some unscored), categorical and numeric attributes with missing values,
    a paraphrase group of many small values and a constant column."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], size=n).astype(object)
    group[rng.random(n) < 0.15] = None
    region = rng.choice(["north", "south"], size=n).astype(object)
    region[rng.random(n) < 0.3] = None
    tokens = rng.integers(10, 400, size=n).astype(float)
    tokens[rng.random(n) < 0.2] = np.nan
    score = np.clip(rng.beta(4, 2, size=n) - shift - 0.2 * (group == "c"), 0, 1).round(3)
    score[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame({
        "id": [f"g{i}" for i in range(n)], "prompt": [f"question {i % 50}" for i in range(n)],
        "output": [f"answer {i % 7}" for i in range(n)], "score": score, "group": group, "region": region,
        "tokens": tokens, "paraphrase_group": [f"p{i // 3}" for i in range(n)], "suite": "constant"})


def ingest_graded_missing(store, *, name: str = "graded", seed: int = 0, shift: float = 0.0) -> str:
    return store.ingest_frame(graded_missing_frame(seed=seed, shift=shift), name=name,
                              mapping={"id": "id"}).added[0].run_id


def build_graded_pair(tmp_path_factory, name: str = "graded"):
    """A store with two graded runs ("graded before", "graded after": its scores 0.1 lower) whose correctness comes from
    their score (``correct = score >= 0.5``), an attribute with missing values."""
    path = tmp_path_factory.mktemp(name) / "graded.duckdb"
    with open_store(path, seed_demo=False) as store:
        ingest_graded_missing(store, name="graded before")
        ingest_graded_missing(store, name="graded after", seed=1, shift=0.1)
    return path


@pytest.fixture(scope="module")
def graded_db(tmp_path_factory):
    return build_graded_pair(tmp_path_factory)


@pytest.fixture
def graded_env(graded_db, monkeypatch):
    monkeypatch.setenv("FAULTLINE_DB", str(graded_db))
    monkeypatch.setenv("FAULTLINE_DEMO", "0")
    return graded_db


def no_trouble(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    bugs = [shown(e.value) for e in at.error if "Something went wrong" in e.value]
    assert not bugs, bugs


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_the_graded_run_with_missing_values(graded_env, page):
    at = AppTest.from_file(str(ROOT / page), default_timeout=TIMEOUT)
    at.run()
    no_trouble(at)
    assert not [e.value for e in at.error if "Gate failed" not in e.value]


def test_slices_with_every_attribute_and_triples(graded_env):
    at = AppTest.from_file(str(ROOT / "pages" / "2_Slices.py"), default_timeout=TIMEOUT)
    at.run()
    no_trouble(at)
    box = at.multiselect(key="slices_by")
    box.set_value(list(box.options))
    at.radio(key="slices_order").set_value(3)
    at.run()
    no_trouble(at)
    assert not at.error
    table = at.dataframe[0].value
    assert "group = (missing)" in set(table["description"])
    extras = at.dataframe[1].value
    assert "group = (missing)" in set(extras["description"])
