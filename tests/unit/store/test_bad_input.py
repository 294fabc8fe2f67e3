"""Bad input: a specific error naming file, record and field, and a store left exactly as it was."""

from __future__ import annotations

import io
import json
import resource
import time
import zipfile

import pandas as pd
import pytest

from analysis import InputError
from analysis import errors as E
from tests.conftest import INSPECT

pytestmark = pytest.mark.real_logs  # reads ../shared/fixtures (tests/conftest.py)


def snapshot(store):
    cur = store.cursor()
    tables = sorted(r[0] for r in cur.execute("SELECT table_name FROM information_schema.tables").fetchall())
    counts = {t: cur.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0] for t in tables}
    return store.data_version(), counts


@pytest.fixture
def loaded_store(store):
    """A store that already holds a run, so 'unchanged' means something."""
    store.ingest_frame(pd.DataFrame({"question": ["q1", "q2"], "answer": ["a", "b"], "correct": [True, False]}),
                       name="existing")
    return store


def fails_cleanly(store, path, *, contains: list[str], **kwargs) -> InputError:
    before = snapshot(store)
    with pytest.raises(InputError) as info:
        store.ingest(path, **kwargs)
    assert snapshot(store) == before, "a failed load changed the store"
    message = str(info.value)
    for part in contains:
        assert part in message, f"{part!r} not in {message!r}"
    return info.value


def test_empty_file(loaded_store, write):
    path = write("empty.jsonl", "")
    fails_cleanly(loaded_store, path, contains=["empty.jsonl", E.EMPTY_FILE])


def test_header_only_csv_has_no_examples(loaded_store, write):
    path = write("header.csv", "question,answer,correct\n")
    fails_cleanly(loaded_store, path, contains=["header.csv", "has no examples"])


def test_truncated_last_jsonl_line(loaded_store, write):
    good = [json.dumps({"id": i, "prompt": f"p{i}", "response": "r", "correct": True}) for i in range(3)]
    path = write("cut.jsonl", "\n".join(good) + '\n{"id": 3, "prompt": "p3", "resp')
    err = fails_cleanly(loaded_store, path, contains=["cut.jsonl", "line 4", "cut off"])
    assert err.record == "line 4"


def test_truncated_lm_eval_samples(loaded_store, write):
    from tests.conftest import LM_EVAL_SAMPLES

    text = LM_EVAL_SAMPLES.read_text()
    path = write("samples_bbq_local_2026-01-01T00-00-00.000000.jsonl", text[: len(text) - 200])
    fails_cleanly(loaded_store, path, contains=["line 100", "cut off"])


def test_wrong_type_in_score(loaded_store, write):
    path = write("scores.csv", "id,prompt,response,score\n1,a,b,0.5\n2,c,d,high\n3,e,f,1\n")
    err = fails_cleanly(loaded_store, path, contains=["scores.csv", "row 2 (line 3)", "field 'score'",
                                                      "expected a number for the score, got 'high'"])
    assert err.field == "score"


def test_wrong_word_in_correct(loaded_store, write):
    path = write("c.jsonl", '{"id": 1, "prompt": "a", "correct": "yes"}\n{"id": 2, "prompt": "b", "correct": "maybe"}\n')
    fails_cleanly(loaded_store, path, contains=["c.jsonl", "line 2", "field 'correct'", "'maybe'"])


def test_no_outcome_column(loaded_store, write):
    path = write("nooutcome.csv", "id,prompt,response,lang\n1,a,b,en\n")
    fails_cleanly(loaded_store, path, contains=["nooutcome.csv", "no column that could be the outcome",
                                                "id, prompt, response, lang"])


def test_duplicate_example_ids(loaded_store, write):
    path = write("dups.csv", "example_id,prompt,correct\nx1,a,true\nx2,b,false\nx1,c,true\n")
    fails_cleanly(loaded_store, path, contains=["dups.csv", "'x1'", "row 1 (line 2)", "row 3 (line 4)",
                                                "field 'example_id'"])


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf", "NaN"])
def test_nonfinite_scores(loaded_store, write, bad):
    path = write("nan.csv", f"id,prompt,score\n1,a,0.5\n2,b,{bad}\n")
    fails_cleanly(loaded_store, path, contains=["nan.csv", "row 2", "field 'score'", "finite number"])


def test_nonfinite_score_in_dataframe(loaded_store):
    frame = pd.DataFrame({"prompt": ["a", "b"], "score": [0.1, float("inf")]})
    before = snapshot(loaded_store)
    with pytest.raises(InputError, match="row 2.*field 'score'.*finite"):
        loaded_store.ingest_frame(frame, name="inf")
    assert snapshot(loaded_store) == before


def test_bytes_not_utf8(loaded_store, write):
    path = write("latin1.csv", b"id,prompt,correct\n1,ok,true\n" + b"2,caf\xe9,false\n")
    fails_cleanly(loaded_store, path, contains=["latin1.csv", "line 3", "not UTF-8", "0xe9"])


