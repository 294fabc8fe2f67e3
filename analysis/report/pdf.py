"""The report printed to PDF by Debian's chromium: page numbers, running header, contents page numbers."""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from analysis.errors import FaultlineError

MSG_NO_CHROMIUM = ("The PDF needs Debian's chromium at {path}: install it with `apt-get install -y chromium` "
                   "(`make run` and `make test` do it), or write only the HTML with --html")


#: Every request chromium would send off this machine goes to this dead local proxy and fails (the report and
#: its charts are self-contained; chromium's background services have nothing to reach). Localhost is not proxied.
NO_NETWORK_PROXY = "127.0.0.1:9"

#: Flags that keep chromium from contacting anyone: background services off, everything else through the dead proxy.
OFFLINE_FLAGS = ("--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-default-apps", "--disable-domain-reliability", "--disable-client-side-phishing-detection",
                 "--no-pings", "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
                 f"--proxy-server={NO_NETWORK_PROXY}")


def _is_local(url: str) -> bool:
    """A URL that stays on this machine (inline data, the blank page, a local file)."""
    return url.startswith(("data:", "about:", "blob:", "file:"))


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
        #: URLs the printed documents asked for that would have left the machine: refused, never fetched.
        self.refused: list[str] = []
        self.header = (f"<div style=\"font-size:7px;width:100%;padding:0 15mm;color:#475569;font-family:DejaVu Sans\">"
                       f"Faultline audit report <span style=\"float:right\">{html.escape(report_id)}</span></div>")
        self.footer = ("<div style=\"font-size:7px;width:100%;text-align:center;color:#475569;font-family:DejaVu Sans\">"
                       "Page <span class=\"pageNumber\"></span> of <span class=\"totalPages\"></span></div>")

    def __enter__(self) -> PdfPrinter:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=self.chromium, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", *OFFLINE_FLAGS])
        return self

    def _route(self, route) -> None:
        url = route.request.url
        if _is_local(url):
            route.continue_()
        else:
            self.refused.append(url)
            route.abort()

    def print(self, document: str, out: Path) -> int:
        """Print ``document`` to ``out``; return the page count."""
        from pypdf import PdfReader

        page = self._browser.new_page()
        page.route("**/*", self._route)
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


def print_with_contents(render: Callable[[dict[str, int] | None], str], out: Path, *, sections: Sequence[str],
                        report_id: str, chromium: str | None = None,
                        progress: Callable[[float, str], None] | None = None) -> tuple[str, int]:
    """Print a report whose contents page gives the page of each section: print once, read each section's page
    back from the PDF's named destinations, render again with the page numbers and print again.

    Parameters
    ----------
    render : callable
        ``render(page_numbers)`` -> the HTML document; ``page_numbers`` is None the first time, then section -> page.
    out : Path
        The PDF to write (overwritten by the second print).
    sections : sequence of str
        The sections whose pages the contents page shows, in order.
    report_id : str
        Shown in the running header.
    chromium : str, optional
        Path of chromium (default :func:`chromium_path`).
    progress : callable, optional
        Told (0.88, message) between the two prints.

    Returns
    -------
    (str, int)
        The final HTML document and the page count.

    Raises
    ------
    FaultlineError
        When chromium is not there (:data:`MSG_NO_CHROMIUM`).
    """

    def job() -> tuple[str, int]:
        with PdfPrinter(chromium=chromium, report_id=report_id) as printer:
            printer.print(render(None), out)
            page_numbers = _section_pages(out, sections)
            if progress is not None:
                progress(0.88, "Adding page numbers to the contents")
            final = render(page_numbers)
            return final, printer.print(final, out)

    return _outside_event_loop(job)

