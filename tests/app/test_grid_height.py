"""Grids are sized to their rows (the trial saw empty rows under a short list of examples kept at a fixed height):
one helper, ``ui.tables.grid_height``, gives every sized grid its height, capped; no page passes a fixed number. The
browser check is tests/browser/test_projector_columns.py (a five-pair grid on Compare)."""

from __future__ import annotations

import ast

import pytest

from tests.conftest import ROOT


def test_a_short_grid_is_its_header_and_rows_and_a_long_one_is_capped():
    from ui.tables import EXAMPLES_MAX_PX, grid_height

    assert grid_height(5) == 35 + 5 * 35 + 2  # header, five rows, the borders: as the grid draws them
    assert grid_height(1) == grid_height(0) == 72
    assert grid_height(500) == EXAMPLES_MAX_PX
    assert grid_height(3, row_height=66, cap=640) == 35 + 3 * 66 + 2


@pytest.mark.parametrize("script", sorted(p.relative_to(ROOT).as_posix()
                                           for p in [ROOT / "app.py", *(ROOT / "pages").glob("*.py")]))
def test_no_page_gives_a_grid_a_fixed_height(script):
    tree = ast.parse((ROOT / script).read_text())
    fixed = [node.lineno for node in ast.walk(tree)
             if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "dataframe"
             for k in node.keywords if k.arg == "height" and isinstance(k.value, ast.Constant)]
    assert not fixed, f"{script}: st.dataframe(height=<a number>) on lines {fixed}: use ui.tables.grid_height"
