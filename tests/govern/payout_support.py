"""The payout workflow (tests/govern/payout) run for real: a replay model marked remote that
records what it received, the payout pack gating the payment, a SQLite store. Shared by the
governance, console and browser tests."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from nesyflow.schema.redact import placeholder

PAYOUT = Path(__file__).parent / "payout"
IBAN = "DE89370400440532013000"
IBAN_SPACED = "DE89 3704 0044 0532 0130 00"
PAYEE = "Ana Lima"
REQUEST = {
    "id": "p-1",
    "text": f"{PAYEE} asks to be paid to {IBAN_SPACED} for the March invoice.",
    "payee": PAYEE,
    "iban": IBAN,
    "amount": 300,
}
# what must never show: the values however they are spaced or cased
_LEAKS = [
    re.compile(r"DE\W*89\W*3704\W*0044\W*0532\W*0130\W*00", re.I),
    re.compile("Ana Lima", re.I),
]


def leaks(text: str) -> list[str]:
    """The sensitive values (any spacing or case) found in ``text``."""
    return [m.group(0) for p in _LEAKS for m in p.finditer(text)]


def workflow(tmp_path: Path, *, remote: bool | None = True) -> Path:
    """A copy of the payout workflow with its llm node marked ``remote`` (``None``: unmarked)."""
    folder = tmp_path / f"payout-{remote}"
    if not folder.exists():
        shutil.copytree(PAYOUT, folder)
        flow = folder / "workflow.yaml"
        text = flow.read_text()
        mark = "" if remote is None else f"    remote: {str(remote).lower()}\n"
        flow.write_text(text.replace("    remote: true\n", mark))
    return folder / "workflow.yaml"


def run_payout(
    store: Any,
    tmp_path: Path,
    monkeypatch: Any,
    *,
    remote: bool | None = True,
    request: dict[str, Any] | None = None,
) -> tuple[Any, list[list[dict[str, Any]]]]:
    """Run the payout workflow once on the replay model; returns the result and every message
    list the model received. The model answers as a model does: with what it was shown (a
    remote one saw placeholders, so it writes them back)."""
    from nesyflow.engine import start_run

    request = request or REQUEST
    seen_iban = placeholder("bank", request["iban"]) if remote else request["iban"]
    seen_payee = placeholder("personal", request["payee"]) if remote else request["payee"]
    replies = tmp_path / f"replies-{remote}-{request['id']}.jsonl"
    replies.write_text(
        json.dumps({"note": f"Pay {seen_payee} for March", "iban": seen_iban}, ensure_ascii=False)
        + "\n"
    )
    received = tmp_path / f"received-{remote}-{request['id']}.jsonl"
    monkeypatch.setenv("NESYFLOW_MODEL", f"replay:{replies}")
    monkeypatch.setenv("NESYFLOW_REPLAY_RECORD", str(received))
    result = start_run(workflow(tmp_path, remote=remote), request, store=store)
    seen = (
        [json.loads(line) for line in received.read_text().splitlines()]
        if received.exists()
        else []
    )
    return result, seen
