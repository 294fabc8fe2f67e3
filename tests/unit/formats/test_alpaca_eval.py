"""AlpacaEval annotations.json: pairwise preferences read as win rates against the baseline.

Expected numbers come from the fixture's SOURCE.txt (AlpacaEval's own leaderboard row for
alpaca-7b) or from a few lines of independent code over the raw annotations.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from analysis import detect_format
from analysis.errors import InputError
from analysis.formats import read_sources
from tests.conftest import REAL

ALPACA = REAL / "alpaca_eval" / "alpaca-7b" / "annotations.json"

# weighted_alpaca_eval_gpt4_turbo_leaderboard.csv, row alpaca-7b (quoted in SOURCE.txt)
LEADERBOARD_WIN_RATE = 2.591450540223603
LEADERBOARD_DISCRETE_WIN_RATE = 2.298136645962733
N_WINS, N_DRAWS, N_WINS_BASE, N_TOTAL = 17, 3, 785, 805


@pytest.fixture
def alpaca_run(real_logs):
    (run,) = read_sources(ALPACA)
    return run


def test_detected_by_content(real_logs):
    assert detect_format(ALPACA) == "alpaca_eval"


def test_run_names_model_baseline_and_tool(alpaca_run):
    assert alpaca_run.format == "alpaca_eval"
    assert alpaca_run.model == "alpaca-7b"
    assert alpaca_run.baseline == "gpt4_1106_preview"
    assert alpaca_run.tool == "AlpacaEval"
    assert alpaca_run.roles["win"] == "score"
    assert alpaca_run.roles["discrete_win"] == "scores"
    assert alpaca_run.roles["instruction"] == "input"
    assert alpaca_run.roles["output_2"] == "output"
    assert alpaca_run.roles["output_1"] == "reference"  # the baseline's output: AlpacaEval's reference output
    assert alpaca_run.roles["dataset"] == "metadata"
    assert "rater" not in alpaca_run.roles.values()


def test_leaderboard_win_rate_reproduced(alpaca_run):
    frame = alpaca_run.frame
    assert len(frame) == N_TOTAL
    assert frame["win"].notna().sum() == N_TOTAL
    assert frame["win"].between(0, 1).all()
    assert frame["win"].mean() * 100 == pytest.approx(LEADERBOARD_WIN_RATE, abs=1e-9)
    assert frame["discrete_win"].mean() * 100 == pytest.approx(LEADERBOARD_DISCRETE_WIN_RATE, abs=1e-9)
    counts = frame["outcome"].value_counts().to_dict()
    assert counts == {"loss": N_WINS_BASE, "win": N_WINS, "draw": N_DRAWS}
    assert (frame["discrete_win"] == 1).sum() == N_WINS
    assert (frame["discrete_win"] == 0.5).sum() == N_DRAWS


def test_each_example_against_the_raw_file(alpaca_run):
    records = json.loads(ALPACA.read_text(encoding="utf-8"))
    frame = alpaca_run.frame.set_index("example_id")
    assert frame.index.is_unique
    for rec in records:
        row = frame.loc[hashlib.sha1(rec["instruction"].encode()).hexdigest()[:12]]
        assert row["win"] == pytest.approx(rec["preference"] - 1, abs=1e-12)
        assert row["instruction"] == rec["instruction"]
        assert row["output_2"] == rec["output_2"]
        assert row["dataset"] == rec["dataset"]
        expected = 1.0 if rec["preference"] > 1.5 else 0.5 if rec["preference"] == 1.5 else 0.0
        assert row["discrete_win"] == expected


def test_no_leaderboard_beside_the_file_reports_nothing(alpaca_run):
    # SOURCE.txt: the figure lives in alpaca_eval's leaderboards/ folder, not beside this file.
    assert alpaca_run.reported == []
    assert "only derivable" in alpaca_run.notes
    assert "17 wins, 3 draws, 785 losses" in alpaca_run.notes


def test_leaderboard_beside_the_file_is_the_reported_figure(real_logs, tmp_path):
    (tmp_path / "annotations.json").symlink_to(ALPACA)
    (tmp_path / "leaderboard.csv").write_text(
        ",win_rate,standard_error,n_wins,n_wins_base,n_draws,n_total,discrete_win_rate,mode,avg_length,"
        "length_controlled_winrate,lc_standard_error\n"
        "other-model,50.0,1.0,400,400,5,805,50.0,community,1000,50.0,\n"
        f"alpaca-7b,{LEADERBOARD_WIN_RATE},0.4870855382635108,17,785,3,805,{LEADERBOARD_DISCRETE_WIN_RATE},"
        "minimal,396,5.875487163278986,\n")
    (run,) = read_sources(tmp_path / "annotations.json")
    (reported,) = run.reported
    assert reported.metric == "win_rate"
    assert reported.value == pytest.approx(LEADERBOARD_WIN_RATE / 100, abs=1e-15)
    assert reported.basis == "score"
    assert reported.n == N_TOTAL
    assert reported.source.startswith("leaderboard.csv")
    assert abs(run.frame["win"].mean() - reported.value) <= reported.tolerance


def test_store_loads_the_win_rate(real_logs, store):
    (run,) = store.ingest(ALPACA).added
    frame = store.examples(run.run_id)
    assert len(frame) == N_TOTAL
    assert frame["score"].mean() * 100 == pytest.approx(LEADERBOARD_WIN_RATE, abs=1e-9)
    assert frame["score.discrete_win"].mean() * 100 == pytest.approx(LEADERBOARD_DISCRETE_WIN_RATE, abs=1e-9)
    assert set(frame["meta.dataset"]) == {"helpful_base", "koala", "oasst", "selfinstruct", "vicuna"}


def _annotation(instruction, preference, generator="m", baseline="b"):
    return {"instruction": instruction, "output_1": "base answer", "generator_1": baseline, "dataset": "d",
            "output_2": "model answer", "generator_2": generator, "annotator": "judge", "preference": preference}


def test_alpaca_eval_rules_for_draws_and_non_preferences(write):
    path = write("annotations.json", json.dumps([
        _annotation("a", 2.0), _annotation("b", 1.0), _annotation("c", 0),  # 0: a draw in AlpacaEval 1
        _annotation("d", None), _annotation("e", 3.0), _annotation("f", 1.5)]))
    assert detect_format(path) == "alpaca_eval"
    (run,) = read_sources(path)
    frame = run.frame.set_index("instruction")
    assert frame.loc["c", "win"] == 0.5 and frame.loc["c", "outcome"] == "draw"
    assert frame["win"].isna().sum() == 2  # null and 3.0 are dropped by AlpacaEval: unscorable here
    assert frame["win"].mean() == pytest.approx((1 + 0 + 0.5 + 0.5) / 4)
    assert "2 records without a preference" in run.notes


def test_one_run_per_model_and_baseline(write):
    path = write("annotations.json", json.dumps([_annotation("a", 2.0, "m1"), _annotation("a", 1.0, "m2")]))
    runs = read_sources(path)
    assert {(r.model, r.baseline) for r in runs} == {("m1", "b"), ("m2", "b")}
    assert len({r.frame["example_id"][0] for r in runs}) == 1  # the same instruction, the same id


def test_a_preference_that_is_not_a_number_is_refused(write):
    path = write("annotations.json", json.dumps([_annotation("a", "2")]))
    with pytest.raises(InputError, match="expected a number in \\[1, 2\\]") as err:
        read_sources(path)
    assert err.value.record == "record 1"
