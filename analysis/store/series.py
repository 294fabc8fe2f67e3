"""Series of runs: checkpoints of one training run or successive releases, kept in the store.

A series is an ordered list of runs of the same examples (or the same population) with a reference run (the first,
or one named). The order comes from a training step in the run's name or model (``step-12000``, ``ckpt_3k``,
``checkpoint 800``), from a date in it (``2026-03-01``) or from when the run was loaded, or is the order given.
Stored in the optional ``series`` table (:data:`analysis.store.schema.SERIES`), one row per member.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import pandas as pd

from analysis.errors import FaultlineError
from analysis.sql import series as S
from analysis.store import Store

OrderBy = Literal["auto", "step", "date", "given"]
ORDER_CHOICES: tuple[str, ...] = ("auto", "step", "date", "given")

MSG_NAME = "A series name must be non-empty text without line breaks, got {value!r}"
MSG_TOO_FEW = "A series needs at least two runs, got {count}: {runs}"
MSG_DUPLICATE_RUN = "Run {run!r} is listed twice in the series; list each run once"
MSG_NO_STEP = ("Cannot order by step: run {run!r} has no training step in its name or model (expected a name like "
               "'step-12000', 'ckpt_3k' or 'checkpoint 800'); use --order-by given or date, or rename the run")
MSG_REFERENCE = "The reference run {run!r} is not one of the series' runs: {runs}"
MSG_EXISTS = "A series named {name!r} already exists; delete it first or choose another name"
MSG_NOT_FOUND = "No series named {name!r} in {path}. Series: {known}"
MSG_ORDER = "order_by must be one of {choices}, got {value!r}"
MSG_RUN_GONE = "Series {name!r} lists run {run!r}, which is no longer in the store; recreate the series"

_STEP = re.compile(r"(?:^|[^a-z])(?:step|steps|ckpt|checkpoint|iter|iteration|it|global[-_ ]?step)[-_ =:]?"
                   r"(\d+(?:\.\d+)?)\s*([km]?)(?![a-z0-9])", re.IGNORECASE)
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def detect_step(*texts: str | None) -> float | None:
    """The training step named in a run's name or model, or None.

    >>> detect_step("acme-7b step-12000"), detect_step("ckpt_3k"), detect_step("checkpoint 800"), detect_step("v2")
    (12000.0, 3000.0, 800.0, None)
    """
    for text in texts:
        if not text:
            continue
        match = _STEP.search(text)
        if match:
            scale = {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2).lower()]
            return float(match.group(1)) * scale
    return None


def detect_date(*texts: str | None) -> datetime | None:
    """A date (YYYY-MM-DD) named in a run's name or model, or None.

    >>> detect_date("release 2026-03-01")
    datetime.datetime(2026, 3, 1, 0, 0)
    """
    for text in texts:
        match = _DATE.search(text or "")
        if match:
            try:
                return datetime(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            except ValueError:
                continue
    return None


@dataclass(frozen=True)
class SeriesInfo:
    """A stored series of runs, in order."""

    name: str
    """The series' name (unique in the store)."""
    run_ids: tuple[str, ...]
    """Its runs' ids, in order."""
    run_names: tuple[str, ...]
    """Their names, in the same order."""
    tables: tuple[str, ...]
    """Their example tables, in the same order."""
    steps: tuple[float | None, ...]
    """The order key of each run: its training step, a date as days since 1970, or its position (``given``)."""
    reference: str
    """The reference run's id."""
    order_by: str
    """How the order was set: ``step``, ``date`` or ``given``."""
    created_at: datetime
    """When the series was created (UTC)."""

    @property
    def reference_index(self) -> int:
        return self.run_ids.index(self.reference)

    @property
    def labels(self) -> list[str]:
        """How each run is named on axes: ``step 12,000`` when ordered by step, its name otherwise."""
        if self.order_by == "step":
            return [f"step {s:,.0f}" if s is not None else n for s, n in zip(self.steps, self.run_names)]
        return list(self.run_names)

    def scores(self) -> list[float]:
        """The x values of the trend tests: the steps (or days), else the positions 0, 1, 2..."""
        if all(s is not None and math.isfinite(s) for s in self.steps):
            return [float(s) for s in self.steps]
        return [float(i) for i in range(len(self.run_ids))]


