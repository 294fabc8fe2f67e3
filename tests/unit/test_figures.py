"""The figure module: each builder draws the engine's numbers, unchanged, and says so when there is nothing.

The engine computes on a small demo store; each figure's data are compared with the table the
engine returned (x values, error bars, cells), never with numbers copied from a figure.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from scipy import stats

from analysis import figures, open_store
from analysis.demo.seed import ensure_demo
from analysis.objective.link import link, report_section
from analysis.slicing.compare import compare_runs
from analysis.slicing.table import heatmap, heatmap_cells, slice_table
from tests.conftest import ROOT

DEMO_SPEC = ROOT / "data" / "objective_demo.yaml"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    store = open_store(tmp_path_factory.mktemp("figures") / "demo.duckdb", seed_demo=False)
    ensure_demo(store, n_prompts=600)
    yield store
    store.close()


@pytest.fixture(scope="module")
def linked(demo):
    return link(demo, "after-objective-change", DEMO_SPEC, baseline="baseline", strict=False, min_support=20)


def values(array) -> np.ndarray:
    return np.asarray(array, dtype=float)


def is_empty_note(fig: go.Figure) -> bool:
    return len(fig.data) == 0 and fig.layout.annotations[0].text.startswith("Nothing to draw: ")


def fits_projector(fig: go.Figure) -> bool:
    return figures.MIN_HEIGHT <= fig.layout.height <= figures.PROJECTOR_HEIGHT and fig.layout.font.size >= 14


# ------------------------------------------------------------------------------------ headline
def test_headline_forest_draws_each_scored_run_with_its_wilson_interval(demo):
    runs = demo.headline()
    fig = figures.headline_forest(runs)
    (trace,) = fig.data
    scored = runs[runs["scored"] > 0]
    assert list(trace.y) == list(scored["name"])
    np.testing.assert_allclose(values(trace.x), scored["accuracy"])
    np.testing.assert_allclose(values(trace.x) + values(trace.error_x.array), scored["ci_high"])
    np.testing.assert_allclose(values(trace.x) - values(trace.error_x.arrayminus), scored["ci_low"])
    assert fig.layout.xaxis.tickformat == ".0%" and fig.layout.title.text == "Headline per run"
    assert fits_projector(fig)


def test_headline_forest_draws_graded_means_in_0_1_and_leaves_out_other_units(demo):
    runs = demo.headline().iloc[:2].copy()
    runs["metric"], runs["value"], runs["low"], runs["high"] = "mean score", [0.6, 6.5], [0.5, 6.0], [0.7, 7.0]
    fig = figures.headline_forest(runs)
    (trace,) = fig.data
    assert list(trace.y) == [runs["name"].iloc[0]] and values(trace.x).tolist() == [0.6]
    assert "mean score" in fig.layout.xaxis.title.text
    assert "not drawn" in fig.layout.xaxis.title.text and runs["name"].iloc[1] in fig.layout.xaxis.title.text


def test_headline_forest_draws_an_interval_past_the_scale_to_its_edge(demo):
    runs = demo.headline().iloc[:1].copy()
    runs["metric"], runs["value"], runs["low"], runs["high"] = "mean score", [0.9975], [0.994], [1.001]
    (trace,) = figures.headline_forest(runs).data
    assert values(trace.x)[0] + values(trace.error_x.array)[0] == pytest.approx(1.0)


def test_headline_forest_leaves_out_unscored_runs_and_says_when_none_is_left(demo):
    runs = demo.headline()
    unscored = runs.iloc[:1].assign(name="unscored", scored=0, accuracy=math.nan, ci_low=math.nan, ci_high=math.nan,
                                    value=math.nan, low=math.nan, high=math.nan)
    fig = figures.headline_forest(pd.concat([runs, unscored], ignore_index=True))
    assert "unscored" not in set(fig.data[0].y)
    assert is_empty_note(figures.headline_forest(unscored))
    assert is_empty_note(figures.headline_forest(runs.iloc[0:0]))


# ------------------------------------------------------------------------------------ slices
def test_slice_forest_x_values_and_error_bars_are_the_slice_tables(demo):
    result = slice_table(demo, "baseline", ["language", "domain"], max_order=2, min_support=20)
    table = result.table[~result.table["redundant"]]
    fig = figures.slice_forest(table, overall_error_rate=result.overall_error_rate, top=10)
    (trace,) = fig.data
    expected = table[~table["too_small"]].head(10)
    assert list(trace.y) == list(expected["description"])
    np.testing.assert_allclose(values(trace.x), expected["error_rate"])
    np.testing.assert_allclose(values(trace.x) + values(trace.error_x.array), expected["ci_high"])
    np.testing.assert_allclose(values(trace.x) - values(trace.error_x.arrayminus), expected["ci_low"])
    orange = [c == figures.FINDING for c in trace.marker.color]
    assert orange == list(expected["finding"]) and any(orange)
    (line,) = fig.layout.shapes
    assert line.x0 == pytest.approx(result.overall_error_rate)
    # the whole run's rate, never read as "the rest of the run" that a finding's sentence compares with (trial 7)
    assert fig.layout.annotations[0].text == f"whole run: {result.overall_error_rate:.1%}"
    assert fits_projector(fig)


def test_slice_forest_never_draws_a_slice_below_the_minimum_support(demo):
    result = slice_table(demo, "baseline", ["language", "domain"], max_order=2, min_support=20)
    small = result.table[result.table["too_small"]]
    assert not small.empty
    assert is_empty_note(figures.slice_forest(small))
    assert is_empty_note(figures.slice_forest(result.table.iloc[0:0]))


def test_heatmap_cells_are_the_pairs_of_the_analysis(demo):
    result = slice_table(demo, "baseline", ["language", "domain"], max_order=2, min_support=20)
    cells = heatmap_cells(result, "language", "domain")
    pairs = result.table[result.table["order"] == 2]
    assert len(cells) == len(pairs)
    assert set(zip(cells["language"], cells["domain"])) == {(p["language"], p["domain"]) for p in pairs["predicate"]}
    np.testing.assert_allclose(cells["error_rate"], pairs["error_rate"])
    assert list(cells["finding"]) == list(pairs["finding"])
    # the report's heatmap is the same analysis, without the FDR-dependent column
    same = heatmap(demo, "baseline", "language", "domain", min_support=20)
    pd.testing.assert_frame_equal(same, cells.drop(columns="finding"))


def test_heatmap_z_is_the_error_rate_of_each_pair(demo):
    result = slice_table(demo, "baseline", ["language", "domain"], max_order=2, min_support=20)
    cells = heatmap_cells(result, "language", "domain")
    fig = figures.slice_heatmap(cells, "language", "domain")
    (trace,) = fig.data
    assert list(trace.y) == sorted(set(cells["language"])) and list(trace.x) == sorted(set(cells["domain"]))
    for row in cells.itertuples():
        i, j = list(trace.y).index(row.language), list(trace.x).index(row.domain)
        assert trace.z[i][j] == pytest.approx(row.error_rate)
        assert trace.text[i][j].startswith(f"{row.error_rate:.0%}<br>n={row.n:,}")
        assert trace.text[i][j].endswith(" *") == bool(row.finding)
    assert trace.colorbar.tickformat == ".0%" and fits_projector(fig)


def test_heatmap_leaves_missing_pairs_empty_and_notes_an_empty_table():
    cells = pd.DataFrame({"a": ["x", "y"], "b": ["1", "2"], "n": [10, 12], "error_rate": [0.1, 0.5],
                          "ci_low": [0.0, 0.2], "ci_high": [0.4, 0.8], "q_value": [0.5, 0.01]})
    (trace,) = figures.slice_heatmap(cells, "a", "b").data
    assert [list(r) for r in trace.z] == [[0.1, None], [None, 0.5]] and trace.text[0][1] == ""
    assert is_empty_note(figures.slice_heatmap(cells.iloc[0:0], "a", "b"))


# ------------------------------------------------------------------------------------ compare
def test_comparison_forest_draws_differences_in_points_per_verdict(demo):
    comparison = compare_runs(demo, "baseline", "after-objective-change", ["language", "domain"], min_support=20)
    fig = figures.comparison_forest(comparison.table, max_drop=0.02, top=30)
    expected = comparison.table[~comparison.table["too_small"]].head(30)
    drawn = {}
    for trace in fig.data:
        assert trace.name in figures.VERDICT_COLORS
        for y, x, hi, lo in zip(trace.y, trace.x, trace.error_x.array, trace.error_x.arrayminus):
            drawn[y] = (trace.name, x, x + hi, x - lo)
    assert set(drawn) == set(expected["description"])
    for row in expected.itertuples():
        verdict, x, high, low = drawn[row.description]
        assert verdict == row.verdict
        assert x == pytest.approx(row.difference * 100)
        assert (high, low) == (pytest.approx(row.ci_high * 100), pytest.approx(row.ci_low * 100))
    assert {t.name for t in fig.data} >= {"regressed"}
    assert list(fig.layout.yaxis.categoryarray) == list(expected["description"])
    gate = [s for s in fig.layout.shapes if s.line.dash == "dash"]
    assert gate[0].x0 == pytest.approx(2.0) and "points" in fig.layout.xaxis.title.text
    assert is_empty_note(figures.comparison_forest(comparison.table.iloc[0:0]))


def test_comparison_forest_says_when_it_draws_only_the_first_slices(demo):
    comparison = compare_runs(demo, "baseline", "after-objective-change", ["language", "domain"], min_support=20)
    tested = comparison.table[~comparison.table["too_small"] & (comparison.table["verdict"] != "not tested")]
    assert len(tested) > 5
    capped = figures.comparison_forest(comparison.table, top=5)
    assert capped.layout.title.subtitle.text == f"The first 5 of {len(tested)} tested slices, by evidence"
    assert sum(len(t.y) for t in capped.data if t.y is not None) == 5
    whole = figures.comparison_forest(comparison.table, top=len(tested))
    assert whole.layout.title.subtitle.text is None


# ------------------------------------------------------------------------------------ failure modes
def test_modes_matrix_colours_the_judged_cells_with_their_auc(linked):
    cells = linked.cells
    fig = figures.modes_matrix(cells)
    amber, auc = fig.data
    modes = [m.name for m in linked.objective.modes]
    comps = linked.objective.components
    assert [y.replace("<br>", " ") for y in auc.y] == modes and len(auc.x) == len(comps)  # long names wrap
    for i, m in enumerate(linked.objective.modes):
        for j, c in enumerate(linked.objective.components):
            row = cells[(cells["mode"] == m.id) & (cells["component"] == c.id)].iloc[0]
            judged = row["verdict"] in ("implicated", "not implicated")
            if judged:
                assert auc.z[i][j] == pytest.approx(row["auc"])
            else:
                assert auc.z[i][j] is None
            assert (amber.z[i][j] == 1) == (row["verdict"] == "insufficient evidence")
            texts = figures.VERDICT_TEXT_SHORT if len(comps) >= figures.NARROW_MATRIX else figures.VERDICT_TEXT
            assert auc.text[i][j].startswith(texts[row["verdict"]])
    assert (cells["verdict"] == "implicated").any() and (cells["verdict"] == "no signal").any()
    assert fig.layout.height <= figures.PROJECTOR_HEIGHT


def test_the_reports_matrix_is_the_pages_matrix(demo, linked):
    """The report draws its matrix from its cell records with the same builder: the same figure."""
    section = report_section(demo, "after-objective-change", baseline="baseline", objective=DEMO_SPEC)
    page = figures.modes_matrix(link(demo, "after-objective-change", DEMO_SPEC, baseline="baseline",
                                     strict=False).cells)
    report = figures.modes_matrix(pd.DataFrame(section["cells"]))
    assert page.to_plotly_json() == report.to_plotly_json()


def test_modes_matrix_of_no_cell_is_a_note():
    empty = pd.DataFrame(columns=["mode", "component", "verdict", "rule", "relation", "auc", "auc_low", "auc_high"])
    assert is_empty_note(figures.modes_matrix(empty))


def test_default_cell_is_the_strongest_declared_implicated_cell(linked):
    implicated = linked.implicated()
    assert (implicated["verdict"] == "implicated").all() and len(implicated) >= 1
    declared = implicated["relation"].str.contains("can cause")
    # declared cells first, then by AUC
    assert list(declared) == sorted(declared, reverse=True)
    for flag in (True, False):
        part = implicated[declared == flag]["auc"].to_numpy()
        assert (np.diff(part) <= 0).all()
    assert linked.default_cell() == (implicated.iloc[0]["mode"], implicated.iloc[0]["component"])


def test_default_cell_without_an_implicated_cell_is_the_first_and_none_without_components(demo, linked):
    no_components = link(demo, "baseline", None, strict=False)
    assert no_components.implicated().empty and no_components.default_cell() is None
    nothing = type(linked)(**{**linked.__dict__, "cells": linked.cells.assign(verdict="not implicated")})
    assert nothing.default_cell() == (linked.objective.modes[0].id, linked.objective.components[0].id)


def test_goodhart_plot_draws_the_signal_change_against_the_accuracy_change_in_points(linked):
    points = linked.goodhart_points("over_refusal", "rm_harmlessness", min_support=20)
    assert not points.empty and points["signal"].nunique() == 1 and (points["n"] >= 20).all()
    fig = figures.goodhart_plot(points, component_name="Harmlessness RM", mode_name="Over-refusal")
    (trace,) = fig.data
    np.testing.assert_allclose(values(trace.x), points["d_signal"])
    np.testing.assert_allclose(values(trace.y), points["d_accuracy"] * 100)
    red = [c == "#B91C1C" for c in trace.marker.color]
    assert red == list(points["goodhart"] & points["up"].astype("boolean").fillna(False))
    assert fig.layout.yaxis.title.text == "change in accuracy (points)"
    assert is_empty_note(figures.goodhart_plot(points.iloc[0:0], component_name="c", mode_name="m"))


def test_goodhart_points_are_empty_without_a_baseline(demo):
    alone = link(demo, "after-objective-change", DEMO_SPEC, strict=False)
    assert alone.goodhart_points("over_refusal", "rm_harmlessness", min_support=20).empty


# ------------------------------------------------------------------------------------ clusters
@pytest.fixture(scope="module")
def clustered(demo):
    from analysis.clusters.pipeline import cluster_run

    return cluster_run(demo, "baseline", field="input", embedder="tfidf")


@pytest.mark.parametrize("color_by", ["correctness", "cluster", "failure mode"])
def test_cluster_map_draws_every_example_once_at_its_coordinates(clustered, color_by):
    labels = clustered.labels
    fig = figures.cluster_map(labels, color_by=color_by)
    drawn = pd.DataFrame({"x": np.concatenate([values(t.x) for t in fig.data]),
                          "y": np.concatenate([values(t.y) for t in fig.data])}).dropna()  # legend entries
    assert len(drawn) == len(labels)
    assert {t.type for t in fig.data} == {"scatter"}  # no WebGL trace: one starts a WebGL context in the browser
    pd.testing.assert_frame_equal(drawn.sort_values("x").reset_index(drop=True),
                                  labels[["x", "y"]].astype(float).sort_values("x").reset_index(drop=True))
    points = [t for t in fig.data if t.meta]  # one trace per cluster, whatever the colouring, then the legend's
    assert [t.meta for t in points] == [t.customdata[0][0] for t in points]
    assert fig.data[:len(points)] == tuple(points)
    assert len({t.meta for t in points}) == len(points) == labels["cluster"].nunique()
    for trace in points:  # each holds its cluster's points only
        assert {c[0] for c in trace.customdata} == {trace.customdata[0][0]}
    legend = [t for t in fig.data if not t.meta]
    assert all(pd.isna(values(t.x)).all() for t in legend)  # the others only name the colours
    if color_by == "correctness":
        wrong = labels["scored"].astype(bool) & ~labels["correct"].astype("boolean").fillna(True)
        # SVG: WebGL (scattergl) draws a trace's markers grouped by symbol, every cross above every circle
        assert [t.name.split(" (")[0] for t in legend][:2] == ["correct", "wrong"]
        by_id = dict(zip(labels["example_id"].astype(str), wrong))
        drawn_wrong = np.array([by_id[c[3]] for t in points for c in t.customdata])
        assert drawn_wrong.sum() == int(wrong.sum()) > 0
        assert [c == "#C2410C" for t in points for c in t.marker.color] == list(drawn_wrong)
        assert [s == "x" for t in points for s in t.marker.symbol] == list(drawn_wrong)  # not colour alone
        # random order within a cluster: its wrong points are spread through its drawing, not drawn last (a
        # Mann-Whitney test of their positions against the correct ones' finds no shift)
        biggest = max(points, key=lambda t: len(t.customdata))
        flags = np.array([by_id[c[3]] for c in biggest.customdata])
        positions = np.arange(len(flags))
        assert 0 < flags.sum() < len(flags)
        assert stats.mannwhitneyu(positions[flags], positions[~flags]).pvalue > 0.001
    if color_by == "cluster":
        clusters = sorted(set(labels["cluster"]) - {"noise", "empty"})
        assert {t.name for t in fig.data} - {"noise", "empty"} == {f"cluster {c}" for c in clusters}
        assert all(t.showlegend for t in points) and not legend
        assert len(clusters) == clustered.n_clusters
    if color_by == "failure mode":
        assert {t.name for t in legend} == set(labels["failure_mode"].fillna("(not failing)"))
        modes = dict(zip(labels["example_id"].astype(str), labels["failure_mode"].fillna("(not failing)")))
        colour = {t.name: t.marker.color for t in legend}
        assert all(c == colour[modes[d[3]]] for t in points for c, d in zip(t.marker.color, t.customdata))
        for trace in points:  # the failing drawn over those not failing
            failing = [modes[d[3]] != "(not failing)" for d in trace.customdata]
            assert failing == sorted(failing)


def test_a_cluster_is_highlighted_by_css_on_its_own_trace(clustered):
    labels = clustered.labels
    for color_by in ("correctness", "cluster", "failure mode"):
        fig = figures.cluster_map(labels, color_by=color_by)
        position = 1 + next(k for k, t in enumerate(fig.data) if t.customdata is not None and t.customdata[0][0] == "0")
        css = figures.cluster_highlight_css(fig, "0", ".box")
        assert (f".box .scatterlayer > .trace:not(:nth-child({position})) path.point {{fill: #CBD5E1 !important; "
                "stroke: #CBD5E1 !important; opacity: 0.35") in css
        assert f":nth-child({position}) path.point {{" not in css  # the cluster's own points as drawn: the share reads true
    assert figures.cluster_highlight_css(fig, "no such cluster", ".box") == ""
    grey = [t.meta for t in fig.data if t.meta][:1]
    assert grey == (["noise"] if "noise" in set(labels["cluster"].astype(str)) else grey)  # grey groups drawn first


def test_cluster_map_samples_a_large_run_with_a_seed(clustered):
    labels = clustered.labels
    one, two = (figures.cluster_map(labels, max_points=50) for _ in range(2))
    assert sum(int(np.isfinite(values(t.x)).sum()) for t in one.data) == 50 < len(labels)
    assert [list(t.x) for t in one.data] == [list(t.x) for t in two.data]


def test_cluster_map_refuses_an_unknown_colouring_and_notes_no_example(clustered):
    labels = clustered.labels
    with pytest.raises(ValueError, match="Invalid 'color_by' parameter: expected 'correctness', 'cluster' or "
                                         "'failure mode', got 'size'"):
        figures.cluster_map(labels, color_by="size")
    with pytest.raises(ValueError, match="'failure mode' needs a 'failure_mode' column"):
        figures.cluster_map(labels.drop(columns="failure_mode"), color_by="failure mode")
    assert is_empty_note(figures.cluster_map(labels.iloc[0:0]))


# ------------------------------------------------------------------------------------ the report
def test_the_report_prints_the_matrix_figure_in_place_of_a_hand_built_table(demo, tmp_path):
    from analysis.report import ReportSpec, generate_report

    spec = ReportSpec(run="after-objective-change", baseline="baseline", objective=str(DEMO_SPEC),
                      sections=["summary", "failure_modes"], min_support=20)
    generate_report(demo, spec, pdf=None, html_out=tmp_path / "r.html")
    document = (tmp_path / "r.html").read_text(encoding="utf-8")
    section = document[document.index("<h3>Modes x components</h3>"):document.index("<p>Preference AUC")]
    assert section.count("<svg") == 1 and "<table" not in section
    for mode in link(demo, "after-objective-change", DEMO_SPEC, strict=False).objective.modes:
        for line in figures._wrap(mode.name, figures.MODE_LABEL_WIDTH).split("<br>"):  # long names wrap
            assert f">{line}<" in section  # the matrix's row labels, as SVG text (a line each)


# ------------------------------------------------------------------------------------ text from a log is text
#: What a log may hold where a label goes (issue #11, kind 3): plotly reads <a href>, <b>, <br>... as markup.
HOSTILE = '<a href="http://127.0.0.1:8629/phish">trusted</a> <b>x</b> & <img src=x>'


def _strings(obj):
    """Every string of a figure's JSON (trace values, labels, hovers, titles)."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for value in obj.values():
            yield from _strings(value)
    elif isinstance(obj, (list, tuple, np.ndarray)):
        for value in obj:
            yield from _strings(value)


