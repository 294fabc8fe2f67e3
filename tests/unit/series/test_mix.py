"""Mix shift between two runs against a direct computation (pandas shares and rates, scipy chi-square)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from analysis.errors import FaultlineError
from analysis.series.mix import MSG_SAME_RUN, mix_shift
from analysis.store import Store


def _run(rng, n, p_code, acc_shift=0.0, tag="a"):
    domain = rng.choice(["code", "chat", "math"], n, p=[p_code, (1 - p_code) * 0.7, (1 - p_code) * 0.3])
    acc = np.select([domain == "code", domain == "chat"], [0.5, 0.9], 0.7) + acc_shift
    # exactly the planted accuracy in each domain (a within-domain change is then the model's, not chance)
    rank = pd.Series(domain).groupby(domain).cumcount().to_numpy()
    size = pd.Series(domain).map(pd.Series(domain).value_counts()).to_numpy()
    return pd.DataFrame({"prompt": [f"{tag}{i}" for i in range(n)], "domain": domain,
                         "lang": rng.choice(["en", "fr"], n), "correct": (rank + 0.5) / size < acc})


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "m.duckdb")
    rng = np.random.default_rng(1)
    frames = {"v1": _run(rng, 3000, 0.1, tag="a"), "v2": _run(rng, 3000, 0.4, tag="b"),
              "v3": _run(rng, 3000, 0.1, acc_shift=-0.1, tag="c")}
    for name, frame in frames.items():
        s.ingest_frame(frame, name=name)
    yield s, frames
    s.close()


def test_decomposition_matches_a_direct_computation(store):
    s, frames = store
    m = mix_shift(s, "v1", "v2", ["domain", "lang"])
    a, b = frames["v1"], frames["v2"]
    ga = a.groupby("domain")["correct"].agg(["size", "mean"])
    gb = b.groupby("domain")["correct"].agg(["size", "mean"])
    wa, wb = ga["size"] / len(a), gb["size"] / len(b)
    comp = ((wb - wa) * (ga["mean"] + gb["mean"]) / 2).sum()
    within = ((gb["mean"] - ga["mean"]) * (wa + wb) / 2).sum()
    row = m.attributes.set_index("attribute").loc["domain"]
    assert row["composition"] == pytest.approx(comp)
    assert row["within"] == pytest.approx(within)
    assert row["total"] == pytest.approx(b["correct"].mean() - a["correct"].mean())
    ref = scipy.stats.chi2_contingency(np.vstack([ga["size"], gb["size"]]), correction=False)
    assert row["chi2"] == pytest.approx(ref.statistic) and row["shift_p"] == pytest.approx(ref.pvalue)
    assert m.top()["attribute"] == "domain" and row["verdict"] == "composition"
    assert "The evaluation mix changed, not the model." in m.sentence()


def test_a_model_change_is_not_called_composition(store):
    s, _ = store
    m = mix_shift(s, "v1", "v3", ["domain", "lang"])
    assert set(m.attributes["verdict"]) == {"within"}
    assert "The mix did not explain it" in m.sentence()


def test_the_same_run_twice_is_refused(store):
    s, _ = store
    with pytest.raises(FaultlineError) as err:
        mix_shift(s, "v1", "v1")
    assert str(err.value) == MSG_SAME_RUN.format(run="v1")
