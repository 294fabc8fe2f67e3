"""Counting many grouping sets over any number of attributes, in batches.

DuckDB's ``GROUPING(a0, ..., ak-1)`` is a bitmask of ``k`` bits and accepts at most 64
arguments, and one statement over many attributes builds a wide intermediate: a run with
more than :data:`BATCH_ATTRIBUTES` attributes is counted in several statements, each over
at most that many attributes (the sets whose attributes fall in the same chunks go
together). Their rows are put back into the one-statement shape: a column ``a<i>`` per
attribute and ``gid`` as :func:`analysis.sql.slices.grouping_mask` over all ``k``
attributes (a Python int, so more than 63 attributes never overflow).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from analysis.sql import slices as Q

#: Most attributes in one GROUPING SETS statement (GROUPING ids stay well inside 32 bits).
BATCH_ATTRIBUTES = 24


def batches(k: int, sets: Sequence[Sequence[int]], size: int = BATCH_ATTRIBUTES) -> list[tuple[list[int], list[tuple]]]:
    """Split grouping ``sets`` over ``k`` attributes into statements of at most ``size`` attributes.

    Attributes are cut into chunks of ``size // m`` (``m`` the largest set); the sets whose
    attributes fall into the same chunks form one batch, so a batch never spans more than
    ``size`` attributes. Returns ``(global attribute indices, sets in local indices)`` per batch.

    >>> [(a, s) for a, s in batches(4, [(0,), (1,), (2,), (3,), (0, 2)], size=2)]
    [([0], [(0,)]), ([1], [(0,)]), ([2], [(0,)]), ([3], [(0,)]), ([0, 2], [(0, 1)])]
    """
    if k <= size:
        return [(list(range(k)), [tuple(s) for s in sets])]
    widest = max((len(s) for s in sets), default=1) or 1
    chunk = max(1, size // widest)
    grouped: dict[tuple, list[tuple]] = {}
    for s in sets:
        key = tuple(sorted({i // chunk for i in s})) or (0,)
        grouped.setdefault(key, []).append(tuple(s))
    out = []
    for key in sorted(grouped, key=lambda c: (len(c), c)):
        members = [i for c in key for i in range(c * chunk, min((c + 1) * chunk, k))]
        used = sorted({i for s in grouped[key] for i in s}) or members[:1]
        local = {g: j for j, g in enumerate(used)}
        out.append((used, [tuple(local[i] for i in s) for s in grouped[key]]))
    return out


def grouping_counts(cur, k: int, sets: Sequence[Sequence[int]],
                    build: Callable[[list[int], list[tuple]], tuple[str, list]]) -> pd.DataFrame:
    """Run ``build(attribute indices, local sets)`` per batch and stack the rows as one statement over ``k`` would give.

    ``build`` returns a GROUPING SETS statement (:mod:`analysis.sql.slices`) over the listed
    attributes, whose rows start with one value column per attribute, then ``gid``.
    """
    parts = batches(k, sets)
    if len(parts) == 1 and parts[0][0] == list(range(k)):
        return cur.execute(*build(*parts[0])).df()
    frames = []
    for used, local_sets in parts:
        raw = cur.execute(*build(used, local_sets)).df()
        width = len(used)
        values = {f"a{g}": raw[f"a{j}"].astype(object) for j, g in enumerate(used)}
        frame = pd.DataFrame({f"a{i}": values.get(f"a{i}", pd.Series([None] * len(raw), dtype=object,
                                                                      index=raw.index)) for i in range(k)})
        local_gid = raw["gid"].to_numpy()
        frame["gid"] = pd.Series(
            [Q.grouping_mask(k, [used[j] for j in range(width) if not (int(g) >> (width - 1 - j)) & 1])
             for g in local_gid], dtype=object, index=raw.index)
        for column in raw.columns[width + 1:]:
            frame[column] = raw[column]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
