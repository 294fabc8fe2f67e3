"""Real-browser harness: `streamlit run app.py` on 127.0.0.1 and Playwright driving Debian's chromium.

Later pages reuse it: the ``app_server`` fixture starts the app on a fresh store (loaded by
the test first if it wants data), ``page`` is a Playwright page, ``shot(page, name)`` saves a
screenshot under test-artifacts/ to look at.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("FAULTLINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic"]

pytestmark = pytest.mark.browser

#: A projector's viewport: the size the trials check the pages at.
PROJECTOR = {"width": 1280, "height": 720}

#: Records every text a canvas draws (the grid's headers and cells are drawn, not laid out): its canvas (tagged),
#: position and measured width, in CSS pixels of the canvas.
DRAWN_TEXT = """(() => { window.__drawn = []; const P = CanvasRenderingContext2D.prototype; const fill = P.fillText;
  P.fillText = function (text, x, y, maxWidth) { const c = this.canvas; const t = this.getTransform();
    const dpr = window.devicePixelRatio || 1;
    if (c && c.dataset) { c.dataset.h = c.dataset.h || Math.random().toString(36).slice(2);
      window.__drawn.push({canvas: c.dataset.h, text: String(text), x: (x * t.a + t.e) / dpr, y: (y * t.d + t.f) / dpr,
                           width: this.measureText(text).width * t.a / dpr}); }
    return fill.call(this, text, x, y, maxWidth); }; })();"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppServer:
    """A `streamlit run app.py` process on 127.0.0.1, stopped at the end of the test."""

    def __init__(self, db: Path, *, env: dict | None = None):
        self.db = db
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = ARTIFACTS / f"streamlit-{self.port}.log"
        ARTIFACTS.mkdir(exist_ok=True)
        full_env = {**os.environ, "FAULTLINE_DB": str(db), "FAULTLINE_DEMO": "0", **(env or {})}
        self._handle = open(self.log, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=ROOT, env=full_env, stdout=self._handle, stderr=subprocess.STDOUT)
        self._wait_healthy()

    def _wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited early: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:  # noqa: S310 - loopback
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"streamlit did not become healthy: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._handle.close()


@pytest.fixture
def app_server(tmp_path):
    """Start the app on ``tmp_path/browser.duckdb``; load data into it *before* requesting this fixture."""
    server = AppServer(tmp_path / "browser.duckdb")
    yield server
    server.stop()


@pytest.fixture
def demo_server(tmp_path):
    """The app on a small demo store (3,000 prompts x two runs)."""
    from analysis import open_store
    from analysis.demo.seed import ensure_demo

    db = tmp_path / "demo.duckdb"
    with open_store(db, seed_demo=False) as store:
        ensure_demo(store, n_prompts=3000)
    server = AppServer(db)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail("Debian's chromium is missing: `apt-get install -y chromium` (make test does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(45_000)
    yield page
    context.close()


@pytest.fixture
def projector(browser):
    """A page at 1280x720 that records every text a canvas draws (``window.__drawn``, :data:`DRAWN_TEXT`)."""
    context = browser.new_context(viewport=PROJECTOR)
    context.add_init_script(DRAWN_TEXT)
    page = context.new_page()
    page.set_default_timeout(90_000)
    yield page
    context.close()


def shot(page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/ (look at it when developing)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_for_app(page) -> None:
    """Wait until Streamlit finished running the script (no 'Running...' status)."""
    page.wait_for_selector("[data-testid='stApp']")
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
