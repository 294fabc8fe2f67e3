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


def spy_engine(monkeypatch, db: Path, *names: str) -> dict[str, list]:
    """Record the calls of these functions of the engine's public face (``analysis.<name>``) made on the store ``db``
    (other tests' stores, queued in the same background thread, are left out); name -> list of the positional
    arguments after the store, one per call."""
    import analysis

    calls: dict[str, list] = {name: [] for name in names}
    for name in names:
        real = getattr(analysis, name)

        def spy(store, *a, _real=real, _name=name, **k):
            if str(store.path) == str(db):
                calls[_name].append(a)
            return _real(store, *a, **k)

        monkeypatch.setattr(analysis, name, spy)
    return calls
