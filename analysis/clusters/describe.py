"""What each cluster is about: its statistics, terms, representative and failing examples, failure modes.

:func:`describe_clusters` turns the labels of a clustering into the cluster table: the slicing
engine's statistics for each group (error rate with a Wilson / Clopper-Pearson interval, a test
against the rest of the run and a Benjamini-Hochberg q-value, see :func:`analysis.stats.slice_vs_rest`),
the top class-based TF-IDF terms (:func:`class_tfidf`, BERTopic's c-TF-IDF), the examples nearest
the centre and the most typical failing ones, and the share of each failure mode among the
cluster's failures (labels from :func:`failure_modes`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis import stats as _stats
from analysis.errors import FaultlineError
from analysis.objective.modes import mode_indicators
from analysis.store import RunSchema, Store

#: HDBSCAN's noise and the examples whose text is empty: groups of their own, not clusters.
NOISE, EMPTY = "noise", "empty"
#: Terms, representative and typical failing examples reported per cluster.
N_TERMS, N_REPRESENTATIVE, N_FAILING = 8, 5, 5
#: Characters of each example text kept in the cluster table.
TEXT_CHARS = 400

_STYLE_STOP_WORDS = ("answer", "question", "thanks", "thank", "please", "hi", "hello")
#: Words for the cluster terms: letters first (numbers alone are not terms), then letters, digits, ' and -.
TOKEN_PATTERN = r"(?u)\b[^\W\d_][\w'-]+\b"


def failure_modes(store: Store, run_id: str | RunSchema, fields: pd.DataFrame, frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Failure-mode labels as one boolean column per mode, aligned with ``frame`` (no column: no labels).

    Stored labels first (columns with the role ``failure_mode``: ``mode.<id>`` flags, or a
    categorical label, one flag per value); otherwise the failure-mode engine's indicators
    (its detectors and the researchers' annotations).
    """
    stored = fields[(fields["role"] == "failure_mode") & (fields["kind"] != "vector")]
    flags: dict[str, np.ndarray] = {}
    source = ""
    if not stored.empty:
        values = store.examples(run_id, columns=["example_id", *stored["column_name"]])
        for row in stored.itertuples():
            column = values[row.column_name]
            if row.kind == "boolean" or pd.api.types.is_bool_dtype(column):
                name = row.column_name.split(".", 1)[1] if row.column_name.startswith("mode.") else row.column_name
                flags[name] = column.fillna(False).astype(bool).to_numpy()
            else:
                for value in sorted(column.dropna().astype(str).unique()):
                    flags[value] = (column.astype("string") == value).fillna(False).to_numpy(dtype=bool)
        source = "the run's stored failure-mode labels"
        aligned = pd.DataFrame(flags, index=values["example_id"].astype(str))
    else:
        try:
            indicators = mode_indicators(store, run_id)
        except FaultlineError:
            return pd.DataFrame(index=frame.index), ""
        modes = [c for c in indicators.columns if c not in ("example_id", "correct")
                 and pd.api.types.is_bool_dtype(indicators[c])]
        aligned = indicators.set_index(indicators["example_id"].astype(str))[modes]
        source = "the failure-mode detectors and annotations"
    aligned = aligned.reindex(frame["example_id"].astype(str)).fillna(False).astype(bool)
    aligned = aligned.loc[:, aligned.any(axis=0).to_numpy()]  # modes no example has say nothing here
    aligned.index = frame.index
    return aligned, source


