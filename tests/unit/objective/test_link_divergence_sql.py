"""The link's divergence computed by the engine (``divergence_by_slice``: mid-ranks by window functions, exact
integer sums per slice, one row per slice read back) against ``scipy.stats.spearmanr`` on every slice, and the whole
link against the former path (every row read into numpy, ranked there by ``divergence_table``): on the demo and on
generated stores with heavy ties, missing and NaN values, a graded score, a penalty signal and a cohort."""

from __future__ import annotations

import tempfile

import numpy as np
import pandas as pd
import pytest

from analysis import open_store
from analysis.objective import link as L
from analysis.objective.link import link
from analysis.objective.spec import load_objective, parse_objective
from analysis.store import Store
from tests.unit.objective._specs import DEMO_SPEC
from tests.unit.objective._specs import TWO_SIGNAL_SPEC as SPEC
from tests.unit.objective.test_link_divergence_fast import reference_divergence

RUN, BASE = "after-objective-change", "baseline"


def _assert_close(got: pd.DataFrame, want: pd.DataFrame, *, rtol: float, atol: float) -> None:
    for col in ("component", "signal", "attribute", "description", "n", "divergent"):
        if col in want:
            assert got[col].tolist() == want[col].tolist(), col
    for col in ("rho", "p_value", "q_value"):
        np.testing.assert_allclose(got[col].to_numpy(dtype=float), want[col].to_numpy(dtype=float), rtol=rtol,
                                   atol=atol, equal_nan=True, err_msg=col)


def _against_scipy(result, store, run, spec, *, graded: bool, where=None, by=None, min_support=30, fdr=0.05):
    """Every (signal, slice) of ``result.divergence`` against scipy's Spearman on that slice's rows, read here with a
    statement of the test's own (the run's columns, the slices' codes from the former ``_slice_codes``)."""
    from analysis.objective.modes import compile_modes, concentration_attributes
    from analysis.slicing.attributes import prepare_attributes, resolve_attributes

    schema = store.schema(run)
    compiled = compile_modes(store, schema, spec, strict=False, where=where)
    attrs = resolve_attributes(store, schema, concentration_attributes(store, schema, by))
    prepared = prepare_attributes(store, schema.run.table_name, attrs, bins=5, edges=None, cohort=compiled.cohort_sql)
    prepared = [p for p in prepared if p.attribute.name in set(result.settings["attributes"])]
    assert [p.attribute.name for p in prepared] == result.settings["attributes"]
    data = L._load(store, schema, spec, compiled, prepared)
    attributes = L._slice_codes(data, prepared)
    assert data.graded == graded  # whether the outcome is the score, as the link says
    outcome = data.frame["score"].to_numpy(dtype=float) if graded else data.frame["correct"].to_numpy(dtype=float)
    for comp, _, sig, key in L._component_signals(spec):
        if key not in data.signals:
            continue
        sign = 1.0 if sig.direction == "higher_is_better" else -1.0
        want = reference_divergence(sign * data.frame[data.signals[key]].to_numpy(dtype=float), outcome, attributes,
                                    min_support=min_support, fdr=fdr)
        got = result.divergence[(result.divergence["component"] == comp.id)
                                & (result.divergence["signal"] == sig.column)].reset_index(drop=True)
        assert len(got) == len(want) > 1
        _assert_close(got, want, rtol=1e-9, atol=1e-12)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from analysis.demo.seed import ensure_demo

    store = open_store(tmp_path_factory.mktemp("div_demo") / "demo.duckdb", seed_demo=False)
    ensure_demo(store, n_prompts=3000)
    yield store
    store.close()


def _results_identical(a: L.LinkResult, b: L.LinkResult) -> None:
    for name in ("cells", "separation", "divergence", "goodhart", "mode_change", "goodhart_evidence", "counts"):
        if getattr(a, name) is None:
            assert getattr(b, name) is None, name
            continue
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True, obj=name)
    assert (a.notes, a.settings, a.problems) == (b.notes, b.settings, b.problems)


def _in_engine(monkeypatch, store, run, spec, **kw) -> L.LinkResult:
    """The link with the divergence ranked by the engine (any number of rows)."""
    with monkeypatch.context() as patch:
        patch.setattr(L, "ROWS_RANKED_IN_MEMORY", -1)
        return link(store, run, spec, **kw)


@pytest.mark.parametrize("where", [None, 'domain = "legal"'])
def test_demo_engine_ranks_equal_numpy_ranks_bit_for_bit_and_scipy(demo, monkeypatch, where):
    spec = load_objective(DEMO_SPEC)
    for baseline in (BASE, None):
        memory = link(demo, RUN, spec, baseline=baseline, where=where)
        engine = _in_engine(monkeypatch, demo, RUN, spec, baseline=baseline, where=where)
        assert len(engine.divergence) > 20 and engine.divergence["p_value"].notna().sum() > 10
        assert engine.divergence["divergent"].any() and not engine.divergence["divergent"].all()
        _results_identical(engine, memory)  # every verdict, rho, p and q: the same exact integer sums
    assert engine.settings["outcome"] == "score"
    _against_scipy(engine, demo, RUN, spec, graded=True, where=where)


