"""``nesyflow console`` stops its Streamlit server when it is asked to stop: a SIGTERM to the
console's own process (as a service manager or ``kill PID`` sends it) left the server serving as an
orphan before — one was found still answering half an hour after its test ended."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from console_browser import free_port, wait_http

ROOT = Path(__file__).resolve().parents[2]


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_sigterm_to_the_console_stops_its_server(tmp_path):
    port = free_port()
    console = subprocess.Popen(
        [str(Path(sys.executable).parent / "nesyflow"), "console", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, "NESYFLOW_DB": f"sqlite:///{tmp_path / 's.db'}"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}", console)
        servers = _children(console.pid)
        assert servers, "nesyflow console runs its server as a child process"
        console.send_signal(signal.SIGTERM)  # the console's process only, not its group
        assert console.wait(timeout=20) is not None
        deadline = time.monotonic() + 15
        while any(_alive(s) for s in servers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_alive(s) for s in servers), "the server outlived nesyflow console"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(console.pid, signal.SIGKILL)
