"""Hostile and broken inputs through the CLI: a sentence and exit 2 naming file, record and field, and a
store left exactly as it was; never a traceback, never exit 1 (the code of a failed gate).

The hostile files lie in ``shared/fixtures/hostile`` (its README.md says what each one did before); the
fuzz cases mutate the real logs of lm-eval, Inspect, promptfoo, OpenAI evals, HELM, MT-Bench and Every Eval Ever
with a fixed seed, so each case is the same on every run.
"""

from __future__ import annotations

import copy
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from analysis import open_store
from analysis.cli import EXIT_ERROR, EXIT_OK, MSG_UNEXPECTED, main
from tests.conftest import REAL, ROOT

pytestmark = pytest.mark.real_logs  # reads ../shared/fixtures (tests/conftest.py)

HOSTILE = REAL / "hostile"
#: The generic fallback of the CLI boundary: an adapter that lets an error through to it has not checked its input.
UNEXPECTED = MSG_UNEXPECTED.split("{", 1)[0]


def snapshot(db: Path) -> tuple:
    """What must not change when a command fails: the data version and the rows of every table."""
    with open_store(db, read_only=True) as store:
        cur = store.cursor()
        tables = sorted(r[0] for r in cur.execute("SELECT table_name FROM information_schema.tables").fetchall())
        counts = {t: cur.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0] for t in tables}
        return store.data_version(), len(store.runs()), counts


@pytest.fixture
def db(tmp_path) -> Path:
    """A store holding one small run (named ``tiny``), so that "unchanged" means something."""
    log = tmp_path / "tiny.csv"
    log.write_text("question,answer,correct\n" + "".join(f"q{i},a{i},{i % 2 == 0}\n" for i in range(40)))
    path = tmp_path / "store.duckdb"
    assert main(["ingest", str(log), "--db", str(path)]) == EXIT_OK
    return path


def run_cli(argv: list[str], capsys) -> tuple[int, str]:
    """The exit code, and the error line on stderr (the whole of stderr when it has none, or a traceback)."""
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.startswith("error: ")]
    return code, err if "Traceback" in err or len(lines) != 1 else lines[0]


# ---------------------------------------------------------------------------------- hostile files
# (file, command, exit code, fragments of the message on stderr). ``{file}`` is the hostile file.
INGEST = ["ingest", "{file}"]
LINK = ["link", "--run", "tiny", "--objective", "{file}"]
CASES = [
    ("zip_bomb_small_members.eval", INGEST, EXIT_ERROR,
     ["zip_bomb_small_members.eval", "member samples/", "compressed 1019 times", "compression ratio of 200",
      "FAULTLINE_MAX_COMPRESSION_RATIO"]),
    ("zip_bad_crc.eval", INGEST, EXIT_ERROR, ["zip_bad_crc.eval", "member header.json", "damaged zip archive"]),
    ("deep_1000.jsonl", INGEST, EXIT_ERROR, ["deep_1000.jsonl", "line 1", "nested too deeply"]),
    ("nul_column_name.jsonl", INGEST, EXIT_ERROR, ["nul_column_name.jsonl", "field 'x\\x00y'", "NUL character"]),
    ("inspect_epoch_str.json", INGEST, EXIT_ERROR,
     ["inspect_epoch_str.json", "sample 1", "field 'epoch'", "expected a whole number for the epoch, got text 'x'"]),
    ("inspect_output_str.json", INGEST, EXIT_ERROR,
     ["inspect_output_str.json", "sample 1", "field 'output'", "expected an object, got text 'text'"]),
    ("helm_trial_str", INGEST, EXIT_ERROR,
     ["per_instance_stats.json", "entry 1", "field 'train_trial_index'", "got 'abc'"]),
    ("spec_alias_amplification.yaml", LINK, EXIT_ERROR,
     ["spec_alias_amplification.yaml", "1203864 bytes", "limit of 1048576 bytes", "FAULTLINE_MAX_SPEC_KB"]),
    ("spec_3000_rules.yaml", LINK, EXIT_ERROR,
     ["spec_3000_rules.yaml", "line 4", "key 'rules'", "3000 rules", "limit of 500", "FAULTLINE_MAX_SPEC_RULES"]),
    ("spec_minchars_inf.yaml", LINK, EXIT_ERROR,
     ["spec_minchars_inf.yaml", "line 98", "key 'detectors.long_output.min_chars'", "expected a finite number"]),
    ("spec_custom_tag.yaml", LINK, EXIT_ERROR, ["spec_custom_tag.yaml", "line 16", "YAML tag", "!custom"]),
    ("spec_huge_int_rule.yaml", LINK, EXIT_ERROR,
     ["spec_huge_int_rule.yaml", "line 86", "key 'rules[0].when'", "Rule 'hugeint'", "out of range"]),
]


