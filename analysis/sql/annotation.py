"""Statements over the ``annotations`` table (DDL in :mod:`analysis.store.schema`). The module is
named in the singular: ``analysis.sql.annotations`` would be shadowed by ``from __future__ import annotations``.

The table is append-only: there is an insert, and reads; no update, no delete.
"""

from __future__ import annotations

from analysis.sql import quote_ident

INSERT = ("INSERT INTO annotations (annotation_id, run_id, example_id, slice, mode, note, "
          "author, created_at, retracts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")


def found_ids_sql(n: int) -> str:
    """Which of ``n`` annotation ids (bound after the run id) a run has."""
    return f"SELECT annotation_id FROM annotations WHERE run_id = ? AND annotation_id IN ({', '.join('?' * n)})"


def found_examples_sql(table: str, n: int) -> str:
    """Which of ``n`` example ids (each bound) a run's table has."""
    return f"SELECT example_id FROM {quote_ident(table)} WHERE example_id IN ({', '.join('?' * n)})"


def annotations_sql(*, one_run: bool) -> str:
    """Every annotation (of one run: bind its id), oldest first, with its run's name and a ``retracted`` flag."""
    where = "WHERE a.run_id = ?" if one_run else ""
    return ("SELECT a.annotation_id, a.run_id, a.example_id, a.slice, a.mode, a.note, a.author, a.created_at, "
            "a.retracts, r.name AS run_name, a.annotation_id IN (SELECT retracts FROM annotations "
            f"WHERE retracts IS NOT NULL) AS retracted FROM annotations a LEFT JOIN runs r ON r.run_id = a.run_id "
            f"{where} ORDER BY a.created_at, a.annotation_id")
