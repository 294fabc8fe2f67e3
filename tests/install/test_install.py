"""Faultline installs as a package: what a build holds (every module, the report's templates, the ``faultline`` script).

``pip install -e .`` and ``pip wheel .`` read ``pyproject.toml``'s build system (setuptools). These tests
build from a copy of the sources in a temporary folder, so the checkout is never written to, and
offline (no build isolation: the venv's own setuptools).
"""

from __future__ import annotations

import configparser
import importlib.metadata
import importlib.util
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import setuptools

from analysis._version import __version__
from analysis.cli import main
from tests.conftest import ROOT

SOURCES = ("analysis", "ui", "pyproject.toml", "README.md", "requirements.txt")
"""What a build reads: the packages, the build configuration, the readme and the dependencies."""
SCRIPT = "faultline = analysis.cli:main"


def copy_sources(dest: Path) -> Path:
    src = dest / "src"
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            src.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, src / name)
    return src


def expected_files() -> set[str]:
    """Every module of ``analysis`` and ``ui``, and every file of the report's templates (when there are any)."""
    found = {p.relative_to(ROOT).as_posix() for package in ("analysis", "ui") for p in (ROOT / package).rglob("*.py")
             if "__pycache__" not in p.parts}
    templates = ROOT / "analysis" / "report" / "templates"
    if templates.is_dir():
        found |= {p.relative_to(ROOT).as_posix() for p in templates.rglob("*") if p.is_file()
                  and "__pycache__" not in p.parts}
    return found


def requirements() -> list[str]:
    lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def check_metadata(entry_points: str, version: str, requires: list[str]) -> None:
    parser = configparser.ConfigParser()
    parser.read_string(entry_points)
    assert dict(parser["console_scripts"]) == {"faultline": "analysis.cli:main"}
    script = importlib.metadata.EntryPoint("faultline", parser["console_scripts"]["faultline"], "console_scripts")
    assert script.load() is main
    assert version == __version__
    assert requires == requirements()


def test_a_setuptools_build_holds_every_package_the_templates_and_the_script(tmp_path):
    """What ``bdist_wheel`` packs, built by the commands it runs (``egg_info``, ``build_py``)."""
    src = copy_sources(tmp_path)
    out = subprocess.run([sys.executable, "-c", "import setuptools; setuptools.setup()", "-q",
                          "egg_info", "-e", str(tmp_path), "build_py", "-d", str(tmp_path / "lib")],
                         capture_output=True, text=True, cwd=src, timeout=300)
    assert out.returncode == 0, out.stderr
    built = {p.relative_to(tmp_path / "lib").as_posix() for p in (tmp_path / "lib").rglob("*") if p.is_file()}
    assert built == expected_files()
    assert {"analysis/cli/__init__.py", "analysis/__main__.py", "analysis/sql/__init__.py",
            "ui/__init__.py"} <= built
    (info,) = tmp_path.glob("*.egg-info")
    pkg_info = (info / "PKG-INFO").read_text(encoding="utf-8")
    version = next(line.split(": ", 1)[1] for line in pkg_info.splitlines() if line.startswith("Version: "))
    check_metadata((info / "entry_points.txt").read_text(encoding="utf-8"), version,
                   (info / "requires.txt").read_text(encoding="utf-8").split())


def _bdist_wheel_available() -> bool:
    """setuptools builds wheels by itself from 70.1 on; older ones need the ``wheel`` package."""
    major, minor = (int(part) for part in setuptools.__version__.split(".")[:2])
    return (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None


@pytest.mark.skipif(not _bdist_wheel_available(),
                    reason=f"setuptools {setuptools.__version__} needs the 'wheel' package to build a wheel")
def test_pip_builds_a_wheel_with_every_package_the_templates_and_the_script(tmp_path):
    src = copy_sources(tmp_path)
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                          "-w", str(tmp_path / "dist"), str(src)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    (wheel,) = (tmp_path / "dist").glob("faultline-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = f"faultline-{__version__}.dist-info"
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
        metadata = archive.read(f"{info}/METADATA").decode()
    assert {n for n in names if not n.startswith(info)} == expected_files()
    version = next(line.split(": ", 1)[1] for line in metadata.splitlines() if line.startswith("Version: "))
    requires = [line.split(": ", 1)[1] for line in metadata.splitlines() if line.startswith("Requires-Dist: ")]
    check_metadata(entry_points, version, requires)
