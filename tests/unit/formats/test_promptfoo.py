"""promptfoo results of every version: v1/v2 (top-level results list and table, no evalId) and v3+.

Expected values are computed here from the raw files with json (an independent reading) or
taken from each fixture's SOURCE.txt / README, never from Faultline's own output.
"""

from __future__ import annotations

import json

import pytest

from analysis import detect_format
from analysis.errors import InputError
from analysis.formats import read_sources

pytestmark = pytest.mark.real_logs  # reads ../shared/fixtures (tests/conftest.py)


def _pass_rate(results):
    return sum(bool(r.get("success")) for r in results) / len(results)


def test_v1_document_loads_keyed_by_prompt_and_vars(real_logs, store):
    path = real_logs / "promptfoo" / "v1" / "output.json"
    doc = json.loads(path.read_text())
    assert "evalId" not in doc and isinstance(doc["results"], list)
    assert detect_format(path) == "promptfoo"
    (source,) = read_sources(path)
    frame = source.frame
    assert len(frame) == len(doc["results"]) == 8
    assert frame["example_id"].is_unique
    # two prompts x four tests (SOURCE.txt): each id is one (template, vars) pair
    pairs = {(r["prompt"]["display"], json.dumps(r["vars"], sort_keys=True)) for r in doc["results"]}
    assert len(pairs) == 8 == frame["example_id"].nunique()
    for r in doc["results"]:
        row = frame[(frame["input"] == r["prompt"]["raw"])].iloc[0]
        assert row["output"] == r["response"]["output"]
        assert bool(row["correct"]) == r["success"]
        assert row["var.language"] == r["vars"]["language"]
        assert row["prompt"] == r["prompt"]["display"]
    (reported,) = source.reported
    stats = doc["stats"]
    assert reported.basis == "correct" and reported.n == stats["successes"] + stats["failures"] == 8
    assert reported.value == pytest.approx(stats["successes"] / 8) == _pass_rate(doc["results"])
    assert source.tool == "promptfoo"
    (run,) = store.ingest(path).added
    assert run.row_count == 8


def test_minimal_m04(real_logs, store):
    path = real_logs / "minimal" / "M04-promptfoo-v1-document" / "output.json"
    (run,) = store.ingest(path).added  # README: recognised, 2 examples, 1 correct
    frame = store.examples(run.run_id)
    assert run.row_count == 2 and int(frame["correct"].sum()) == 1
    (reported,) = read_sources(path)[0].reported
    assert (reported.value, reported.n, reported.basis) == (0.5, 2, "correct")


def test_v3_pass_rate_per_provider(real_logs):
    path = real_logs / "promptfoo" / "results.json"
    doc = json.loads(path.read_text())
    runs = read_sources(path)
    assert len(runs) == 2
    for source in runs:
        mine = [r for r in doc["results"]["results"]
                if doc["results"]["prompts"][r["promptIdx"]]["provider"] == source.model]
        (reported,) = source.reported
        assert reported.basis == "correct" and reported.n == len(mine) == 20
        assert reported.value == pytest.approx(_pass_rate(mine))
        assert source.frame["correct"].mean() == pytest.approx(reported.value)
    # MANIFEST: 18 of the 40 results pass
    assert sum(s.reported[0].value * s.reported[0].n for s in runs) == pytest.approx(18)


def test_v3_llm_rubric_several_prompts_per_provider(real_logs):
    path = real_logs / "promptfoo" / "llm_rubric" / "results.json"
    doc = json.loads(path.read_text())
    runs = read_sources(path)
    assert sorted(r.model for r in runs) == ["gpt-4o", "gpt-4o-mini"]
    for source in runs:
        mine = [r for r in doc["results"]["results"] if r["provider"]["label"] == source.model]
        assert len(source.frame) == len(mine) == 15 and source.frame["example_id"].is_unique
        (reported,) = source.reported
        # SOURCE.txt: successes 0, failures 30 over both providers
        assert (reported.value, reported.n) == (0.0, 15)
        ids = {f"test-{r['testIdx']}:{r['prompt']['label']}" for r in mine}
        assert set(source.frame["example_id"]) == ids
        with_reason = {f"test-{r['testIdx']}:{r['prompt']['label']}": r["gradingResult"]["reason"] for r in mine}
        for _, row in source.frame.iterrows():
            assert row["grader_reason"] == with_reason[row["example_id"]]


