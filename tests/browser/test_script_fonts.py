"""Hindi (Devanagari) text in a grid cell is drawn with its own glyphs, not as boxes (tofu): the grid draws on a
canvas, and chromium finds a Devanagari font only when the system has one (Makefile: fonts-noto-core). The test
records the text and font of every canvas fillText, then draws the Hindi word the grid drew, in the grid's own font,
beside code points no font has (unassigned: always the box glyph), and checks the two differ in width and in pixels.
Screenshot: test-artifacts/fonts-hindi-cell.png."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import ARTIFACTS, wait_for_app

pytestmark = pytest.mark.browser

#: Records each text a canvas draws with the font it was drawn in.
RECORD = """(() => { window.__drawn = []; const P = CanvasRenderingContext2D.prototype; const fill = P.fillText;
  P.fillText = function (text, x, y, maxWidth) { window.__drawn.push({text: String(text), font: this.font});
    return fill.call(this, text, x, y, maxWidth); }; })();"""

#: Draws ``text`` and as many unassigned code points (U+0378: no font has a glyph, so the box) in ``font``: their
#: widths, and whether their pixels are the same.
COMPARE = """([text, font]) => { const n = Array.from(text).length; const tofu = '\\u0378'.repeat(n);
  const draw = s => { const c = document.createElement('canvas'); c.width = 400; c.height = 60;
    const x = c.getContext('2d'); x.font = font; x.fillStyle = '#000'; x.textBaseline = 'middle'; x.fillText(s, 4, 30);
    return {width: x.measureText(s).width, pixels: Array.from(x.getImageData(0, 0, 400, 60).data).join(',')}; };
  const a = draw(text), b = draw(tofu);
  return {text_width: a.width, tofu_width: b.width, same_pixels: a.pixels === b.pixels}; }"""

DEVANAGARI = re.compile(r"[\u0900-\u097F]+")


def test_hindi_in_a_grid_cell_is_not_tofu(demo_server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    context.add_init_script(RECORD)
    page = context.new_page()
    page.set_default_timeout(90_000)
    try:
        page.goto(f'{demo_server.url}/Slices?by=language&order=1&slice={{"language": "hi"}}')
        wait_for_app(page)
        grids = page.locator("[data-testid='stDataFrame']")
        grids.nth(1).wait_for(timeout=120_000)
        wait_for_app(page)
        grids.nth(1).scroll_into_view_if_needed()
        page.wait_for_timeout(800)
        drawn = [d for d in page.evaluate("window.__drawn") if DEVANAGARI.search(d["text"])]
        ARTIFACTS.mkdir(exist_ok=True)
        grids.nth(1).screenshot(path=str(ARTIFACTS / "fonts-hindi-cell.png"))
        assert drawn, "the grid drew no Hindi text"
        word = DEVANAGARI.search(drawn[0]["text"]).group(0)
        found = page.evaluate(COMPARE, [word, drawn[0]["font"]])
        assert not found["same_pixels"], (word, drawn[0]["font"], found)
        assert abs(found["text_width"] - found["tofu_width"]) > 1, (word, drawn[0]["font"], found)
    finally:
        context.close()
