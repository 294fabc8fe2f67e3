"""promptfoo results JSON (``promptfoo eval -o results.json``), every results version.

Two layouts:

* results version 3 and later: ``{evalId, results: {version, timestamp, prompts[], results[],
  stats}, config, ...}``; each result has ``testIdx`` and ``promptIdx`` (the prompt x provider
  column), and ``prompts[i].metrics`` count each column's passes, failures and errors;
* results versions 1 and 2 (2023): ``{version, results: [...], stats, table}`` with no
  ``evalId`` (version 2 may also sit under ``results`` beside ``config``); a result has no
  ``testIdx``: it is keyed on its prompt (``prompt.display``, else ``prompt.raw``) and its
  ``vars``, tests and prompts numbered in order of first appearance.

One example per test and prompt; **each provider becomes its own run** (two providers on
the same tests are two models to compare, like two runs of any other tool). ``vars`` become
metadata ``var.<name>``, test metadata becomes metadata, ``namedScores`` become signals,
``success`` gives correctness and ``score`` the (graded) score; ``failureReason`` 2 (an
error) flags the example as ``error``. The tool's own pass rate is read for reconciliation:
per provider from ``prompts[].metrics`` (``testPassCount`` / ``testFailCount`` /
``testErrorCount``), else from ``stats`` (``successes`` / ``failures`` / ``errors``) when the
log has one provider.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from analysis.errors import InputError

from ._records import flatten, message_text, rows_to_frame, strip_prefixes
from .base import Reported, SourceRun, read_json_document

_REFERENCE_ASSERTS = ("equals", "contains", "icontains", "starts-with", "contains-any", "similar", "regex")


def _reference(test_case: dict) -> str | None:
    asserts = test_case.get("assert") or []
    for kind in _REFERENCE_ASSERTS:
        for a in asserts:
            if isinstance(a, dict) and a.get("type") == kind and a.get("value") is not None:
                value = a["value"]
                return value if isinstance(value, str) else json.dumps(value)
    if asserts:
        return "; ".join(f"{a.get('type')}: {a.get('value')}" for a in asserts if isinstance(a, dict))
    return None


def promptfoo_body(doc: object) -> tuple[dict, str] | None:
    """The part of a promptfoo output holding ``results`` (a list), and its JSON path; None if not promptfoo.

    >>> promptfoo_body({"evalId": "e", "results": {"version": 3, "results": []}})[1]
    'results'
    >>> promptfoo_body({"version": 1, "results": [], "stats": {}, "table": {}})[1]
    ''
    >>> promptfoo_body({"results": [{"x": 1}]}) is None
    True
    """
    if not isinstance(doc, dict):
        return None
    results = doc.get("results")
    if isinstance(results, dict) and isinstance(results.get("results"), list) and (
            "evalId" in doc or "prompts" in results or "stats" in results or "table" in results):
        return results, "results"
    if isinstance(results, list) and ("table" in doc or ("stats" in doc and "version" in doc)):
        return doc, ""
    return None


def _provider(res: dict, prompts: list) -> tuple[str, str]:
    provider = res.get("provider")
    if isinstance(provider, dict):
        pid = str(provider.get("id") or "")
        label = str(provider.get("label") or "") or pid
    else:
        pid = label = str(provider) if provider else ""
    prompt_idx = res.get("promptIdx")
    if isinstance(prompt_idx, int) and 0 <= prompt_idx < len(prompts) and isinstance(prompts[prompt_idx], dict) \
            and prompts[prompt_idx].get("provider"):
        label = str(prompts[prompt_idx]["provider"])
    return pid, label


def _table_prompts(body: dict) -> dict[str, int]:
    """Prompt template -> its column in ``table.head.prompts`` (results versions 1 and 2)."""
    table = body.get("table") if isinstance(body.get("table"), dict) else {}
    head = table.get("head") if isinstance(table.get("head"), dict) else {}
    numbers: dict[str, int] = {}
    for p in head.get("prompts") or []:
        text = (p.get("display") or p.get("raw")) if isinstance(p, dict) else p
        if isinstance(text, str):
            numbers.setdefault(text, len(numbers))
    return numbers


def read_promptfoo(path: Path) -> list[SourceRun]:
    """Read a promptfoo results JSON (any results version) into one run per provider."""
    doc = read_json_document(path)
    found = promptfoo_body(doc)
    if found is None:
        keys = ", ".join(map(str, doc)) if isinstance(doc, dict) else type(doc).__name__
        raise InputError(path, "expected promptfoo output: results.results (results version 3 and later) or a "
                         f"top-level results list with a table (versions 1 and 2); its top-level keys are: {keys}",
                         field="results")
    body, body_path = found
    at = f"{body_path}.results" if body_path else "results"
    prompts = body.get("prompts") if isinstance(body.get("prompts"), list) else []
    by_provider: dict[str, list[dict]] = {}
    columns_of: dict[str, set[int]] = {}
    tests: dict[str, int] = {}  # (vars) -> test number, for results without testIdx
    prompt_numbers = _table_prompts(body)
    for i, res in enumerate(body["results"]):
        record = f"{at}[{i}]"
        if not isinstance(res, dict):
            raise InputError(path, f"expected a result object, got {type(res).__name__}", record=record)
        pid, label = _provider(res, prompts)
        key = f"{pid}|{label}"
        prompt = res.get("prompt") if isinstance(res.get("prompt"), dict) else {"raw": message_text(res.get("prompt"))}
        response = res.get("response") if isinstance(res.get("response"), dict) else {}
        test_case = res.get("testCase") if isinstance(res.get("testCase"), dict) else {}
        variables = res.get("vars") if isinstance(res.get("vars"), dict) else (test_case.get("vars") or {})
        prompt_text = prompt.get("display") or prompt.get("raw")
        if "testIdx" in res:
            try:
                test_idx = int(res["testIdx"])
            except (TypeError, ValueError) as err:
                raise InputError(path, f"expected a test number, got {res['testIdx']!r}", record=record,
                                 field="testIdx") from err
            prompt_idx = res.get("promptIdx", 0)
            prompt_label = prompt.get("label") or prompt_text
        else:  # results versions 1 and 2: the test is its vars, the prompt its template
            test_idx = tests.setdefault(json.dumps(variables, sort_keys=True, default=str), len(tests))
            prompt_idx = prompt_numbers.setdefault(str(prompt_text), len(prompt_numbers))
            prompt_label = prompt.get("label") or f"prompt-{prompt_idx + 1}"
        if isinstance(res.get("promptIdx"), int):
            columns_of.setdefault(key, set()).add(prompt_idx)
        score = res.get("score")
        if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float))):
            raise InputError(path, f"expected a number for the score, got {score!r}", record=record, field="score")
        success = res.get("success")
        if success is not None and not isinstance(success, bool):
            raise InputError(path, f"expected true or false, got {success!r}", record=record, field="success")
        output = response.get("output")
        is_error = res.get("failureReason") == 2 or bool(res.get("error") and response.get("error"))
        row = {"__order": (test_idx, prompt_idx if isinstance(prompt_idx, int) else 0), "test_idx": test_idx, "prompt_label": prompt_label,
               "input": prompt.get("raw"),
               "output": output if isinstance(output, str) or output is None else message_text(output),
               "reference": _reference(test_case), "score": score, "correct": success,
               "status": "error" if is_error else None,
               "meta:prompt": prompt_text if "testIdx" not in res else None,
               "meta:description": test_case.get("description"),
               "meta:grader_reason": (res.get("gradingResult") or {}).get("reason"),
               "meta:latency_ms": res.get("latencyMs"), "meta:cost": res.get("cost"),
               "meta:is_refusal": response.get("isRefusal")}
        for name, value in variables.items():
            row[f"meta:var.{name}"] = value
        meta: dict = {}
        flatten("", {k: v for k, v in (res.get("metadata") or test_case.get("metadata") or {}).items()
                     if not str(k).startswith("_")}, meta)
        row.update({f"meta:{k}": v for k, v in meta.items()})
        for name, value in (res.get("namedScores") or {}).items():
            row[f"signal:{name}"] = value
        by_provider.setdefault(key, []).append(row)
    if not by_provider:
        raise InputError(path, "is empty: expected at least one promptfoo result", field=at)
    eval_id = doc.get("evalId") if isinstance(doc, dict) else None
    version = body.get("version")
    config = doc.get("config") if isinstance(doc.get("config"), dict) else {}
    runs = []
    for key, rows in by_provider.items():
        rows.sort(key=lambda r: r["__order"])
        several_prompts = len({r["prompt_label"] for r in rows}) > 1
        for row in rows:
            row["example_id"] = f"test-{row['test_idx']}" + (f":{row['prompt_label']}" if several_prompts else "")
            del row["__order"]
        frame = rows_to_frame(rows, order=["example_id", "input", "output", "reference", "score", "correct", "status"])
        frame = frame.dropna(axis=1, how="all")
        roles = {"example_id": "id", "input": "input", "output": "output", "reference": "reference",
                 "score": "score", "correct": "correct", "status": "status"}
        for col in frame.columns:
            if col not in roles:
                roles[col] = "signal" if col.startswith("signal:") else "metadata"
        roles = {c: r for c, r in roles.items() if c in frame.columns}
        frame, roles = strip_prefixes(frame, roles, ("meta", "signal"))
        pid, label = key.split("|", 1)
        model = label or pid or None
        name = f"promptfoo · {model}" if model else f"promptfoo · {path.stem}"
        notes = (f"promptfoo eval {eval_id}" if eval_id else f"promptfoo output (results version {version or '?'})") + \
            (f", provider {pid}" if pid else ", provider not named in the log")
        runs.append(SourceRun("promptfoo", [path], name, model=model,
                              task=config.get("description") or "promptfoo eval",
                              frame=frame, roles=roles, record_label="result", sub_key=key, notes=notes,
                              tool="promptfoo",
                              reported=_reported(path, body, body_path, sorted(columns_of.get(key, ())),
                                                 len(by_provider))))
    return runs


def _reported(path: Path, body: dict, body_path: str, columns: list[int], providers: int) -> list[Reported]:
    """promptfoo's own pass rate for one provider's run (basis: the stored ``correct``)."""
    prompts = body.get("prompts") if isinstance(body.get("prompts"), list) else []
    counts = []
    for idx in columns:
        metrics = prompts[idx].get("metrics") if idx < len(prompts) and isinstance(prompts[idx], dict) else None
        if not isinstance(metrics, dict) or not all(isinstance(metrics.get(k), int)
                                                    for k in ("testPassCount", "testFailCount")):
            counts = []
            break
        counts.append((idx, metrics["testPassCount"], metrics["testFailCount"], metrics.get("testErrorCount") or 0))
    prefix = f"{body_path}." if body_path else ""
    if counts:
        passed = sum(c[1] for c in counts)
        total = sum(c[1] + c[2] + c[3] for c in counts)
        where = ", ".join(f"{prefix}prompts[{c[0]}].metrics" for c in counts)
        if total:
            return [Reported("pass rate", passed / total, basis="correct", n=total,
                             source=f"{path.name}: {where} (testPassCount {passed} of {total})")]
        return []
    stats = body.get("stats")
    if providers == 1 and isinstance(stats, dict) and isinstance(stats.get("successes"), int) \
            and isinstance(stats.get("failures"), int):
        passed = stats["successes"]
        total = passed + stats["failures"] + (stats.get("errors") or 0)
        if total:
            return [Reported("pass rate", passed / total, basis="correct", n=total,
                             source=f"{path.name}: {prefix}stats (successes {passed} of {total})")]
    return []


# ------------------------------------------------------------------ the CSV export
#: A provider x prompt column of promptfoo's CSV export: ``[provider] prompt label``.
_CSV_COLUMN = re.compile(r"^\[(?P<provider>[^\]]+)\]\s*(?P<prompt>.*)$")
_CSV_FIELDS = ("Status", "Score", "Named Scores", "Grader Reason", "Comment")


def looks_like_promptfoo_csv(header: list[str]) -> bool:
    """Whether a CSV header is promptfoo's export: ``[provider] prompt`` columns each followed by ``Status``.

    >>> looks_like_promptfoo_csv(["Description", "question", "[echo] qa", "Status", "Score"])
    True
    """
    return any(_CSV_COLUMN.match(h) and i + 1 < len(header) and header[i + 1] == "Status"
               for i, h in enumerate(header))


def read_promptfoo_csv(path: Path) -> list[SourceRun]:
    """promptfoo's CSV export (``promptfoo eval -o results.csv``): one run per provider.

    The export has one row per test: ``Description`` (when the tests have one), a column per
    variable, then per provider x prompt the answer (``[provider] prompt``) followed by
    ``Status`` (PASS / FAIL / ERROR), ``Score``, ``Named Scores``, ``Grader Reason``,
    ``Comment``. Status gives correctness (ERROR: status ``error``), Score the graded score,
    the variables become metadata ``var.<name>`` and the first variable the input (the
    rendered prompt is not exported). The export carries no summary: nothing is reconciled
    (``not reported``); the JSON output (``-o results.json``) has the tool's pass rates.
    """
    with open(path, newline="", encoding="utf-8-sig") as handle:
        table = list(csv.reader(handle))
    if not table:
        raise InputError(path, "is empty: expected promptfoo's CSV export with a header line")
    header, body = table[0], table[1:]
    starts = [i for i, h in enumerate(header) if _CSV_COLUMN.match(h) and i + 1 < len(header)
              and header[i + 1] == "Status"]
    variables = [i for i in range(starts[0]) if header[i] != "Description"]
    has_description = "Description" in header[: starts[0]]
    by_provider: dict[str, list[dict]] = {}
    for start in starts:
        match = _CSV_COLUMN.match(header[start])
        provider, prompt = match.group("provider"), match.group("prompt")
        fields = {header[j]: j for j in range(start + 1, min(start + 1 + len(_CSV_FIELDS), len(header)))
                  if header[j] in _CSV_FIELDS}
        for number, row in enumerate(body, start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise InputError(path, f"expected {len(header)} fields as in the header, got {len(row)}",
                                 record=f"line {number}")
            status = row[fields["Status"]].strip().upper()
            if status not in ("PASS", "FAIL", "ERROR", ""):
                raise InputError(path, f"expected PASS, FAIL or ERROR, got {row[fields['Status']]!r}",
                                 record=f"line {number}", field=f"{header[start]} Status")
            score = row[fields["Score"]].strip() if "Score" in fields else ""
            try:
                score_value = float(score) if score else None
            except ValueError as err:
                raise InputError(path, f"expected a number, got {score!r}", record=f"line {number}",
                                 field=f"{header[start]} Score") from err
            record = {"example_id": row[header.index("Description")] if has_description and
                      row[header.index("Description")].strip() else f"test-{number - 1}",
                      "input": row[variables[0]] if variables else None, "output": row[start],
                      "score": score_value, "correct": None if status in ("ERROR", "") else status == "PASS",
                      "status": "error" if status == "ERROR" else None, "prompt_label": prompt, "__line": number}
            record.update({f"meta:var.{header[i]}": row[i] for i in variables})
            if fields.get("Grader Reason") is not None:
                record["meta:grader_reason"] = row[fields["Grader Reason"]]
            by_provider.setdefault(provider, []).append(record)
    runs = []
    for provider, rows in by_provider.items():
        several_prompts = len({r["prompt_label"] for r in rows}) > 1
        if several_prompts or len({r["example_id"] for r in rows}) < len(rows):
            for r in rows:
                r["example_id"] = f"{r['example_id']}:{r['prompt_label']}"
        frame = rows_to_frame(rows, order=["example_id", "input", "output", "score", "correct", "status"])
        frame = frame.dropna(axis=1, how="all")
        roles = {"example_id": "id", "input": "input", "output": "output", "score": "score", "correct": "correct",
                 "status": "status", "__line": "source_row"}
        roles = {c: r for c, r in roles.items() if c in frame.columns} | {
            c: "metadata" for c in frame.columns if c not in roles}
        frame, roles = strip_prefixes(frame, roles, ("meta",))
        runs.append(SourceRun("promptfoo_csv", [path], f"promptfoo · {provider}", model=provider,
                              task="promptfoo eval", frame=frame, roles=roles, record_label="line",
                              sub_key=provider, tool="promptfoo", reported=[],
                              notes="promptfoo CSV export: no summary in it to check against (the JSON output has one); "
                                    "the input is the first test variable"))
    return runs
