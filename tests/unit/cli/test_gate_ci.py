"""The gate for CI: reproducible attributes, a gate spec, JUnit XML and Markdown output, honest direction and units,
exit codes 0 / 1 / 2, q-values that underflow printed as such."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from analysis import open_store
from analysis.cli import EXIT_ERROR, EXIT_GATE_FAILED, EXIT_OK, main
from analysis.objective.annotations import add_annotations
from tests.conftest import ROOT


def _runs(n: int = 3000, seed: int = 4) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two runs of the same examples: the candidate loses accuracy in lang = sw and gains it in lang = fr."""
    rng = np.random.default_rng(seed)
    ids = [f"x{i}" for i in range(n)]
    lang = rng.choice(["en", "sw", "fr"], size=n, p=[0.6, 0.2, 0.2])
    tier = rng.choice(["free", "pro"], size=n)
    base_ok = rng.random(n) > 0.2
    cand_ok = base_ok.copy()
    cand_ok[(lang == "sw") & (rng.random(n) < 0.3)] = False
    cand_ok[(lang == "fr") & (rng.random(n) < 0.6)] = True
    frame = {"example_id": ids, "prompt": [f"question {i}" + "?" * (i % 7) for i in range(n)], "lang": lang,
             "tier": tier, "latency_ms": rng.gamma(2.0, 100.0, n)}
    return pd.DataFrame({**frame, "correct": base_ok}), pd.DataFrame({**frame, "correct": cand_ok})


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "gate.duckdb"
    base, cand = _runs()
    with open_store(path, seed_demo=False) as store:
        store.ingest_frame(base, name="base")
        store.ingest_frame(cand, name="cand")
    return path


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_gate_uses_the_context_defaults_and_prints_them(db, capsys):
    code, out, _ = run(capsys, "gate", "--baseline", "base", "--candidate", "cand", "--db", str(db))
    assert code == EXIT_GATE_FAILED
    assert "Attributes (the baseline's context defaults): lang, tier, input_length" in out
    assert "output-derived: latency_ms" in out  # what was left out, and why, in one line
    assert "BREAKS  lang = sw" in out and "%" not in re.sub(r"\d+\.\d%|95% CI", "", out.split("\n", 1)[1])


def test_the_gate_does_not_change_when_clusters_or_annotations_are_added(db, capsys):
    args = ("gate", "--baseline", "base", "--candidate", "cand", "--db", str(db), "--max-order", "2", "--json")
    code, before, _ = run(capsys, *args)
    with open_store(db, seed_demo=False) as store:
        ids = store.examples("base", columns=["example_id"])["example_id"]
        wrong = ~store.examples("base", columns=["correct"])["correct"].to_numpy(dtype=bool)
        # a clustering that follows the errors closely: it would break the gate if it joined the attributes
        labels = pd.DataFrame({"example_id": ids, "value": np.where(wrong, "c1", "c2")})
        store.set_example_column("base", "cluster.output", labels, role="cluster", kind="categorical")
        store.set_example_column("base", "cluster.input", labels, role="cluster", kind="categorical")
        add_annotations(store, "base", [{"author": "ada", "mode": "hallucination", "example_id": ids.iloc[0]},
                                        {"author": "ada", "mode": "bias", "slice": {"lang": "sw"}}])
    code_after, after, _ = run(capsys, *args)
    assert code == code_after == EXIT_GATE_FAILED
    assert json.loads(before) == json.loads(after)
    assert "cluster.output" not in json.loads(after)["attributes"]


def _compare_table(capsys, db, *by: str) -> pd.DataFrame:
    code, out, _ = run(capsys, "compare", "--baseline", "base", "--candidate", "cand", "--db", str(db), "--by", *by,
                       "--json")
    assert code == EXIT_OK
    rows = json.loads(out)["slices"]
    return pd.DataFrame({"description": [" AND ".join(f"{p['attribute']} = {p['value']}" for p in r["predicate"])
                                         or "(all examples)" for r in rows],
                         "tested": [not r["too_small"] for r in rows], "q": [r["q_value"] for r in rows],
                         "difference": [r["difference"] for r in rows], "n": [r["n"] for r in rows]})


