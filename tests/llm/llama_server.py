"""llama-cpp-python's own OpenAI-compatible server (``python -m llama_cpp.server``) on loopback,
serving the embedded GGUF on one thread: a real HTTP provider for the tests, started and stopped by
them (a free port, 127.0.0.1 only, an API key so the key really travels)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LlamaServer", "llama_server"]

MODEL_ALIAS = "smollm2"


@dataclass(frozen=True)
class LlamaServer:
    base_url: str  # http://127.0.0.1:PORT/v1
    api_key: str
    log: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ready(base_url: str, api_key: str) -> bool:
    request = urllib.request.Request(
        f"{base_url}/models", headers={"Authorization": f"Bearer {api_key}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def llama_server(
    gguf: Path, api_key: str, log: Path, *, wait_s: float = 90
) -> Iterator[LlamaServer]:
    """Start the server, wait until it answers ``/v1/models``, yield it, stop it (always)."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(gguf),
        "--model_alias", MODEL_ALIAS,
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_threads", "1",
        "--n_threads_batch", "1",
        "--n_ctx", "2048",
        "--api_key", api_key,
        "--verbose", "False",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + wait_s
        while not _ready(base_url, api_key):
            if proc.poll() is not None:
                raise RuntimeError(
                    f"llama_cpp.server exited ({proc.returncode}):\n{log.read_text()}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"llama_cpp.server did not answer in {wait_s} s:\n{log.read_text()}"
                )
            time.sleep(0.2)
        yield LlamaServer(base_url=base_url, api_key=api_key, log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
