"""A report's content: every number, table and sentence, computed from the store by the engine."""

from __future__ import annotations

import hashlib
import json
import math
import re
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from analysis._version import __version__
from analysis.clusters.cache import latest_result
from analysis.errors import FaultlineError
from analysis.export import json_value
from analysis.formatting import format_count, format_threshold, gate_unit
from analysis.objective.findings import finding_sentence, recompute_finding
from analysis.objective.findings import findings as stored_findings
from analysis.objective.link import report_section as link_report_section
from analysis.objective.modes import prefetch_option_shares
from analysis.objective.spec import load_objective, parse_objective
from analysis.paths import PROJECT_ROOT
from analysis.progress import ProgressCallback, scaled
from analysis.report.spec import ReportSpec
from analysis.report.text import pct, points, q_prose, short
from analysis.report.timeline import timeline_section
from analysis.slicing.attributes import attribute_notes, default_attributes
from analysis.slicing.cohorts import check_cohort, cohorts
from analysis.slicing.compare import compare_runs, gate
from analysis.slicing.discovery import discover
from analysis.slicing.table import heatmap, slice_table
from analysis.store import Store
from analysis.store.reconcile import FLAGGED


@dataclass
class Report:
    """The computed content of a report (numbers, tables, sentences), before rendering."""

    spec: ReportSpec
    report_id: str
    generated_at: str
    data: dict
    """Everything the rendered report shows, JSON-ready; its hash is the content hash."""
    covered: list[str]
    not_covered: dict[str, str]
    """Section -> why it is not in this report."""
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    """The engine's complete tables behind the report (``slices``, ``comparison``, ``examples``), attached to the
    PDF and written beside the HTML as CSV and JSON; the PDF prints their head."""
    objective_yaml: str | None = None
    """The objective spec's YAML text the failure-modes section used (attached to the PDF), or None."""

    @property
    def content_hash(self) -> str:
        """sha256 (hex) of the canonical JSON of :attr:`data`: every number, table row and sentence the report
        shows, the spec, the runs' source files and the tool's version among them."""
        return hashlib.sha256(_canonical(self.data).encode()).hexdigest()

    @property
    def id_inputs(self) -> dict:
        """What the report id is the hash of (:func:`report_id_of`): the content hash, the sections covered, the
        digest of each attached table and the sha256 of the objective spec's YAML (or None). JSON-ready; attached
        to the PDF (``report.json``) so an auditor can recompute the id."""
        return {"content_sha256": self.content_hash, "covered": list(self.covered),
                "tables": {name: table_digest(frame) for name, frame in sorted(self.tables.items())},
                "objective_yaml_sha256": (None if self.objective_yaml is None
                                          else hashlib.sha256(self.objective_yaml.encode()).hexdigest())}


#: What the report id covers, as the cover, the methods and the attached ``report.json`` state it.
REPORT_ID_COVERS = ("The report id is made from everything this document shows and carries: the report spec, the "
                    "source files (their sha256) and the runs read from them, every number, table and sentence "
                    "computed from the store (so the pinned findings and their notes, a saved cohort's version, the "
                    "clustering and its settings, the objective spec and the annotations its failure modes read), "
                    "the complete tables attached and the Faultline version and commit; not the date of generation. "
                    "The same inputs give the same id; two different documents never share one.")


def table_digest(frame: pd.DataFrame) -> str:
    """sha256 (hex) of a table's column names, dtypes and values at full precision: cells that hold a structure
    (a slice's attributes, a settings mapping) read as their JSON text, every cell hashed by
    :func:`pandas.util.hash_pandas_object`."""
    frame = frame.reset_index(drop=True)
    cells = {}
    for position in range(len(frame.columns)):
        column = frame.iloc[:, position]
        if column.dtype == object:
            column = column.map(_cell_text)
        cells[f"c{position}"] = column
    head = json.dumps([[str(c), str(frame[c].dtype)] for c in frame.columns]).encode()
    if not cells:
        return hashlib.sha256(head).hexdigest()
    hashed = pd.util.hash_pandas_object(pd.DataFrame(cells), index=False)
    return hashlib.sha256(head + hashed.to_numpy(dtype=np.uint64).tobytes()).hexdigest()