def test_v2_table_prompts_and_a_minified_document(tmp_path):
    doc = {"version": 2, "results": [
        {"prompt": {"raw": "Q: 1+1", "display": "Q: {{q}}"}, "vars": {"q": "1+1"}, "response": {"output": "2"},
         "success": True, "score": 1, "provider": {"id": "openai:gpt-4"}},
        {"prompt": {"raw": "Answer 1+1", "display": "Answer {{q}}"}, "vars": {"q": "1+1"}, "response": {"output": "3"},
         "success": False, "score": 0, "provider": {"id": "openai:gpt-4"}},
        {"prompt": {"raw": "Q: 2+2", "display": "Q: {{q}}"}, "vars": {"q": "2+2"}, "response": {"output": "4"},
         "success": True, "score": 1, "provider": {"id": "openai:gpt-4"}}],
        "stats": {"successes": 2, "failures": 1},
        "table": {"head": {"prompts": [{"raw": "Answer {{q}}", "display": "Answer {{q}}"},
                                       {"raw": "Q: {{q}}", "display": "Q: {{q}}"}], "vars": ["q"]}, "body": []}}
    minified = tmp_path / "out.json"
    minified.write_text(json.dumps(doc))
    assert detect_format(minified) == "promptfoo"
    (source,) = read_sources(minified)
    # prompts numbered as the table's head lists them
    assert list(source.frame["example_id"]) == ["test-0:prompt-1", "test-0:prompt-2", "test-1:prompt-2"]
    assert source.model == "openai:gpt-4"
    (reported,) = source.reported
    assert (reported.value, reported.n) == (pytest.approx(2 / 3), 3)


def test_several_providers_without_per_prompt_counts_report_nothing(tmp_path):
    results = [{"prompt": {"raw": "hi"}, "vars": {}, "response": {"output": "x"}, "success": True,
                "provider": {"id": p}} for p in ("a", "b")]
    path = tmp_path / "out.json"
    path.write_text(json.dumps({"version": 1, "results": results, "stats": {"successes": 2, "failures": 0},
                                "table": {}}, indent=2))
    runs = read_sources(path)
    assert [r.reported for r in runs] == [[], []]  # a run-level figure belongs to no single provider


def test_unknown_json_document_names_its_keys(tmp_path):
    path = tmp_path / "log.json"
    path.write_text(json.dumps({"experiment": "x", "rows": [{"q": 1}], "summary": {"acc": 1}}, indent=2))
    with pytest.raises(InputError) as err:
        detect_format(path)
    message = str(err.value)
    assert "JSON document" in message and "experiment, rows, summary" in message
    assert "per line" not in message.replace("one example object per line", "")


def test_broken_json_document_says_where_not_one_object_per_line(tmp_path):
    path = tmp_path / "log.json"
    path.write_text('{\n  "version": 1,\n  "results": [\n    {"a": 1,,}\n  ]\n}\n')
    with pytest.raises(InputError) as err:
        detect_format(path)
    assert "line 4" in str(err.value) and "one JSON object per line" not in str(err.value)


def test_jsonl_with_a_broken_first_line_is_still_jsonl(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text('{"q": 1, "correct": tru}\n{"q": 2, "correct": true}\n')
    assert detect_format(path) == "jsonl"


def test_the_csv_export_gives_the_same_runs_as_the_json_output(store):
    import json

    from tests.conftest import REAL

    doc = json.loads((REAL / "promptfoo" / "results.json").read_text())["results"]
    report = store.ingest(REAL / "promptfoo" / "results.csv")
    headline = store.headline().set_index("model")
    assert {r.source_format for r in report.added} == {"promptfoo_csv"}
    for model in {r["provider"].get("label") or r["provider"]["id"] for r in doc["results"]}:
        mine = [r for r in doc["results"] if (r["provider"].get("label") or r["provider"]["id"]) == model]
        assert headline.loc[model, "correct"] == sum(r["success"] for r in mine)
        assert headline.loc[model, "rows"] == len(mine)
        assert headline.loc[model, "check"] == "not reported"
