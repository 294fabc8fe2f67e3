"""The click CLI itself: the command listing, lazy loading, exit codes, option names, --min-support, the progress bar."""

from __future__ import annotations

import importlib
import io
import json
import subprocess
import sys
from types import SimpleNamespace

import click
import pandas as pd
import pytest

from analysis import RunNotFoundError, open_store
from analysis.cli import COMMANDS, EXIT_ERROR, EXIT_OK, main
from analysis.cli.common import MSG_NO_STORE, MSG_SUPPORT_COUNT_ONLY, MSG_SUPPORT_NOT_A_NUMBER, MinSupport
from analysis.cli.progress_bar import ProgressBar
from tests.conftest import ROOT

HEAVY = ("analysis.cli.clusters", "analysis.clusters.pipeline", "analysis.report", "analysis.slicing.table",
         "analysis.objective.link", "umap", "plotly", "playwright", "tqdm")


def test_help_lists_every_command_and_imports_no_command_module():
    script = ("import sys\nfrom analysis.cli import main\ncode = main(['--help'])\n"
              f"print(code, [m for m in {HEAVY!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "0 []"
    listing = out.stdout.split("Commands:")[1]
    assert [line.split()[0] for line in listing.strip().splitlines()[:len(COMMANDS)]] == list(COMMANDS)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_resolves_and_has_help(name, capsys):
    module, attribute = COMMANDS[name][0].split(":")
    command = getattr(importlib.import_module(module), attribute)
    assert isinstance(command, click.Command) and command.name == name
    assert main([name, "--help"]) == EXIT_OK
    assert "Usage: " in capsys.readouterr().out


def test_version(capsys):
    from analysis._version import __version__

    assert main(["--version"]) == EXIT_OK
    assert capsys.readouterr().out.strip() == f"Faultline {__version__}"


@pytest.mark.parametrize(("argv", "message"), [
    ([], "Usage: "),
    (["nope"], "No such command 'nope'"),
    (["slices"], "Missing option '--run'"),
    (["slices", "--run", "r", "--max-order", "4"], "4 is not in the range 1<=x<=3"),
    (["clusters", "--run", "r", "--embedder", "bert"], "'bert' is not one of"),
    (["annotate", "--run", "r", "--author", "ada"], "Give exactly one of --example or --slice"),
    (["annotate", "--run", "r", "--author", "ada", "--example", "1", "--slice", "{}"],
     "Give exactly one of --example or --slice"),
])
def test_usage_errors_exit_2(argv, message, capsys):
    assert main(argv) == EXIT_ERROR
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize(("argv", "old"), [
    (["discover", "--run", "r", "--max-l", "2"], "--max-l"),
    (["discover", "--run", "r", "--min-sup", "0.05"], "--min-sup"),
    (["discover", "--run", "r", "--alpha", "0.9"], "--alpha"),
    (["slices", "--run", "r", "--order", "2"], "--order"),
    (["compare", "--baseline", "a", "--candidate", "b", "--order", "2"], "--order"),
])
def test_old_option_names_are_refused_not_reinterpreted(argv, old, capsys):
    assert main(argv) == EXIT_ERROR
    assert f"No such option '{old}'" in capsys.readouterr().err


@pytest.mark.parametrize(("value", "fractions", "expected"), [
    ("30", False, 30), ("30.0", False, 30), ("1", True, 1), ("0.01", True, 0.01), ("250", True, 250),
])
def test_min_support_parses_a_count_or_a_fraction(value, fractions, expected):
    got = MinSupport(fractions=fractions).convert(value, None, None)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(("value", "fractions", "message"), [
    ("0.5", False, MSG_SUPPORT_COUNT_ONLY), ("2.5", False, MSG_SUPPORT_COUNT_ONLY), ("0", False, MSG_SUPPORT_COUNT_ONLY),
    ("0", True, MSG_SUPPORT_NOT_A_NUMBER), ("-3", True, MSG_SUPPORT_NOT_A_NUMBER), ("1.5", True, MSG_SUPPORT_NOT_A_NUMBER),
    ("lots", True, MSG_SUPPORT_NOT_A_NUMBER), ("nan", True, MSG_SUPPORT_NOT_A_NUMBER),
])
def test_min_support_refuses_what_is_neither(value, fractions, message):
    with pytest.raises(click.BadParameter) as info:
        MinSupport(fractions=fractions).convert(value, None, None)
    assert info.value.message == message.format(value=value)


def test_a_fraction_where_only_a_count_is_taken_is_a_usage_error(tmp_path, capsys):
    db = str(tmp_path / "u.duckdb")
    assert main(["report", "--run", "r", "--min-support", "0.5", "--html", str(tmp_path / "r.html"), "--db", db]) == EXIT_ERROR
    assert MSG_SUPPORT_COUNT_ONLY.format(value="0.5") in capsys.readouterr().err
    assert not (tmp_path / "u.duckdb").exists(), "a usage error opens no store"


def test_slicing_commands_take_a_fraction_of_the_examples(tmp_path, capsys):
    db = str(tmp_path / "f.duckdb")
    assert main(["demo", "--db", db]) == 0
    capsys.readouterr()
    assert main(["slices", "--run", "baseline", "--by", "language", "--min-support", "0.05", "--json", "--db", db]) == 0
    as_fraction = json.loads(capsys.readouterr().out)
    assert main(["slices", "--run", "baseline", "--by", "language", "--min-support", "1000", "--json", "--db", db]) == 0
    as_count = json.loads(capsys.readouterr().out)
    assert as_fraction["slices"] == as_count["slices"]  # 5% of the demo's 20,000 examples is 1,000


def test_an_engine_error_is_one_line_on_stderr(tmp_path, capsys):
    db = tmp_path / "e.duckdb"
    with open_store(db, seed_demo=False) as store, pytest.raises(RunNotFoundError) as expected:
        store.run("nope")
    assert main(["slices", "--run", "nope", "--db", str(db)]) == EXIT_ERROR
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == f"error: {expected.value}\n"


@pytest.mark.parametrize("argv", [["runs"], ["slices", "--run", "r"], ["gate", "--baseline", "a", "--candidate", "b"],
                                  ["annotations"]])
def test_a_mistyped_store_path_is_an_error_and_creates_nothing(tmp_path, capsys, argv):
    db = tmp_path / "typo.duckdb"
    assert main([*argv, "--db", str(db)]) == EXIT_ERROR
    assert capsys.readouterr().err == f"error: {MSG_NO_STORE.format(path=db)}\n"
    assert list(tmp_path.iterdir()) == [], "no store (or write-ahead log) left behind"


def test_ingest_creates_the_store_it_is_given(tmp_path, capsys):
    log = tmp_path / "log.csv"
    log.write_text("prompt,correct\na,true\nb,false\n")
    db = tmp_path / "new.duckdb"
    assert main(["ingest", str(log), "--db", str(db)]) == EXIT_OK
    assert db.exists()


def test_discover_passes_the_options_under_the_engine_names(tmp_path, capsys, monkeypatch):
    db = tmp_path / "d.duckdb"
    with open_store(db, seed_demo=False) as store:
        (run,) = store.ingest_frame(pd.DataFrame({"prompt": ["a", "b"], "response": ["x", "y"], "passed": [1, 0]}),
                                    name="r").added
    seen = {}

    def fake_discover(store, run, by=None, **kwargs):
        seen.update(run=run, by=by, **kwargs)
        # a stand-in for the engine's Discovery with no slice: this test is about the options, not the search
        return SimpleNamespace(table=pd.DataFrame(), run_id=store.run(run).run_id, to_records=list,
                               settings={"statistics_on": "all"})

    monkeypatch.setattr("analysis.cli.discover.discover_slices", fake_discover)
    argv = ["discover", "--db", str(db), "--run", "r", "--by", "lang, topic", "--error-weight", "0.95", "--k", "5",
            "--max-order", "2", "--min-support", "0.05", "--holdout", "--seed", "3", "--fdr", "0.1", "--bins", "4"]
    assert main([*argv, "--json"]) == EXIT_OK
    assert seen == {"run": "r", "by": ["lang", "topic"], "error_weight": 0.95, "k": 5, "max_order": 2,
                    "min_support": 0.05, "holdout": True, "seed": 3, "fdr": 0.1, "bins": 4, "where": None}
    assert json.loads(capsys.readouterr().out) == {"run_id": run.run_id, "settings": {"statistics_on": "all"},
                                                    "slices": []}
    assert main([*argv[:7], "--min-support", "25"]) == EXIT_OK
    assert seen["min_support"] == 25 and type(seen["min_support"]) is int
    assert seen["error_weight"] == 0.99 and seen["k"] == 10 and seen["max_order"] == 3 and seen["holdout"] is False
    assert "SliceLine on r: 0 slices" in capsys.readouterr().out


def test_the_progress_bar_draws_nothing_until_called():
    out = io.StringIO()
    with ProgressBar(file=out):
        pass
    assert out.getvalue() == ""


def test_the_progress_bar_follows_the_engine_callback():
    out = io.StringIO()
    with ProgressBar(file=out) as progress:
        progress(0.25, "reading")
        progress(0.0, "second phase")  # a new phase starts over
        progress(1.0, "done")
    text = out.getvalue()
    assert "  0.0%|" in text and "second phase" in text
    assert [line for line in text.splitlines() if line][0].endswith("reading")  # never a line without a message
    assert text.rstrip().endswith("done") and "100.0%|" in text.splitlines()[-1]


def test_the_progress_bar_is_full_when_the_work_ends_and_stays_where_an_error_stopped_it():
    done, failed = io.StringIO(), io.StringIO()
    with ProgressBar(file=done) as progress:
        progress(0.6, "loading")  # the work's last report
    assert done.getvalue().splitlines()[-1].startswith("100.0%|")
    with pytest.raises(RuntimeError), ProgressBar(file=failed) as progress:
        progress(0.6, "loading")
        raise RuntimeError("the work failed")
    assert failed.getvalue().splitlines()[-1].startswith(" 60.0%|")