def test_junit_xml_has_one_case_per_tested_slice_and_a_failure_per_breaking_one(db, capsys, tmp_path):
    report = tmp_path / "gate.xml"
    code, out, _ = run(capsys, "gate", "--baseline", "base", "--candidate", "cand", "--db", str(db), "--by", "lang,tier",
                       "--max-order", "2", "--junit", str(report), "--json")
    assert code == EXIT_GATE_FAILED
    verdict = json.loads(out)
    root = ET.parse(report).getroot()
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    table = _compare_table(capsys, db, "lang,tier", "--max-order", "2")
    tested = table[table["tested"]]
    expected_breaking = tested[(tested["q"] < 0.05) & (tested["difference"] > 0.02)]
    cases = suite.findall("testcase")
    failures = [c for c in cases if c.find("failure") is not None]
    assert int(suite.get("tests")) == int(root.get("tests")) == len(cases) == len(tested) == verdict["tested"]
    assert int(suite.get("failures")) == int(root.get("failures")) == len(failures) == len(verdict["breaking"])
    assert sorted(c.get("name") for c in cases) == sorted(tested["description"])
    assert sorted(c.get("name") for c in failures) == sorted(expected_breaking["description"])
    assert suite.get("errors") == "0" and all(c.get("classname").startswith("faultline.gate.") for c in cases)
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["attributes"] == "lang,tier" and props["max_drop_points"] == "2"
    for case in failures:
        row = expected_breaking.set_index("description").loc[case.get("name")]
        failure = case.find("failure")
        assert f"accuracy drop {row['difference'] * 100:.1f} points" in failure.get("message")
        assert f"n={int(row['n']):,}" in failure.text and "95% CI" in failure.text and "q=" in failure.text


def test_markdown_summary_and_its_command_reproduce_the_gate(db, capsys, tmp_path):
    summary = tmp_path / "gate.md"
    code, out, _ = run(capsys, "gate", "--baseline", "base", "--candidate", "cand", "--db", str(db),
                       "--markdown", str(summary), "--json")
    verdict = json.loads(out)
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("### Faultline gate FAILED: cand against base")
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| slice")]
    assert len(rows) == len(verdict["breaking"]) > 0
    command = re.search(r"```sh\n(.+)\n```", text).group(1)
    assert command == verdict["command"] and "--by lang,tier,input_length" in command
    assert command.startswith("python -m analysis gate ")  # runs from a checkout as the README says
    again = command.split()[4:]  # python -m analysis gate ...
    code_again, out_again, _ = run(capsys, "gate", *again, "--json")
    assert code_again == code == EXIT_GATE_FAILED
    assert json.loads(out_again)["breaking"] == verdict["breaking"]


def test_the_summary_states_the_overall_change_first_in_the_direction_it_names(db, capsys):
    base, cand = _runs()
    base_acc, cand_acc = base["correct"].mean(), cand["correct"].mean()
    for baseline, candidate, first, second in (("base", "cand", base_acc, cand_acc), ("cand", "base", cand_acc, base_acc)):
        code, out, _ = run(capsys, "gate", "--baseline", baseline, "--candidate", candidate, "--db", str(db),
                           "--by", "lang")
        lines = out.splitlines()
        assert lines[1].startswith("Metric: accuracy") and "higher is better" in lines[1]
        found = re.match(r"Overall: accuracy (\S+) -> (\S+) \((drop|rise) (\S+) points, 95% CI (\S+) to (\S+) points",
                         lines[2])
        assert found.groups()[:4] == (f"{first:.1%}", f"{second:.1%}", "drop" if second < first else "rise",
                                      f"{abs(first - second) * 100:.1f}")
        assert float(found.group(5)) <= abs(first - second) * 100 <= float(found.group(6))
        assert code == (EXIT_GATE_FAILED if any("BREAKS" in line for line in lines) else EXIT_OK)
        for line in lines:
            if line.startswith("  BREAKS"):
                drop = float(re.search(r"drop (\d+\.\d) points", line).group(1))
                assert drop >= 2.0  # above 2 points (shown rounded)
                accs = [float(x) for x in re.findall(r"(\d+\.\d)% ", line)[:2]]
                assert accs[0] - accs[1] == pytest.approx(drop, abs=0.11)


