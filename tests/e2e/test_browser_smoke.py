"""Smoke test of the browser test setup: Debian's Chromium, headless, driven by Playwright."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

PAGE = b"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>benzokit smoke</title></head>
<body>
  <p id="status">waiting</p>
  <button id="go" type="button">Go</button>
  <script>
    document.getElementById("go").addEventListener("click", () => {
      document.getElementById("status").textContent = "clicked";
    });
  </script>
</body>
</html>
"""


class _PageHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = PAGE if self.path == "/" else b"not found"
        self.send_response(200 if self.path == "/" else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: no access log on stderr."""


@pytest.fixture
def page_url() -> Iterator[str]:
    """The smoke page, served from a thread on a free loopback port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PageHandler)
    thread = threading.Thread(target=server.serve_forever, name="smoke-http", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_click_changes_text(page: Page, page_url: str, screenshot_dir: Path) -> None:
    page.goto(page_url)
    expect(page).to_have_title("benzokit smoke")
    status = page.locator("#status")
    expect(status).to_have_text("waiting")
    page.get_by_role("button", name="Go").click()
    expect(status).to_have_text("clicked")
    shot = screenshot_dir / "browser_smoke.png"
    page.screenshot(path=shot)
    assert shot.stat().st_size > 0


def test_browser_is_headless_chromium(browser: Browser) -> None:
    assert browser.browser_type.name == "chromium"
    assert browser.version.split(".")[0].isdigit()