@pytest.mark.parametrize("name,command,code,fragments", CASES, ids=[c[0] for c in CASES])
def test_hostile_file_is_refused_in_a_sentence_and_the_store_is_unchanged(db, capsys, name, command, code, fragments):
    before = snapshot(db)
    argv = [a.replace("{file}", str(HOSTILE / name)) for a in command] + ["--db", str(db)]
    got, err = run_cli(argv, capsys)
    assert got == code, err
    assert err.startswith("error: ") and "Traceback" not in err and UNEXPECTED not in err, err
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in {err!r}"
    assert snapshot(db) == before, "a refused input changed the store"


@pytest.mark.parametrize("name", ["bom_utf8.jsonl", "cr_only.jsonl"])
def test_jsonl_with_a_bom_or_cr_only_line_endings_loads(db, capsys, name):
    code, err = run_cli(["ingest", str(HOSTILE / name), "--db", str(db), "--json"], capsys)
    assert code == EXIT_OK, err
    with open_store(db, read_only=True) as store:
        runs = store.runs().set_index("name")
        assert runs.loc[Path(name).stem, "rows"] == 2
        assert store.run(Path(name).stem).row_count == 2


def test_the_archive_budget_is_named_and_settable(db, capsys, monkeypatch):
    """With the ratio check out of the way, the budget on the bytes the members expand to still stops the archive."""
    monkeypatch.setenv("FAULTLINE_MAX_COMPRESSION_RATIO", "100000")
    monkeypatch.setenv("FAULTLINE_MAX_ARCHIVE_MB", "50")
    before = snapshot(db)
    code, err = run_cli(["ingest", str(HOSTILE / "zip_bomb_small_members.eval"), "--db", str(db)], capsys)
    assert code == EXIT_ERROR, err
    assert "its members expand to 2076199748 bytes, beyond the limit of 50 MB (FAULTLINE_MAX_ARCHIVE_MB)" in err, err
    assert snapshot(db) == before


def test_a_member_whose_declared_size_lies_is_never_inflated_past_it(db, capsys, tmp_path):
    """The declared sizes bound the bytes decompressed: a member that expands further fails, named."""
    log = tmp_path / "liar.eval"
    with zipfile.ZipFile(log, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("header.json", json.dumps({"eval": {"task": "t", "model": "m"}}))
        archive.writestr("samples/1_epoch_1.json", json.dumps({"id": 1, "pad": "x" * 2_000_000}))
    data = bytearray(log.read_bytes())
    for signature, offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):  # central and local size: 100 bytes
        at = data.rfind(signature)  # the last member: the sample
        struct.pack_into("<I", data, at + offset, 100)
    log.write_bytes(bytes(data))
    before = snapshot(db)
    code, err = run_cli(["ingest", str(log), "--db", str(db)], capsys)
    assert code == EXIT_ERROR, err
    assert "liar.eval, member samples/1_epoch_1.json: is a damaged zip archive (Bad CRC-32" in err, err
    assert snapshot(db) == before


def test_the_spec_limits_are_settable(db, capsys, monkeypatch):
    monkeypatch.setenv("FAULTLINE_MAX_SPEC_RULES", "5000")
    monkeypatch.setenv("FAULTLINE_MAX_SPEC_KB", "4096")
    monkeypatch.setenv("FAULTLINE_MAX_SPEC_VALUES", "50000")
    _, err = run_cli(LINK[:-1] + [str(HOSTILE / "spec_alias_amplification.yaml"), "--db", str(db)], capsys)
    assert "more than 50000 values once its YAML aliases" in err and "FAULTLINE_MAX_SPEC_VALUES" in err, err
    monkeypatch.setenv("FAULTLINE_MAX_SPEC_RULES", "abc")
    code, err = run_cli(LINK[:-1] + [str(HOSTILE / "spec_3000_rules.yaml"), "--db", str(db)], capsys)
    assert code == EXIT_ERROR and "FAULTLINE_MAX_SPEC_RULES is 'abc'; expected a positive number" in err, err


@pytest.mark.parametrize("columns,limit,code", [(60, "50", EXIT_ERROR), (60, "100", EXIT_OK)])
def test_the_column_limit_is_named_and_settable(db, capsys, monkeypatch, tmp_path, columns, limit, code):
    monkeypatch.setenv("FAULTLINE_MAX_COLUMNS", limit)
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"c{i}" for i in range(columns)) + ",correct\n" + "1," * columns + "true\n")
    got, err = run_cli(["ingest", str(wide), "--db", str(db)], capsys)
    assert got == code, err
    if code == EXIT_ERROR:
        assert f"wide.csv, line 1: has {columns + 1} columns, more than the limit of {limit}" in err, err


