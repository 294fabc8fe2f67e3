"""Exposure (issue #11, kind 4): the app listens on this machine only, hides error details from clients and
fetches nothing from third parties."""

from __future__ import annotations

import re
import tomllib

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT


@pytest.mark.parametrize(("section", "option", "expected"), [
    ("server", "address", "127.0.0.1"),          # not every interface
    ("client", "showErrorDetails", "none"),      # no traceback, type or message for clients
    ("browser", "gatherUsageStats", False),      # no telemetry
])
def test_streamlit_config_keeps_the_app_local_and_quiet(section, option, expected):
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config[section][option] == expected


def test_make_run_binds_localhost_unless_told_otherwise():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^ADDRESS \?= 127\.0\.0\.1$", makefile, re.M)
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "--server.address $(ADDRESS)" in run


def test_favicon_is_drawn_locally():
    from ui.session import PAGE_ICON

    # a ":material/...:" favicon makes the browser fetch an SVG from fonts.gstatic.com
    assert not PAGE_ICON.startswith(":")


def _page_with_a_bug():
    import ui

    ui.show_error(RuntimeError("secret detail /home/analyst/private.jsonl"))


def _page_with_an_input_error():
    import ui
    from analysis.errors import InputError

    ui.show_error(InputError("log.jsonl", "expected a number, got 'x'", record="record 3", field="score"))


def test_a_bug_is_shown_without_its_details_and_logged_on_the_server(caplog):
    at = AppTest.from_function(_page_with_a_bug, default_timeout=30)
    with caplog.at_level("ERROR", logger="faultline.app"):
        at.run()
    assert not at.exception
    shown = " ".join(e.value for e in at.error) + " ".join(str(c.value) for c in at.code)
    assert "went wrong" in shown and "incident" in shown
    assert "secret" not in shown and "RuntimeError" not in shown and "private" not in shown
    assert any("secret detail" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_an_input_error_is_shown_in_plain_words():
    at = AppTest.from_function(_page_with_an_input_error, default_timeout=30)
    at.run()
    shown = [e.value.replace("\\", "") for e in at.error]  # its Markdown is escaped: the log may be quoted in it
    assert any("expected a number, got 'x'" in text and "log.jsonl" in text for text in shown)