def test_bytes_not_utf8_jsonl(loaded_store, write):
    path = write("bad.jsonl", b'{"id": 1, "prompt": "ok", "correct": true}\n{"id": 2, "prompt": "caf\xe9", "correct": true}\n')
    fails_cleanly(loaded_store, path, contains=["bad.jsonl", "line 2", "not UTF-8"])


def test_zip_that_is_not_an_inspect_log(loaded_store, write):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
        archive.writestr("data/table.csv", "a,b\n1,2\n")
    path = write("notinspect.eval", buffer.getvalue())
    fails_cleanly(loaded_store, path, contains=["notinspect.eval", "not an Inspect AI log", "readme.txt"])


def test_zip_bomb_is_refused_in_bounded_time_and_memory(loaded_store, tmp_path):
    # 1 GiB of zeros compresses to about 1 MB: a header.json-shaped bomb inside an .eval.
    path = tmp_path / "bomb.eval"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("header.json", json.dumps({"eval": {"task": "t", "model": "m"}}))
        with archive.open("samples/1_epoch_1.json", "w", force_zip64=True) as member:
            chunk = b"\0" * (1 << 24)
            for _ in range(64):
                member.write(chunk)
    assert path.stat().st_size < 5 * 2**20
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.monotonic()
    fails_cleanly(loaded_store, path, contains=["bomb.eval", "refused", "zip bomb"])
    assert time.monotonic() - start < 10
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert grown_mb < 300, f"peak memory grew by {grown_mb:.0f} MB while refusing a zip bomb"


def test_zip_member_lying_about_its_size_is_cut_off(loaded_store, tmp_path, monkeypatch):
    # A member whose real size exceeds the per-member limit is refused after reading at most the limit.
    monkeypatch.setenv("FAULTLINE_MAX_FIELD_MB", "1")  # per-member limit = max(4 MB, 256 MB)
    path = tmp_path / "big.eval"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("header.json", json.dumps({"eval": {"task": "t", "model": "m"}}))
        archive.writestr("samples/1_epoch_1.json", b" " * (300 * 2**20))
    fails_cleanly(loaded_store, path, contains=["big.eval", "refused"])


def test_one_field_of_500_mb(loaded_store, tmp_path):
    path = tmp_path / "huge.jsonl"
    with open(path, "wb") as handle:
        handle.write(b'{"id": 1, "prompt": "small", "correct": true}\n')
        handle.write(b'{"id": 2, "correct": false, "prompt": "')
        block = b"x" * (1 << 24)
        for _ in range(30):  # 480 MiB
            handle.write(block)
        handle.write(b"x" * (20 * 2**20) + b'"}\n')
    assert path.stat().st_size > 500 * 10**6
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    err = fails_cleanly(loaded_store, path, contains=["huge.jsonl", "line 2", "larger than the limit"])
    assert err.record == "line 2"
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert grown_mb < 400, f"peak memory grew by {grown_mb:.0f} MB reading a 500 MB field"


def test_formula_like_csv_cells_are_stored_verbatim(store, write):
    text = 'id,prompt,response,correct\n1,=1+1,"=HYPERLINK(""http://x"")",true\n2,+SUM(A1),@cmd,false\n3,-2+3,ok,true\n'
    path = write("formulas.csv", text)
    (run,) = store.ingest(path).added
    frame = store.examples(run.run_id).set_index("example_id")
    assert frame.loc["1", "input"] == "=1+1"
    assert frame.loc["1", "output"] == '=HYPERLINK("http://x")'
    assert frame.loc["2", "input"] == "+SUM(A1)"
    assert frame.loc["2", "output"] == "@cmd"


def test_hostile_column_names_are_quoted_everywhere(store, write):
    names = ['prompt', 'said "hi"', 'x; DROP TABLE runs; --', 'select', 'from', 'group by', 'a.b', 'correct']
    header = ",".join('"' + n.replace('"', '""') + '"' for n in names)
    row1 = "p1,h1,d1,s1,f1,g1,ab1,true"
    row2 = "p2,h2,d2,s2,f2,g2,ab2,false"
    path = write("hostile.csv", f"{header}\n{row1}\n{row2}\n")
    (run,) = store.ingest(path).added
    frame = store.examples(run.run_id)
    for name, value in zip(names[1:-1], ["h1", "d1", "s1", "f1", "g1", "ab1"]):
        assert frame[f"meta.{name}"].iloc[0] == value
    assert set(store.runs()["name"]) == {"hostile"}
    fields = store.fields(run.run_id)
    assert 'meta.x; DROP TABLE runs; --' in set(fields["column_name"])
    # the hostile columns can be read back by name, too
    again = store.examples(run.run_id, columns=['meta.said "hi"', "meta.select"])
    assert list(again.iloc[1]) == ["h2", "s2"]


def test_csv_ragged_row_names_the_row(loaded_store, write):
    path = write("ragged.csv", "id,prompt,correct\n1,a,true\n2,b,false,extra,more\n")
    fails_cleanly(loaded_store, path, contains=["ragged.csv", "row 2", "fields"])


