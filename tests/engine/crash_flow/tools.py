"""The crash test's tool: it notes every entry (``<path>.calls``: key and pid), can kill its own
process while inside the call (``CRASH_IN_TOOL=1``: a crash between the call and its checkpoint),
can wait inside the call until a file appears (``HOLD_IN_TOOL=<file>``: so a second resumer tries
while this one is in the tool), and keeps its effect once in the store (``record_once``)."""

import os
import signal
import time
from pathlib import Path

from pydantic import BaseModel

from nesyflow.engine import idempotency_key, record_once


class AppendArgs(BaseModel):
    path: str
    text: str


class Paid(BaseModel):
    line: str
    pid: int


def pay(args: AppendArgs) -> Paid:
    with open(Path(args.path + ".calls"), "a") as log:
        log.write(f"{idempotency_key()}\t{os.getpid()}\n")
        log.flush()
        os.fsync(log.fileno())
    if os.environ.get("CRASH_IN_TOOL") == "1":
        os.kill(os.getpid(), signal.SIGKILL)
    hold = os.environ.get("HOLD_IN_TOOL")
    if hold:
        deadline = time.monotonic() + 60
        while not Path(hold).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    record = record_once("crash_test.payment", {"text": args.text, "pid": os.getpid()})
    return Paid(line=record.data["text"], pid=record.data["pid"])
