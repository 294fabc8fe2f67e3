"""Nothing unrelated flagged, as a rate over several seeds of the demo series.

At one seed (the demo's, 11) no slice outside the planted ones is flagged (tests/unit/demo/test_series_demo.py). That
cannot hold at every seed: the departures are tested over slices x runs at a 5% false discovery rate, a bound on the
*expected* share of false flags. Seeds 12 and 15 each flag one unrelated slice by a departure from the reference
(``domain = general`` worse at the fifth checkpoint, q = 0.042; a prompt-length bin better at the second, q = 0.010),
which no planted slice's drift explains. So the claim tested here is the one Benjamini-Hochberg makes: over five seeds,
the mean share of unrelated slices among the flagged ones stays within the FDR, and every planted slice is found at
every seed. A flagged slice counts as related when it is planted (``language = hi``, ``domain = medical``) or when the
planted slices' drift explains it (``explained_by`` names one: it holds their examples).
"""

from __future__ import annotations

import numpy as np
import pytest

from analysis.demo.seed import ensure_demo_series
from analysis.demo.series import SERIES_NAME
from analysis.series.trajectories import ALL, trajectories
from analysis.store import Store

SEEDS = (11, 12, 13, 14, 15)
PLANTED = {"language = hi", "domain = medical"}
FDR = 0.05


@pytest.mark.slow
def test_unrelated_flags_stay_within_the_false_discovery_rate_over_seeds(tmp_path):
    shares = []
    for seed in SEEDS:
        store = Store(tmp_path / f"seed{seed}.duckdb")
        ensure_demo_series(store, seed=seed)
        t = trajectories(store, SERIES_NAME, fdr=FDR)
        store.close()
        flagged = t.slices[t.slices["flagged"] & (t.slices["description"] != ALL)]
        assert set(flagged["description"]) >= PLANTED, seed
        explained = [any(p in e.split(", ") for p in PLANTED) for e in flagged["explained_by"]]
        related = flagged["description"].isin(PLANTED) | np.array(explained, dtype=bool)
        shares.append(float((~related).sum()) / len(flagged))
    assert np.mean(shares) <= FDR, shares
