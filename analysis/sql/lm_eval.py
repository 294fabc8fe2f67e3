"""Statements that read an lm-evaluation-harness samples file (:mod:`analysis.formats.lm_eval`).

They run on the reader's own in-memory connection, never on a store, so they use DuckDB's JSON
functions and list lambdas freely: no store's example rows pass through them (the portable
subset of ``tests/unit/store/test_sql_portable.py`` is about those). One pass reads the file
into a table ``s`` (one row per sample: ``line``, ``doc_id``, ``doc``, ``filter``, ``kind``,
``input``, ``output``, ``reference``, ``chosen_index``, ``chosen_logprob``, ``response`` and the
raw metric values ``m0``, ``m1``...); the other statements inspect ``s`` and select one
filter's rows from it. Every value (the file, the JSON paths, the names of the dataset row's
fields, filters) is bound as ``?``; metric names become identifiers only through
:func:`~analysis.sql.quote_ident`.
"""

from __future__ import annotations

from collections.abc import Sequence

from analysis.sql import quote_ident

#: Characters a choice's continuation is stripped of (lm-eval prefixes each with a space).
_SPACE = "' ' || chr(9) || chr(10) || chr(13)"

#: Drops ``s`` (before a second read that knows more metric names).
DROP = "DROP TABLE IF EXISTS s"
#: How many samples were read.
COUNT = "SELECT count(*) FROM s"
#: Gives each record its line number (bound: the line numbers of the non-blank lines, in order).
RENUMBER = "UPDATE s SET line = list_extract(CAST(? AS BIGINT[]), CAST(line AS INTEGER))"
#: The first record whose doc_id is missing.
MISSING_DOC_ID = "SELECT min(line) FROM s WHERE doc_id IS NULL"
#: Every metric name the samples list under ``metrics``, first named first.
LISTED_METRICS = ("SELECT name FROM (SELECT unnest(TRY_CAST(metrics AS VARCHAR[])) AS name, line FROM s "
                  "WHERE json_type(metrics) = 'ARRAY') WHERE name IS NOT NULL GROUP BY name ORDER BY min(line)")
#: Every key of the dataset rows, first seen first.
DOC_KEYS = ("SELECT key FROM (SELECT unnest(json_keys(doc)) AS key, line FROM s WHERE json_type(doc) = 'OBJECT') "
            "GROUP BY key ORDER BY min(line), key")
#: Filters in the order the samples first use them.
FILTERS = "SELECT filter FROM s GROUP BY filter ORDER BY min(line)"
#: How many times the most repeated document appears (the old layout's number of filters).
DOC_COPIES = "SELECT max(n) FROM (SELECT count(*) AS n FROM s GROUP BY doc_id)"
#: The old layout names no filter: the k-th time a document appears is the k-th of the bound names.
ASSIGN_FILTERS = """
    UPDATE s SET filter = list_extract(CAST(? AS VARCHAR[]), CAST(o.k AS INTEGER)) FROM (
        SELECT line, row_number() OVER (PARTITION BY doc_id ORDER BY line) AS k FROM s) AS o
    WHERE s.line = o.line"""
#: For one filter (bound): whether it has multiple-choice samples, and generations a filter changed.
RUN_SHAPE = ("SELECT bool_or(kind = 'multiple_choice'), bool_or(kind = 'generate' AND response IS DISTINCT FROM output) "
             "FROM s WHERE filter = ?")