def test_without_a_baseline_the_engine_path_reads_no_row(demo, monkeypatch):
    spec = load_objective(DEMO_SPEC)
    memory = link(demo, RUN, spec)

    def refuse(*args, **kwargs):
        raise AssertionError("the rows were read into Python")

    monkeypatch.setattr(L, "_load", refuse)
    engine = _in_engine(monkeypatch, demo, RUN, spec)
    _results_identical(engine, memory)


@pytest.fixture(scope="module")
def generated():
    """A run with heavy ties, missing, NaN and infinite signal values, a graded score with missing values, a penalty
    signal, a numeric attribute with few values and NaN, a text attribute with missing values."""
    rng = np.random.default_rng(16)
    n = 2400
    rm = np.round(rng.normal(0, 1, n), 1)
    rm[rng.random(n) < 0.03] = np.nan
    rm[:4] = [np.inf, -np.inf, -0.0, 0.0]
    judge = rng.integers(0, 4, n).astype(float)
    judge[rng.random(n) < 0.05] = np.nan
    score = rng.integers(0, 5, n) / 4.0
    score[rng.random(n) < 0.02] = np.nan
    tier = rng.choice([1.0, 2.0, 3.0, np.nan], n)
    region = rng.choice(np.array(["north", "south", "east", None], dtype=object), n)
    frame = pd.DataFrame({"id": [f"g{i}" for i in range(n)], "prompt": ["q"] * n, "gold": ["a"] * n,
                          "response": rng.choice(["a", "b", "a " * 40], n), "correct": score >= 0.5, "score": score,
                          "rm": rm + score, "judge": judge, "penalty": np.round(rng.gamma(2.0, 1.0, n) - score, 0),
                          "tier": tier, "region": region})
    store = Store(tempfile.mkdtemp() + "/generated.duckdb")
    store.ingest_frame(frame, name="g")
    yield store
    store.close()


@pytest.mark.parametrize("where", [None, 'region = "north" or region = "east"'])
def test_generated_engine_ranks_equal_numpy_ranks_and_scipy(generated, monkeypatch, where):
    spec = parse_objective(SPEC)
    by = ["tier", "region"]
    memory = link(generated, "g", spec, by=by, where=where, strict=False, min_support=10)
    engine = _in_engine(monkeypatch, generated, "g", spec, by=by, where=where, strict=False, min_support=10)
    _results_identical(engine, memory)
    div = engine.divergence
    assert set(div["signal"]) == {"rm", "judge", "penalty"}
    assert (div["description"] == "tier = (missing)").any()  # NaN and NULL: one slice
    _against_scipy(engine, generated, "g", spec, graded=True, where=where, by=by, min_support=10)


@pytest.mark.parametrize("limb_rows", [L._LIMB_ROWS, 0])
def test_grouped_exact_sums_equal_python_integers(monkeypatch, limb_rows):
    """Both branches of the numpy path's grouped sums (float limbs, int64 limbs in group order) against sums of
    Python integers, with values near the largest a product of twice mid-ranks takes."""
    monkeypatch.setattr(L, "_LIMB_ROWS", limb_rows)
    rng = np.random.default_rng(3)
    m = 5000
    codes = rng.integers(0, 4, m)  # group 4 of 5 stays empty
    values = rng.integers(0, 4 * m * m, m, dtype=np.int64) + (4 * m * m - 10**6) * (rng.random(m) < 0.5)
    n = np.bincount(codes, minlength=5)
    starts = np.concatenate(([0], np.cumsum(n)[:-1]))
    order = np.argsort(codes, kind="stable")
    got = L._grouped_exact_sums(values, codes, 5, order, starts, n)
    want = [sum(int(v) for v, c in zip(values, codes) if c == g) for g in range(5)]
    assert got == want and got[4] == 0 and all(isinstance(v, int) for v in got)


def test_numpy_path_beyond_the_float_limbs_gives_the_same_numbers(generated, monkeypatch):
    """The numpy path's int64 branch (squares per row, sums in group order) equals its float-limb branch."""
    spec = parse_objective(SPEC)
    limbs = link(generated, "g", spec, by=["tier", "region"], strict=False, min_support=10)
    monkeypatch.setattr(L, "_LIMB_ROWS", 0)
    wide = link(generated, "g", spec, by=["tier", "region"], strict=False, min_support=10)
    _results_identical(wide, limbs)
