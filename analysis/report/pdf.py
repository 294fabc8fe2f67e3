"""The report printed to an archival PDF by WeasyPrint: PDF/A-3b, tagged, fonts embedded, data attached.

WeasyPrint lays out CSS paged media itself (running header and footer, ``counter(page)`` / ``counter(pages)``,
the contents page's numbers from ``target-counter()``, landscape pages for wide tables) in one pass, so nothing is
printed twice and no browser runs. It was chosen over printing with chromium by measurement (``bench/bench_report.py``
prints both; see the README's report section).

Nothing is fetched from the network: the document is self-contained (inline CSS and SVG) and the URL fetcher
refuses every URL that is not inline data; refused URLs are recorded.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path

from markupsafe import escape
from weasyprint.urls import URLFetcher

from analysis.errors import FaultlineError

#: The PDF flavour: PDF/A-3b allows the attached data files (ISO 19005-3), tagged for accessibility.
PDF_VARIANT = "pdf/a-3b"
#: Every request chromium would send off this machine goes to this dead local proxy and fails (kaleido's chromium
#: exports the charts; the report and its charts are self-contained). Localhost is not proxied.
NO_NETWORK_PROXY = "127.0.0.1:9"
MSG_PDF_FAILED = "The PDF could not be written to {path}: {reason}"


def chromium_path() -> str:
    """Debian's chromium (used by kaleido to export the charts), or $FAULTLINE_CHROMIUM."""
    return os.environ.get("FAULTLINE_CHROMIUM", "/usr/bin/chromium")


@dataclass(frozen=True)
class AttachedFile:
    """A file attached inside the PDF (and written beside the HTML)."""

    name: str
    """File name, e.g. ``slices.csv``."""
    data: bytes
    """The file's bytes."""
    description: str
    """What it holds, in plain words (shown by PDF readers and in the report's appendix)."""
    mime: str = "text/csv"
    """Its media type."""


@dataclass
class PdfMetadata:
    """Document metadata written to the PDF's information dictionary and XMP packet."""

    title: str
    author: str = ""
    subject: str = ""
    keywords: Sequence[str] = ()
    custom: dict[str, str] = field(default_factory=dict)
    """Extra information-dictionary entries (``FaultlineReportId``, ``FaultlineContentHash``...)."""


