"""Do the vectorised statistics pay? Each against the library call per slice it would replace.

Run: .venv/bin/python bench/bench_stats.py [--slices 2000] [--run-rows 1000000]

Prints, for the slices routed to Fisher's exact test (small slices of a large run), the vectorised Fisher of
``analysis.stats`` against ``scipy.stats.fisher_exact`` called per slice (and their largest relative difference);
``rate_interval`` against ``scipy.stats.binomtest(...).proportion_ci`` per slice; ``grouped_cohen_kappa`` against
``sklearn.metrics.cohen_kappa_score`` per group; ``grouped_bootstrap_mean_interval`` against
``scipy.stats.bootstrap`` per group. The numbers quoted in the docstrings of analysis/stats come from this script.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import scipy.stats

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def timed(f, repeat: int = 1) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=2000)
    parser.add_argument("--run-rows", type=int, default=1_000_000)
    args = parser.parse_args()

    from sklearn.metrics import cohen_kappa_score

    from analysis import stats as S

    rng = np.random.default_rng(0)
    n_in = rng.integers(1, 40, args.slices)
    e_in = rng.binomial(n_in, 0.15)
    n_out = args.run_rows - n_in
    e_out = rng.binomial(n_out, 0.15)
    ours = timed(lambda: S.two_proportion_test(e_in, n_in, e_out, n_out), 3)
    p, method = S.two_proportion_test(e_in, n_in, e_out, n_out)
    fi = np.flatnonzero(method == "fisher")
    tables = [[[e_in[i], n_in[i] - e_in[i]], [e_out[i], n_out[i] - e_out[i]]] for i in fi]
    ref = np.array([scipy.stats.fisher_exact(t).pvalue for t in tables])
    peer = timed(lambda: [scipy.stats.fisher_exact(t) for t in tables])
    diff = np.max(np.abs(p[fi] - ref) / np.maximum(ref, 1e-300))
    print(f"Fisher, {args.slices} slices of a {args.run_rows:,}-row run ({fi.size} to Fisher): vectorised "
          f"{ours:.3f} s, scipy.fisher_exact per slice {peer:.3f} s, ratio {peer / ours:.0f}x; max rel diff {diff:.1e}")

    n = rng.integers(30, 20000, 2157)
    e = rng.binomial(n, 0.15)
    ours = timed(lambda: S.rate_interval(e, n), 3)
    peer = timed(lambda: [scipy.stats.binomtest(int(a), int(b)).proportion_ci(method="wilson") for a, b in zip(e, n)])
    print(f"intervals, 2157 slices: rate_interval {ours * 1e3:.1f} ms, binomtest per slice {peer * 1e3:.0f} ms, "
          f"ratio {peer / ours:.0f}x")

    a = rng.integers(0, 3, 200_000)
    b = np.where(rng.random(a.size) < 0.7, a, rng.integers(0, 3, a.size))
    g = rng.integers(0, 500, a.size)
    ours = timed(lambda: S.grouped_cohen_kappa(a, b, 3, g, 500), 3)
    peer = timed(lambda: [cohen_kappa_score(a[g == k], b[g == k]) for k in range(500)])
    print(f"kappa, 200k items in 500 groups: grouped {ours * 1e3:.0f} ms, sklearn per group {peer * 1e3:.0f} ms, "
          f"ratio {peer / ours:.0f}x")

    for groups in (5, 50, 500):
        x = rng.random(50_000)
        g = rng.integers(0, groups, x.size)
        ours = timed(lambda x=x, g=g, groups=groups: S.grouped_bootstrap_mean_interval(x, g, groups, n_resamples=1000), 3)
        parts = [x[g == k] for k in range(groups)]
        peer = timed(lambda parts=parts: [scipy.stats.bootstrap((v,), np.mean, n_resamples=1000, method="percentile",
                                                                rng=1) for v in parts], 3)
        print(f"bootstrap, 50k rows in {groups} groups, 1000 resamples: grouped {ours:.2f} s, scipy per group "
              f"{peer:.2f} s, ratio {peer / ours:.1f}x")


if __name__ == "__main__":
    main()
