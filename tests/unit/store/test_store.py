"""The store's behaviour: idempotent, all-or-nothing loads; renames, deletes; roles; concurrency."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import duckdb
import pandas as pd
import pytest
from scipy.stats import binomtest

from analysis import FaultlineError, InputError, RunNotFoundError, Store, StoreBusyError, guess_roles, open_store
from analysis.errors import StoreVersionError
from analysis.store.schema import SCHEMA_VERSION
from tests.conftest import HELM_BBQ, LM_EVAL_SAMPLES, OPENAI_EVALS, PROMPTFOO_JSON, ROOT

pytestmark = pytest.mark.real_logs  # reads ../shared/fixtures (tests/conftest.py)


def test_same_file_twice_is_recognised_not_duplicated(store, tmp_path):
    first = store.ingest(LM_EVAL_SAMPLES)
    version = store.data_version()
    copy = tmp_path / "renamed-copy.jsonl"  # same bytes, other name: still the same file
    copy.write_bytes(LM_EVAL_SAMPLES.read_bytes())
    second = store.ingest(copy)
    assert second.added == [] and [r.run_id for r in second.already_loaded] == [first.added[0].run_id]
    assert "Already loaded" in second.summary()
    assert len(store.runs()) == 1 and store.data_version() == version


def test_sha256_of_every_file_is_recorded(store):
    import hashlib

    (run,) = store.ingest(LM_EVAL_SAMPLES).added
    for f in run.files:
        with open(f["file_path"], "rb") as handle:
            assert f["sha256"] == hashlib.sha256(handle.read()).hexdigest()
    listing = store.runs().iloc[0]
    assert list(listing["sha256"]) == [f["sha256"] for f in run.files]


def test_multi_file_load_is_all_or_nothing(store, write):
    bad = write("bad.csv", "id,prompt,score\n1,a,oops\n")
    before = (store.data_version(), len(store.runs()))
    with pytest.raises(InputError, match="bad.csv"):
        store.ingest([OPENAI_EVALS / "examples_crossword-turbo.jsonl", bad])
    assert (store.data_version(), len(store.runs())) == before
    tables = [r[0] for r in store.cursor().execute("SELECT table_name FROM information_schema.tables "
                                                   "WHERE table_name LIKE 'examples_%'").fetchall()]
    assert tables == []


def test_failure_inside_the_write_transaction_leaves_nothing(store, monkeypatch):
    from analysis.store import ingest as ingest_module

    def boom(*args, **kwargs):
        raise RuntimeError("simulated crash after the table was created")

    monkeypatch.setattr(ingest_module, "_record_fields", boom)
    with pytest.raises(RuntimeError):
        store.ingest(HELM_BBQ)
    monkeypatch.undo()
    assert store.runs().empty
    assert store.cursor().execute("SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'examples_%'"
                                  ).fetchall()[0][0] == 0
    assert len(store.ingest(HELM_BBQ).added) == 2  # and the store still works


def test_rename_and_delete(store):
    report = store.ingest(PROMPTFOO_JSON)
    a, b = report.added
    renamed = store.rename_run(a.run_id, "echo baseline")
    assert renamed.name == "echo baseline" and store.run("echo baseline").run_id == a.run_id
    with pytest.raises(FaultlineError, match="already named"):
        store.rename_run(b.run_id, "echo baseline")
    with pytest.raises(FaultlineError, match="cannot be empty"):
        store.rename_run(b.run_id, "  ")
    store.delete_run(a.run_id)
    assert list(store.runs()["run_id"]) == [b.run_id]
    with pytest.raises(RunNotFoundError, match="echo baseline"):
        store.run("echo baseline")
    view_runs = store.cursor().execute("SELECT DISTINCT run_id FROM examples").fetchall()
    assert view_runs == [(b.run_id,)]
    # deleted means gone: loading the file again restores it
    assert [r.run_id for r in store.ingest(PROMPTFOO_JSON).added] == [a.run_id]


def test_notes(store):
    (run,) = store.ingest(LM_EVAL_SAMPLES).added
    assert "acc,none=0.34" in run.notes
    store.set_notes(run.run_id, "checked by Ana; dummy model")
    assert store.run(run.run_id).notes == "checked by Ana; dummy model"


def test_headline_interval_matches_scipy(store):
    store.ingest(HELM_BBQ)
    for row in store.headline().itertuples():
        ci = binomtest(int(row.correct), int(row.scored)).proportion_ci(confidence_level=0.95, method="wilson")
        assert row.ci_low == pytest.approx(ci.low, abs=1e-12)
        assert row.ci_high == pytest.approx(ci.high, abs=1e-12)
        assert row.accuracy == pytest.approx(row.correct / row.scored)


def test_metadata_kinds_are_typed(store):
    frame = pd.DataFrame({
        "prompt": [f"p{i}" for i in range(300)], "correct": [i % 3 == 0 for i in range(300)],
        "language": ["en", "sw", "fr"] * 100, "turn": [1, 2, 3, 4, 5] * 60, "is_api": [True, False] * 150,
        "asked_at": pd.date_range("2026-01-01", periods=300, freq="h"),
        "notes": [f"a long free-text note number {i} that goes on and on about the example" for i in range(300)],
        "rm_helpfulness": [i / 300 for i in range(300)], "rater_a": [i % 2 == 0 for i in range(300)],
    })
    (run,) = store.ingest_frame(frame, name="typed").added
    fields = store.fields(run.run_id).set_index("column_name")
    assert fields.loc["meta.language", "kind"] == "categorical"
    assert fields.loc["meta.turn", "kind"] == "numeric"
    assert fields.loc["meta.is_api", "kind"] == "boolean"
    assert fields.loc["meta.asked_at", "kind"] == "timestamp"
    assert fields.loc["meta.notes", "kind"] == "text"
    assert fields.loc["signal.rm_helpfulness", "role"] == "signal"
    assert fields.loc["rater.rater_a", "role"] == "rater"
    stored = store.examples(run.run_id)
    assert str(stored["meta.asked_at"].dtype).startswith("datetime64")


def test_embedding_vectors_are_stored(store):
    frame = pd.DataFrame({"prompt": ["a", "b"], "correct": [True, False],
                          "embedding": [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]})
    (run,) = store.ingest_frame(frame, name="vec").added
    fields = store.fields(run.run_id).set_index("column_name")
    assert fields.loc["embedding", "kind"] == "vector"
    vectors = store.examples(run.run_id)["embedding"]
    assert list(vectors.iloc[1]) == pytest.approx([0.4, 0.5, 0.6])


def test_score_only_log_derives_correct_with_threshold(store, write):
    path = write("scores.jsonl", "\n".join(json.dumps({"id": i, "question": "q", "f1": s})
                                           for i, s in enumerate([0.2, 0.5, 0.9, None])))
    (run,) = store.ingest(path).added
    frame = store.examples(run.run_id).set_index("example_id")
    assert list(frame["correct"].iloc[:3]) == [False, True, True]
    assert bool(frame.loc["3", "unscorable"]) and frame.loc["3", "status"] == "unscored"
    mapping = write("map.yaml", "score: f1\ncorrect_threshold: 0.8\nname: strict\n")
    other = write("scores2.jsonl", path.read_text() + "\n")
    (strict,) = store.ingest(other, mapping=mapping).added
    assert strict.name == "strict"
    assert list(store.examples(strict.run_id)["correct"].iloc[:3]) == [False, False, True]


def test_correct_words_are_understood(store, write):
    path = write("words.csv", "id,prompt,passed\n1,a,PASS\n2,b,fail\n3,c,Yes\n4,d,\n5,e,0\n")
    (run,) = store.ingest(path).added
    frame = store.examples(run.run_id)
    assert frame["correct"].tolist()[:3] == [True, False, True]
    assert pd.isna(frame["correct"].iloc[3]) and frame["correct"].iloc[4] == False  # noqa: E712


@pytest.mark.parametrize(("columns", "expected"), [
    ({"question": "VARCHAR", "response": "VARCHAR", "gold": "VARCHAR", "passed": "BOOLEAN"},
     {"input": "question", "output": "response", "reference": "gold", "correct": "passed"}),
    ({"doc_id": "BIGINT", "prompt": "VARCHAR", "completion": "VARCHAR", "target": "VARCHAR", "acc": "DOUBLE"},
     {"id": "doc_id", "input": "prompt", "output": "completion", "reference": "target", "correct": "acc"}),
    ({"id": "BIGINT", "Input": "VARCHAR", "Prediction": "VARCHAR", "Label": "VARCHAR", "Score": "DOUBLE"},
     {"id": "id", "input": "Input", "output": "Prediction", "reference": "Label", "score": "Score"}),
    ({"text": "VARCHAR", "answer": "VARCHAR", "is_correct": "VARCHAR", "lang": "VARCHAR"},
     {"input": "text", "reference": "answer", "correct": "is_correct"}),
])
def test_role_guessing(columns, expected):
    guess = guess_roles(columns)
    for role, column in expected.items():
        assert guess.column_for(role) == column, (role, guess.roles)
    assert all(guess.reasons[c] for c in columns)


def test_role_guess_shows_why_and_can_be_overridden(store, write):
    path = write("odd.csv", "qq,model_said,truth,ok_flag,lang\nx,y,y,1,en\nz,w,v,0,fr\n")
    planned = store.plan(path)[0]
    assert planned.guess.column_for("correct") is None  # nothing is named like an outcome
    with pytest.raises(InputError, match="no column that could be the outcome"):
        store.ingest(path)
    report = store.ingest(path, mapping={"input": "qq", "output": "model_said", "reference": "truth",
                                         "correct": "ok_flag"})
    frame = store.examples(report.added[0].run_id)
    assert frame["input"].tolist() == ["x", "z"] and frame["correct"].tolist() == [True, False]
    mapping = json.loads(store.cursor().execute("SELECT mapping FROM runs").fetchall()[0][0])
    assert mapping["roles"]["ok_flag"] == "correct"


def test_plan_then_ingest_edited_roles(store, write):
    from analysis.formats.roles import edited_guess

    path = write("edit.csv", "prompt,answer,verdict,lang\na,b,true,en\nc,d,false,fr\n")
    (planned,) = store.plan(path)
    roles = dict(planned.guess.roles)
    roles["verdict"] = "correct"
    roles["answer"] = "output"
    planned.guess = edited_guess(planned.guess, roles)
    planned.source.name = "edited"
    (run,) = store.ingest([planned]).added
    assert run.name == "edited"
    assert store.examples(run.run_id)["output"].tolist() == ["b", "d"]
    roles["lang"] = "output"
    with pytest.raises(FaultlineError, match="given to 2 columns"):
        edited_guess(planned.guess, roles)


def test_progress_is_reported(store):
    seen = []
    store.ingest(HELM_BBQ, progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(seen) >= 3


def test_parquet_and_tsv_and_json_array(store, tmp_path):
    frame = pd.DataFrame({"example_id": ["a", "b", "c"], "prompt": ["p1", "p2", "p3"],
                          "response": ["r1", "r2", "r3"], "correct": [True, False, True], "lang": ["en", "sw", "en"]})
    frame.to_parquet(tmp_path / "log.parquet")
    frame.to_csv(tmp_path / "log.tsv", sep="\t", index=False)
    (tmp_path / "log.json").write_text(frame.to_json(orient="records"))
    for name, fmt in (("log.parquet", "parquet"), ("log.tsv", "tsv"), ("log.json", "json")):
        (run,) = store.ingest(tmp_path / name).added
        assert run.source_format == fmt
        stored = store.examples(run.run_id)
        assert stored["example_id"].tolist() == ["a", "b", "c"]
        assert stored["correct"].tolist() == [True, False, True]
        assert stored["meta.lang"].tolist() == ["en", "sw", "en"]


def test_dataframe_through_python_api_is_idempotent(store):
    frame = pd.DataFrame({"prompt": ["a", "b"], "response": ["x", "y"], "correct": [True, False]})
    assert len(store.ingest_frame(frame, name="nb").added) == 1
    again = store.ingest_frame(frame.copy(), name="nb2")
    assert again.added == [] and len(again.already_loaded) == 1


def test_store_busy_gives_clear_message_and_changes_nothing(tmp_path):
    """A second process (the CLI) cannot write while another (the app) holds the store."""
    db = tmp_path / "busy.duckdb"
    holder = open_store(db, seed_demo=False)
    holder.ingest(LM_EVAL_SAMPLES)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "analysis", "ingest", str(HELM_BBQ), "--db", str(db)],
            capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert result.returncode == 2
        assert "is in use by another process" in result.stderr
        assert "Data page" in result.stderr and "Traceback" not in result.stderr
        assert len(holder.runs()) == 1
    finally:
        holder.close()
    # once the holder is gone the same command works
    result = subprocess.run([sys.executable, "-m", "analysis", "ingest", str(HELM_BBQ), "--db", str(db)],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    with open_store(db, seed_demo=False) as store:
        assert len(store.runs()) == 3


def test_store_waits_for_a_short_lock(tmp_path):
    """A writer that finishes within the lock timeout is waited for, not reported as an error."""
    db = tmp_path / "wait.duckdb"
    open_store(db, seed_demo=False).close()
    script = textwrap.dedent(f"""
        import duckdb, time, sys
        con = duckdb.connect({str(db)!r})
        print("locked", flush=True)
        time.sleep(1.5)
        con.close()
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    with open_store(db, seed_demo=False, lock_timeout_s=15) as store:
        assert store.runs().empty
    proc.wait(timeout=30)


