"""A report's content: every number, table and sentence, computed from the store by the engine."""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from analysis._version import __version__
from analysis.clusters.cache import latest_result
from analysis.formatting import format_threshold
from analysis.objective.link import report_section as link_report_section
from analysis.paths import PROJECT_ROOT
from analysis.progress import ProgressCallback, scaled
from analysis.report.spec import ReportSpec
from analysis.report.text import SENTENCE_TEXT, cut, pct, qvalue
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

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(_canonical(self.data).encode()).hexdigest()


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


def build_report(store: Store, spec: ReportSpec, *, progress: ProgressCallback | None = None) -> Report:
    """Compute a report's content from the store (no rendering).

    Parameters
    ----------
    store : Store
        The store holding the runs.
    spec : ReportSpec
        What to compute (validated when it was made). Its ``run`` and ``baseline`` are set to the run ids.
    progress : ProgressCallback, optional
        Called with (fraction in [0, 1], message).

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
    not_covered: dict[str, str] = {}
    sections = list(spec.sections)

    say(0.15, "Slicing")
    result = slice_table(store, run.run_id, spec.attributes, max_order=spec.max_order, min_support=spec.min_support,
                         confidence=spec.confidence, fdr=spec.fdr, bins=spec.bins)
    table = result.table[~result.table["redundant"]]
    cols = ["description", "order", "n", "errors", "error_rate", "ci_low", "ci_high", "ci_method", "difference",
            "p_value", "test", "q_value", "too_small", "finding"]
    data["slices"] = {"settings": result.settings, "total_n": result.total_n, "total_errors": result.total_errors,
                      "unscorable": result.unscorable, "overall_error_rate": result.overall_error_rate,
                      "edges": result.edges, "rows": _records(table, cols)}
    attrs = result.settings["attributes"]

    if "heatmap" in sections:
        categorical = [a.name for a in result.attributes if a.kind in ("categorical", "boolean")] or attrs
        if len(categorical) >= 2:
            say(0.3, "Heatmap")
            x, y = categorical[0], categorical[1]
            cells = heatmap(store, run.run_id, x, y, min_support=spec.min_support, confidence=spec.confidence,
                            bins=spec.bins)
            data["heatmap"] = {"x": x, "y": y, "cells": _records(cells, list(cells.columns))}
        else:
            not_covered["heatmap"] = "the run has fewer than two attributes to cross"

    if "discovery" in sections:
        say(0.4, "Discovery (SliceLine)")
        d = spec.discovery
        found = discover(store, run.run_id, spec.attributes, error_weight=d.error_weight, k=d.k, max_order=d.max_order,
                         min_support=d.min_support,
                         holdout=d.holdout, seed=d.seed, confidence=spec.confidence, fdr=spec.fdr, bins=spec.bins)
        data["discovery"] = {"settings": found.settings,
                             "rows": _records(found.table, ["group", "description", "order", "sliceline_score", "n", "errors",
                                                            "error_rate", "ci_low", "ci_high", "q_value", "confirmed"])
                             if not found.table.empty else []}

    if "clusters" in sections:
        data_clusters = _clusters_section(store, run.run_id)
        if data_clusters is None:
            not_covered["clusters"] = ("no clustering has been computed for this run (compute it on the Clusters "
                                       "page or with `python -m analysis clusters`)")
        else:
            data["clusters"] = data_clusters

    if "failure_modes" in sections:
        if not spec.objective:
            not_covered["failure_modes"] = "no objective spec was given (--objective)"
        else:
            say(0.55, "Failure modes and objective components")
            fm = _failure_modes_section(store, run.run_id, base.run_id if base else None, spec.objective)
            if isinstance(fm, str):
                not_covered["failure_modes"] = fm
            else:
                data["failure_modes"] = fm

    if "comparison" in sections:
        if base is None:
            not_covered["comparison"] = "no baseline run was given (--baseline)"
        else:
            say(0.7, "Comparing with the baseline")
            comparison = compare_runs(store, base.run_id, run.run_id, spec.attributes, min_support=spec.min_support,
                                      confidence=spec.confidence, fdr=spec.fdr, bins=spec.bins)
            verdict = gate(comparison, max_drop=spec.gate.max_drop, alpha=spec.gate.alpha)
            data["comparison"] = {
                "matched": comparison.matched, "only_baseline": comparison.only_baseline,
                "only_candidate": comparison.only_candidate, "settings": comparison.settings,
                "gate": {"passed": verdict.passed, "max_drop": verdict.max_drop, "alpha": verdict.alpha,
                         "breaking": list(verdict.breaking["description"])},
                "rows": _records(comparison.table[~comparison.table["too_small"]],
                                 ["description", "n", "base_error_rate", "cand_error_rate", "difference", "ci_low",
                                  "ci_high", "b", "c", "p_value", "q_value", "verdict"]),
            }

    data["summary"] = _summary(data)
    data["not_covered"] = not_covered
    covered = [s for s in sections if s not in not_covered]
    fingerprint = hashlib.sha256(_canonical([r["files"] for r in run_rows] + [r["run_id"] for r in run_rows])
                                 .encode()).hexdigest()
    report_id = "FLR-" + hashlib.sha256((spec.canonical() + fingerprint).encode()).hexdigest()[:12].upper()
    say(0.8, "Content computed")
    return Report(spec, report_id, datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), data, covered, not_covered)


def _clusters_section(store: Store, run_id: str) -> dict | None:
    """The latest clustering of the run, if the clusters module has one cached."""
    result = latest_result(store, run_id)
    if result is None:
        return None
    table = result.table
    if "representative_texts" in table.columns:
        table = table.assign(representatives=table["representative_texts"])
    keep = [c for c in ("cluster", "size", "errors", "error_rate", "ci_low", "ci_high", "q_value", "terms",
                        "representatives") if c in table.columns]
    return {"settings": getattr(result, "settings", {}), "rows": _records(table, keep)}


def _failure_modes_section(store: Store, run_id: str, baseline: str | None, objective: str) -> dict | str:
    return link_report_section(store, run_id, baseline=baseline, objective=objective)


def _summary(data: dict) -> list[str]:
    """The handful of findings that matter, in plain words, each with its number and interval."""
    out = []
    for r in data["runs"]:
        who = f"Run {cut(r['name'], SENTENCE_TEXT)} ({cut(r['model'] or 'model not recorded', SENTENCE_TEXT)})"
        if r.get("graded"):
            out.append(f"{who}: mean score {r['value']:.3g} (95% CI {r['low']:.3g} to {r['high']:.3g}) on "
                       f"{r['scored']:,} scored examples; scores are graded, and "
                       f"{format_threshold(r['threshold'], r['threshold_source'], r.get('correct_column'))}, which gives accuracy "
                       f"{pct(r['accuracy'])}.")
        else:
            out.append(f"{who}: accuracy {pct(r['accuracy'])} (95% CI {pct(r['ci_low'])} to {pct(r['ci_high'])}) on "
                       f"{r['scored']:,} scored examples.")
        if r.get("check") in FLAGGED:
            out.append(f"Check against the tool for {cut(r['name'], SENTENCE_TEXT)}: {r['check']}: "
                       f"{cut(r['check_message'], SENTENCE_TEXT)}.")
    findings = [row for row in data["slices"]["rows"] if row["finding"]]
    overall = data["slices"]["overall_error_rate"]
    if findings:
        out.append(f"{len(findings)} slices are significantly worse than the rest of the run "
                   f"(Benjamini-Hochberg q < {data['slices']['settings']['fdr']}); the run's error rate is "
                   f"{pct(overall)}.")
        for row in findings[:4]:
            out.append(f"{cut(row['description'], SENTENCE_TEXT)}: error rate {pct(row['error_rate'])} (95% CI {pct(row['ci_low'])} to "
                       f"{pct(row['ci_high'])}, n = {row['n']:,}, q = {qvalue(row['q_value'])}).")
    else:
        out.append(f"No slice is significantly worse than the rest of the run at the chosen false discovery rate "
                   f"(error rate {pct(overall)}).")
    disc = data.get("discovery", {}).get("rows", [])
    confirmed = [r for r in disc if r["confirmed"] and r["order"] >= 2]
    if confirmed:
        r = confirmed[0]
        out.append(f"Discovery found a conjunction: {cut(r['description'], SENTENCE_TEXT)} with error rate {pct(r['error_rate'])} "
                   f"(95% CI {pct(r['ci_low'])} to {pct(r['ci_high'])}, n = {r['n']:,}), confirmed on "
                   f"{'a held-out half' if data['discovery']['settings']['holdout'] else 'all examples'}.")
    comp = data.get("comparison")
    if comp:
        gate = comp["gate"]
        regressed = [r for r in comp["rows"] if r["verdict"] == "regressed"]
        out.append(f"Regression gate (largest allowed accuracy drop {gate['max_drop'] * 100:.1f} points): "
                   f"{'PASSED' if gate['passed'] else 'FAILED'}, {len(gate['breaking'])} slice(s) break it; "
                   f"{len(regressed)} slices regressed significantly.")
        for r in regressed[:3]:
            out.append(f"{cut(r['description'], SENTENCE_TEXT)}: error rate {pct(r['base_error_rate'])} -> {pct(r['cand_error_rate'])} "
                       f"(change {r['difference'] * 100:+.1f} points, 95% CI {r['ci_low'] * 100:+.1f} to "
                       f"{r['ci_high'] * 100:+.1f}, McNemar q = {qvalue(r['q_value'])}).")
    fm = data.get("failure_modes")
    if fm and fm.get("summary"):
        out.extend(fm["summary"][:3])
    return out
