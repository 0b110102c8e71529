"""What the browser tests share: the system Chromium, starting `streamlit run app.py` on a free
port against a given database, and watching a tab for console messages and requests that
leave the machine.

Not a test module (no `test_` prefix): `tests/test_browser.py` and
`tests/test_browser_flows.py` import it (pytest puts `tests/` on the import path).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# No background traffic of the browser's own (updates, sync, QUIC probes): a request seen by
# a test is one the page made.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    """Until the server accepts connections; fails with its output if it exits first."""
    port = int(url.rsplit(":", 1)[1])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"streamlit exited early:\n{process.stdout.read()}")
        try:
            socket.create_connection(("localhost", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail("streamlit did not start listening in time")


@contextmanager
def streamlit_app(
    database: Path, board_db: Path, lang: str = "zh"
) -> Iterator[tuple[str, float, subprocess.Popen]]:
    """`streamlit run app.py` on a free port; yields (url, start time, process).

    The boards go to `board_db`, never the user's own board file."""
    port = free_port()
    env = {
        **os.environ,
        "COCKPIT_DATABASE": str(database),
        "COCKPIT_LANG": lang,
        "COCKPIT_BOARD_DB": str(board_db),
    }
    command = [sys.executable, "-m", "streamlit", "run", "app.py"]
    command += ["--server.port", str(port), "--server.headless", "true"]
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        yield f"http://localhost:{port}", started, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium through Playwright (never `playwright install`); skips without them."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def leaves_machine(url: str) -> bool:
    """Whether a request goes to another host. data: and blob: URLs are the page's own
    bytes (a downloaded CSV, an inline image) and never reach the network."""
    parsed = urlparse(url)
    if parsed.scheme in ("data", "blob", "about"):
        return False
    return parsed.hostname not in LOCAL_HOSTS


@dataclass
class Watch:
    """What a tab logged and fetched: console errors and warnings, uncaught page errors, and
    requests to any host but this machine. A business user's app should log nothing (each
    warning so far was a real fault: a chart drawn before its data, a fit Vega-Lite could
    not do) and work offline."""

    console: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    requests: int = 0
    tolerated: dict[str, int] = field(default_factory=dict)  # exact message → times allowed

    def tolerate(self, message: str, times: int) -> None:
        """Allows one exact console message up to `times` times: only for a message that
        comes from Streamlit's own code and cannot be fixed from ours (say why where used)."""
        self.tolerated[message] = times

    def attach(self, page: Any) -> Any:
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.console.append(f"pageerror: {error}"))
        page.on("request", self._on_request)
        page.on("websocket", lambda socket: self._on_request(socket))  # Streamlit's own link
        return page

    def _on_console(self, message: Any) -> None:
        if message.type in ("error", "warning"):
            self.console.append(f"{message.type}: {message.text}")

    def _on_request(self, request: Any) -> None:
        self.requests += 1
        if leaves_machine(request.url):
            self.outside.append(request.url)

    def assert_clean(self) -> None:
        assert self.requests > 0  # the listener saw the page's own requests
        left = dict(self.tolerated)
        logged = []
        for line in self.console:
            text = line.split(": ", 1)[1]
            if left.get(text, 0) > 0:
                left[text] -= 1
            else:
                logged.append(line)
        assert logged == [], "console errors or warnings:\n" + "\n".join(logged)
        assert self.outside == [], "requests leaving the machine:\n" + "\n".join(self.outside)
