"""What the page tests share: a demo store built once per test module, and the app pointed at a store."""

from __future__ import annotations

from pathlib import Path

from analysis import open_store


def build_demo(tmp_path_factory, name: str, *, n_prompts: int = 3000, **kwargs) -> Path:
    """A demo store of ``n_prompts`` prompts per run in a fresh folder named ``name``; its path."""
    from analysis.demo.seed import ensure_demo

    path = tmp_path_factory.mktemp(name) / "demo.duckdb"
    with open_store(path, seed_demo=False) as store:
        ensure_demo(store, n_prompts=n_prompts, **kwargs)
    return path


def point_app_at(monkeypatch, path: Path) -> None:
    """The app under test opens ``path`` and never seeds the demo into it."""
    monkeypatch.setenv("FAULTLINE_DB", str(path))
    monkeypatch.setenv("FAULTLINE_DEMO", "0")
