"""Series of runs in the store: order detection, the reference, errors in plain words."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.errors import FaultlineError, RunNotFoundError
from analysis.store import Store
from analysis.store.series import (
    MSG_DUPLICATE_RUN,
    MSG_EXISTS,
    MSG_NO_STEP,
    MSG_REFERENCE,
    MSG_TOO_FEW,
    create_series,
    delete_series,
    detect_step,
    get_series,
    list_series,
)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "s.duckdb")
    for name, model in (("ckpt-3k", None), ("step-1000", None), ("release 2026-01-05", "m"), ("plain", "acme step 2000")):
        s.ingest_frame(pd.DataFrame({"q": ["a", name], "correct": [True, False]}), name=name, model=model)
    yield s
    s.close()


@pytest.mark.parametrize("text,step", [("step-12000", 12000.0), ("acme_ckpt_3k", 3000.0), ("checkpoint 800", 800.0),
                                       ("global_step=5", 5.0), ("it-1.5m", 1_500_000.0), ("v2", None),
                                       ("stepwise", None), ("2026-01-05", None)])
def test_detect_step(text, step):
    assert detect_step(text) == step


def test_auto_orders_by_step_from_names_and_models(store):
    info = create_series(store, "train", ["ckpt-3k", "step-1000", "plain"])
    assert info.order_by == "step"
    assert info.run_names == ("step-1000", "plain", "ckpt-3k")
    assert info.steps == (1000.0, 2000.0, 3000.0)
    assert info.run_names[info.reference_index] == "step-1000"
    assert info.labels == ["step 1,000", "step 2,000", "step 3,000"]
    assert get_series(store, "train") == info


def test_given_order_and_named_reference(store):
    info = create_series(store, "rel", ["plain", "release 2026-01-05"], reference="release 2026-01-05")
    assert info.order_by == "given" and info.run_names == ("plain", "release 2026-01-05")
    assert info.reference_index == 1
    assert info.scores() == [0.0, 1.0]


def test_date_order_uses_the_date_in_the_name_else_load_time(store):
    info = create_series(store, "d", ["release 2026-01-05", "step-1000"], order_by="date")
    assert info.run_names == ("release 2026-01-05", "step-1000")  # loaded in 2026-11, after 2026-01-05


def test_listing_and_delete(store):
    create_series(store, "a", ["step-1000", "ckpt-3k"])
    create_series(store, "b", ["plain", "ckpt-3k"], order_by="given")
    table = list_series(store)
    assert table["name"].tolist() == ["a", "b"] and table["runs"].tolist() == [2, 2]
    delete_series(store, "a")
    assert list_series(store)["name"].tolist() == ["b"]


def test_errors_in_plain_words(store):
    with pytest.raises(FaultlineError) as err:
        create_series(store, "x", ["plain"])
    assert str(err.value) == MSG_TOO_FEW.format(count=1, runs="'plain'")
    with pytest.raises(FaultlineError) as err:
        create_series(store, "x", ["plain", "plain"])
    assert str(err.value) == MSG_DUPLICATE_RUN.format(run="plain")
    with pytest.raises(FaultlineError) as err:
        create_series(store, "x", ["plain", "release 2026-01-05"], order_by="step")
    assert str(err.value) == MSG_NO_STEP.format(run="release 2026-01-05")
    with pytest.raises(FaultlineError) as err:
        create_series(store, "x", ["plain", "step-1000"], reference="ckpt-3k")
    assert str(err.value) == MSG_REFERENCE.format(run="ckpt-3k", runs="step-1000, plain")
    with pytest.raises(RunNotFoundError):
        create_series(store, "x", ["plain", "nope"])
    create_series(store, "x", ["plain", "step-1000"])
    with pytest.raises(FaultlineError) as err:
        create_series(store, "x", ["plain", "step-1000"])
    assert str(err.value) == MSG_EXISTS.format(name="x")
    with pytest.raises(FaultlineError, match="No series named 'y'"):
        get_series(store, "y")


def test_a_store_without_series_lists_none(tmp_path):
    s = Store(tmp_path / "e.duckdb")
    assert list_series(s).empty and not s.table_exists("series")
    s.close()