MAPPING_ERRORS = [
    ("map.yaml", "input: question\noutptu: answer\n",
     "map.yaml, line 2, field 'outptu': unknown key 'outptu'; expected one of id, task, input, output, reference, "
     "correct, score, embedding, metadata, signals, raters, ignore, correct_threshold, missing_values, score_values, name, model, notes"),
    ("map.yaml", "input: [a, b]\n", "map.yaml, line 1, field 'input': expected a column name (text), got a list"),
    ("map.yaml", "input: q\nsignals:\n  - rm\n  - 5\n",
     "map.yaml, line 4, field 'signals[1]': expected a column name (text), got 5"),
    ("map.yaml", "signals: rm\n", "map.yaml, line 1, field 'signals': expected a list of column names, got 'rm'"),
    ("map.yaml", "score: f1\ncorrect_threshold: yes\n",
     "map.yaml, line 2, field 'correct_threshold': expected a number, got True"),
    ("map.yaml", "score: f1\ncorrect_threshold: .nan\n",
     "map.yaml, line 2, field 'correct_threshold': expected a finite number, got nan"),
    ("map.yaml", "name: 7\n", "map.yaml, line 1, field 'name': expected text, got 7"),
    ("map.yaml", "- a\n- b\n", "map.yaml, line 1: expected a mapping of role: column, got a list"),
    ("map.yaml", "input: a\ninput: b\n", "map.yaml, line 2, field 'input': the key 'input' appears twice (first at line 1)"),
    ("map.yaml", "input: [a\n", "map.yaml, line 2: is not valid YAML: expected ',' or ']', but got '<stream end>'"),
    ("map.json", '{"input": "q",\n "signals": "rm"}',
     "map.json, line 2, field 'signals': expected a list of column names, got 'rm'"),
    ("map.json", '{"input": "q",\n "x": 1', "map.json, line 2: is not valid JSON: Expecting ',' delimiter"),
    ("map.yaml", "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{b}: &{b} [{', '.join([f'*{a}'] * 10)}]\n" for a, b in zip("abcde", "bcdef")),
     "map.yaml holds more than 100000 values once its YAML aliases (*name) are expanded; expected at most 100000 "
     "(the limit is set by FAULTLINE_MAX_SPEC_VALUES)"),
]


@pytest.mark.parametrize("name,text,message", MAPPING_ERRORS,
                         ids=[m[2].split(" ", 1)[1][:40] for m in MAPPING_ERRORS])
def test_mapping_file_errors_name_line_and_key(store, write, name, text, message):
    from analysis import load_mapping

    with pytest.raises(InputError) as info:
        load_mapping(write(name, text))
    assert str(info.value) == message


def test_mapping_file_above_the_limit_is_refused_unread(write):
    from analysis import load_mapping
    from analysis.formats.validation import MAX_BYTES

    path = write("big.yaml", "# " + "x" * MAX_BYTES + "\n")
    with pytest.raises(InputError) as info:
        load_mapping(path)
    assert str(info.value) == f"big.yaml is {MAX_BYTES + 3} bytes, above the limit of {MAX_BYTES} bytes; " \
        "expected a smaller file (the limit is set by FAULTLINE_MAX_SPEC_KB)"


def test_mapping_file_values_come_back_as_given(write):
    from analysis import load_mapping

    path = write("map.yaml", "# roles\nscore: f1\ncorrect_threshold: 1\nsignals: [rm, kl]\nname: strict\n")
    assert load_mapping(path) == {"score": "f1", "correct_threshold": 1.0, "signals": ["rm", "kl"], "name": "strict"}
    assert load_mapping(write("empty.yaml", "")) == {}


def test_mapping_given_as_a_dict_is_validated_too(loaded_store):
    before = snapshot(loaded_store)
    frame = pd.DataFrame({"q": ["a"], "ok": [True]})
    with pytest.raises(InputError) as info:
        loaded_store.ingest_frame(frame, name="x", mapping={"inptu": "q", "correct": "ok"})
    assert str(info.value).startswith("mapping, field 'inptu': unknown key 'inptu'; expected one of id, task, ")
    assert snapshot(loaded_store) == before


def test_mapping_naming_a_missing_column(store, write):
    log = write("m.csv", "q,a,ok\nx,y,true\n")
    mapping = write("m.json", json.dumps({"input": "question", "correct": "ok"}))
    before = snapshot(store)
    with pytest.raises(InputError, match="m.json, field 'input': names column 'question', which is not in the log"):
        store.ingest(log, mapping=mapping)
    assert snapshot(store) == before


def test_not_a_log_at_all(loaded_store, write):
    path = write("notes.txt", "just some words without structure")
    fails_cleanly(loaded_store, path, contains=["notes.txt", "not a format Faultline reads"])


def test_inspect_sample_with_bad_score_value(loaded_store, tmp_path):
    source = INSPECT / "mmlu-summary-choices.eval"
    target = tmp_path / "badscore.eval"
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.startswith("samples/"):
                sample = json.loads(data)
                sample["scores"]["choice"]["value"] = "maybe"
                data = json.dumps(sample).encode()
            dst.writestr(info.filename, data)
    fails_cleanly(loaded_store, target, contains=["badscore.eval", "member samples/1_epoch_1.json",
                                                  "field 'scores.choice.value'", "'maybe'"])