def test_store_busy_error_type(tmp_path):
    db = tmp_path / "b.duckdb"
    script = f"import duckdb, time; con = duckdb.connect({str(db)!r}); print('x', flush=True); time.sleep(20)"
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        proc.stdout.readline()
        with pytest.raises(StoreBusyError) as info:
            open_store(db, seed_demo=False, lock_timeout_s=0.3)
        assert info.value.pid == proc.pid
    finally:
        proc.kill()
        proc.wait()


def test_examples_view_and_sql_from_a_notebook(store):
    store.ingest(HELM_BBQ)
    rows = store.cursor().execute("SELECT run_id, count(*), avg(CAST(correct AS INTEGER)) FROM examples "
                                  "GROUP BY run_id ORDER BY run_id").fetchall()
    assert [r[1] for r in rows] == [100, 100]


def test_read_only_store_can_be_read(tmp_path):
    db = tmp_path / "ro.duckdb"
    with open_store(db, seed_demo=False) as s:
        s.ingest(LM_EVAL_SAMPLES)
    with open_store(db, read_only=True) as ro:
        assert len(ro.runs()) == 1
        with pytest.raises(duckdb.Error):
            ro.cursor().execute("CREATE TABLE x (a INT)")


def test_late_value_that_breaks_the_sampled_type_is_read_correctly(store, write):
    """Types are inferred from a sample; a different value far down triggers a whole-file read."""
    rows = [f"{i},q{i},{i % 7}" for i in range(30_000)]
    rows.append("30000,q-late,unknown-code")
    path = write("late.csv", "id,prompt,code,correct\n" + "\n".join(r + ",true" for r in rows) + "\n")
    (run,) = store.ingest(path).added
    frame = store.examples(run.run_id).set_index("example_id")
    assert frame.loc["30000", "meta.code"] == "unknown-code"
    assert frame.loc["5", "meta.code"] == "5"
    assert len(frame) == 30_001


