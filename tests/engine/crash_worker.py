"""Subprocess for the crash test: start (or resume) one run of the note workflow.

    python crash_worker.py DB_URL RUN_ID OUT_FILE

The fake model answers from the conversation so every process answers alike: the first draft breaks
a rule (amount 150 → reask), the corrected draft and the summary pass. NESYFLOW_CRASH_AFTER (set by
the test) makes the process SIGKILL itself at the N-th crash point.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from flows import FakeModel, note_flow, services

from nesyflow.engine import start_run
from nesyflow.store import open_store


def answer(messages):
    first = messages[0]["content"]
    if first.startswith("Summarise"):
        return {"text": "summary of " + first[10:], "amount": 5}
    if len(messages) == 1:
        return {"text": "draft", "amount": 150}
    return {"text": "draft fixed", "amount": 10}


def main() -> None:
    url, run_id, out = sys.argv[1:4]
    store = open_store(url)
    result = start_run(
        note_flow(),
        {"topic": "crash", "path": out},
        store=store,
        services=services(FakeModel(answer)),
        run_id=run_id,
    )
    print(result.status.value)


if __name__ == "__main__":
    main()
