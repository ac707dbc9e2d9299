"""``nesyflow console``: the Streamlit console over the store (``streamlit run ui/app.py``).

Bound to 127.0.0.1 by default, headless, no usage statistics. The store comes from ``--db`` or
``$NESYFLOW_DB``; rule packs from ``--rules`` or ``$NESYFLOW_RULES`` (default ``rules/``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["console_command", "find_app", "register", "streamlit_args"]

# Light, calm theme; the rest is Streamlit's default.
_THEME = {
    "theme.base": "light",
    "theme.primaryColor": "#364fc7",
    "theme.backgroundColor": "#ffffff",
    "theme.secondaryBackgroundColor": "#f4f6fa",
    "theme.textColor": "#1f2933",
}


def register(app: typer.Typer) -> None:
    app.command("console")(console_command)


def find_app() -> Path | None:
    """``ui/app.py`` of this checkout (beside ``runtime/``), or in the current folder."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[3] / "ui" / "app.py", Path.cwd() / "ui" / "app.py"):
        if candidate.is_file():
            return candidate
    return None


def streamlit_args(app_path: Path, address: str, port: int) -> list[str]:
    """The ``streamlit run`` command line."""
    args = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_path),
        "--server.address",
        address,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "minimal",
        "--server.showEmailPrompt",
        "false",
    ]
    for key, value in _THEME.items():
        args += [f"--{key}", value]
    return args


def console_command(
    port: Annotated[int, typer.Option("--port", help="Port to serve on.")] = 8501,
    address: Annotated[
        str, typer.Option("--address", help="Address to bind (default: this machine only).")
    ] = "127.0.0.1",
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="SQLAlchemy URL of the store (default $NESYFLOW_DB or ./.nesyflow/store.db).",
        ),
    ] = None,
    rules: Annotated[
        Path | None, typer.Option("--rules", help="Folder of rule packs (default rules/).")
    ] = None,
) -> None:
    """Open the console: review queue, run traces, rule packs and workflow graphs."""
    from nesyflow.store import StoreError, default_url, open_store

    app_path = find_app()
    if app_path is None:
        typer.echo("error: the console (ui/app.py) is not part of this installation", err=True)
        raise typer.Exit(2)
    if not 0 < port < 65536:
        typer.echo(f"error: --port {port} is not a port number", err=True)
        raise typer.Exit(2)
    url = db or default_url()
    try:
        open_store(url).close()  # a bad URL is reported here, not as a broken page
    except StoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    env = dict(os.environ)
    env["NESYFLOW_DB"] = url
    if rules is not None:
        if not rules.is_dir():
            typer.echo(f"error: --rules {rules}: no such folder", err=True)
            raise typer.Exit(2)
        env["NESYFLOW_RULES"] = str(rules.resolve())
    env.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
    typer.echo(f"nesyflow console on http://{address}:{port}  (store {url})")
    raise typer.Exit(serve(streamlit_args(app_path, address, port), env))


def serve(args: list[str], env: dict[str, str]) -> int:
    """Run the console's server until it ends, or until this process is asked to stop (SIGTERM,
    Ctrl-C): then the server is stopped too, never left serving as an orphan (killed if it has not
    stopped within 10 s)."""
    server = subprocess.Popen(args, env=env)
    previous = signal.signal(signal.SIGTERM, lambda *_: server.terminate())
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
