"""Checks on the laid-out report (WeasyPrint's own boxes, the ones the PDF is drawn from): no text leaves its table
cell or its page, and no word of a slice description is split across lines."""

from __future__ import annotations

from dataclasses import dataclass, field

from weasyprint.formatting_structure import boxes

#: Slack for rounding, in CSS pixels (1/96 inch).
EPS = 0.5


@dataclass
class Layout:
    """What the checks found: problems (empty when the layout is sound) and what was looked at."""

    problems: list[str] = field(default_factory=list)
    text_boxes: int = 0
    slice_cells: list[list[str]] = field(default_factory=list)
    """Each slice cell's lines, as laid out."""
    landscape_pages: int = 0


def _walk(box, cell, out: Layout, page_left: float, page_right: float, page_no: int):
    if isinstance(box, boxes.MarginBox):
        return  # the running header and footer: laid out by the page, not content
    if isinstance(box, boxes.TableCellBox):
        cell = box
        if "slice" in (box.element.get("class") or "").split() if box.element is not None else False:
            lines = []
            for child in box.descendants():
                if isinstance(child, boxes.LineBox):
                    lines.append("".join(t.text for t in child.descendants() if isinstance(t, boxes.TextBox)))
            out.slice_cells.append(lines)
    if isinstance(box, boxes.TextBox) and box.text.strip():
        out.text_boxes += 1
        left, right = box.position_x, box.position_x + box.width
        if left < page_left - EPS or right > page_right + EPS:
            out.problems.append(f"page {page_no}: text {box.text[:40]!r} leaves the page "
                                f"({left:.1f}-{right:.1f} outside {page_left:.1f}-{page_right:.1f})")
        if cell is not None:
            c_left = cell.content_box_x()
            c_right = c_left + cell.width
            if left < c_left - EPS or right > c_right + EPS:
                out.problems.append(f"page {page_no}: text {box.text[:40]!r} leaves its cell "
                                    f"({left:.1f}-{right:.1f} outside {c_left:.1f}-{c_right:.1f})")
    for child in getattr(box, "children", ()):
        _walk(child, cell, out, page_left, page_right, page_no)


def check_layout(document) -> Layout:
    """Walk every page of a rendered WeasyPrint document."""
    out = Layout()
    for number, page in enumerate(document.pages, start=1):
        page_box = page._page_box
        if page.width > page.height:
            out.landscape_pages += 1
        left = page_box.content_box_x()
        _walk(page_box, None, out, left, left + page_box.width, number)
    return out


def split_words(slice_cells: list[list[str]], descriptions: list[str], long_token: int) -> list[str]:
    """Words of the slice column that are not whole words of a slice description (a word broken across lines);
    fragments of a long token (longer than ``long_token`` characters, allowed to break) are not counted."""
    whole = {w for d in descriptions for w in d.split()}
    long_words = [w for w in whole if len(w) > long_token]
    bad = []
    for lines in slice_cells:
        for line in lines:
            for word in line.split():
                if word in whole or any(word in w for w in long_words):
                    continue
                bad.append(word)
    return bad