def create_series(store: Store, name: str, runs: Sequence[str], *, order_by: OrderBy = "auto",
                  reference: str | None = None) -> SeriesInfo:
    """Create a series of runs in the store (one transaction).

    Parameters
    ----------
    store : Store
        A writable store holding the runs.
    name : str
        The series' name (unique).
    runs : sequence of str
        Run names or ids (at least two, each once).
    order_by : {"auto", "step", "date", "given"}, default "auto"
        ``step``: by the training step in each run's name or model (:func:`detect_step`); ``date``: by a date in the
        name or model, else by when the run was loaded; ``given``: as listed; ``auto``: by step when every run names
        one, else as given.
    reference : str, optional
        The reference run (name or id); default the first run in order.

    Returns
    -------
    SeriesInfo
        The series as stored.

    Raises
    ------
    FaultlineError
        A bad name (:data:`MSG_NAME`), fewer than two runs (:data:`MSG_TOO_FEW`), a run twice
        (:data:`MSG_DUPLICATE_RUN`), no step to order by (:data:`MSG_NO_STEP`), a reference outside the series
        (:data:`MSG_REFERENCE`), a name already taken (:data:`MSG_EXISTS`), a bad ``order_by``.
    RunNotFoundError
        A run that is not in the store.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> s = Store(tempfile.mkdtemp() + "/s.duckdb")
    >>> for step in (2000, 1000):
    ...     _ = s.ingest_frame(pd.DataFrame({"q": [str(step)], "correct": [True]}), name=f"step-{step}")
    >>> create_series(s, "training", ["step-2000", "step-1000"]).run_names
    ('step-1000', 'step-2000')
    """
    if not isinstance(name, str) or not name.strip() or "\n" in name:
        raise FaultlineError(MSG_NAME.format(value=name))
    name = name.strip()
    if order_by not in ORDER_CHOICES:
        raise FaultlineError(MSG_ORDER.format(choices=", ".join(ORDER_CHOICES), value=order_by))
    infos = [store.run(r) for r in runs]
    if len(infos) < 2:
        raise FaultlineError(MSG_TOO_FEW.format(count=len(infos), runs=", ".join(repr(str(r)) for r in runs) or "none"))
    seen: set[str] = set()
    for info in infos:
        if info.run_id in seen:
            raise FaultlineError(MSG_DUPLICATE_RUN.format(run=info.name))
        seen.add(info.run_id)
    steps = [detect_step(i.name, i.model) for i in infos]
    if order_by == "auto":
        order_by = "step" if all(s is not None for s in steps) else "given"
    if order_by == "step":
        missing = next((i for i, s in zip(infos, steps) if s is None), None)
        if missing is not None:
            raise FaultlineError(MSG_NO_STEP.format(run=missing.name))
        keys = steps
    elif order_by == "date":
        dates = [detect_date(i.name, i.model) or i.ingested_at for i in infos]
        keys = [(d - datetime(1970, 1, 1)).total_seconds() / 86400.0 for d in dates]
    else:
        keys = [float(i) for i in range(len(infos))]
    order = sorted(range(len(infos)), key=lambda i: (keys[i], i))
    infos = [infos[i] for i in order]
    keys = [keys[i] for i in order]
    ref = infos[0] if reference is None else store.run(reference)
    if ref.run_id not in {i.run_id for i in infos}:
        raise FaultlineError(MSG_REFERENCE.format(run=ref.name, runs=", ".join(i.name for i in infos)))
    store.ensure_table("series")
    store.ensure_table("series_order")
    now = datetime.now(UTC).replace(tzinfo=None)
    misplaced = _misplaced(store, infos, ref) if store.engine == "duckdb" else {}
    with store.transaction() as cur:
        if cur.execute(S.MEMBERS_OF, [name]).fetchall():
            raise FaultlineError(MSG_EXISTS.format(name=name))
        for position, (info, key) in enumerate(zip(infos, keys)):
            cur.execute(S.INSERT_MEMBER, [name, position, info.run_id, key, info.run_id == ref.run_id, order_by, now])
        for info in infos:
            if info.run_id in misplaced:
                cur.execute(S.DELETE_ORDER, [info.run_id, ref.run_id])
                cur.execute(S.INSERT_ORDER, [info.run_id, ref.run_id, info.row_count, ref.row_count,
                                             misplaced[info.run_id]])
        store.bump_version(cur)
    return get_series(store, name)


def _misplaced(store: Store, infos: Sequence, ref) -> dict[str, int]:
    """Per run, its rows whose example id is not the reference's at the same position (every row read, once, when
    the series is created: the analyses then pair a run with 0 row by row without reading an example id); a run whose
    first rows already differ is not read further (a positive count). Runs read in place from Parquet files (views)
    are left out: their files may change under the store, so their order is checked by each analysis instead."""
    cur = store.cursor()
    if Store._is_view(cur, ref.table_name):
        return {}
    infos = [i for i in infos if not Store._is_view(cur, i.table_name)]
    if not infos:
        return {}
    tables = [i.table_name for i in infos]
    head = cur.execute(*S.aligned_head_sql(tables, ref.table_name)).fetchall()
    out = {infos[int(k)].run_id: int(m) for k, m in head if m}
    check = [i for i in infos if i.run_id not in out]
    if check:
        rows = cur.execute(*S.misplaced_sql([i.table_name for i in check], ref.table_name)).fetchall()
        out.update({check[int(k)].run_id: int(m) for k, m in rows})
    return out


