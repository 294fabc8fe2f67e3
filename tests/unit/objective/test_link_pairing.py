"""The link pairs a run with its baseline on example id in SQL (``_paired_positions``): the positions equal pandas'
id matching of the two runs' rows (shuffled, missing and extra ids, a cohort), and the whole :class:`LinkResult` on
the demo with a baseline equals, field by field, the result of the former path (ids read into pandas and matched on
an index), whose accuracy change is also recomputed from a plain merge on example id."""

from __future__ import annotations

import tempfile

import numpy as np
import pandas as pd
import pytest

from analysis import open_store
from analysis.objective import link as L
from analysis.objective.link import ALL, link
from analysis.objective.modes import compile_modes
from analysis.objective.spec import load_objective, parse_objective
from analysis.store import Store
from tests.conftest import ROOT

DEMO_SPEC = ROOT / "data" / "objective_demo.yaml"
RM_SPEC = """
objective: test
components:
  - id: rm
    name: Helpfulness RM
    kind: reward_model
    why: useful answers
    serves: accuracy
    signals: [{column: rm, direction: higher_is_better}]
    can_cause: [reward_hacking]
"""
COHORT = 'domain = "legal"'


def _ids(store: Store, table: str, cohort=None) -> np.ndarray:
    """A run's scored example ids in log order (of a cohort), read without Faultline's statements."""
    where, params = "NOT unscorable", []
    if cohort is not None:
        where, params = f"({where}) AND ({cohort[0]})", list(cohort[1])
    rows = store.cursor().execute(f'SELECT example_id FROM "{table}" WHERE {where} ORDER BY source_row',
                                  params).fetchall()
    return np.array([r[0] for r in rows], dtype=object)


def _pandas_positions(store, base_schema, schema, base_compiled, cohort_sql) -> np.ndarray:
    """The former pairing: both runs' ids read into pandas, the candidate's looked up on the baseline's index."""
    base = _ids(store, base_schema.run.table_name, base_compiled.cohort_sql)
    cand = _ids(store, schema.run.table_name, cohort_sql)
    return pd.Index(base).get_indexer(cand).astype(np.int64)


def test_positions_equal_pandas_matching_with_shuffled_missing_and_extra_ids():
    rng = np.random.default_rng(3)
    store = Store(tempfile.mkdtemp() + "/pair.duckdb")
    ids = [f"ex{i:03d}" for i in range(300)]
    base_ids = list(rng.permutation(ids[:250]))  # the baseline lacks ex250..ex299
    cand_ids = list(rng.permutation(ids[20:]))  # the candidate lacks ex000..ex019
    for name, chosen in (("before", base_ids), ("after", cand_ids)):
        n = len(chosen)
        store.ingest_frame(pd.DataFrame({"id": chosen, "prompt": ["q"] * n, "gold": ["a"] * n,
                                         "response": rng.choice(["a", "b"], n), "correct": rng.random(n) < 0.6,
                                         "rm": rng.normal(0, 1, n)}), name=name)
    spec = parse_objective(RM_SPEC)
    schema, base_schema = store.schema("after"), store.schema("before")
    compiled = compile_modes(store, schema, spec, strict=False)
    base_compiled = compile_modes(store, base_schema, spec, strict=False)
    got = L._paired_positions(store, base_schema, schema, base_compiled, compiled.cohort_sql)
    expected = _pandas_positions(store, base_schema, schema, base_compiled, compiled.cohort_sql)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, expected)
    assert (got < 0).sum() == 50 and (got >= 0).sum() == 230  # ex250..ex299 unmatched, the rest found


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from analysis.demo.seed import ensure_demo

    store = open_store(tmp_path_factory.mktemp("pair_demo") / "demo.duckdb", seed_demo=False)
    ensure_demo(store, n_prompts=3000)
    yield store
    store.close()


def _assert_results_equal(new: L.LinkResult, old: L.LinkResult) -> None:
    for name in ("cells", "separation", "divergence", "goodhart", "mode_change", "goodhart_evidence", "counts"):
        pd.testing.assert_frame_equal(getattr(new, name), getattr(old, name), obj=name)
    assert new.concentration.keys() == old.concentration.keys()
    for mode in new.concentration:
        pd.testing.assert_frame_equal(new.concentration[mode].findings(), old.concentration[mode].findings(),
                                      obj=f"concentration[{mode}]")
    assert (new.run_id, new.baseline_id, new.problems, new.notes, new.settings) == (
        old.run_id, old.baseline_id, old.problems, old.notes, old.settings)