def class_tfidf_weights(documents: Sequence[str], classes: Sequence, *,
                        stop_words: Sequence[str] | str | None = "english") -> tuple[list, np.ndarray, np.ndarray]:
    """Class-based TF-IDF (BERTopic's c-TF-IDF): (class names, vocabulary, class x term weights).

    All documents of a class form one document; its term counts are L1-normalised and weighted
    by ``log(1 + A / f_t)``, where ``f_t`` is the term's count over all classes and ``A`` the
    average number of words per class. Counting each document and summing per class equals
    counting the concatenated documents (no token spans two documents), in one pass.
    """
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    docs = list(documents)
    labels = pd.Series(list(classes), dtype=object)
    names = list(dict.fromkeys(labels))
    words = sorted(ENGLISH_STOP_WORDS | set(_STYLE_STOP_WORDS)) if stop_words == "english" else stop_words
    vectorizer = CountVectorizer(stop_words=words, token_pattern=TOKEN_PATTERN, lowercase=True)
    try:
        counts = vectorizer.fit_transform(docs)
    except ValueError:  # no document has a word (only stop words, numbers or punctuation)
        return names, np.array([], dtype=object), np.zeros((len(names), 0))
    codes = pd.Categorical(labels, categories=names).codes
    member = sp.csr_matrix((np.ones(len(docs)), (codes, np.arange(len(docs)))), shape=(len(names), len(docs)))
    tf = (member @ counts).astype(np.float64).tocsr()  # class x term counts: the concatenated documents
    frequency = np.asarray(tf.sum(axis=0)).ravel()
    average = float(np.asarray(tf.sum(axis=1)).mean())
    idf = np.log(1.0 + average / np.maximum(frequency, 1e-12))
    row_sums = np.asarray(tf.sum(axis=1)).ravel()
    weights = (sp.diags(1.0 / np.maximum(row_sums, 1e-12)) @ tf @ sp.diags(idf)).toarray()
    return names, vectorizer.get_feature_names_out(), weights


def class_tfidf(documents: Sequence[str], classes: Sequence, *, top: int = N_TERMS,
                stop_words: Sequence[str] | str | None = "english") -> dict:
    """Top terms per class by class-based TF-IDF (see :func:`class_tfidf_weights`): {class: [terms, best first]}.

    >>> class_tfidf(["dose of ibuprofen", "ibuprofen dose mg", "git merge conflict", "merge branch"],
    ...             ["a", "a", "b", "b"], top=2)
    {'a': ['dose', 'ibuprofen'], 'b': ['merge', 'branch']}
    """
    if not len(documents):
        return {}
    names, vocabulary, weights = class_tfidf_weights(documents, classes, stop_words=stop_words)
    out = {}
    for i, name in enumerate(names):
        row = weights[i]
        order = np.lexsort((vocabulary, -row)) if len(vocabulary) else []  # by weight, ties alphabetical
        out[name] = [str(vocabulary[j]) for j in order[:top] if row[j] > 0]
    return out