def _hostile_figures(demo, linked, clustered):
    runs = demo.headline().assign(name=lambda d: HOSTILE + d["name"])
    result = slice_table(demo, "baseline", ["language", "domain"], max_order=2, min_support=20)
    table = result.table.assign(description=lambda d: HOSTILE + d["description"])
    cells = heatmap_cells(result, "language", "domain").rename(columns={"language": HOSTILE})
    cells["domain"] = HOSTILE + cells["domain"].astype(str)
    comparison = compare_runs(demo, "baseline", "after-objective-change", ["language"], min_support=20).table
    comparison = comparison.assign(description=lambda d: HOSTILE + d["description"])
    matrix = linked.cells.assign(mode_name=HOSTILE, component_name=HOSTILE + " component", relation=HOSTILE)
    points = linked.goodhart_points("over_refusal", "rm_harmlessness", min_support=20)
    points = points.assign(description=HOSTILE, signal=HOSTILE)
    labels = clustered.labels.assign(text=HOSTILE, cluster=HOSTILE)
    return {
        "headline": figures.headline_forest(runs),
        "slices": figures.slice_forest(table, overall_error_rate=result.overall_error_rate),
        "heatmap": figures.slice_heatmap(cells, HOSTILE, "domain"),
        "comparison": figures.comparison_forest(comparison),
        "matrix": figures.modes_matrix(matrix),
        "goodhart": figures.goodhart_plot(points, component_name=HOSTILE, mode_name=HOSTILE),
        "map": figures.cluster_map(labels, color_by="cluster"),
    }


