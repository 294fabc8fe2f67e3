"""The rule language of objective specs and cohorts: defined in :mod:`analysis.sql.predicates`.

It moved one layer down so that slicing (a cohort filter on every analysis) and the objective's rules compile a
condition with the same code; this module keeps the old import path working.
"""

from __future__ import annotations

from analysis.sql.predicates import (
    DERIVED_FIELDS,
    BoolOp,
    Compare,
    Contains,
    Field,
    FieldRef,
    InList,
    IsNull,
    Node,
    Not,
    PredicateError,
    Truth,
    Value,
    compile_predicate,
    derived_field,
    field_names,
    fields_from_table,
    parse,
    run_fields,
)

__all__ = ["DERIVED_FIELDS", "BoolOp", "Compare", "Contains", "Field", "FieldRef", "InList", "IsNull", "Node", "Not",
           "Truth", "Value", "PredicateError", "compile_predicate",
           "derived_field", "field_names", "fields_from_table", "parse", "run_fields"]