def describe_clusters(labels: pd.DataFrame, unit: np.ndarray, column: str, *, modes: pd.DataFrame, confidence: float,
                      fdr: float) -> pd.DataFrame:
    """The cluster table: one row per group, sorted by evidence (q-value, then difference, then size).

    Parameters
    ----------
    labels : DataFrame
        One row per example: ``example_id``, ``cluster`` (a cluster number as text, ``noise`` or
        ``empty``), ``correct``, ``scored`` and ``text``.
    unit : ndarray, shape (n_examples, n_dimensions)
        The examples' unit vectors (rows aligned with ``labels``): representative examples are
        the nearest the centre of their group by cosine similarity.
    column : str
        The run's column holding the labels (``cluster.<field>``), named in each description.
    modes : DataFrame
        One boolean column per failure mode, aligned with ``labels`` (no column: no labels).
    confidence : float
        Confidence level of the intervals, in (0, 1).
    fdr : float
        False discovery rate, in (0, 1): a group is a finding when its q-value is below it and
        its error rate above the rest's.

    Returns
    -------
    DataFrame
        The columns of :attr:`analysis.clusters.pipeline.ClusterResult.table`; rates are
        fractions in [0, 1], ``difference`` the group's rate minus the rest's (fraction).
    """
    groups = labels["cluster"].astype(str).to_numpy()
    scored = labels["scored"].to_numpy(dtype=bool)
    failing = scored & ~labels["correct"].fillna(False).to_numpy(dtype=bool)
    total_n, total_errors = int(scored.sum()), int(failing.sum())
    names = sorted(set(groups), key=lambda g: (g in (NOISE, EMPTY), g == EMPTY, int(g) if g.isdigit() else 0))
    size = np.array([(groups == g).sum() for g in names], dtype=np.int64)
    n = np.array([(scored & (groups == g)).sum() for g in names], dtype=np.int64)
    errors = np.array([(failing & (groups == g)).sum() for g in names], dtype=np.int64)
    vs_rest = _stats.slice_vs_rest(errors, n, total_errors, total_n, tested=len(names) >= 2, confidence=confidence)
    low, high, method = vs_rest.ci_low, vs_rest.ci_high, vs_rest.ci_method
    p_value, test, q_value = vs_rest.p_value, vs_rest.test, vs_rest.q_value
    rate, rest_rate, difference = vs_rest.error_rate, vs_rest.rest_error_rate, vs_rest.difference
    finding = (q_value < fdr) & (difference > 0)
    texts = labels["text"].astype(str).to_numpy()
    nonempty_groups = groups != EMPTY
    terms = class_tfidf(texts[nonempty_groups], groups[nonempty_groups]) if nonempty_groups.any() else {}
    if any(not t for t in terms.values()):  # e.g. a cluster of the repeated output "The": its words, stop words or not
        bare = class_tfidf(texts[nonempty_groups], groups[nonempty_groups], stop_words=None)
        terms = {g: t or bare.get(g, []) for g, t in terms.items()}
    ids = labels["example_id"].astype(str).to_numpy()
    rows = []
    mode_flags = modes.to_numpy(dtype=bool) if modes.shape[1] else None
    mode_names = [str(m) for m in modes.columns]
    for i, g in enumerate(names):
        members = np.flatnonzero(groups == g)
        centre = unit[members].mean(axis=0)
        closeness = unit[members] @ centre if np.linalg.norm(centre) > 0 else np.zeros(len(members))
        order = members[np.lexsort((members, -closeness))]
        reps = order[:N_REPRESENTATIVE]
        fails = order[failing[order]][:N_FAILING]
        shares: dict = {}
        failed = members[failing[members]]
        if mode_flags is not None and failed.size:  # share of the cluster's failures in each mode
            per_mode = mode_flags[failed].sum(axis=0) / failed.size
            shares = {mode_names[j]: round(float(per_mode[j]), 4)
                      for j in np.argsort(-per_mode, kind="stable") if per_mode[j] > 0}
        rows.append({
            "cluster": g, "description": f"{column} = {g}", "size": int(size[i]), "n": int(n[i]),
            "errors": int(errors[i]), "error_rate": rate[i], "ci_low": low[i], "ci_high": high[i],
            "ci_method": str(method[i]), "rest_error_rate": rest_rate[i], "difference": difference[i],
            "p_value": p_value[i], "test": str(test[i]), "q_value": q_value[i], "finding": bool(finding[i]),
            "terms": terms.get(g, []),
            "representative_ids": ids[reps].tolist(),
            "representative_texts": [t[:TEXT_CHARS] for t in texts[reps]],
            "failing_ids": ids[fails].tolist(),
            "failing_texts": [t[:TEXT_CHARS] for t in texts[fails]],
            "failure_modes": shares,
        })
    table = pd.DataFrame(rows)
    table["_q"] = table["q_value"].fillna(2.0)
    table = table.sort_values(["_q", "difference", "size"], ascending=[True, False, False], kind="stable")
    return table.drop(columns="_q").reset_index(drop=True)


__all__ = ["describe_clusters", "class_tfidf", "class_tfidf_weights", "failure_modes", "NOISE", "EMPTY",
           "N_TERMS", "N_REPRESENTATIVE", "N_FAILING", "TEXT_CHARS", "TOKEN_PATTERN"]