class _Fetcher(URLFetcher):
    """WeasyPrint's URL fetcher for a self-contained document: inline ``data:`` URLs only; others refused."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols={"data"}, fail_on_errors=False)
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        if not url.startswith("data:"):
            self.refused.append(url)
            raise ValueError(f"refused (the report never fetches): {url}")
        return super().fetch(url, headers)


def render_pdf(document: str, out: Path, *, metadata: PdfMetadata | None = None,
               attachments: Sequence[AttachedFile] = ()) -> int:
    """Print an HTML report to an archival PDF (PDF/A-3b, tagged, fonts embedded) with its data attached.

    Parameters
    ----------
    document : str
        The self-contained HTML document (:func:`~analysis.report.html.render_html`); its CSS places page numbers,
        the running header and landscape pages.
    out : Path
        The PDF to write.
    metadata : PdfMetadata, optional
        Title, author, subject, keywords and custom entries of the document information.
    attachments : sequence of AttachedFile
        Files attached inside the PDF (PDF/A-3 associated files, relationship ``Data``; the spec ``Source``).

    Returns
    -------
    int
        The page count.

    Raises
    ------
    FaultlineError
        When the PDF cannot be written (:data:`MSG_PDF_FAILED`).
    """
    import io
    import logging

    import weasyprint

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    fetcher = _Fetcher()
    files = [weasyprint.Attachment(file_obj=io.BytesIO(a.data), name=a.name, description=a.description,
                                   relationship="Source" if a.name.endswith((".yaml", ".yml")) else "Data")
             for a in attachments]
    html = weasyprint.HTML(string=_with_metadata(svg_as_images(document), metadata), url_fetcher=fetcher)
    try:
        rendered = html.render(pdf_variant=PDF_VARIANT, pdf_tags=True)
        rendered.write_pdf(str(out), attachments=files, pdf_variant=PDF_VARIANT, pdf_tags=True,
                           finisher=_custom_info(metadata))
    except OSError as err:
        raise FaultlineError(MSG_PDF_FAILED.format(path=out, reason=err.strerror or err)) from err
    return len(rendered.pages)


#: A line of a plotly SVG text whose whole content is one styled ``<tspan>`` (a bold or italic line of a matrix cell):
#: WeasyPrint adds the line's ``dy`` again for the inner tspan (a third line drawn 1.3 em too low, under the next row),
#: so the style moves to the line itself (the same drawing in a browser).
_LINE_STYLED = re.compile(r'<tspan class="line"((?:(?! style=)[^>])*)><tspan style="([^"]*)">([^<]*)</tspan></tspan>')
#: A chart's title in a plotly SVG (the alternative text of its image in the PDF).
_SVG_TITLE = re.compile(r'class="gtitle"[^>]*>([^<]*)<')


def svg_as_images(document: str) -> str:
    """The document with each inline ``<svg>`` (a chart) as an ``<img>`` of the same SVG (a ``data:`` URL), for
    WeasyPrint: the same SVG renderer draws it (vector, the same page), but the document's CSS is not cascaded over
    every node of every chart (at 1M examples ~0.8 s of the layout's ~4.5 s). Its alternative text is the chart's
    title. The HTML twin keeps the inline SVG; ``figure img`` is styled as ``figure svg`` (report.css).

    Parameters
    ----------
    document : str
        An HTML document (the report's).

    Returns
    -------
    str
        The document with every top-level ``<svg>...</svg>`` (nested ones inside it kept) replaced; unchanged when
        an ``<svg>`` is not closed. Raises nothing.
    """
    out, at = [], 0
    while (start := document.find("<svg", at)) >= 0:
        depth, pos = 0, start
        while True:  # to the matching </svg> (nested <svg> elements counted)
            opening, closing = document.find("<svg", pos), document.find("</svg>", pos)
            if closing < 0:
                return document  # not well formed: left as it is
            if 0 <= opening < closing:
                depth, pos = depth + 1, opening + 4
            else:
                depth, pos = depth - 1, closing + 6
                if depth == 0:
                    break
        svg = _LINE_STYLED.sub(r'<tspan class="line"\1 style="\2">\3</tspan>', document[start:pos])
        title = _SVG_TITLE.search(svg)
        alt = escape(unescape(title.group(1))) if title and title.group(1).strip() else "Chart"
        encoded = base64.b64encode(svg.encode("utf-8")).decode("ascii")
        out += [document[at:start], f'<img alt="{alt}" src="data:image/svg+xml;base64,{encoded}">']
        at = pos
    return "".join(out) + document[at:]


def _with_metadata(document: str, metadata: PdfMetadata | None) -> str:
    """The document with ``<meta>`` elements WeasyPrint turns into the PDF's metadata (title from ``<title>``)."""
    if metadata is None:
        return document
    from markupsafe import escape

    metas = [("author", metadata.author), ("description", metadata.subject),
             ("generator", "Faultline"), *(("keywords", k) for k in metadata.keywords)]
    tags = "".join(f'<meta name="{escape(k)}" content="{escape(v)}">' for k, v in metas if v)
    return document.replace("</head>", tags + "</head>", 1)


def _custom_info(metadata: PdfMetadata | None):
    """A WeasyPrint finisher adding the custom entries to the PDF's document information (names kept as given)."""

    def finish(_document, pdf) -> None:
        import pydyf

        for key, value in (metadata.custom if metadata else {}).items():
            pdf.info[key] = pydyf.String(value)

    return finish


def layout_boxes(document: str):
    """The laid-out pages of a document (WeasyPrint's own boxes), for tests that check nothing overflows."""
    import weasyprint

    return weasyprint.HTML(string=document, url_fetcher=_Fetcher()).render(
        pdf_variant=PDF_VARIANT, pdf_tags=True)