# (name, content, environment, fragments): inputs made here, beside the hostile files.
GENERATED = [
    ("deep.json", '{"eval": {"task": "t"}, "samples": ' + "[" * 5000 + "]" * 5000 + "}", {},
     ["deep.json", "nested too deeply"]),
    ("deep_late.jsonl", '{"id": 1, "correct": true}\n{"id": 2, "correct": false, "m": ' + "[" * 5000 + "]" * 5000 + "}\n",
     {}, ["deep_late.jsonl", "nested too deeply"]),
    ("ok.csv", "question,correct\nq,true\n", {"FAULTLINE_MAX_FIELD_MB": "lots"},
     ["FAULTLINE_MAX_FIELD_MB is 'lots'; expected a positive number"]),
    ("huge_int.jsonl", '{"id": 1, "correct": true, "n": ' + "9" * 30 + "}\n", {"FAULTLINE_MAX_COLUMNS": "1"},
     ["huge_int.jsonl", "has 3 columns, more than the limit of 1", "FAULTLINE_MAX_COLUMNS"]),
]


def test_a_mapping_file_nested_too_deeply_is_named(db, capsys, tmp_path):
    mapping = tmp_path / "deep_mapping.json"
    mapping.write_text('{"correct": "correct", "x": ' + "[" * 5000 + "]" * 5000 + "}")
    log = tmp_path / "ok.csv"
    log.write_text("question,correct\nq,true\n")
    before = snapshot(db)
    code, err = run_cli(["ingest", str(log), "--mapping", str(mapping), "--db", str(db)], capsys)
    assert code == EXIT_ERROR and "deep_mapping.json" in err and "nested too deeply" in err, err
    assert snapshot(db) == before


@pytest.mark.parametrize("name,content,environment,fragments", GENERATED, ids=[g[0] for g in GENERATED])
def test_generated_input_is_refused_in_a_sentence(db, capsys, tmp_path, monkeypatch, name, content, environment,
                                                  fragments):
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    log = tmp_path / name
    log.write_text(content)
    before = snapshot(db)
    code, err = run_cli(["ingest", str(log), "--db", str(db)], capsys)
    assert code == EXIT_ERROR and err.startswith("error: ") and UNEXPECTED not in err, err
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in {err!r}"
    assert snapshot(db) == before


def test_python_m_analysis_never_shows_a_traceback(db):
    """The real entry point, in its own process: exit 2 and one line, not Python's traceback."""
    done = subprocess.run([sys.executable, "-m", "analysis", "ingest", str(HOSTILE / "deep_1000.jsonl"), "--db",
                           str(db)], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "FAULTLINE_DEMO": "0"})
    assert done.returncode == EXIT_ERROR, done.stderr
    assert "Traceback" not in done.stderr and "nested too deeply" in done.stderr


# ---------------------------------------------------------------------------------- stores
def test_a_damaged_store_says_so(tmp_path, capsys, db):
    damaged = tmp_path / "damaged.duckdb"
    damaged.write_bytes(db.read_bytes()[:20_000])
    code, err = run_cli(["runs", "--db", str(damaged)], capsys)
    assert code == EXIT_ERROR and "damaged.duckdb is damaged or is not a DuckDB file" in err, err
    garbage = tmp_path / "garbage.duckdb"
    garbage.write_bytes(bytes(range(256)) * 40)
    code, err = run_cli(["runs", "--db", str(garbage)], capsys)
    assert code == EXIT_ERROR and "garbage.duckdb is damaged or is not a DuckDB file" in err, err


def test_a_store_that_cannot_be_written_opens_for_reading(db, capsys, monkeypatch):
    """A file the process may not write (simulated: the tests may run as root, who may write anything)."""
    import duckdb

    import analysis.sql as sql

    real = duckdb.connect

    def connect(path, read_only=False, **kwargs):
        if not read_only:
            raise duckdb.IOException(f'IO Error: Cannot open file "{path}": Permission denied')
        return real(path, read_only=True, **kwargs)

    monkeypatch.setattr(sql.duckdb, "connect", connect)
    before = snapshot(db)
    code, err = run_cli(["runs", "--db", str(db), "--json"], capsys)
    assert code == EXIT_OK, err
    code, err = run_cli(["ingest", str(HOSTILE / "bom_utf8.jsonl"), "--db", str(db)], capsys)
    assert code == EXIT_ERROR, err
    assert "is open for reading only (the file is not writable" in err and "Permission denied" in err, err
    monkeypatch.setattr(sql.duckdb, "connect", real)
    assert snapshot(db) == before


def test_a_full_disk_is_a_sentence(db, capsys, monkeypatch):
    """An OSError nothing else caught (here: writing the store on a full disk) is one sentence, exit 2."""
    import analysis.store as store_module

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device", str(db))

    monkeypatch.setattr(store_module.Store, "transaction", full)
    code, err = run_cli(["ingest", str(HOSTILE / "bom_utf8.jsonl"), "--db", str(db)], capsys)
    assert code == EXIT_ERROR, err
    assert err == f"error: could not read or write {db}: No space left on device. Nothing was committed by " \
                          "the failed command."