def test_a_gate_spec_fixes_the_settings_and_options_override_it(db, capsys, tmp_path):
    spec = tmp_path / "gate.yaml"
    spec.write_text("by: [lang]\nmax_drop: 0.5\nalpha: 0.01\n", encoding="utf-8")
    code, out, _ = run(capsys, "gate", "--baseline", "base", "--candidate", "cand", "--db", str(db), "--spec", str(spec),
                       "--json")
    assert code == EXIT_OK and json.loads(out)["attributes"] == ["lang"] and json.loads(out)["max_drop"] == 0.5
    code, out, _ = run(capsys, "gate", "--baseline", "base", "--candidate", "cand", "--db", str(db), "--spec", str(spec),
                       "--max-drop", "0.02", "--json")
    assert code == EXIT_GATE_FAILED and json.loads(out)["alpha"] == 0.01
    assert "--by lang --max-order 1 --max-drop 0.02 --alpha 0.01" in json.loads(out)["command"]


@pytest.mark.parametrize("text, where, expected", [
    ("by: [lang]\nmax_drop: 2\n", "line 2, key 'max_drop'", "expected a fraction in [0, 1)"),
    ("colour: red\n", "line 1, key 'colour'", "unknown key 'colour'; expected one of by, max_order"),
    ("alpha: often\n", "line 1, key 'alpha'", "expected a significance level in (0, 1), got 'often'"),
    ("bins: [1, 2\n", "line 2", "is not valid YAML"),
])
def test_a_bad_spec_is_exit_2_naming_the_file_line_key_and_what_was_expected(db, tmp_path, text, where, expected):
    spec = tmp_path / "bad.yaml"
    spec.write_text(text, encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "analysis", "gate", "--baseline", "base", "--candidate", "cand",
                          "--db", str(db), "--spec", str(spec)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == EXIT_ERROR, out.stderr
    assert out.stderr.startswith(f"error: {spec}, {where}") and expected in out.stderr
    assert "Traceback" not in out.stderr


def test_a_missing_spec_or_a_bad_option_is_exit_2(db, capsys, tmp_path):
    code, _, err = run(capsys, "gate", "--baseline", "base", "--candidate", "cand", "--db", str(db),
                       "--spec", str(tmp_path / "none.yaml"))
    assert code == EXIT_ERROR and "none.yaml: cannot be read" in err
    code, _, err = run(capsys, "gate", "--baseline", "base", "--candidate", "cand", "--db", str(db), "--max-drop", "2")
    assert code == EXIT_ERROR and "--max-drop" in err and "expected a fraction in [0, 1)" in err


def test_q_values_below_display_precision_print_as_such_never_0(tmp_path, capsys):
    n = 4000
    lang = np.where(np.arange(n) < 2000, "en", "sw")
    frame = pd.DataFrame({"prompt": [f"q{i}" for i in range(n)], "lang": lang, "correct": lang == "en"})
    db = tmp_path / "q.duckdb"
    with open_store(db, seed_demo=False) as store:
        store.ingest_frame(frame, name="r")
    code, out, _ = run(capsys, "slices", "--run", "r", "--db", str(db), "--by", "lang")
    assert code == EXIT_OK
    row = next(line for line in out.splitlines() if line.startswith("lang = sw"))
    assert row.split()[-2] == "<1e-300"  # the q column (the last word is the finding mark)