def test_parquet_rows_are_numbered_from_one_by_the_reader(store, tmp_path):
    frame = pd.DataFrame({"example_id": ["a", "b", "a"], "prompt": ["x", "y", "z"], "correct": [True, False, True]})
    frame.to_parquet(tmp_path / "dup.parquet")
    with pytest.raises(InputError, match="records row 1 and row 3"):
        store.ingest(tmp_path / "dup.parquet")
    frame.assign(example_id=["a", "b", "c"]).to_parquet(tmp_path / "ok.parquet")
    (run,) = store.ingest(tmp_path / "ok.parquet").added
    assert store.examples(run.run_id)["source_row"].tolist() == [1, 2, 3]
    assert "meta.file_row_number" not in set(store.fields(run.run_id)["column_name"])


# ------------------------------------------------------------------------------ a store from a newer Faultline
@pytest.mark.parametrize("version", [str(SCHEMA_VERSION + 1), "999", "2.0-beta"])
@pytest.mark.parametrize("read_only", [False, True])
def test_a_store_written_by_a_newer_faultline_is_refused_and_left_unchanged(tmp_path, version, read_only):
    import hashlib

    path = tmp_path / "newer.duckdb"
    with open_store(path, seed_demo=False) as store:
        store.ingest_frame(pd.DataFrame({"prompt": ["a"], "correct": [True]}), name="r")
    con = duckdb.connect(str(path))
    con.execute("UPDATE store_info SET value = ? WHERE key = 'schema_version'", [version])
    con.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(StoreVersionError) as info:
        Store(path, read_only=read_only)
    assert f"store schema version {version}; this Faultline reads versions up to {SCHEMA_VERSION}" in str(info.value)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    if not read_only:
        from analysis.cli import main

        assert main(["runs", "--db", str(path)]) == 2
        assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_a_store_of_this_version_opens(tmp_path):
    path = tmp_path / "same.duckdb"
    open_store(path, seed_demo=False).close()
    with Store(path, read_only=True) as store:
        assert store.info("schema_version") == str(SCHEMA_VERSION)