def test_text_from_a_log_is_drawn_as_text_in_every_figure(demo, linked, clustered):
    for name, fig in _hostile_figures(demo, linked, clustered).items():
        strings = list(_strings(fig.to_plotly_json()))
        assert any(figures.label(HOSTILE) in s for s in strings), name  # the value is shown, escaped
        for s in strings:  # and never as markup: no tag of the value survives anywhere
            assert "<a " not in s and "<img" not in s and "<b>x" not in s and "& " not in s, (name, s)


def test_finding_interval_draws_the_number_its_interval_and_its_reference():
    """Review mode's chart of a finding with no rate to draw: the number, its asymmetric interval, the reference line,
    every text at least 16 px; a missing number is said, not drawn."""
    fig = figures.finding_interval("signal: failing above passing", 0.96, 0.94, 0.97, reference=0.5,
                                   reference_label="no separation", axis_title="Preference AUC (95% interval)")
    (trace,) = fig.data
    assert trace.x[0] == 0.96
    assert trace.x[0] + trace.error_x.array[0] == pytest.approx(0.97)
    assert trace.x[0] - trace.error_x.arrayminus[0] == pytest.approx(0.94)
    (line,) = fig.layout.shapes
    assert (line.x0, line.x1, line.line.dash) == (0.5, 0.5, "dash")
    assert fig.layout.annotations[0].text == "no separation"
    assert min(fig.layout.font.size, fig.layout.xaxis.tickfont.size, fig.layout.yaxis.tickfont.size) >= 16
    empty = figures.finding_interval("x", float("nan"), 0.1, 0.2, axis_title="t")
    assert not empty.data and "no number" in empty.layout.annotations[0].text


def test_a_map_of_many_clusters_draws_no_two_clusters_alike():
    # trial 7: clusters 0 and 14 of 23 were the same blue (the palette listed it twice) and 16+ colours repeated
    assert len(set(figures.PALETTE)) == len(figures.PALETTE)
    rng = np.random.default_rng(0)
    n = 2_300
    labels = pd.DataFrame({"example_id": [f"e{i}" for i in range(n)], "x": rng.random(n), "y": rng.random(n),
                           "cluster": np.r_[np.arange(23).repeat(90), np.full(n - 23 * 90, -1)].astype(str),
                           "correct": True, "scored": True, "text": "t"})
    fig = figures.cluster_map(labels, color_by="cluster", max_points=n)
    looks = [(t.marker.color, t.marker.symbol) for t in fig.data if t.name != "noise" and not t.name.startswith("(")]
    assert len(looks) >= 23 and len(set(looks)) == len(looks)
