"""Links between pages: an example opens in the Example page (``pages/9_Example.py``) from any table."""

from __future__ import annotations

from urllib.parse import urlencode

#: The Example page's URL path (Streamlit names it after the file, without the number).
EXAMPLE_PAGE = "Example"


def example_url(run_id: str, example_id, cohort: str | None = None) -> str:
    """The relative URL that opens one example of a run in the Example page, within a cohort when given.

    >>> example_url("r1", "e 7", 'lang = "sw"')
    'Example?run=r1&example=e+7&cohort=lang+%3D+%22sw%22'
    """
    params = {"run": run_id, "example": str(example_id)}
    if cohort:
        params["cohort"] = cohort
    return f"{EXAMPLE_PAGE}?{urlencode(params)}"
