"""analysis.export.json_value: the one JSON-ready conversion, checked against the json module's own rules."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from analysis.export import json_value


def test_json_value_makes_every_numpy_and_pandas_cell_strict_json():
    row = {"n": np.int64(3), "rate": np.float32(0.25), "q": np.float64("nan"), "inf": float("inf"),
           "flag": np.bool_(True), "pred": ("language", "es"), "arr": np.array([1.5, np.nan]),
           "nested": {1: [np.int8(2), {"x": -math.inf}]}, "text": "sw", "none": None}
    out = json_value(row)
    # allow_nan=False raises on NaN/inf and TypeError on numpy types: strict JSON is the check
    again = json.loads(json.dumps(out, allow_nan=False))
    assert again == {"n": 3, "rate": 0.25, "q": None, "inf": None, "flag": True, "pred": ["language", "es"],
                     "arr": [1.5, None], "nested": {"1": [2, {"x": None}]}, "text": "sw", "none": None}


def test_json_value_text_for_other_writes_dates_as_text_only_when_asked():
    when = pd.Timestamp("2026-11-30 01:00", tz="UTC")
    assert json_value({"t": when})["t"] is when
    assert json_value({"t": when}, text_for_other=True) == {"t": str(when)}
    with pytest.raises(TypeError):
        json.dumps(json_value({"t": when}))
