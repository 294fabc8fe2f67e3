"""Statements over the ``objective_specs`` table (DDL in :mod:`analysis.store.schema`).

Append-only: saving a spec under a name it already has adds a new version; nothing is updated or deleted.
"""

from __future__ import annotations

INSERT = ("INSERT INTO objective_specs (spec_id, name, version, sha256, text, author, created_at) "
          "VALUES (?, ?, ?, ?, ?, ?, ?)")

#: The next version number of a name (bind the name).
NEXT_VERSION = "SELECT coalesce(max(version), 0) + 1 FROM objective_specs WHERE name = ?"

#: Every version of every saved spec, with the number of versions of its name, by name then version.
ALL_VERSIONS = ("SELECT spec_id, name, version, sha256, text, author, created_at, "
                "count(*) OVER (PARTITION BY objective_specs.name) AS versions FROM objective_specs "
                "ORDER BY objective_specs.name, version")
