"""A real PostgreSQL server for the tests: Debian's ``postgresql`` binaries, started in a temporary
folder on 127.0.0.1 and a free port, stopped after the session. Never a mock.

PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` system user the
Debian package creates (``runuser``), with the temporary folder handed to it. A missing server is a
test failure naming the package; ``NESYFLOW_NO_POSTGRES=1`` skips the PostgreSQL tests on purpose.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["PostgresServer", "postgres_server"]

OPT_OUT = "NESYFLOW_NO_POSTGRES"


def _bin_dir() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    """A running server; :meth:`new_database` gives each test an empty database of its own."""

    host: str
    port: int
    user: str

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def new_database(self) -> str:
        import psycopg

        name = "t_" + uuid.uuid4().hex[:16]
        with psycopg.connect(
            host=self.host, port=self.port, user=self.user, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


@contextlib.contextmanager
def _running() -> Iterator[PostgresServer]:
    if os.environ.get(OPT_OUT) == "1":
        pytest.skip(f"{OPT_OUT}=1: the PostgreSQL store tests are skipped on purpose")
    bindir = _bin_dir()
    if bindir is None:
        pytest.fail(
            "no PostgreSQL server in /usr/lib/postgresql/*/bin: install Debian's postgresql "
            f"package (make test does), or set {OPT_OUT}=1 to skip these tests on purpose"
        )
    root = Path(tempfile.mkdtemp(prefix="nesyflow-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(root, ignore_errors=True)
            pytest.fail("running as root and there is no 'postgres' user to run the server as")
        os.chown(root, owner.pw_uid, owner.pw_gid)
    port = _free_port()
    log = root / "server.log"
    try:
        subprocess.run(
            _as_server_user(
                [
                    *(str(bindir / "initdb"), "-D", str(data), "-U", "nesyflow", "-A", "trust"),
                    *("-E", "UTF8", "--no-locale", "--no-sync"),
                ]
            ),
            check=True,
            capture_output=True,
            text=True,
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        subprocess.run(
            _as_server_user(
                [
                    *(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log)),
                    *("-w", "-t", "60", "start"),
                ]
            ),
            check=True,
            capture_output=True,
            text=True,
        )
    except subprocess.CalledProcessError as exc:
        text = log.read_text() if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"PostgreSQL did not start: {exc.stderr}\n{text}")
    try:
        yield PostgresServer(host="127.0.0.1", port=port, user="nesyflow")
    finally:
        subprocess.run(
            _as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One server for the whole session (started on first use)."""
    with _running() as server:
        yield server
