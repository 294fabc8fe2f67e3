"""Statements over the ``cohorts`` table (DDL in :mod:`analysis.store.schema`).

Append-only: saving a cohort under a name it already has adds a new version; nothing is updated or deleted.
"""

from __future__ import annotations

INSERT = ("INSERT INTO cohorts (cohort_id, name, version, predicate, run_id, description, author, created_at) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")

#: The next version number of a name (bind the name).
NEXT_VERSION = "SELECT coalesce(max(version), 0) + 1 FROM cohorts WHERE name = ?"

#: Every version of every cohort, with the number of versions of its name, oldest first.
ALL_VERSIONS = ("SELECT cohort_id, name, version, predicate, run_id, description, author, created_at, "
                "count(*) OVER (PARTITION BY cohorts.name) AS versions FROM cohorts ORDER BY cohorts.name, version")


def ids_where_sql(table: str, where: str, params) -> tuple[str, list]:
    """The example ids of a run's table that satisfy ``where`` (SQL built by Faultline, values bound)."""
    from analysis.sql import quote_ident

    return f"SELECT example_id FROM {quote_ident(table)} WHERE {where}", list(params)
