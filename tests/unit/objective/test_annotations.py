"""Annotations: appended, never lost (threads, another process, a crash in the middle of a write), counted as
labels in every analysis, and exported."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pandas as pd
import pytest

from analysis import StoreBusyError, open_store
from analysis.cli import main
from analysis.errors import FaultlineError
from analysis.objective.annotations import (
    active_annotations,
    add_annotation,
    add_annotations,
    annotations,
    export_annotations,
    retract_annotation,
)
from analysis.objective.modes import mode_indicators
from analysis.objective.spec import parse_objective
from tests.conftest import ROOT

FRAME = pd.DataFrame({"prompt": ["a", "b", "c", "d"], "response": ["x", "y", "z", "w"], "gold": ["x", "q", "z", "r"],
                      "correct": [True, False, True, False], "lang": ["en", "sw", "sw", "sw"]})


@pytest.fixture
def run(store):
    store.ingest_frame(FRAME, name="r")
    return store


def test_add_and_list_example_and_slice_annotations(run):
    version = run.data_version()
    a = add_annotation(run, "r", author="ada", mode="hallucination", note="made-up source", example_id="2")
    b = add_annotation(run, "r", author="bob", note="Swahili looks weak", slice={"lang": "sw"})
    assert run.data_version() > version  # caches see the new labels
    table = annotations(run, "r")
    assert table["annotation_id"].tolist() == [a.annotation_id, b.annotation_id]
    assert table[["example_id", "slice", "mode", "note", "author"]].to_dict("records") == [
        {"example_id": "2", "slice": None, "mode": "hallucination", "note": "made-up source", "author": "ada"},
        {"example_id": None, "slice": '{"lang": "sw"}', "mode": None, "note": "Swahili looks weak", "author": "bob"}]
    assert table["run_name"].tolist() == ["r", "r"] and not table["retracted"].any()
    assert a.created_at <= b.created_at and a.run_id == run.run("r").run_id


ERRORS = [
    ({"author": "", "mode": "hallucination", "example_id": "1"}, "An annotation needs an author (who wrote it)"),
    ({"author": "ada", "mode": "hallucination"},
     "An annotation is about one example or one slice: give example_id or slice, not neither"),
    ({"author": "ada", "mode": "hallucination", "example_id": "1", "slice": {"lang": "sw"}},
     "An annotation is about one example or one slice: give example_id or slice, not both"),
    ({"author": "ada", "example_id": "1"}, "An annotation needs a failure mode or a note (both are empty)"),
    ({"author": "ada", "mode": "hallucination", "example_id": "99"}, "Run 'r' has no example '99'"),
    ({"author": "ada", "mode": "sarcasm", "example_id": "1"},
     "Unknown failure mode 'sarcasm'; modes: hallucination, over_refusal"),
    ({"author": "ada", "mode": "hallucination", "slice": "lang=sw"},
     "A slice is a mapping of attribute to value, e.g. {\"language\": \"sw\"}; got 'lang=sw'"),
    ({"author": "ada", "mode": "hallucination", "slice": {"language": "sw"}}, "Run 'r' has no attribute 'language'"),
]


@pytest.mark.parametrize("item,message", ERRORS, ids=[m[:40] for _, m in ERRORS])
def test_bad_annotations_are_refused_with_a_clear_message(run, item, message):
    with pytest.raises(FaultlineError) as info:
        add_annotations(run, "r", [item], known_modes=["hallucination", "over_refusal"])
    assert str(info.value).startswith(message)
    assert annotations(run, "r").empty


def test_a_batch_is_all_or_nothing(run):
    good = {"author": "ada", "mode": "hallucination", "example_id": "2"}
    with pytest.raises(FaultlineError, match="has no example '99'"):
        add_annotations(run, "r", [good, {**good, "example_id": "99"}])
    assert annotations(run, "r").empty


def test_retraction_appends_and_keeps_both(run):
    a = add_annotation(run, "r", author="ada", mode="hallucination", example_id="2")
    r = retract_annotation(run, "r", a.annotation_id, author="bob", note="it was a typo in the reference")
    table = annotations(run, "r")
    assert len(table) == 2 and table.set_index("annotation_id").loc[a.annotation_id, "retracted"]
    assert table.set_index("annotation_id").loc[r.annotation_id, "retracts"] == a.annotation_id
    assert active_annotations(run, "r").empty
    with pytest.raises(FaultlineError, match="No annotation 'nope' in run 'r'"):
        retract_annotation(run, "r", "nope", author="bob")


def test_annotations_count_as_labels(run):
    add_annotation(run, "r", author="ada", mode="harmful_compliance", note="complied", example_id="1")  # a correct one
    slice_note = add_annotation(run, "r", author="ada", mode="hallucination", slice={"lang": "sw"})
    flags = mode_indicators(run, "r", with_why=True).set_index("example_id")
    assert flags["harmful_compliance"].tolist() == [True, False, False, False]
    assert flags["hallucination"].tolist() == [False, True, False, True]  # the slice's wrong answers
    assert flags.loc["1", "why.harmful_compliance"] == "annotation"
    retract_annotation(run, "r", slice_note.annotation_id, author="ada")
    assert not mode_indicators(run, "r")["hallucination"].any()


def test_annotation_modes_follow_the_specs_renames(run):
    add_annotation(run, "r", author="ada", mode="value_lock_in", example_id="2")
    add_annotation(run, "r", author="ada", mode="no_such_mode", example_id="4")
    spec = parse_objective("objective: o\ncomponents: []\nmodes:\n  rename: {value_lock_in: bias}\n")
    from analysis.objective.modes import compile_modes

    compiled = compile_modes(run, "r", spec)
    assert any("no_such_mode" in n for n in compiled.notes)
    flags = mode_indicators(run, "r", compiled=compiled)
    assert flags["bias"].tolist() == [False, True, False, False]


def test_export_csv_json_jsonl(run, tmp_path):
    add_annotation(run, "r", author="ada", mode="hallucination", note="=HYPERLINK(\"x\")", example_id="2")
    add_annotation(run, "r", author="bob", note="plain", slice={"lang": "sw"})
    assert export_annotations(run, tmp_path / "a.csv", "r") == 2
    csv = pd.read_csv(tmp_path / "a.csv")
    assert csv["note"].tolist() == ["'=HYPERLINK(\"x\")", "plain"]  # formulas are neutralised
    assert list(csv.columns[:9]) == ["annotation_id", "run_id", "example_id", "slice", "mode", "note", "author",
                                     "created_at", "retracts"]
    export_annotations(run, tmp_path / "a.json")
    records = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    assert [r["author"] for r in records] == ["ada", "bob"] and records[0]["note"] == "=HYPERLINK(\"x\")"
    export_annotations(run, tmp_path / "a.jsonl", "r")
    assert len((tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()) == 2


def test_concurrent_writers_from_threads_lose_nothing(run):
    errors = []

    def writer(k: int) -> None:
        try:
            for i in range(15):
                add_annotation(run, "r", author=f"t{k}", note=f"note {k}-{i}", example_id=str(1 + (i % 4)))
        except Exception as err:  # noqa: BLE001 - collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    table = annotations(run, "r")
    assert len(table) == 120 and table["annotation_id"].is_unique
    assert set(table["note"]) == {f"note {k}-{i}" for k in range(8) for i in range(15)}


def _script(body: str) -> str:
    return f"import sys, time\nsys.path.insert(0, {str(ROOT)!r})\n" + body


def test_a_crash_in_the_middle_of_a_write_loses_nothing_written_before(tmp_path):
    db = tmp_path / "crash.duckdb"
    with open_store(db, seed_demo=False) as store:
        store.ingest_frame(FRAME, name="r")
    body = f"""
