"""Staged uploads (issue #11, kind 6): names that collide once made safe both survive, and batches no run refers
to are removed (after a time, or oldest first beyond a quota) while the files of loaded runs are kept."""

from __future__ import annotations

import os

import pytest

from analysis import open_store
from ui.uploads import prune_uploads, stage_uploads, staged_names


@pytest.mark.parametrize(("names", "expected"), [
    (["测试.csv", "数据.csv"], ["数据.csv", "测试.csv"]),          # other scripts are kept, nothing collides
    (["a?.csv", "a*.csv"], ["a_.csv", "a_-{h}.csv"]),              # the second gets its content's hash
    (["Log.csv", "log.csv"], ["Log.csv", "log-{h}.csv"]),          # case-insensitive file systems
    (["../x/run.jsonl", "run.jsonl"], ["run.jsonl", "run-{h}.jsonl"]),
])
def test_uploads_whose_safe_names_collide_are_all_kept(tmp_path, names, expected):
    import hashlib

    files = [(name, f"content {i}\n".encode()) for i, name in enumerate(names)]
    paths = stage_uploads(files, tmp_path / "uploads")
    assert len(paths) == len(files) and len({p.name for p in paths}) == len(files)
    assert sorted(p.read_bytes() for p in paths) == sorted(data for _, data in files)
    ordered = sorted(files, key=lambda f: (f[0], hashlib.sha256(f[1]).digest()))
    hashes = [hashlib.sha256(data).hexdigest()[:8] for _, data in ordered]
    assert staged_names(ordered) == [e.format(h=h) for e, h in zip(expected, hashes)]


def _batch(root, name, size, age_s, now):
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "log.csv").write_bytes(b"x" * size)
    os.utime(folder, (now - age_s, now - age_s))
    return folder


def test_batches_no_run_refers_to_are_removed_after_the_ttl_and_beyond_the_quota(tmp_path):
    root, now, day = tmp_path / "uploads", 1_000_000_000.0, 86_400
    loaded_old = _batch(root, "loaded", 500, 3 * day, now)
    planned = _batch(root, "planned", 500, 2 * day, now)
    stale = _batch(root, "stale", 10, 2 * day, now)
    older = _batch(root, "older", 400, 60, now)
    newer = _batch(root, "newer", 400, 30, now)
    removed = prune_uploads(root, [loaded_old / "log.csv"], keep=[planned], quota_bytes=500, ttl_s=day, now=now)
    # stale: past the TTL; older: the oldest of what is left while the loose batches exceed the quota
    assert sorted(p.name for p in removed) == ["older", "stale"]
    assert sorted(p.name for p in root.iterdir()) == ["loaded", "newer", "planned"]
    assert (loaded_old / "log.csv").exists() and (planned / "log.csv").exists() and newer.exists()
    assert not stale.exists() and not older.exists()


def test_quota_and_ttl_are_set_by_environment(tmp_path, monkeypatch):
    root, now = tmp_path / "uploads", 1_000_000_000.0
    _batch(root, "a", 2 * 1024 * 1024, 60, now)
    _batch(root, "b", 2 * 1024 * 1024, 30, now)
    monkeypatch.setenv("FAULTLINE_UPLOAD_QUOTA_MB", "3")
    monkeypatch.setenv("FAULTLINE_UPLOAD_TTL_HOURS", "1")
    assert [p.name for p in prune_uploads(root, [], now=now)] == ["a"]
    assert [p.name for p in prune_uploads(root, [], now=now + 7200)] == ["b"]


def test_a_deleted_runs_upload_is_no_longer_held(tmp_path):
    db = tmp_path / "store.duckdb"
    root = tmp_path / "uploads"
    (log,) = stage_uploads([("run.csv", b"prompt,correct\na,true\nb,false\n")], root)
    with open_store(db, seed_demo=False) as store:
        store.ingest(log)
        assert prune_uploads(root, store.source_paths(), quota_bytes=0, ttl_s=0) == []  # a loaded run's file
        store.delete_run(store.runs()["run_id"][0])
        assert [p.name for p in prune_uploads(root, store.source_paths(), quota_bytes=0, ttl_s=0)] \
            == [log.parent.name]
    assert not log.exists()
