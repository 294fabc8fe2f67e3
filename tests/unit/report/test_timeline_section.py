"""The report's Timeline section on the demo series: its text and numbers are the engine's own (trajectories,
over_optimisation, mix_along / mix_shift), and a report without a series says the section is not covered."""

from __future__ import annotations

import html
import re

import pytest

from analysis.demo.seed import ensure_demo_series
from analysis.demo.series import SERIES_NAME
from analysis.paths import DATA_DIR
from analysis.report import ReportSpec, build_report, render_html
from analysis.report.text import pct, points
from analysis.report.timeline import DRIFTING_SHOWN, timeline_figures
from analysis.series.mix import mix_along, mix_shift
from analysis.series.surrogate import over_optimisation
from analysis.series.trajectories import trajectories
from analysis.store import Store
from analysis.store.series import get_series

OBJECTIVE = DATA_DIR / "objective_demo.yaml"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("timeline_report") / "demo.duckdb")
    ensure_demo_series(store)
    info = get_series(store, SERIES_NAME)
    spec = ReportSpec(run=info.run_ids[-1], series=SERIES_NAME, objective=str(OBJECTIVE),
                      sections=["summary", "timeline"])
    report = build_report(store, spec)
    yield store, info, report, render_html(report)
    store.close()


def _text(document: str) -> str:
    """The document's text: tags dropped, entities decoded, white space collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", document)))


def test_the_drifting_slices_are_those_of_trajectories_with_their_trends(demo):
    store, info, report, document = demo
    section = report.data["timeline"]
    t = trajectories(store, SERIES_NAME)
    expected = t.drifting().head(DRIFTING_SHOWN)
    assert [r["description"] for r in section["drifting"]] == list(expected["description"])
    assert section["drifting_total"] == len(t.drifting()) and section["slices_followed"] == len(t.slices)
    text = _text(document)
    assert "Runs over time" in text and "timeline" in report.covered
    for row, (_, want) in zip(section["drifting"], expected.iterrows()):
        assert row["slope"] == pytest.approx(want["slope"], rel=1e-12)
        assert row["slope_low"] == pytest.approx(want["slope_low"], rel=1e-12)
        assert row["trend_q"] == pytest.approx(want["trend_q"], rel=1e-12)
        # the table prints the trend and its interval in points per run, the accuracies in percent
        assert f"{points(want['slope'])} {points(want['slope_low'])} {points(want['slope_high'])}" in text
        assert f"{pct(want['first'])} {pct(want['last'])}" in text
    assert "language = hi" in [r["description"] for r in section["drifting"]]


def test_the_turn_and_the_mix_sentence_are_the_engines(demo):
    store, info, report, document = demo
    section = report.data["timeline"]
    found = over_optimisation(store, SERIES_NAME, OBJECTIVE).found()
    assert [(t["description"], t["signal"], t["turn_label"]) for t in section["turns"]] == list(
        zip(found["description"], found["signal"], found["turn_label"]))
    assert [t["q_value"] for t in section["turns"]] == pytest.approx(list(found["q_value"]), rel=1e-12)
    text = _text(document)
    for evidence in found["evidence"]:
        assert evidence in text
    assert section["curve"]["description"] == found["description"].iloc[0]
    steps = mix_along(store, SERIES_NAME)
    step = steps[steps["mix_shift"]].iloc[0]
    assert (section["mix"]["run_a"], section["mix"]["run_b"]) == (step["previous"], step["run"])
    assert mix_shift(store, step["previous"], step["run"]).sentence() in text


def test_the_charts_are_the_pages_figures_with_the_turn_marked(demo):
    _, info, report, _ = demo
    section = report.data["timeline"]
    figs = timeline_figures(section)
    assert set(figs) == {"timeline_drift", "timeline_surrogate"}
    drawn = {a.text for a in figs["timeline_drift"].layout.annotations}
    assert set(section["drawn"]) <= drawn
    turn = section["curve"]["turn_label"]
    assert turn == "step 3,000"  # the demo's planted peak (the third checkpoint)
    marks = [a.text for a in figs["timeline_surrogate"].layout.annotations]
    assert f"turn: over-optimised after {turn}" in marks
    assert [s.x0 for s in figs["timeline_surrogate"].layout.shapes] == [info.labels.index(turn)]


def test_without_a_series_the_section_is_not_covered(demo):
    store, info, _, _ = demo
    report = build_report(store, ReportSpec(run=info.run_ids[-1], sections=["summary", "timeline"]))
    assert report.not_covered == {"timeline": "no series of runs was chosen for this report"}
    assert "no series of runs was chosen" in _text(render_html(report))


def test_a_spec_without_a_series_keeps_its_hash():
    spec = ReportSpec(run="r")
    assert "timeline" in spec.sections and '"series"' not in spec.canonical()
    # a spec stored before the section existed keeps its own sections and no series field: the same canonical
    # form, hence the same report id, and its regeneration holds the same sections
    stored = ReportSpec(run="r", sections=[s for s in spec.sections if s not in ("timeline", "findings")]).canonical()
    assert '"timeline"' not in stored and '"series"' not in stored
    assert ReportSpec.from_json(stored).canonical() == stored
    with_series = ReportSpec(run="r", series="s")
    assert '"series":"s"' in with_series.canonical() and '"timeline"' in with_series.canonical()
