"""What the console's real-browser tests share: Debian's chromium, ``nesyflow console`` on a free
loopback port (stopped however the test ends), a chromium page driven through the PyPI playwright
package, and waiting for Streamlit to finish a run."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts"
# Without the background-networking flags chromium keeps trying hosts this closed network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def chromium() -> Path:
    """Debian's chromium (``make test`` installs it), else installed here if apt can.

    No browser is a failure, not a skip: these are the console's only real-browser tests, and a
    suite that quietly skipped them would look green without them. Where no browser can exist, say
    so explicitly with ``NESYFLOW_NO_BROWSER=1`` (the tests are then skipped with that reason)."""
    if CHROMIUM.exists():
        return CHROMIUM
    if shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(["apt-get", "update"], capture_output=True, timeout=300)
        subprocess.run(["apt-get", "install", "-y", "chromium"], capture_output=True, timeout=600)
    if CHROMIUM.exists():
        return CHROMIUM
    if os.environ.get("NESYFLOW_NO_BROWSER") == "1":
        pytest.skip("NESYFLOW_NO_BROWSER=1: the console's browser test was turned off on purpose")
    pytest.fail(
        "no /usr/bin/chromium and apt-get could not install it (not root or no apt); install "
        "Debian's chromium, or set NESYFLOW_NO_BROWSER=1 to skip this test on purpose"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"nesyflow console exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("the console did not come up")


@contextmanager
def running_console(env: Mapping[str, str]) -> Iterator[str]:
    """``nesyflow console`` with ``env`` added to this process's, on a free port; yields its
    address once it answers, and stops the whole process group afterwards."""
    port = free_port()
    console = subprocess.Popen(
        [str(Path(sys.executable).parent / "nesyflow"), "console", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        wait_http(base, console)
        yield base
    finally:
        os.killpg(console.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            console.wait(timeout=10)
        # streamlit (a child in the group) can outlive the SIGTERM that ended nesyflow console:
        # one was found still serving half an hour after its test; whatever is left goes now
        with contextlib.suppress(ProcessLookupError):
            os.killpg(console.pid, signal.SIGKILL)


@contextmanager
def chromium_page(
    profile: Path, *, height: int = 1600, headers: Mapping[str, str] | None = None
) -> Iterator[Any]:
    """A page of Debian's chromium with a fresh profile in ``profile`` (launch_persistent_context
    owns --user-data-dir), closed afterwards."""
    executable = chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(executable),
            headless=True,
            viewport={"width": 1440, "height": height},
            args=CHROMIUM_ARGS,
            **({"extra_http_headers": dict(headers)} if headers else {}),
        )
        try:
            yield browser.pages[0] if browser.pages else browser.new_page()
        finally:
            browser.close()


def settle(page: Any) -> None:
    """Wait until Streamlit has finished running the script (its 'running' indicator is gone)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=20_000)
    page.wait_for_function(
        """() => {
            const w = document.querySelector('[data-testid="stStatusWidget"]');
            return !w || !/running|connecting/i.test(w.innerText || '');
        }""",
        timeout=30_000,
    )
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    for index in range(charts.count()):  # charts draw after the script: wait for their marks
        charts.nth(index).locator("canvas, svg").first.wait_for(timeout=15_000)
    page.wait_for_timeout(600)  # let the last delta paint