def load(metrics: Sequence[str], *, named_filters: bool) -> str:
    """Read the samples file into ``s``: one pass of ``read_json`` with every field as JSON.

    Parameters, in order: the file, ``read_json``'s format, the columns (a dict of name to
    ``'JSON'``), the largest object in bytes, the JSON paths ``[prompt, first continuation]``
    inside ``arguments`` and the path of every request's continuation.

    A sample is ``multiple_choice`` when its requests carry text continuations with one
    log-likelihood each (its output is the most likely choice, its reference the choice a
    numeric target names), ``loglikelihood`` for a single such request (no output), else
    ``generate`` (the output is the first filtered answer; the target stays text). The record
    number is given after the extraction, over narrow rows, and follows the file's order.
    """
    raw_metrics = "".join(f", {quote_ident(m)} AS m{i}" for i, m in enumerate(metrics))
    metric_cols = "".join(f", m{i}" for i in range(len(metrics)))
    filter_expr = "coalesce(json_extract_string(filter, '$'), 'none')" if named_filters else "CAST(NULL AS VARCHAR)"
    return f"""
    CREATE TABLE s AS
    WITH r AS (
        SELECT doc_id, doc, target, metrics, filter, resps, coalesce(filtered_resps, resps) AS fr,
               json_extract(arguments, CAST(? AS VARCHAR[])) AS a,
               json_extract_string(arguments, ?) AS choices{raw_metrics}
        FROM read_json(?, format=?, columns=?, maximum_object_size=?)
    ), x AS (
        SELECT *,
            json_type(a[1]) AS prompt_type,
            CASE json_type(a[1]) WHEN 'ARRAY' THEN json_extract_string(a[1], '$[0]')
                                 ELSE json_extract_string(a[1], '$') END AS prompt_text,
            json_type(a[2]) AS cont_type,
            TRY_CAST(json_extract_string(fr, '$[*][0]') AS DOUBLE[]) AS lps,
            CASE WHEN json_type(target) IN ('BIGINT', 'UBIGINT') THEN TRY_CAST(target AS BIGINT)
                 WHEN json_type(target) = 'VARCHAR'
                      AND regexp_full_match(trim(json_extract_string(target, '$')), '[0-9]+')
                 THEN TRY_CAST(trim(json_extract_string(target, '$')) AS BIGINT) END AS target_index
        FROM r
    ), k AS (
        SELECT *,
            CASE WHEN cont_type = 'VARCHAR' AND len(choices) >= 2 AND len(lps) = len(choices)
                      AND list_count(lps) = len(lps) THEN 'multiple_choice'
                 WHEN cont_type = 'VARCHAR' THEN 'loglikelihood'
                 ELSE 'generate' END AS kind,
            list_position(lps, list_max(lps)) AS best
        FROM x
    ), e AS (
        SELECT json_extract_string(doc_id, '$') AS doc_id, doc, metrics, {filter_expr} AS filter, kind,
            CASE WHEN prompt_type = 'ARRAY' AND json_valid(prompt_text) AND json_type(prompt_text) = 'ARRAY'
                 THEN array_to_string(list_transform(json_extract(prompt_text, '$[*]'),
                          lambda m: concat_ws(': ', json_extract_string(m, '$.role'),
                                              json_extract_string(m, '$.content'))), chr(10) || chr(10))
                 ELSE prompt_text END AS input,
            CASE kind
                WHEN 'multiple_choice' THEN trim(choices[best], {_SPACE})
                WHEN 'generate' THEN CASE json_type(fr, '$[0]')
                    WHEN 'VARCHAR' THEN json_extract_string(fr, '$[0]')
                    WHEN 'ARRAY' THEN CASE WHEN json_type(fr, '$[0][0]') = 'VARCHAR'
                                           THEN json_extract_string(fr, '$[0][0]') END END
                END AS output,
            CASE WHEN kind = 'multiple_choice' AND target_index >= 0 AND target_index < len(choices)
                 THEN trim(choices[target_index + 1], {_SPACE})
                 ELSE json_extract_string(target, '$') END AS reference,
            CASE WHEN kind = 'multiple_choice' THEN best - 1 END AS chosen_index,
            CASE WHEN kind = 'multiple_choice' THEN lps[best] END AS chosen_logprob,
            CASE WHEN kind = 'generate' AND json_type(resps, '$[0][0]') = 'VARCHAR'
                 THEN json_extract_string(resps, '$[0][0]') END AS response{metric_cols}
        FROM k
    )
    SELECT row_number() OVER () AS line, * FROM e
    """


def metric_types(i: int) -> str:
    """The JSON types metric ``m{i}`` takes, each with the first record that has it."""
    return f"SELECT json_type(m{i}) AS t, min(line) FROM s WHERE m{i} IS NOT NULL GROUP BY t ORDER BY 2"


def metric_value(i: int) -> str:
    """Metric ``m{i}`` of one record (bound: its number)."""
    return f"SELECT CAST(m{i} AS VARCHAR) FROM s WHERE line = ?"


def list_element_types(i: int) -> str:
    """The JSON types of the items of list-valued metric ``m{i}``."""
    return (f"SELECT DISTINCT json_type(e) FROM (SELECT unnest(json_extract(m{i}, '$[*]')) AS e FROM s "
            f"WHERE json_type(m{i}) = 'ARRAY')")


def doc_types(n_keys: int) -> str:
    """For each of ``n_keys`` fields of the dataset row (bound: their JSON paths), the types it takes."""
    cols = ", ".join(f"list_distinct(list(t[{i}]))" for i in range(1, n_keys + 1))
    return (f"SELECT {cols} FROM (SELECT json_type(doc, CAST(? AS VARCHAR[])) AS t FROM s "
            "WHERE json_type(doc) = 'OBJECT')")


def run_rows(metrics: Sequence[tuple[int, str, str]], doc_fields: Sequence[tuple[str, str]], *,
             multiple_choice: bool, response: bool) -> str:
    """One filter's samples in file order, as the run's columns.

    ``metrics`` are ``(index, column name, kind)`` with kind ``number`` (booleans as 0/1),
    ``list`` (the mean of the items) or ``text``; ``doc_fields`` are ``(column name, SQL type)``
    read from the dataset row in the order of the bound paths. Parameters: the paths (when
    there are fields), then the filter.
    """
    columns = ["doc_id AS example_id", "input", "output", "reference"]
    for i, name, kind in metrics:
        if kind == "number":
            expr = f"TRY_CAST(m{i} AS DOUBLE)"
        elif kind == "list":
            expr = f"list_avg(TRY_CAST(m{i} AS DOUBLE[]))"
        else:
            expr = f"json_extract_string(m{i}, '$')"
        columns.append(f"{expr} AS {quote_ident(name)}")
    for j, (name, sql_type) in enumerate(doc_fields, start=1):
        value = f"dv[{j}]"
        columns.append(f"{value if sql_type == 'VARCHAR' else f'TRY_CAST({value} AS {sql_type})'} AS {quote_ident(name)}")
    if multiple_choice:
        columns += [f"chosen_index AS {quote_ident('resp:chosen_index')}",
                    f"chosen_logprob AS {quote_ident('resp:chosen_logprob')}"]
    if response:
        columns.append(f"response AS {quote_ident('resp:response')}")
    columns.append("line AS __line")
    doc_values = ", json_extract_string(doc, CAST(? AS VARCHAR[])) AS dv" if doc_fields else ""
    return f"SELECT {', '.join(columns)} FROM (SELECT *{doc_values} FROM s WHERE filter = ?) ORDER BY line"
