"""The Timeline's trend carries its unit of time wherever it is shown (the trial read "+1.20 pts" with no "per
what"): the page's table (in its heading, "trend (pts/run)", the cells the numbers alone: the trial read "pts/run" in
every cell) and sentence, and the report's Timeline table. The slope is fitted on run positions
0, 1, 2... whatever the series is ordered by, so the unit is "per run"."""

from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from analysis import open_store
from analysis.demo.seed import ensure_demo_series
from tests.conftest import ROOT

PAGE = str(ROOT / "pages" / "7_Timeline.py")


@pytest.fixture(scope="module")
def series_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("timeline_units") / "series.duckdb"
    with open_store(path, seed_demo=False) as store:
        ensure_demo_series(store)
    return path


def test_the_pages_trend_is_in_points_per_run(series_db, monkeypatch):
    monkeypatch.setenv("FAULTLINE_DB", str(series_db))
    monkeypatch.setenv("FAULTLINE_DEMO", "0")
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    grid = next(d for d in at.dataframe if "slope" in d.value.columns)
    slope = json.loads(grid.proto.columns)["slope"]
    assert slope["label"] == "trend (pts/run)"  # the unit in the heading, once
    assert slope["type_config"]["format"] == "%+.2f"  # the cells hold the numbers alone
    at.selectbox(key="timeline_slice_picker").select("language = hi")
    at.run()
    assert not at.exception, at.exception
    said = " ".join(m.value for m in at.markdown)
    assert re.search(r"trend [-+]\d+\.\d+ points per run", said), said


def test_the_reports_trend_columns_say_per_run(series_db, tmp_path):
    import shutil

    from analysis.demo.series import SERIES_NAME
    from analysis.report import ReportSpec, build_report, render_html
    from analysis.store import Store
    from analysis.store.series import get_series

    copy = tmp_path / "series.duckdb"
    shutil.copy(series_db, copy)
    store = Store(copy)
    try:
        info = get_series(store, SERIES_NAME)
        document = render_html(build_report(store, ReportSpec(run=info.run_ids[-1], series=SERIES_NAME,
                                                               sections=["timeline"])))
    finally:
        store.close()
    heads = re.findall(r"<th>([^<]*)</th>", document)
    trend = [h for h in heads if h.startswith(("Trend (", "95% low", "95% high"))]
    assert trend and all("per run" in h for h in trend), heads