def _cell_text(value):
    """A structured cell (mapping, list, tuple, array) as its canonical JSON text; any other cell as it is."""
    if isinstance(value, (Mapping, list, tuple, np.ndarray)):
        return json.dumps(json_value(value, text_for_other=True), sort_keys=True)
    return value


def report_id_of(report: Report) -> str:
    """The report's id: ``FLR-`` and the first 12 hex digits (upper case) of the sha256 of the canonical JSON of
    :attr:`Report.id_inputs` (its content hash, sections covered, attached tables and objective YAML): everything
    that determines the document but the id itself and the date of generation (:data:`REPORT_ID_COVERS`).

    Regenerating from the same spec over the same store state gives the same id; a finding pinned, an annotation
    added or a cohort saved again in between (whatever changes what the report shows) gives another.
    """
    return "FLR-" + hashlib.sha256(_canonical(report.id_inputs).encode()).hexdigest()[:12].upper()


def _canonical(value) -> str:
    def clean(v):
        if isinstance(v, float):
            return None if not math.isfinite(v) else float(f"{v:.12g}")
        if isinstance(v, dict):
            return {str(k): clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        if isinstance(v, np.generic):
            return clean(v.item())
        return v

    return json.dumps(clean(value), sort_keys=True, separators=(",", ":"), default=str)


def git_commit() -> str:
    """The project's git commit, or 'unknown' outside a checkout."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=PROJECT_ROOT, check=False)
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def _records(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict]:
    out = []
    for row in frame[list(columns)].to_dict("records"):
        out.append({k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()})
    return out


def build_report(store: Store, spec: ReportSpec, *, progress: ProgressCallback | None = None,
                 while_waiting: Callable[[dict], None] | None = None) -> Report:
    """Compute a report's content from the store (no rendering).

    Parameters
    ----------
    store : Store
        The store holding the runs.
    spec : ReportSpec
        What to compute (validated when it was made). Its ``run`` and ``baseline`` are set to the run ids.
    progress : ProgressCallback, optional
        Called with (fraction in [0, 1], message).
    while_waiting : callable, optional
        Called once in the caller's thread with the report's data so far (every section computed but the failure
        modes', whose thread is still running: its entries are final), before the report waits for that thread;
        e.g. to export the other sections' charts meanwhile (:func:`~analysis.report.generate.generate_report`).
        Not called when the failure modes are computed in turn (not on DuckDB) or not at all.

    Returns
    -------
    Report
        The numbers, tables and sentences; rates are fractions in [0, 1].

    Raises
    ------
    RunNotFoundError
        When the run or the baseline is not in the store.
    FaultlineError
        When an analysis cannot be computed (no attribute to slice by, no example shared with the baseline...).
    """
    say = scaled(progress, 0.0, 1.0)
    run = store.run(spec.run)
    spec.run = run.run_id
    base = store.run(spec.baseline) if spec.baseline else None
    if base is not None:
        spec.baseline = base.run_id
    runs = [r for r in (base, run) if r is not None]
    cohort = _cohort(store, spec.cohort, run.run_id, base.run_id if base else None)
    where = cohort["predicate"] if cohort else None
    not_covered: dict[str, str] = {}
    sections = list(spec.sections)

    # The failure-modes section (the link of the run's failure modes to the objective, with its baseline) needs
    # nothing of the other sections but the run's attribute choice: on DuckDB it is computed in a thread of its own
    # that makes the run's choice first (kept at the store's data version: the slice table below takes it from
    # there, once it is made) while this thread makes the baseline's (what the comparison slices it by), then goes on
    # beside the other sections (the engine's statements and the numpy work share the cores), and takes its place in
    # the report when it is done. The same calls, the same numbers.
    threaded = getattr(store, "engine", "duckdb") == "duckdb"
    objective_yaml = None
    pool = failure_modes = None
    run_chosen = threading.Event()
    if "failure_modes" in sections and (spec.objective or spec.objective_yaml):
        def failure_modes_section() -> tuple[dict | str, str | None]:
            try:
                attribute_notes(store, run.run_id)
            finally:
                run_chosen.set()  # made (or failed: the slice table then fails alike, in the caller's thread)
            return _failure_modes_section(store, run.run_id, base.run_id if base else None, spec, where=where)

        if threaded:
            pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="faultline-report-failure-modes")
            failure_modes = pool.submit(failure_modes_section)
            # the multiple-choice shares the failure modes' compilation asks for (a scan of every answer and input
            # per run), computed beside the attribute choices instead of after them: kept, then read there
            pool.submit(_prefetch_option_shares, store, spec, run.run_id, base.run_id if base else None, where)
        else:
            failure_modes = failure_modes_section
    try:
        say(0.05, "Reading the runs")
        listing = store.headline().set_index("run_id")
        run_rows = []
        for r in runs:
            info = store.run(r.run_id)
            row = listing.loc[r.run_id]
            run_rows.append({"run_id": r.run_id, "name": r.name, "model": r.model, "format": r.source_format,
                             "rows": int(row["rows"]), "scored": int(row["scored"]), "correct": int(row["correct"]),
                             "accuracy": float(row["accuracy"]), "ci_low": float(row["ci_low"]),
                             "ci_high": float(row["ci_high"]), "ingested_at": str(row["ingested_at"]),
                             "metric": str(row["metric"]), "value": float(row["value"]), "low": float(row["low"]),
                             "high": float(row["high"]), "graded": bool(row["graded"]),
                             "threshold": float(row["threshold"]), "threshold_source": str(row["threshold_source"]),
                             "baseline": None if pd.isna(row["baseline"]) else str(row["baseline"]),
                             "correct_column": None if pd.isna(row["correct_column"]) else str(row["correct_column"]),
                             "check": None if pd.isna(row["check"]) else str(row["check"]),
                             "check_message": None if pd.isna(row["check_message"]) else str(row["check_message"]),
                             "files": [{"file_name": f["file_name"], "sha256": f["sha256"], "size_bytes": f["size_bytes"]}
                                       for f in info.files], "notes": info.notes})
        checks = store.reconciliation()
        checks = checks[checks["run_id"].isin([r.run_id for r in runs])]
        reconciliation = [{"run": c.name, "tool": c.tool, "metric": "" if pd.isna(c.metric) else c.metric,
                           "verdict": c.verdict,
                           "tool_value": None if pd.isna(c.tool_value) else float(c.tool_value),
                           "faultline_value": None if pd.isna(c.faultline_value) else float(c.faultline_value),
                           "n": f"{int(c.faultline_n):,}" + ("" if pd.isna(c.tool_n) else f" of {int(c.tool_n):,}"),
                           "message": c.message, "source": "" if pd.isna(c.source) else c.source}
                          for c in checks.itertuples()]
        data: dict = {"runs": run_rows, "reconciliation": reconciliation, "spec": json.loads(spec.canonical()),
                      "faultline_version": __version__, "git_commit": git_commit()}
        if cohort:
            data["cohort"] = cohort
        if pool is not None:
            if base is not None and "comparison" in sections and spec.attributes is None:
                default_attributes(store, base.run_id)
            run_chosen.wait()
        say(0.15, "Slicing")
        result = slice_table(store, run.run_id, spec.attributes, max_order=spec.max_order, min_support=spec.min_support,
                             confidence=spec.confidence, fdr=spec.fdr, bins=spec.bins, where=where)
        tables: dict[str, pd.DataFrame] = {"slices": result.table}
        roles = {n.name: n.role for n in attribute_notes(store, run.run_id)}  # context or outcome, one definition
        table = _classified(result.table[~result.table["redundant"]], fdr=spec.fdr, roles=roles)
        cols = ["description", "attributes", "order", "n", "errors", "error_rate", "ci_low", "ci_high", "ci_method",
                "rest_error_rate", "difference", "p_value", "test", "q_value", "too_small", "finding", "direction", "origin"]
        data["slices"] = {"settings": result.settings, "total_n": result.total_n, "total_errors": result.total_errors,
                          "unscorable": result.unscorable, "overall_error_rate": result.overall_error_rate,
                          "edges": result.edges, "rows": _records(table, cols)}
        attrs = result.settings["attributes"]
        data["slices"]["clusters_named"] = _clusters_named(store, run.run_id, data["slices"]["rows"])

        if "heatmap" in sections:
            categorical = [a.name for a in result.attributes if a.kind in ("categorical", "boolean")] or attrs
            if len(categorical) >= 2:
                say(0.3, "Heatmap")
                x, y = categorical[0], categorical[1]
                cells = heatmap(store, run.run_id, x, y, min_support=spec.min_support, confidence=spec.confidence,
                                bins=spec.bins, where=where)
                data["heatmap"] = {"x": x, "y": y, "cells": _records(cells, list(cells.columns))}
                tables["heatmap"] = cells
            else:
                not_covered["heatmap"] = "the run has fewer than two attributes to cross"

        if "discovery" in sections:
            say(0.4, "Discovery (SliceLine)")
            d = spec.discovery
            found = discover(store, run.run_id, spec.attributes, error_weight=d.error_weight, k=d.k, max_order=d.max_order,
                             min_support=d.min_support,
                             holdout=d.holdout, seed=d.seed, confidence=spec.confidence, fdr=spec.fdr, bins=spec.bins,
                             where=where)
            data["discovery"] = {"settings": found.settings,
                                 "rows": _records(found.table, ["group", "description", "order", "sliceline_score", "n", "errors",
                                                                "error_rate", "ci_low", "ci_high", "q_value", "confirmed"])
                                 if not found.table.empty else []}

        if "clusters" in sections:
            data_clusters = _clusters_section(store, run.run_id)
            if data_clusters is None:
                not_covered["clusters"] = "no clustering has been computed for this run (compute it on the Clusters page)"
            else:
                data["clusters"] = data_clusters
                tables["examples"] = _examples(data_clusters)

        not_covered_before_fm = None
        if "failure_modes" in sections:
            if not spec.objective and not spec.objective_yaml:
                not_covered["failure_modes"] = "no objective spec was chosen for this report"
            else:
                say(0.55, "Failure modes and objective components")
                not_covered_before_fm = list(not_covered)  # its place among the sections not covered, kept

        if "comparison" in sections:
            if base is None:
                not_covered["comparison"] = "no baseline run was chosen for this report"
            else:
                say(0.7, "Comparing with the baseline")
                comparison = compare_runs(store, base.run_id, run.run_id, spec.attributes, min_support=spec.min_support,
                                          confidence=spec.confidence, fdr=spec.fdr, bins=spec.bins, where=where)
                verdict = gate(comparison, max_drop=spec.gate.max_drop, alpha=spec.gate.alpha)
                tables["comparison"] = comparison.table
                breaking = list(verdict.breaking["description"])
                shown = comparison.table[~comparison.table["too_small"]]
                shown = shown.assign(breaks_gate=shown["description"].isin(breaking),
                                     origin=[_origin(a, roles) for a in shown["attributes"]])
                # the gate reads correctness: beside a run headlined by its mean score, its points are named apart
                graded = any(r["graded"] for r in run_rows if r["run_id"] in (base.run_id, run.run_id))
                data["comparison"] = {
                    "matched": comparison.matched, "only_baseline": comparison.only_baseline,
                    "only_candidate": comparison.only_candidate, "settings": comparison.settings,
                    "gate": {"passed": verdict.passed, "max_drop": verdict.max_drop, "alpha": verdict.alpha,
                             "breaking": breaking, "unit": gate_unit("score" if graded else None)},
                    "rows": _records(shown, ["description", "n", "base_error_rate", "cand_error_rate", "difference",
                                             "ci_low", "ci_high", "b", "c", "p_value", "q_value", "verdict", "breaks_gate",
                                             "origin"]),
                }

        if "findings" in sections:
            say(0.75, "Pinned findings")
            pinned = _findings_section(store, run.run_id, spec.confidence)
            if pinned:
                data["findings"] = pinned
            else:
                not_covered["findings"] = "no finding is pinned to this run (pin one on the Slices, Compare or Findings page)"

        if "timeline" in sections:
            if spec.series is None:
                not_covered["timeline"] = "no series of runs was chosen for this report"
            else:
                say(0.75, "Runs over time")
                timeline = timeline_section(store, spec.series, objective=spec.objective,
                                            objective_yaml=spec.objective_yaml, attributes=spec.attributes,
                                            min_support=spec.min_support, confidence=spec.confidence, fdr=spec.fdr,
                                            bins=spec.bins)
                if isinstance(timeline, str):
                    not_covered["timeline"] = timeline
                else:
                    data["timeline"] = timeline

        if failure_modes is not None:
            if pool is not None and while_waiting is not None:
                while_waiting(data)  # every other section is in: work on them while the failure modes are not
            fm, objective_yaml = failure_modes.result() if pool is not None else failure_modes()
            if isinstance(fm, str):
                before = {k: not_covered[k] for k in not_covered_before_fm}
                after = {k: v for k, v in not_covered.items() if k not in before}
                not_covered.clear()
                not_covered.update({**before, "failure_modes": fm, **after})
            else:
                data["failure_modes"] = fm
    finally:
        if pool is not None:
            pool.shutdown(wait=True)  # its statements done before the caller may close the store

    data["summary"] = _summary(data)
    data["verdict"] = _verdict(data, spec)
    data["not_covered"] = not_covered
    covered = [s for s in sections if s not in not_covered]
    say(0.8, "Content computed")
    report = Report(spec, "", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), data, covered, not_covered,
                    tables, objective_yaml)
    report.report_id = report_id_of(report)
    return report


def _cohort(store: Store, text: str | None, run_id: str, baseline_id: str | None) -> dict | None:
    """The report's cohort: a saved cohort's name (its latest version) or a condition, with the examples it selects.

    Returns None for every example; else ``text`` (as given), ``name`` and ``version`` (a saved cohort) or None,
    ``predicate`` (the condition applied), ``description``, ``author``, ``n`` (examples of the run it selects), ``of``
    (the run's examples) and ``baseline_n`` (of the baseline, or None).

    Raises
    ------
    PredicateError
        The condition cannot be read or does not fit the run (or the baseline).
    """
    if not text:
        return None
    saved = cohorts(store)
    row = saved[saved["name"] == text]
    out = {"text": text, "name": None, "version": None, "predicate": text, "description": "", "author": ""}
    if not row.empty:
        r = row.iloc[-1]
        out.update(name=str(r["name"]), version=int(r["version"]), predicate=str(r["predicate"]),
                   description=str(r["description"] or ""), author=str(r["author"] or ""))
    out["n"] = check_cohort(store, run_id, out["predicate"])
    out["of"] = int(store.headline().set_index("run_id").loc[run_id, "rows"])
    out["baseline_n"] = check_cohort(store, baseline_id, out["predicate"]) if baseline_id else None
    return out


def cohort_words(cohort: dict) -> str:
    """The cohort in plain words, as the cover and the methods state it."""
    what = (f"the saved cohort {cohort['name']} (version {cohort['version']}): {cohort['predicate']}"
            if cohort.get("name") else f"the cohort {cohort['predicate']}")
    return f"{what}, {cohort['n']:,} of the run's {cohort['of']:,} examples"


def _findings_section(store: Store, run_id: str, default_confidence: float) -> list[dict]:
    """The findings pinned to the run (not withdrawn), oldest first: each with its note, author and time, the
    sentence of the numbers pinned and the same sentence recomputed now from its stored settings (or why not)."""
    frame = stored_findings(store, run_id)
    out = []
    for row in frame.to_dict("records"):
        confidence = float((row["settings"] or {}).get("confidence", default_confidence))
        pinned = finding_sentence(row["kind"], row["title"], row["evidence"], cohort=row["cohort"],
                                  confidence=confidence, q_words=q_prose)
        try:
            now = recompute_finding(store, row["finding_id"])
        except FaultlineError as err:
            current, recomputed = str(err), False
        else:
            current, recomputed = finding_sentence(row["kind"], row["title"], now, cohort=row["cohort"],
                                                   confidence=confidence, q_words=q_prose), True
        created = row["created_at"]
        out.append({"finding_id": str(row["finding_id"]), "kind": str(row["kind"]), "title": str(row["title"]),
                    "note": str(row["note"] or ""), "author": str(row["author"]),
                    "created_at": (created.strftime("%Y-%m-%d %H:%M UTC") if hasattr(created, "strftime")
                                   else str(created)),
                    "cohort": row["cohort"], "baseline": row.get("baseline_name") or row.get("baseline_run_id"),
                    "pinned": pinned, "current": current, "recomputed": recomputed,
                    "changed": recomputed and current != pinned})
    return out


def _origin(attributes, roles: dict[str, str]) -> str:
    """``symptom`` when any attribute of a slice is an outcome attribute (what the model did: output-derived, or
    leaking the outcome; :func:`analysis.slicing.attributes.attribute_notes`), else ``context`` (a candidate cause)."""
    return "symptom" if any(roles.get(a) == "outcome" for a in (attributes or ())) else "context"


def _classified(table: pd.DataFrame, *, fdr: float, roles: dict[str, str]) -> pd.DataFrame:
    """The slice rows with ``direction`` (``worse`` / ``better`` than the rest with q < fdr, else ``""``) and
    ``origin`` (``context`` or ``symptom``); ``attributes`` as lists."""
    tested = ~table["too_small"] & table["q_value"].notna()
    better = tested & (table["q_value"] < fdr) & (table["difference"] < 0) & ~table["redundant"]
    direction = np.where(table["finding"], "worse", np.where(better, "better", ""))
    return table.assign(direction=direction, origin=[_origin(a, roles) for a in table["attributes"]],
                        attributes=[list(a) for a in table["attributes"]])


#: A cluster predicate inside a slice description (``cluster.input = 3``).
CLUSTER_PREDICATE = re.compile(r"\b(cluster\.[\w.]+) = (-?\d+)")


def _clusters_named(store: Store, run_id: str, rows: list[dict]) -> list[dict]:
    """Every cluster a significant slice names (``cluster.input = 3``), described by its terms, so no slice reads
    as a bare number: ``predicate``, ``description`` (or why there is none)."""
    named = sorted({m.group(0) for r in rows if r["direction"] for m in CLUSTER_PREDICATE.finditer(r["description"])})
    if not named:
        return []
    result = latest_result(store, run_id)
    by_id: dict[str, str] = {}
    field_name = ""
    if result is not None:
        field_name = str((result.settings or {}).get("field", ""))
        for row in result.table.to_dict("records"):
            terms = row.get("terms")
            terms = ", ".join(str(t) for t in terms) if terms is not None and not isinstance(terms, str) else terms
            by_id[str(row.get("cluster"))] = str(row.get("description") or "") + (f" (terms: {terms})" if terms else "")
    out = []
    for predicate in named:
        match = CLUSTER_PREDICATE.match(predicate)
        column, value = match.group(1), match.group(2)
        same_field = not field_name or column.endswith("." + field_name)
        text = by_id.get(value) if same_field else None
        out.append({"predicate": predicate, "description": text or "not described: its clustering is no longer "
                    "cached for this run (compute it again on the Clusters page)"})
    return out


def _clusters_section(store: Store, run_id: str) -> dict | None:
    """The latest clustering of the run, if the clusters module has one cached."""
    result = latest_result(store, run_id)
    if result is None:
        return None
    table = result.table
    if "representative_texts" in table.columns:
        table = table.assign(representatives=table["representative_texts"])
    keep = [c for c in ("cluster", "description", "size", "errors", "error_rate", "ci_low", "ci_high", "q_value",
                        "terms", "representatives", "representative_ids") if c in table.columns]
    rows = _records(table, keep)
    for row in rows:
        for key in ("terms", "representatives", "representative_ids"):
            if key in row and not isinstance(row[key], (list, str)) and row[key] is not None:
                row[key] = [str(x) for x in row[key]]
    return {"settings": getattr(result, "settings", {}), "rows": rows}


def _examples(clusters: dict) -> pd.DataFrame:
    """Every example text the report quotes (cluster representatives), whole: the PDF prints excerpts."""
    out = []
    for row in clusters["rows"]:
        texts = row.get("representatives") or []
        ids = row.get("representative_ids") or [None] * len(texts)
        for rank, (example_id, text) in enumerate(zip(ids, texts), start=1):
            out.append({"cluster": str(row["cluster"]), "rank": rank, "example_id": example_id, "text": str(text)})
    return pd.DataFrame(out, columns=["cluster", "rank", "example_id", "text"])


def _prefetch_option_shares(store: Store, spec: ReportSpec, run_id: str, baseline: str | None,
                            where: str | None) -> None:
    """:func:`analysis.objective.modes.prefetch_option_shares` for the run (in the cohort ``where``) and its
    baseline under the report's objective spec; a spec that cannot be read is left for the section to report."""
    try:
        objective = (parse_objective(spec.objective_yaml) if spec.objective_yaml is not None
                     else load_objective(spec.objective))
    except Exception:  # noqa: BLE001 - the failure-modes section reads the spec again and says what is wrong
        return
    prefetch_option_shares(store, objective, [(run_id, where)] + ([(baseline, None)] if baseline else []))


def _failure_modes_section(store: Store, run_id: str, baseline: str | None,
                           spec: ReportSpec, *, where: str | None = None) -> tuple[dict | str, str | None]:
    """The failure-modes section (over the cohort ``where``, if any) and the objective spec's YAML text (from the
    spec itself or read from its path)."""
    import tempfile
    from pathlib import Path

    if spec.objective_yaml is None:
        section = link_report_section(store, run_id, baseline=baseline, objective=spec.objective, where=where)
        try:
            text = Path(spec.objective).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = None
        return section, text
    name = Path(spec.objective or "objective.yaml").name
    with tempfile.TemporaryDirectory(prefix="faultline-objective-") as tmp:
        path = Path(tmp) / name
        path.write_text(spec.objective_yaml, encoding="utf-8")
        return (link_report_section(store, run_id, baseline=baseline, objective=path, where=where),
                spec.objective_yaml)


def _slice_sentence(row: dict, whole: str = "the run") -> str:
    """One slice of the run (or of the cohort: ``whole``) as a plain sentence: its error rate with interval and
    size, against the rest."""
    return (f"{short(row['description'])}: error rate {pct(row['error_rate'])} (95% CI {pct(row['ci_low'])} to "
            f"{pct(row['ci_high'])}, n = {row['n']:,}) against {pct(row.get('rest_error_rate'))} in the rest of "
            f"{whole}, {points(row['difference'])} points; {q_prose(row['q_value'])}.")


def _regression_sentence(row: dict) -> str:
    """One slice of the comparison as a plain sentence."""
    return (f"{short(row['description'])}: error rate {pct(row['base_error_rate'])} in the baseline, "
            f"{pct(row['cand_error_rate'])} in the candidate ({points(row['difference'])} points, 95% CI "
            f"{points(row['ci_low'])} to {points(row['ci_high'])} points, n = {row['n']:,}); McNemar "
            f"{q_prose(row['q_value'])}.")


def _summary(data: dict) -> list[str]:
    """The runs' headlines and the counts of findings, in plain words, each with its number and interval."""
    out = []
    for r in data["runs"]:
        who = f"Run {short(r['name'])} ({short(r['model'] or 'model not recorded')})"
        if r.get("graded"):
            out.append(f"{who}: mean score {r['value']:.3g} (95% CI {r['low']:.3g} to {r['high']:.3g}) on "
                       f"{r['scored']:,} scored examples; scores are graded, and "
                       f"{format_threshold(r['threshold'], r['threshold_source'], r.get('correct_column'))}, which "
                       f"gives accuracy {pct(r['accuracy'])}.")
        else:
            out.append(f"{who}: accuracy {pct(r['accuracy'])} (95% CI {pct(r['ci_low'])} to {pct(r['ci_high'])}) on "
                       f"{r['scored']:,} scored examples.")
        if r.get("check") in FLAGGED:
            out.append(f"Check against the tool for {short(r['name'])}: {r['check']}: {short(r['check_message'])}.")
    if data.get("cohort"):
        out.append(f"The analysis below is restricted to {cohort_words(data['cohort'])}: its error rate is "
                   f"{pct(data['slices']['overall_error_rate'])} on {data['slices']['total_n']:,} scored examples.")
    pinned = data.get("findings") or []
    if pinned:
        changed = sum(f["changed"] for f in pinned)
        out.append(f"{len(pinned):,} finding{'s are' if len(pinned) != 1 else ' is'} pinned to this run by analysts"
                   + (f"; the numbers of {changed:,} changed since they were pinned." if changed else "."))
    rows = data["slices"]["rows"]
    fdr = data["slices"]["settings"]["fdr"]
    worse = [r for r in rows if r["direction"] == "worse"]
    better = [r for r in rows if r["direction"] == "better"]
    causes = [r for r in worse if r["origin"] == "context"]
    out.append(f"{format_count(len(worse), 'slice')} {'is' if len(worse) == 1 else 'are'} significantly worse than the rest of the "
               f"{'cohort' if data.get('cohort') else 'run'} and {len(better):,} "
               f"significantly better (Benjamini-Hochberg q below {fdr}); {len(causes):,} of the worse ones are defined "
               f"by the input or context (candidate causes), {len(worse) - len(causes):,} by the model's output "
               f"(symptoms). The {'cohort' if data.get('cohort') else 'run'}'s error rate is {pct(data['slices']['overall_error_rate'])}.")
    disc = data.get("discovery", {}).get("rows", [])
    # the summary states a found conjunction only at the support every other finding needs (the slice table's):
    # a group of 8 examples "confirmed" on half the run led the summary with an interval 62 points wide
    support = data["slices"]["settings"]["min_support"]
    confirmed = [r for r in disc if r["confirmed"] and r["order"] >= 2 and r["n"] >= support]
    if confirmed:
        r = confirmed[0]
        numbers = f"{pct(r['error_rate'])} (95% CI {pct(r['ci_low'])} to {pct(r['ci_high'])}, n = {r['n']:,}"
        if data["discovery"]["settings"]["holdout"]:  # its numbers are the held-out half's (n about half the slice's)
            out.append(f"Discovery found a conjunction: {short(r['description'])}, searched on one half of the examples "
                       f"and confirmed on the other, where its error rate is {numbers} of that half).")
        else:
            out.append(f"Discovery found a conjunction: {short(r['description'])} with error rate {numbers}), "
                       "confirmed on all examples.")
    comp = data.get("comparison")
    if comp:
        regressed = sum(r["verdict"] == "regressed" for r in comp["rows"])
        improved = sum(r["verdict"] == "improved" for r in comp["rows"])
        out.append(f"Against the baseline, {format_count(regressed, 'slice')} regressed significantly and {improved:,} improved "
                   f"significantly, on {comp['matched']:,} examples matched by id.")
    fm = data.get("failure_modes")
    if fm and fm.get("summary"):
        out.extend(fm["summary"][:3])
    return out


#: How many findings of each kind the verdict box on page one states.
VERDICT_FINDINGS = {"cause": 3, "symptom": 1, "better": 1, "regressed": 2}


def _verdict(data: dict, spec: ReportSpec) -> dict:
    """The verdict box of page one: the gate (passed or failed, and why) and the few findings that matter, each a
    plain sentence with its number, interval and q-value; candidate causes before symptoms."""
    rows = data["slices"]["rows"]
    whole = "the cohort" if data.get("cohort") else "the run"
    comp = data.get("comparison")
    findings: list[dict] = []
    if comp:
        g = comp["gate"]
        unit = g.get("unit") or gate_unit()
        n_break = len(g["breaking"])
        if g["passed"]:
            status, why = "passed", (f"no slice loses more than {points(g['max_drop']).lstrip('+')} {unit} "
                                     f"against the baseline with a McNemar q below {g['alpha']}.")
        else:
            status, why = "failed", (f"{n_break:,} slice{'s' if n_break != 1 else ''} lose{'' if n_break != 1 else 's'} "
                                     f"more than {points(g['max_drop']).lstrip('+')} {unit} against the "
                                     f"baseline with a McNemar q below {g['alpha']}"
                                     + (" (all listed in the appendix)." if n_break > 5 else "."))
        regressed = [r for r in comp["rows"] if r["verdict"] == "regressed"]
        regressed.sort(key=lambda r: (r["origin"] != "context", -r["difference"]))
        findings += [{"kind": "regressed", "label": "regressed", "text": _regression_sentence(r)}
                     for r in regressed[:VERDICT_FINDINGS["regressed"]]]
    else:
        status, why = "none", "no baseline run was chosen, so no regression gate was applied."
    worse = [r for r in rows if r["direction"] == "worse"]
    causes = [r for r in worse if r["origin"] == "context"][:VERDICT_FINDINGS["cause"]]
    symptoms = [r for r in worse if r["origin"] == "symptom"][:VERDICT_FINDINGS["symptom"]]
    better = sorted((r for r in rows if r["direction"] == "better"),
                    key=lambda r: r["origin"] != "context")[:VERDICT_FINDINGS["better"]]
    findings = ([{"kind": "cause", "label": "worse", "text": _slice_sentence(r, whole)} for r in causes] + findings
                + [{"kind": "symptom", "label": "worse (symptom)", "text": _slice_sentence(r, whole)}
                   for r in symptoms]
                + [{"kind": "better", "label": "better" + (" (symptom)" if r["origin"] == "symptom" else ""),
                    "text": _slice_sentence(r, whole)} for r in better])
    breaking = []
    if comp:
        origin = {r["description"]: r["origin"] for r in comp["rows"]}
        breaking = sorted(comp["gate"]["breaking"], key=lambda d: origin.get(d) == "symptom")[:5]
    return {"gate": status, "why": why, "findings": findings, "breaking_shown": breaking}
