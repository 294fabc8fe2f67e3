"""The real third-party logs are read where they lie (shared/fixtures), never copied into the project, and their
absence skips the tests that read them, saying why."""

from __future__ import annotations

import pytest

from tests import conftest
from tests.conftest import MSG_NO_SHARED, ROOT, SHARED_ENV_VAR, find_shared_fixtures


def test_no_third_party_log_is_copied_into_the_project():
    copied = [p.relative_to(ROOT) for p in (ROOT / "tests" / "fixtures").rglob("*")
              if p.is_file() and p.suffix in (".json", ".jsonl", ".eval", ".csv", ".yaml", ".js", ".md")]
    assert not copied, copied


def test_the_folder_is_found_beside_the_checkout_or_where_the_variable_says(tmp_path):
    assert find_shared_fixtures({}, tmp_path / "checkout") is None
    (tmp_path / "shared" / "fixtures").mkdir(parents=True)
    assert find_shared_fixtures({}, tmp_path / "checkout") is None  # a folder without MANIFEST.md is not it
    (tmp_path / "shared" / "fixtures" / "MANIFEST.md").write_text("logs", encoding="utf-8")
    assert find_shared_fixtures({}, tmp_path / "checkout") == (tmp_path / "shared" / "fixtures").resolve()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "MANIFEST.md").write_text("logs", encoding="utf-8")
    assert find_shared_fixtures({SHARED_ENV_VAR: str(elsewhere)}, tmp_path / "x") == elsewhere.resolve()


def test_an_absent_folder_skips_the_tests_that_read_it_saying_why(monkeypatch):
    monkeypatch.setattr(conftest, "SHARED_FIXTURES", None)
    with pytest.raises(pytest.skip.Exception) as info:
        conftest.real_logs.__wrapped__()
    assert info.value.msg == MSG_NO_SHARED

    class Item:
        fixturenames = ()
        added: list = []

        def __init__(self, marked):
            self.marked = marked

        def get_closest_marker(self, name):
            return name if self.marked and name == "real_logs" else None

        def add_marker(self, marker):
            self.added.append(marker)

    marked, plain = Item(True), Item(False)
    marked.added, plain.added = [], []
    conftest.pytest_collection_modifyitems(None, [marked, plain])
    assert [m.kwargs["reason"] for m in marked.added] == [MSG_NO_SHARED] and plain.added == []


def test_the_fixture_gives_the_folder(real_logs):
    assert (real_logs / "MANIFEST.md").is_file() and (real_logs / "helm" / "bbq").is_dir()
