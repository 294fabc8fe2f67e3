"""Text from a log is never interpreted by the app (issue #11, kind 3): the hostile logs' values (a task name
that is a Markdown image, a model that is a javascript: link, metadata that are <script> and <a href>) appear
as literal text on every page that shows them, and produce no image, link or HTML element."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from analysis import open_store
from tests.conftest import ROOT

pytestmark = pytest.mark.real_logs  # reads ../shared/fixtures/hostile (tests/conftest.py)

TIMEOUT = 90
#: What Streamlit's Markdown would turn into an element (CommonMark is the core of its renderer).
ELEMENTS = {"image", "link_open", "html_inline", "html_block"}
PARSER = MarkdownIt("commonmark")


def _markdown_bodies(at: AppTest) -> list[str]:
    """Every text of the page that Streamlit renders as Markdown."""
    bodies = [e.value for kind in ("markdown", "caption", "info", "warning", "error", "success", "title",
                                   "subheader", "header") for e in getattr(at, kind)]
    bodies += [e.label for e in at.expander] + [e.label for e in at.metric]
    return [b for b in bodies if isinstance(b, str)]


def _elements_caused(body: str) -> list[str]:
    """The images, links and HTML a body's Markdown makes (the app's own texts make none)."""
    return [f"{child.type} in {body!r}" for token in PARSER.parse(body) for child in [token, *(token.children or [])]
            if child.type in ELEMENTS]


@pytest.fixture
def hostile_db(tmp_path, monkeypatch, real_logs):
    path = tmp_path / "hostile.duckdb"
    monkeypatch.setenv("FAULTLINE_DB", str(path))
    monkeypatch.setenv("FAULTLINE_DEMO", "0")
    monkeypatch.setenv("FAULTLINE_WARM_UP", "0")
    with open_store(path, seed_demo=False) as store:
        store.ingest(real_logs / "hostile" / "markdown_injection.eval")
        store.ingest(real_logs / "hostile" / "report_link.csv")
        runs = store.runs()
    return path, runs


TASK = "![t](http://127.0.0.1:8629/pixel-task.png)"
MODEL = "[m](javascript:alert('model'))"
LINK = '<a href="http://127.0.0.1:8629/phish">trusted source</a>'
SCRIPT = '<script>window.__xss=1;alert("s")</script>'


def _check(at: AppTest) -> list[str]:
    """The page ran, and no Markdown on it makes an element out of a hostile value; returns the bodies."""
    assert not at.exception, at.exception
    bodies = _markdown_bodies(at)
    problems = [p for body in bodies for p in _elements_caused(body)]
    assert not problems, problems
    return bodies


def test_start_page_shows_hostile_names_as_text(hostile_db):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    _check(at)
    assert f"{TASK} · {MODEL}" in set(at.dataframe[0].value["name"])  # listed as the characters it is


def test_data_page_upload_preview_shows_the_task_name_as_text(hostile_db, real_logs):
    path, _ = hostile_db
    with open_store(path, seed_demo=False) as store:
        plan = store.plan([real_logs / "hostile" / "markdown_injection.eval"])
    at = AppTest.from_file(str(ROOT / "pages" / "1_Data.py"), default_timeout=TIMEOUT)
    at.session_state["data_plan"] = plan
    at.run()
    bodies = _check(at)
    assert any("\\!\\[t\\]\\(http" in b for b in bodies)  # the task name is shown, escaped


@pytest.mark.parametrize("name_part", ["pixel-task", "report_link"])
def test_slices_page_shows_hostile_values_as_text(hostile_db, name_part):
    _, runs = hostile_db
    run_id = next(r.run_id for r in runs.itertuples() if name_part in r.name)
    at = AppTest.from_file(str(ROOT / "pages" / "2_Slices.py"), default_timeout=TIMEOUT)
    at.session_state["chosen_run"] = run_id
    at.run()
    _check(at)
    specs = [chart.proto.spec for chart in at.get("plotly_chart")]
    assert specs and not any("<a href" in s or "<script" in s for s in specs)
    hostile = "&lt;a href" if name_part == "report_link" else "&lt;script&gt;"
    assert any(hostile in s for s in specs)  # the value is drawn, as text
