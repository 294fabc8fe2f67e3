"""A run without an objective spec: the matrix keeps every failure mode as a row, in one "no spec" column whose
cells have no signal, and says in one sentence what a spec would add; a spec's own cells are left as they are."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.objective.link import NO_SPEC_COMPONENT, NO_SPEC_SENTENCE, link
from analysis.objective.spec import parse_objective
from analysis.objective.taxonomy import DEFAULT_MODES
from analysis.store import Store


@pytest.fixture
def store(tmp_path):
    rng = np.random.default_rng(3)
    n = 200
    s = Store(tmp_path / "l.duckdb")
    s.ingest_frame(pd.DataFrame({"id": [f"e{i}" for i in range(n)], "prompt": ["q"] * n,
                                 "output": rng.choice(["yes", "", "I cannot help with that."], size=n),
                                 "lang": rng.choice(["en", "sw"], size=n), "correct": rng.random(n) > 0.3}), name="r")
    yield s
    s.close()


def test_no_spec_gives_one_no_signal_cell_per_mode(store):
    result = link(store, "r", None, strict=False)
    assert result.cells.empty
    cells = result.display_cells()
    assert list(cells["mode"]) == [m.id for m in DEFAULT_MODES]
    assert set(cells["component"]) == {NO_SPEC_COMPONENT}
    assert set(cells["verdict"]) == {"no signal"}
    assert set(cells["sentence"]) == {NO_SPEC_SENTENCE}
    assert list(cells.columns) == list(result.cells.columns)


def test_a_spec_with_components_keeps_its_cells(store):
    spec = parse_objective("""objective: t
components:
  - id: judge
    name: Judge
    kind: rule
    why: w
    serves: s
    signals: [{column: correct, direction: higher_is_better}]
""")
    result = link(store, "r", spec, strict=False)
    pd.testing.assert_frame_equal(result.display_cells(), result.cells)
    assert NO_SPEC_COMPONENT not in set(result.cells["component"])
