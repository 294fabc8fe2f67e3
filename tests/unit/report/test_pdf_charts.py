"""The PDF's charts are handed to WeasyPrint as images of their SVG (``pdf.svg_as_images``): the same SVG renderer
draws them, so the pages hold the same text at the same places as with the SVG inline, and each chart gets its title
as alternative text."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pikepdf
import pytest
from pypdf import PdfReader

from analysis.report import pdf as pdf_module

CSS = (Path(pdf_module.__file__).parent / "templates" / "report.css").read_text(encoding="utf-8")


def _chart(title: str, width: int = 1000, height: int = 400, inner: str = "") -> str:
    """A chart as plotly exports it: an SVG with a ``gtitle`` text, some text and shapes."""
    return (f'<svg class="main-svg" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}"><rect x="0" y="0" width="{width}" height="{height}" '
            f'style="fill: rgb(255, 255, 255);"/>{inner}<g class="infolayer"><text class="gtitle" x="60" y="30" '
            f'style="font-size: 17px;">{title}</text></g><text x="100" y="200" style="font-size: 14px;">'
            f'language = sw</text><circle cx="500" cy="200" r="8" style="fill: rgb(200, 0, 0);"/></svg>')


def _document(*charts: str) -> str:
    body = "".join(f"<h2>Chart {i}</h2><figure>{c}</figure><p>After the chart {i}.</p>" for i, c in enumerate(charts))
    return f'<!DOCTYPE html><html lang="en"><head><title>t</title><style>{CSS}</style></head><body>{body}</body></html>'


def test_every_inline_svg_becomes_an_image_of_the_same_svg_with_its_title():
    nested = _chart("Outer &amp; title", inner='<svg x="0" y="0" width="10" height="10"><rect width="1" height="1"/>'
                                              '</svg>')
    plain = _chart("")
    document = _document(nested, plain)
    out = pdf_module.svg_as_images(document)
    assert "<svg" not in out and out.count("<img ") == 2
    images = re.findall(r'<img alt="([^"]*)" src="data:image/svg\+xml;base64,([^"]+)">', out)
    assert [alt for alt, _ in images] == ["Outer &amp; title", "Chart"]  # the title's text, escaped once
    assert [base64.b64decode(data).decode() for _, data in images] == [nested, plain]  # nested <svg> kept whole
    assert out.replace(images[0][1], "").count("After the chart") == 2
    assert pdf_module.svg_as_images("<p>no chart</p>") == "<p>no chart</p>"
    assert pdf_module.svg_as_images("<svg><rect/>") == "<svg><rect/>"  # not well formed: left as it is


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    folder = tmp_path_factory.mktemp("charts")
    document = _document(_chart("A wide chart"), _chart("A tall chart", width=500, height=2000))
    images = folder / "images.pdf"
    pdf_module.render_pdf(document, images)
    real = pdf_module.svg_as_images
    pdf_module.svg_as_images = lambda d: d
    try:
        inline = folder / "inline.pdf"
        pdf_module.render_pdf(document, inline)
    finally:
        pdf_module.svg_as_images = real
    return images, inline


def _words(path):
    """Every piece of text of every page with its position (points, rounded to 0.1)."""
    out = []
    for page in PdfReader(str(path)).pages:
        found = []

        def visit(text, cm, tm, font, size, found=found):
            if text.strip():
                found.append((text.strip(), round(tm[4] * cm[0] + cm[4], 1), round(tm[5] * cm[3] + cm[5], 1)))

        page.extract_text(visitor_text=visit)
        out.append(found)
    return out


def test_the_pages_hold_the_same_text_at_the_same_places(both):
    images, inline = both
    assert len(PdfReader(str(images)).pages) == len(PdfReader(str(inline)).pages)
    words = _words(images)
    assert any("Atallchart" in t for page in words for t, _, _ in page)  # the charts' text is drawn (as text)
    assert words == _words(inline)


def test_each_chart_is_a_figure_with_its_title_as_alternative_text(both):
    images, _ = both
    alts = []
    with pikepdf.open(images) as pdf:
        def walk(node, depth=0):
            if depth > 50 or not isinstance(node, pikepdf.Dictionary):
                return
            if "/Alt" in node:
                alts.append(str(node.Alt))
            kids = node.get("/K")
            for kid in (kids if isinstance(kids, pikepdf.Array) else [kids]):
                walk(kid, depth + 1)

        walk(pdf.Root.StructTreeRoot)
    assert alts == ["A wide chart", "A tall chart"]


def test_a_styled_line_of_a_cell_is_drawn_where_a_browser_draws_it():
    """A plotly text line whose whole content is a styled tspan (the matrix's italic "can cause") was drawn 1.3 em
    too low by WeasyPrint, under the next row: each line of a three-line cell text sits at y + k * 1.3 em, as the SVG
    says (a line's y with its dy), bold and italic kept."""
    import io

    import weasyprint

    lines = ('<text x="50" y="50" style="font-size: 10px;">'
             '<tspan class="line" dy="0em" x="50" y="50"><tspan style="font-weight:bold">implicated</tspan></tspan>'
             '<tspan class="line" dy="1.3em" x="50" y="50">AUC 0.96</tspan>'
             '<tspan class="line" dy="2.6em" x="50" y="50"><tspan style="font-style:italic">cause</tspan></tspan></text>')
    document = pdf_module.svg_as_images(_document(_chart("Cells", inner=lines)))
    rendered = PdfReader(io.BytesIO(weasyprint.HTML(string=document).write_pdf()))
    found = {}

    def seen(text, cm, tm, font, size):  # tm: the text's place in the chart's own (SVG) coordinates
        for word in ("implicated", "AUC", "cause"):
            if text.strip().startswith(word):
                found.setdefault(word, (tm[5], str((font or {}).get("/BaseFont", ""))))

    rendered.pages[0].extract_text(visitor_text=seen)
    assert set(found) == {"implicated", "AUC", "cause"}, found
    # the lines at y = 50 + k * 1.3 em of 10 px: 50, 63, 76 (76 + 13 = 89 before: "cause" under the next row)
    assert [round(found[w][0], 1) for w in ("implicated", "AUC", "cause")] == [50.0, 63.0, 76.0], found
    assert "Bold" in found["implicated"][1] and "Italic" in found["cause"][1]


def _shift(transform: str | None) -> tuple[float, float]:
    """The offset of an SVG ``translate(x,y)`` (none: 0, 0)."""
    found = re.search(r"translate\(([-\d.e]+),\s*([-\d.e]+)\)", transform or "")
    return (float(found.group(1)), float(found.group(2))) if found else (0.0, 0.0)


def _ink_boxes(svg: str, font_file: str = "DejaVuSans.ttf") -> dict[str, tuple[float, float, float, float]]:
    """The ink of the matrix's colorbar texts (its title and tick labels), text -> (left, top, right, bottom) in the
    chart's pixels: their places as the SVG gives them (group and text translations, a title's rotation by -90
    degrees about its anchor) and their glyphs' extent in the font WeasyPrint draws them with (DejaVu Sans)."""
    import xml.etree.ElementTree as ET

    from PIL import ImageFont

    boxes = {}

    def visit(node, dx, dy):
        ox, oy = _shift(node.get("transform")) if not node.tag.endswith("text") else (0.0, 0.0)
        dx, dy = dx + ox, dy + oy
        if node.tag.endswith("text") and node.text and node.text.strip():
            size = float(re.search(r"font-size:\s*([\d.]+)px", node.get("style", "")).group(1))
            font = ImageFont.truetype(font_file, round(size))
            anchor = {"middle": "ms", "end": "rs"}.get(node.get("text-anchor"), "ls")
            left, top, right, bottom = font.getbbox(node.text, anchor=anchor)
            tx, ty = _shift(node.get("transform"))
            x, y = float(node.get("x")) + dx + tx, float(node.get("y")) + dy + ty
            if "rotate(-90" in (node.get("transform") or ""):  # the glyphs' up is the page's left
                boxes[node.text] = (x + top, y - right, x + bottom, y - left)
            else:
                boxes[node.text] = (x + left, y + top, x + right, y + bottom)
        for child in node:
            visit(child, dx, dy)

    root = ET.fromstring(svg)
    for group in root.iter():
        if (group.get("class") or "").startswith(("cbaxis", "cbtitleunshift")):
            visit(group, 0.0, 0.0)
    return boxes


def test_the_matrix_colorbar_title_keeps_clear_of_its_tick_labels():
    """The report's failure-modes matrix (exported by kaleido, drawn by WeasyPrint in DejaVu Sans): the colorbar's
    title "AUC" overlaps no tick label and keeps at least a word space from each (it sat on the top tick "1")."""
    import pandas as pd
    from PIL import ImageFont

    from analysis import figures
    from analysis.report.charts import _svg

    cells = pd.DataFrame([
        {"mode": m, "component": c, "verdict": v, "rule": "r", "relation": "none", "auc": a, "auc_low": a - 0.1,
         "auc_high": a + 0.05}
        for m, row in (("sycophancy", [("implicated", 0.9), ("not implicated", 0.3)]),
                       ("over_refusal", [("not implicated", 0.45), ("implicated", 0.8)]))
        for c, (v, a) in zip(("reward model", "kl penalty"), row)])
    boxes = _ink_boxes(_svg(figures.modes_matrix(cells)))
    assert {"AUC", "0", "0.5", "1"} <= set(boxes), boxes
    space = ImageFont.truetype("DejaVuSans.ttf", 13).getlength(" ")  # a word space of the tick labels
    title = boxes.pop("AUC")
    for text, (left, top, right, bottom) in boxes.items():
        gap = max(left - title[2], title[0] - right, top - title[3], title[1] - bottom)
        assert gap >= space, (text, (left, top, right, bottom), title, gap)
