"""The Example page's failure modes: a mode's id is shown as code, as written (no markdown escape in it)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from analysis import mode_examples, open_store
from tests.app._stores import build_demo, point_app_at
from tests.conftest import ROOT

TIMEOUT = 120


def test_a_failure_modes_id_reads_as_written(tmp_path_factory, monkeypatch):
    db = build_demo(tmp_path_factory, "example_page", n_prompts=600)
    point_app_at(monkeypatch, db)
    with open_store(db, seed_demo=False) as store:
        run = store.runs()["name"].iloc[0]
        found = mode_examples(store, run, None, "reward_hacking")
    assert len(found)
    at = AppTest.from_file(str(ROOT / "pages" / "9_Example.py"), default_timeout=TIMEOUT)
    at.query_params.update({"run": run, "example": str(found["example_id"].iloc[0])})
    at.run()
    assert not at.exception, at.exception
    lines = [m.value for m in at.markdown if "Reward hacking" in m.value]
    assert lines and "`reward_hacking`" in lines[0]  # not `reward\\_hacking`: nothing is escaped in code