import importlib
from analysis import open_store
A = importlib.import_module("analysis.objective.annotations")
store = open_store({str(db)!r}, seed_demo=False)
for i in range(5):
    A.add_annotation(store, "r", author="ada", mode="hallucination", note=f"kept {{i}}", example_id="2")
def hang(store, cur):
    print("inside the transaction", flush=True)
    time.sleep(120)
A._commit = hang  # the next write stops right before COMMIT; the test kills the process there
A.add_annotations(store, "r", [{{"author": "bob", "note": f"lost {{i}}", "example_id": "3"}} for i in range(50)])
"""
    proc = subprocess.Popen([sys.executable, "-c", _script(body)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "inside the transaction", proc.stderr.read()
    finally:
        proc.kill()  # SIGKILL: no cleanup, no rollback, the write-ahead log is left as it is
        proc.wait(timeout=30)
    with open_store(db, seed_demo=False) as store:
        table = annotations(store, "r")
        assert table["note"].tolist() == [f"kept {i}" for i in range(5)]
        assert not table["note"].str.startswith("lost").any()
        add_annotation(store, "r", author="ada", note="after the crash", example_id="1")  # the store still works
        assert len(annotations(store, "r")) == 6


def test_another_process_cannot_write_while_one_holds_the_store(tmp_path):
    db = tmp_path / "busy.duckdb"
    with open_store(db, seed_demo=False) as store:
        store.ingest_frame(FRAME, name="r")
    body = f"""
