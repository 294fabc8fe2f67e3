"""Discovery's held-out split is computed in SQL from a hash of the example id: checked against hashlib."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from analysis.slicing.discovery import _encode, discover
from analysis.store import Store


def test_the_split_is_md5_of_seed_and_id_and_ignores_row_order(tmp_path):
    rng = np.random.default_rng(3)
    n = 2000
    frame = pd.DataFrame({"id": [f"x{i}" for i in range(n)], "prompt": ["q"] * n, "lang": rng.choice(["a", "b"], n),
                          "correct": rng.random(n) > 0.3})
    with Store(tmp_path / "s.duckdb") as store:
        store.ingest_frame(frame, name="forward")
        store.ingest_frame(pd.DataFrame({c: frame[c].tolist()[::-1] for c in frame.columns}), name="backward")
        for seed in (0, 7):
            expected = {i: hashlib.md5(f"{seed}:{i}".encode()).hexdigest()[0] < "8" for i in frame["id"]}
            for run in ("forward", "backward"):
                _c, _e, _l, _p, searched = _encode(store, run, ["lang"], holdout_seed=seed)
                ids = store.examples(run, columns=["example_id"])["example_id"]
                assert searched.tolist() == [expected[i] for i in ids]
            assert 0.45 < np.mean(list(expected.values())) < 0.55
        a, b = (discover(store, r, ["lang"], k=2, min_support=10, holdout=True, seed=7).table for r in
                ("forward", "backward"))
        pd.testing.assert_frame_equal(a, b)