# ---------------------------------------------------------------------------------- fuzz
#: The real logs mutated: (name, path under shared/fixtures, the file inside a folder to mutate or None).
SOURCES = [
    ("lm_eval", "lm_eval/partial_limit10/samples_winogrande_2024-12-23T14-29-31.806745.jsonl", None),
    ("inspect_json", "inspect/2025-05-12T20-28-13-04-00_popularity.json", None),
    ("promptfoo", "promptfoo/results.json", None),
    ("openai_evals", "openai_evals/examples_us-tort-law-turbo.jsonl", None),
    ("helm", "helm/narrative_qa", "per_instance_stats.json"),
    ("helm_state", "helm/narrative_qa", "scenario_state.json"),
    ("mtbench_single", "judgments/mtbench_single/gpt-4_single.jsonl", None),
    ("mtbench_pair", "judgments/mtbench_pair/gpt-4_pair.jsonl", None),
    ("every_eval_ever", "every_eval_ever/single_turn/data/starsim/anthropic/claude-opus-4-6/"
                        "e854d8a1-c754-40ef-adaf-726c5f6f8e08_samples.jsonl", None),
]
MUTATIONS = ("retype", "retype", "retype", "nest", "drop", "truncate")
SEEDS = 90  # ten cases per source


def _paths(value, at=()):
    """Every path to a value inside a JSON document (a bounded walk: at most 4,000 paths)."""
    out = [at]
    stack = [(value, at)]
    while stack and len(out) < 4000:
        node, where = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, sub in items:
            out.append(where + (key,))
            stack.append((sub, where + (key,)))
    return out


def _set(doc, path, value):
    if not path:
        return value
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


def _get(doc, path):
    for key in path:
        doc = doc[key]
    return doc


_REPLACEMENTS = ["x", "", 7, -1, 1.5e308, True, None, [], {}, [1, "two"], {"k": "v"}, "NaN", 2**70]


def _mutate_document(doc, rng: random.Random, kind: str):
    paths = [p for p in _paths(doc) if p]
    path = rng.choice(paths)
    if kind == "retype":
        return _set(doc, path, copy.deepcopy(rng.choice(_REPLACEMENTS))), path
    if kind == "nest":
        return _set(doc, path, {"a": [_get(doc, path)]}), path
    parent = _get(doc, path[:-1])
    if isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent.pop(path[-1])
    return doc, path


def _fuzz_case(seed: int, tmp_path: Path) -> tuple[Path, str, set[str]]:
    """Write the mutated log for ``seed``; return it, what was done, and the names an error may give."""
    rng = random.Random(seed)
    name, rel, member = SOURCES[seed % len(SOURCES)]
    kind = MUTATIONS[rng.randrange(len(MUTATIONS))]
    source = REAL / rel
    if member:  # a folder: copy it, mutate one file
        target_dir = tmp_path / source.name
        shutil.copytree(source, target_dir)
        for f in target_dir.iterdir():
            f.chmod(0o644)
        target, log = target_dir / member, target_dir
    else:
        target = log = tmp_path / source.name
        shutil.copyfile(source, target)
    raw = target.read_bytes()
    names = {target.name, log.name}
    if kind == "truncate":
        target.write_bytes(raw[: rng.randrange(1, len(raw))])
        return log, f"{name}: {kind}", names
    if target.suffix == ".jsonl":
        lines = raw.decode("utf-8").splitlines()
        index = rng.randrange(len(lines))
        doc, path = _mutate_document(json.loads(lines[index]), rng, kind)
        lines[index] = json.dumps(doc)
        target.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return log, f"{name}: {kind} line {index + 1} at {path}", names
    doc, path = _mutate_document(json.loads(raw), rng, kind)
    target.write_text(json.dumps(doc), encoding="utf-8")
    return log, f"{name}: {kind} at {path}", names


@pytest.mark.parametrize("seed", range(SEEDS))
def test_mutated_real_logs_load_or_are_refused_in_a_sentence(db, capsys, tmp_path, seed):
    (tmp_path / "log").mkdir()
    log, what, names = _fuzz_case(seed, tmp_path / "log")
    before = snapshot(db)
    code, err = run_cli(["ingest", str(log), "--db", str(db)], capsys)
    assert code in (EXIT_OK, EXIT_ERROR), f"{what}: exit {code}: {err}"
    assert "Traceback" not in err, f"{what}: {err}"
    if code == EXIT_ERROR:
        message = err
        assert message.startswith("error: ") and UNEXPECTED not in message, f"{what}: {message}"
        assert any(n in message for n in names), f"{what}: the message names no file: {message}"
        assert snapshot(db) == before, f"{what}: a refused log changed the store"
