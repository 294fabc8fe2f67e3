from __future__ import annotations

import warnings

import pytest


@pytest.fixture(autouse=True)
def _quiet_reference_warnings():
    # Reference implementations (statsmodels, sklearn, scipy) warn on degenerate inputs; the module under test must
    # not (tests/unit/stats/test_checks.py checks that), so only silence warnings raised outside of it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
