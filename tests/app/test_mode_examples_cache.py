"""The Failure modes page's examples: the start-up precompute computes those the page shows first (the most frequent
mode's, without a spec), and the run's compiled modes are made once for every mode the page then shows."""

from __future__ import annotations

import analysis
from tests.app.test_link_precompute import _store


def test_the_first_examples_are_precomputed_and_modes_compiled_once(tmp_path, monkeypatch):
    monkeypatch.setenv("FAULTLINE_DEMO", "0")
    monkeypatch.setenv("FAULTLINE_PRECOMPUTE", "1")
    path, first, second = _store(tmp_path)
    from ui import cache, jobs
    from ui.session import NO_SPEC_NAME

    assert jobs._background().wait_idle(timeout=120)  # work of other tests' stores is done first
    calls = []
    for name in ("compile_modes", "mode_examples"):
        real = getattr(analysis, name)

        def spy(store, run, *a, _real=real, _name=name, **k):
            if str(store.path) == path:
                calls.append((_name, run))
            return _real(store, run, *a, **k)

        monkeypatch.setattr(analysis, name, spy)
    version = cache._open(path).data_version()
    jobs.start_precompute(path, version)
    assert jobs._background().wait_idle(timeout=120)
    assert ("mode_examples", first) in calls and ("mode_examples", second) in calls
    done = len(calls)
    # the page's first view of each run (no spec): the most frequent mode, found in the cache
    for run in (first, second):
        result = cache.link_result(path, version, run, None, "", NO_SPEC_NAME, *jobs.LINK_DEFAULTS)
        counted = dict(zip(result.counts["mode"], result.counts["n"]))
        mode = max((m.id for m in result.objective.modes), key=lambda m: counted.get(m, 0))
        assert counted[mode] > 0  # the refusals of the frame
        examples = cache.mode_examples(path, version, run, "", NO_SPEC_NAME, mode, (), None, True)
        assert len(examples) == min(counted[mode], 500)
    assert len(calls) == done
    # another mode: its examples are read, the modes are not compiled again
    other = next(m.id for m in result.objective.modes if m.id != mode)
    cache.mode_examples(path, version, second, "", NO_SPEC_NAME, other, (), None, True)
    assert calls[done:] == [("mode_examples", second)]