@pytest.mark.parametrize("where", [None, COHORT])
def test_demo_link_with_a_baseline_equals_the_former_pandas_pairing(demo, monkeypatch, where):
    store = demo
    spec = load_objective(DEMO_SPEC)
    new = link(store, "after-objective-change", spec, baseline="baseline", where=where)
    with monkeypatch.context() as patch:
        patch.setattr(L, "_paired_positions", _pandas_positions)
        old = link(store, "after-objective-change", spec, baseline="baseline", where=where)
    assert new.goodhart is not None and len(new.goodhart) > 0
    _assert_results_equal(new, old)

    # the accuracy change over every paired example, from a plain merge of the two runs on example id
    def rows(run):
        table = store.schema(run).run.table_name
        cohort = compile_modes(store, store.schema(run), spec, strict=False,
                               where=where if run != "baseline" else None).cohort_sql
        where_sql, params = "NOT unscorable", []
        if cohort is not None:
            where_sql, params = f"({where_sql}) AND ({cohort[0]})", list(cohort[1])
        return store.cursor().execute(f'SELECT example_id, correct FROM "{table}" WHERE {where_sql}', params).df()

    paired = rows("after-objective-change").merge(rows("baseline"), on="example_id", suffixes=("_c", "_b"))
    overall = new.goodhart[new.goodhart["description"] == ALL].iloc[0]
    assert overall["n"] == len(paired)
    assert overall["acc_base"] == pytest.approx(paired["correct_b"].mean(), abs=1e-12)
    assert overall["acc_cand"] == pytest.approx(paired["correct_c"].mean(), abs=1e-12)
    assert overall["d_accuracy"] == pytest.approx(paired["correct_c"].mean() - paired["correct_b"].mean(), abs=1e-12)


def _former_frame(store, schema, spec, compiled, prepared) -> pd.DataFrame:
    """The rows as the former path read them: every column, text attributes included, through DuckDB's ``.df()``."""
    data = L._load(store, schema, spec, compiled, [])  # for the signal and mode columns' statements
    columns = [(alias, *data.signal_sql[key]) for key, alias in data.signals.items()]
    columns += [(f"m{i}", *compiled.mode_sql(mode.id)) for i, mode in enumerate(spec.modes)]
    columns += [(f"a{k}", p.sql.expr, p.sql.params) for k, p in enumerate(prepared)]
    sql, params = L.M.link_rows_sql(schema.run.table_name, columns, cohort=compiled.cohort_sql)
    return store.cursor().execute(sql, params).df().drop(columns="__graded")


def _assert_codes_equal(new, old):
    assert [(n, labels) for n, _, labels in new] == [(n, labels) for n, _, labels in old]
    for (_, a, _), (_, b, _) in zip(new, old):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("where", [None, COHORT])
def test_text_attributes_read_as_arrow_give_the_slices_of_pandas_factorize(demo, where):
    from analysis.objective.modes import concentration_attributes
    from analysis.slicing.attributes import prepare_attributes, resolve_attributes

    store = demo
    spec = load_objective(DEMO_SPEC)
    schema = store.schema("after-objective-change")
    compiled = compile_modes(store, schema, spec, strict=False, where=where)
    attrs = resolve_attributes(store, schema, concentration_attributes(store, schema, None))
    prepared = prepare_attributes(store, schema.run.table_name, attrs, bins=5, edges=None, cohort=compiled.cohort_sql)
    data = L._load(store, schema, spec, compiled, prepared)
    assert data.texts  # the demo's language, domain... are text
    old = _former_frame(store, schema, spec, compiled, prepared)
    pd.testing.assert_frame_equal(data.frame, old.drop(columns=list(data.texts)))
    former = L._RunData(old, compiled, data.signals, data.graded)  # no Arrow texts: pd.factorize on .df()'s columns
    _assert_codes_equal(L._slice_codes(data, prepared), L._slice_codes(former, prepared))


def test_text_attribute_with_missing_values_codes_as_pandas():
    from analysis.slicing.attributes import prepare_attributes, resolve_attributes

    rng = np.random.default_rng(5)
    store = Store(tempfile.mkdtemp() + "/missing.duckdb")
    n = 200
    region = rng.choice(np.array(["north", "south", "", None], dtype=object), n)
    store.ingest_frame(pd.DataFrame({"id": [f"e{i}" for i in range(n)], "prompt": ["q"] * n, "gold": ["a"] * n,
                                     "response": rng.choice(["a", "b"], n), "correct": rng.random(n) < 0.5,
                                     "rm": rng.normal(0, 1, n), "region": region}), name="r")
    spec = parse_objective(RM_SPEC)
    schema = store.schema("r")
    compiled = compile_modes(store, schema, spec, strict=False)
    prepared = prepare_attributes(store, schema.run.table_name, resolve_attributes(store, schema, ["region"]),
                                  bins=5, edges=None, cohort=None)
    data = L._load(store, schema, spec, compiled, prepared)
    assert list(data.texts) == ["a0"] and data.texts["a0"].null_count > 0
    old = _former_frame(store, schema, spec, compiled, prepared)
    former = L._RunData(old, compiled, data.signals, data.graded)
    new_codes, old_codes = L._slice_codes(data, prepared), L._slice_codes(former, prepared)
    _assert_codes_equal(new_codes, old_codes)
    assert len(new_codes[0][2]) >= 3  # north, south and missing (the empty text as the ingest keeps it)