def order_checks(store: Store, info: SeriesInfo) -> dict[str, int]:
    """Per run of the series, its example rows out of the reference's order as checked when a series with this
    reference was created (0: the same examples in the same order, or its first rows); runs not checked, or whose
    row count changed since, are left out."""
    if not store.table_exists("series_order"):
        return {}
    rows = store.cursor().execute(S.ORDER_OF, [info.reference]).fetchall()
    members = set(info.run_ids)
    return {run_id: int(m) for run_id, m in rows if run_id in members}


def _from_rows(name: str, rows: pd.DataFrame) -> SeriesInfo:
    gone = rows[rows["run_name"].isna()]
    if not gone.empty:
        raise FaultlineError(MSG_RUN_GONE.format(name=name, run=gone["run_id"].iloc[0]))
    steps = tuple(None if pd.isna(s) else float(s) for s in rows["step"])
    ref = rows.loc[rows["is_reference"].astype(bool), "run_id"]
    return SeriesInfo(name, tuple(rows["run_id"]), tuple(rows["run_name"]), tuple(rows["table_name"]), steps,
                      str(ref.iloc[0]) if len(ref) else str(rows["run_id"].iloc[0]), str(rows["order_by"].iloc[0]),
                      pd.Timestamp(rows["created_at"].iloc[0]).to_pydatetime())


def get_series(store: Store, name: str | SeriesInfo) -> SeriesInfo:
    """A stored series by name (a :class:`SeriesInfo` is returned as it is).

    Parameters
    ----------
    store : Store
        The store holding the series.
    name : str or SeriesInfo
        The series' name.

    Returns
    -------
    SeriesInfo
        Its runs in order, the reference and how the order was set.

    Raises
    ------
    FaultlineError
        No such series (:data:`MSG_NOT_FOUND`, listing the known ones), or one of its runs was deleted
        (:data:`MSG_RUN_GONE`).
    """
    if isinstance(name, SeriesInfo):
        return name
    rows = store.cursor().execute(S.MEMBERS_OF, [name]).df() if store.table_exists("series") else pd.DataFrame()
    if rows.empty:
        known = series_names(store)
        raise FaultlineError(MSG_NOT_FOUND.format(name=name, path=store.path,
                                                  known=", ".join(repr(k) for k in known) or "none"))
    return _from_rows(name, rows)


def series_names(store: Store) -> list[str]:
    """The names of the stored series, sorted."""
    if not store.table_exists("series"):
        return []
    return sorted(set(store.cursor().execute(S.MEMBERS).df()["series_name"]))


def list_series(store: Store) -> pd.DataFrame:
    """Every stored series, one row each.

    Parameters
    ----------
    store : Store
        The store.

    Returns
    -------
    pandas.DataFrame
        ``name``, ``runs`` (count), ``first``, ``last`` (run names), ``reference`` (run name), ``order_by``,
        ``created_at``; empty when there is none.

    Raises
    ------
    StoreError
        A store that cannot be read.
    """
    columns = ["name", "runs", "first", "last", "reference", "order_by", "created_at"]
    if not store.table_exists("series"):
        return pd.DataFrame({c: pd.Series(dtype="str") for c in columns})
    rows = store.cursor().execute(S.MEMBERS).df()
    out = []
    for name, group in rows.groupby("series_name", sort=True):
        ref = group.loc[group["is_reference"].astype(bool), "run_name"]
        out.append({"name": name, "runs": len(group), "first": group["run_name"].iloc[0],
                    "last": group["run_name"].iloc[-1], "reference": ref.iloc[0] if len(ref) else None,
                    "order_by": group["order_by"].iloc[0], "created_at": group["created_at"].iloc[0]})
    return pd.DataFrame(out, columns=columns)


def series_fields(store: Store, info: SeriesInfo) -> list[pd.DataFrame]:
    """The stored columns of each run of a series, in order (``column_name``, ``role``, ``kind``), from one
    statement."""
    rows = store.cursor().execute(S.SERIES_FIELDS, [info.name]).df()
    groups = {int(k): g[["column_name", "role", "kind"]].reset_index(drop=True)
              for k, g in rows.groupby("position", sort=True)}
    empty = pd.DataFrame({c: pd.Series(dtype="str") for c in ("column_name", "role", "kind")})
    return [groups.get(k, empty) for k in range(len(info.run_ids))]


def delete_series(store: Store, name: str) -> None:
    """Delete a series (its runs stay in the store).

    Parameters
    ----------
    store : Store
        A writable store.
    name : str
        The series' name.

    Returns
    -------
    None

    Raises
    ------
    FaultlineError
        No such series (:data:`MSG_NOT_FOUND`).
    StoreError
        A store open for reading only.
    """
    get_series(store, name)
    with store.transaction() as cur:
        cur.execute(S.DELETE_SERIES, [name])
        store.bump_version(cur)


__all__ = ["ORDER_CHOICES", "OrderBy", "SeriesInfo", "create_series", "delete_series", "detect_date", "detect_step",
           "get_series", "list_series", "series_fields", "series_names"]
