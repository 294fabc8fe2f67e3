"""ECE from per-(group, bin) sums, as the SQL of slice_extras computes them, against a direct loop over each
group's examples (the loop of test_calibration, written again here: an independent computation)."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from analysis import stats as S
from analysis.sql import extras as X
from tests.parity.stats import close
from tests.parity.stats.test_calibration import ECE_SCENARIOS, _slow_ece


@pytest.mark.parametrize("n_bins", [1, 5, 10, 15])
@pytest.mark.parametrize("scenario", sorted(ECE_SCENARIOS))
def test_ece_from_sql_bin_sums_matches_direct_loop(scenario, n_bins):
    conf, correct = ECE_SCENARIOS[scenario]
    codes = np.arange(conf.size) % 3
    con = duckdb.connect()
    con.execute("CREATE TABLE t (g INTEGER, c DOUBLE, correct BOOLEAN, unscorable BOOLEAN)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?, false)",
                    [[int(g), float(c), bool(k)] for g, c, k in zip(codes, conf, correct)])
    rows = con.execute(*X.calibration_bins_sql("t", "g", [], "c", S.calibration_bin_edges(n_bins))).fetchall()
    sums = np.zeros((3, 3, n_bins))
    for g, b, n, conf_sum, ok_sum in rows:
        sums[:, g, b] = (n, conf_sum, ok_sum)
    ece = S.expected_calibration_error_from_bin_sums(*sums)
    for g in range(3):
        m = codes == g
        if m.any():
            close(ece[g], _slow_ece(list(conf[m]), list(correct[m]), n_bins))
        else:
            assert np.isnan(ece[g])


def test_ece_from_bin_sums_refuses_shapes_that_differ():
    with pytest.raises(ValueError, match="one shape"):
        S.expected_calibration_error_from_bin_sums([[1, 2]], [[0.5]], [[1, 0]])
