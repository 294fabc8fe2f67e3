"""Statements over the ``findings`` table (DDL in :mod:`analysis.store.schema`). Singular name, as
:mod:`analysis.sql.annotation`. Append-only: an insert and reads; no update, no delete.
"""

from __future__ import annotations

INSERT = ("INSERT INTO findings (finding_id, run_id, baseline_run_id, kind, target_json, cohort, title, note, "
          "evidence_json, settings_json, author, created_at, withdraws) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


def findings_sql(*, one_run: bool) -> str:
    """Every finding (of one run: bind its id), oldest first, with run names and a ``withdrawn`` flag."""
    where = "WHERE f.run_id = ?" if one_run else ""
    return ("SELECT f.finding_id, f.run_id, f.baseline_run_id, f.kind, f.target_json AS target, f.cohort, f.title, "
            "f.note, f.evidence_json AS evidence, f.settings_json AS settings, f.author, f.created_at, f.withdraws, "
            "r.name AS run_name, b.name AS baseline_name, f.finding_id IN (SELECT withdraws FROM findings "
            "WHERE withdraws IS NOT NULL) AS withdrawn FROM findings f LEFT JOIN runs r ON r.run_id = f.run_id "
            f"LEFT JOIN runs b ON b.run_id = f.baseline_run_id {where} ORDER BY f.created_at, f.finding_id")


#: The findings of one run and kind (bind the run id and the kind) that are not withdrawals nor withdrawn, oldest
#: first, in the columns of ``INSERT``: the candidates of a second pin of the same target.
PINNED = ("SELECT finding_id, run_id, baseline_run_id, kind, target_json, cohort, title, note, evidence_json, "
          "settings_json, author, created_at, withdraws FROM findings WHERE run_id = ? AND kind = ? "
          "AND withdraws IS NULL AND finding_id NOT IN (SELECT withdraws FROM findings WHERE withdraws IS NOT NULL) "
          "ORDER BY created_at, finding_id")
