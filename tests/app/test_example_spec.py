"""The Example page checks failure modes with the run's spec as the Failure modes page chose it (a user trial opened
an example of the spec's Hallucination cell and read "In no failure mode (built-in detectors...)"), and the demo spec
is the default only for the runs it fits (not the demo series' checkpoints: four "spec does not fit" warnings)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from analysis import check_against_run, example_view, open_store, parse_objective
from analysis.demo.seed import ensure_demo_series
from tests.app._stores import build_demo, point_app_at
from tests.conftest import ROOT

TIMEOUT = 120
PAGE = str(ROOT / "pages" / "9_Example.py")
SPEC = ROOT / "data" / "objective_demo.yaml"


def _spec_only_example(store, run):
    """An example the demo spec puts in a mode that the built-in detectors do not (found by the engine both ways)."""
    spec = parse_objective(SPEC.read_text(encoding="utf-8"), source="objective_demo.yaml")
    for example_id in store.examples(run, columns=["example_id"], limit=400)["example_id"].astype(str):
        with_spec = {m["id"] for m in example_view(store, run, example_id, objective=spec).modes}
        built_in = {m["id"] for m in example_view(store, run, example_id).modes}
        if with_spec - built_in:
            return example_id, with_spec - built_in
    raise AssertionError("no example of the demo is in a mode of the spec alone")


def _mode_ids(at) -> set[str]:
    return {m.value.split("`")[1] for m in at.markdown if m.value.startswith("- **") and "`" in m.value}


def test_the_example_page_uses_the_runs_spec(tmp_path_factory, monkeypatch):
    db = build_demo(tmp_path_factory, "example_spec", n_prompts=600)
    point_app_at(monkeypatch, db)
    with open_store(db, seed_demo=False) as store:
        run = store.run("after-objective-change").run_id
        example_id, spec_modes = _spec_only_example(store, run)
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.query_params.update({"run": run, "example": example_id})
    at.run()
    assert not at.exception, at.exception
    assert spec_modes <= _mode_ids(at)  # the demo run's default spec: the demo's
    at.session_state["fm_chosen_spec_" + run] = "none"  # as the Failure modes page records "no spec"
    at.run()
    assert not at.exception, at.exception
    assert not spec_modes & _mode_ids(at)


def test_the_demo_spec_is_the_default_only_where_it_fits(tmp_path_factory, monkeypatch):
    import ui

    db = build_demo(tmp_path_factory, "example_spec_series", n_prompts=300)
    with open_store(db, seed_demo=False) as store:
        ensure_demo_series(store, n_prompts=300)
        runs = store.runs()
        spec = parse_objective(SPEC.read_text(encoding="utf-8"), source="objective_demo.yaml")
        fits = {r.name: not check_against_run(spec, store, r.run_id) for r in runs.itertuples()}
    assert fits["after-objective-change"] and not all(fits.values())  # the series' checkpoints do not fit it
    for r in runs.itertuples():
        want = ui.DEMO_CHOICE if fits[r.name] else ui.NO_SPEC_CHOICE
        assert ui.default_spec_choice(str(db), 0, r.run_id) == want, r.name
