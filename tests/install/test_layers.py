"""The layers hold: import-linter's contracts pass, and pages and ui/ use only the engine's public face.

Pages and ``ui/`` may import ``analysis`` (the names of ``analysis/__init__.py``), ``analysis.figures``
and ``analysis.export``; anything deeper is the engine's private business.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

ALLOWED = {"analysis", "analysis.figures", "analysis.export"}
FRONT = sorted([ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").rglob("*.py")])


def engine_imports(path: Path) -> list[tuple[int, str]]:
    """Every (line, module) of ``analysis`` that a file imports, at any depth of the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "analysis"]
        elif (isinstance(node, ast.ImportFrom) and node.module and node.level == 0
              and node.module.split(".")[0] == "analysis"):
            found.append((node.lineno, node.module))
            if node.module == "analysis":  # `from analysis import slicing` reaches a sub-module too
                found += [(node.lineno, f"analysis.{a.name}") for a in node.names
                          if (ROOT / "analysis" / a.name).is_dir() or (ROOT / "analysis" / f"{a.name}.py").exists()]
    return found


@pytest.mark.parametrize("path", FRONT, ids=lambda p: str(p.relative_to(ROOT)))
def test_front_end_imports_only_the_public_face(path):
    bad = [f"{path.relative_to(ROOT)}:{line} imports {module}" for line, module in engine_imports(path)
           if module not in ALLOWED]
    assert not bad, "\n".join(bad)


def test_the_checker_sees_a_private_import(tmp_path):
    probe = tmp_path / "page.py"
    probe.write_text("def f():\n    from analysis.slicing.table import slice_table\nfrom analysis import stats\n")
    assert sorted(m for _, m in engine_imports(probe)) == ["analysis", "analysis.slicing.table", "analysis.stats"]


def test_import_linter_contracts_are_kept():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "import-linter is not installed (requirements-test.txt)"
    result = subprocess.run([exe], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