from analysis import open_store
from analysis.objective.annotations import add_annotation
store = open_store({str(db)!r}, seed_demo=False)
add_annotation(store, "r", author="app", note="written by the process holding the store", example_id="1")
print("holding", flush=True)
sys.stdin.readline()
add_annotation(store, "r", author="app", note="second", example_id="1")
store.close()
"""
    proc = subprocess.Popen([sys.executable, "-c", _script(body)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stdout.readline().strip() == "holding", proc.stderr.read()
        with pytest.raises(StoreBusyError, match="in use by another process"):
            open_store(db, seed_demo=False, lock_timeout_s=0.3)
        proc.stdin.write("go\n")
        proc.stdin.flush()
        assert proc.wait(timeout=60) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with open_store(db, seed_demo=False) as store:
        assert annotations(store, "r")["note"].tolist() == ["written by the process holding the store", "second"]


def test_cli_annotate_list_and_export(tmp_path, capsys):
    db = tmp_path / "cli.duckdb"
    with open_store(db, seed_demo=False) as store:
        store.ingest_frame(FRAME, name="r")
    assert main(["annotate", "--db", str(db), "--run", "r", "--example", "2", "--mode", "Hallucination",
                 "--note", "invented", "--author", "ada"]) == 0
    assert "added to run r by ada" in capsys.readouterr().out
    assert main(["annotate", "--db", str(db), "--run", "r", "--slice", '{"lang": "sw"}', "--note", "weak",
                 "--author", "bob"]) == 0
    assert main(["annotate", "--db", str(db), "--run", "r", "--example", "2", "--mode", "sarcasm",
                 "--author", "ada"]) == 2
    assert "Unknown failure mode 'sarcasm'" in capsys.readouterr().err
    assert main(["annotations", "--db", str(db), "--run", "r", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(r["mode"], r["author"]) for r in listed] == [("hallucination", "ada"), (None, "bob")]
    out = tmp_path / "export.csv"
    assert main(["annotations", "--db", str(db), "--export", str(out)]) == 0
    assert len(pd.read_csv(out)) == 2


# ------------------------------------------------------------------------------ a slice value of the wrong type
SLICE_VALUES = [
    ({"lang": 5}, "got 5 (int) for 'lang'"),
    ({"lang": True}, "got True (bool) for 'lang'"),
    ({"lang": ["sw"]}, "got ['sw'] (list) for 'lang'"),
    ({"lang": {"a": 1}}, "got {'a': 1} (dict) for 'lang'"),
    ({"lang": "fr"}, "lang has no value 'fr'"),
]


@pytest.mark.parametrize(("slice_", "message"), SLICE_VALUES, ids=[m for _, m in SLICE_VALUES])
def test_a_slice_value_that_cannot_select_is_refused_and_nothing_written(run, slice_, message):
    version = run.data_version()
    with pytest.raises(FaultlineError) as info:
        add_annotation(run, "r", author="ada", mode="hallucination", slice=slice_)
    assert message in str(info.value)
    assert annotations(run, "r").empty and run.data_version() == version
    mode_indicators(run, "r")  # the analysis still runs


def test_a_bad_slice_annotation_already_stored_is_ignored_with_a_note_and_can_be_withdrawn(run):
    """One written by an older Faultline (no validation) no longer breaks every analysis of its run."""
    from analysis.objective.modes import compile_modes
    from analysis.sql import annotation as A

    good = add_annotation(run, "r", author="ada", mode="hallucination", slice={"lang": "sw"})
    bad_id = "b" * 32
    with run.transaction() as cur:
        cur.execute(A.INSERT, [bad_id, good.run_id, None, '{"lang": 5}', "hallucination", "", "old", good.created_at,
                               None])
    flags = mode_indicators(run, "r").set_index("example_id")
    assert flags["hallucination"].tolist() == [False, True, False, True]  # the good one still counts
    notes = compile_modes(run, "r").notes
    assert any('{"lang": 5}' in n and "ignored" in n for n in notes)
    retract_annotation(run, "r", bad_id, author="ada", note="wrong type")
    assert not any('{"lang": 5}' in n for n in compile_modes(run, "r").notes)


def test_cli_withdraw(tmp_path, capsys):
    db = tmp_path / "cli.duckdb"
    with open_store(db, seed_demo=False) as store:
        store.ingest_frame(FRAME, name="r")
        made = add_annotation(store, "r", author="ada", mode="hallucination", example_id="2")
    assert main(["withdraw", "--db", str(db), "--run", "r", "--annotation", made.annotation_id,
                 "--author", "bob", "--note", "typo"]) == 0
    assert f"Annotation {made.annotation_id} withdrawn from run r by bob" in capsys.readouterr().out
    assert main(["withdraw", "--db", str(db), "--run", "r", "--annotation", "nope", "--author", "bob"]) == 2
    assert "No annotation 'nope' in run 'r'" in capsys.readouterr().err
    with open_store(db, seed_demo=False) as store:
        assert active_annotations(store, "r").empty and len(annotations(store, "r")) == 2
