"""The data a report carries: the engine's complete tables as CSV and JSON, the report spec and the objective spec.

They are attached inside the PDF (PDF/A-3 associated files) and written beside the HTML twin, so the PDF prints
what a reviewer reads (the head of each table, excerpts of example texts) while nothing is lost: every slice,
every compared slice and every example text whole, at the engine's full precision.
"""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np
import pandas as pd
import yaml

from analysis.export import json_value
from analysis.report.content import REPORT_ID_COVERS, Report
from analysis.report.pdf import AttachedFile
from analysis.report.text import q_data

#: What each attached file holds, in plain words.
DESCRIPTIONS = {
    "slices": "Every slice of the analysis with its counts, error rate, interval, test, p-value and q-value "
              "(the engine's slice table, redundant conjunctions marked)",
    "comparison": "Every slice compared between the baseline and the candidate (paired counts, change in points "
                  "as a fraction, interval, McNemar p-value and q-value, verdict)",
    "examples": "Every example text the report quotes, whole (the PDF prints excerpts)",
    "heatmap": "Every cell of the heatmap (two attributes crossed) with its count, error rate, interval and q-value",
}




def _frame_for_files(frame: pd.DataFrame) -> pd.DataFrame:
    """The table with list cells joined (" AND "-free: "|") and a text column beside each p/q-value column."""
    out = frame.copy()
    for column in list(out.columns):
        if out[column].map(lambda v: isinstance(v, (tuple, list, np.ndarray))).any():
            out[column] = out[column].map(lambda v: "|".join(str(x) for x in v)
                                          if isinstance(v, (tuple, list, np.ndarray)) else v)
    for column in ("p_value", "q_value"):
        if column in out.columns:
            position = list(out.columns).index(column) + 1
            out.insert(position, f"{column}_text", [q_data(v) for v in out[column]])
    return out


def table_csv(frame: pd.DataFrame) -> bytes:
    """A table as UTF-8 CSV at full float precision (``repr``: read back, every number is the engine's float)."""
    buffer = io.StringIO()
    _frame_for_files(frame).to_csv(buffer, index=False, float_format=None, lineterminator="\n")
    return buffer.getvalue().encode("utf-8")


def table_json(frame: pd.DataFrame) -> bytes:
    """A table as a JSON array of records (floats exact, non-finite as null, lists as arrays)."""
    records = [{k: json_value(v) for k, v in row.items()} for row in frame.to_dict("records")]
    for record in records:
        for column in ("p_value", "q_value"):
            if column in record:
                record[f"{column}_text"] = q_data(record[column])
    return json.dumps(records, ensure_ascii=False, indent=1, allow_nan=False).encode("utf-8")


def report_attachments(report: Report) -> list[AttachedFile]:
    """The files a report carries: ``slices``, ``comparison`` and ``examples`` (each as CSV and JSON, when the
    report has them), ``report_spec.yaml`` (headed by the report id), ``report.json`` (:func:`report_manifest`) and
    ``objective.yaml`` (when a failure-modes section used one)."""
    files = []
    for name, frame in report.tables.items():
        files.append(AttachedFile(f"{name}.csv", table_csv(frame), DESCRIPTIONS[name] + ", as CSV"))
        files.append(AttachedFile(f"{name}.json", table_json(frame), DESCRIPTIONS[name] + ", as JSON",
                                  "application/json"))
    spec = (f"# The spec of Faultline audit report {report.report_id} (content sha256 {report.content_hash}).\n"
            "# Regenerated from it over the same store state, the report has the same id.\n"
            + yaml.safe_dump(report.spec.model_dump(mode="json"), sort_keys=True, allow_unicode=True))
    files.append(AttachedFile("report_spec.yaml", spec.encode("utf-8"),
                              "The report spec this report was generated from (regenerate with it)", "application/yaml"))
    files.append(AttachedFile("report.json", report_manifest(report),
                              "The report id, what it covers and what it is computed from (to check it), and the "
                              "content hash", "application/json"))
    if report.objective_yaml is not None:
        files.append(AttachedFile("objective.yaml", report.objective_yaml.encode("utf-8"),
                                  "The objective spec of the failure-modes section", "application/yaml"))
    return files


def report_manifest(report: Report) -> bytes:
    """The attached ``report.json``: the report id, the content and spec hashes, the date of generation, what the id
    covers (:data:`~analysis.report.content.REPORT_ID_COVERS`) and ``id_inputs``, the values it is the hash of:
    ``FLR-`` and the first 12 hex digits (upper case) of the sha256 of their JSON with sorted keys and no spaces."""
    manifest = {"report_id": report.report_id, "content_sha256": report.content_hash,
                "spec_sha256": report.spec.sha256, "generated_at": report.generated_at,
                "report_id_covers": REPORT_ID_COVERS,
                "report_id_recipe": "FLR- and the first 12 hex digits, upper case, of the sha256 of id_inputs as JSON "
                                    "with sorted keys and no spaces (separators ',' and ':')",
                "id_inputs": report.id_inputs}
    return json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")


def attachment_rows(files: list[AttachedFile], report: Report) -> list[dict]:
    """The attached files as the appendix lists them: name, what it holds, rows, sha256."""
    rows = {f"{name}.{ext}": len(frame) for name, frame in report.tables.items() for ext in ("csv", "json")}
    return [{"name": f.name, "description": f.description, "rows": rows.get(f.name),
             "sha256": hashlib.sha256(f.data).hexdigest()} for f in files]
