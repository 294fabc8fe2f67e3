"""Nothing leaves the machine while a report is drawn and printed (issue #11, kind 4)."""

from __future__ import annotations

import pytest

from analysis.report.charts import kaleido_options
from analysis.report.pdf import _Fetcher, render_pdf


def test_chart_export_page_loads_no_remote_script():
    from kaleido import PageGenerator

    options = kaleido_options()
    page = PageGenerator(mathjax=options["mathjax"]).generate_index()
    # by default kaleido's page loads MathJax from cdnjs.cloudflare.com
    assert "http://" not in page and "https://" not in page
    assert options["proxy_server"].startswith("127.0.0.1:")


def test_pdf_layout_refuses_every_request_off_the_machine(tmp_path, monkeypatch):
    document = ("<html><head><link rel='stylesheet' href='https://fonts.googleapis.com/css2?family=X'></head>"
                "<body><img src='http://198.51.100.7/pixel.png'><img src='data:image/gif;base64,"
                "R0lGODlhAQABAAAAACw='><p>report</p></body></html>")
    fetchers = []
    original = _Fetcher.__init__

    def spy(self):
        original(self)
        fetchers.append(self)

    monkeypatch.setattr(_Fetcher, "__init__", spy)
    assert render_pdf(document, tmp_path / "out.pdf") == 1
    (fetcher,) = fetchers
    assert sorted(fetcher.refused) == ["http://198.51.100.7/pixel.png", "https://fonts.googleapis.com/css2?family=X"]


@pytest.mark.real_logs
def test_a_link_in_a_log_value_is_text_in_the_reports_charts(tmp_path, real_logs):
    """report_link.csv: every row's `lang` is <a href="http://127.0.0.1:8629/phish">trusted source</a>."""
    import re

    from analysis import open_store
    from analysis.report import ReportSpec, generate_report

    with open_store(tmp_path / "s.duckdb", seed_demo=False) as store:
        store.ingest(real_logs / "hostile" / "report_link.csv")
        run_id = store.runs()["run_id"][0]
        spec = ReportSpec(run=run_id, attributes=["lang"], min_support=1)
        generate_report(store, spec, pdf=None, html_out=tmp_path / "r.html")
    document = (tmp_path / "r.html").read_text(encoding="utf-8")
    charts = re.findall(r"<svg.*?</svg>", document, flags=re.S)
    assert any("trusted source" in svg for svg in charts)  # drawn, as text
    assert not re.search(r"<a\b[^>]*8629", document)  # never a link
    assert not any(re.search(r"<a\b", svg) for svg in charts)
