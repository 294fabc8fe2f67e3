"""The report printed to PDF by Debian's chromium: page numbers, running header, contents page numbers."""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from pathlib import Path

from analysis.errors import FaultlineError

MSG_NO_CHROMIUM = ("The PDF needs Debian's chromium at {path}: install it with `apt-get install -y chromium` "
                   "(`make run` and `make test` do it), or write only the HTML with --html")


def chromium_path() -> str:
    """Debian's chromium, or $FAULTLINE_CHROMIUM."""
    return os.environ.get("FAULTLINE_CHROMIUM", "/usr/bin/chromium")


class PdfPrinter:
    """Debian's chromium kept open to print one or more HTML documents to PDF (page numbers, running header)."""

    def __init__(self, *, chromium: str | None = None, report_id: str = ""):
        chromium = chromium or chromium_path()
        if not Path(chromium).exists():
            raise FaultlineError(MSG_NO_CHROMIUM.format(path=chromium))
        self.chromium = chromium
        self.header = (f"<div style=\"font-size:7px;width:100%;padding:0 15mm;color:#475569;font-family:DejaVu Sans\">"
                       f"Faultline audit report <span style=\"float:right\">{html.escape(report_id)}</span></div>")
        self.footer = ("<div style=\"font-size:7px;width:100%;text-align:center;color:#475569;font-family:DejaVu Sans\">"
                       "Page <span class=\"pageNumber\"></span> of <span class=\"totalPages\"></span></div>")

    def __enter__(self) -> PdfPrinter:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=self.chromium, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"])
        return self

    def print(self, document: str, out: Path) -> int:
        """Print ``document`` to ``out``; return the page count."""
        from pypdf import PdfReader

        page = self._browser.new_page()
        try:
            page.set_content(document, wait_until="load")
            page.pdf(path=str(out), format="A4", print_background=True, display_header_footer=True,
                     header_template=self.header, footer_template=self.footer,
                     margin={"top": "18mm", "bottom": "16mm", "left": "0mm", "right": "0mm"})
        finally:
            page.close()
        return len(PdfReader(str(out)).pages)

    def __exit__(self, *exc) -> None:
        self._browser.close()
        self._playwright.stop()


def _outside_event_loop(job):
    """Run ``job`` here, or in a worker thread when this thread runs an asyncio loop (a notebook,
    or another playwright session): playwright's sync API refuses to run inside one."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return job()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(job).result()


def render_pdf(document: str, out: Path, *, report_id: str, chromium: str | None = None) -> int:
    """Print an HTML report to PDF with Debian's chromium; return the page count."""

    def job() -> int:
        with PdfPrinter(chromium=chromium, report_id=report_id) as printer:
            return printer.print(document, out)

    return _outside_event_loop(job)


def _section_pages(pdf: Path, sections: Sequence[str]) -> dict[str, int]:
    """The page of each section, from the named destinations chromium writes for the contents' links."""
    from pypdf import PdfReader

    reader = PdfReader(str(pdf))
    destinations = reader.named_destinations
    pages = {}
    for section in sections:
        dest = destinations.get(f"/{section}") or destinations.get(section)
        if dest is not None:
            pages[section] = reader.get_destination_page_number(dest) + 1
    return pages
