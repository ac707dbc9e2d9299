"""Subprocess for the crash tests: start (or resume) one run of a test workflow.

    python crash_worker.py DB_URL RUN_ID OUT_FILE [note|fanout]

The fake model answers from the conversation so every process answers alike. ``note`` (the
default): the first draft breaks a rule (amount 150 → reask), the corrected draft and the summary
pass. ``fanout`` (``flows.fanout_flow``): a root, three independent branches (one superstep) and a
tool; every model call is appended to ``OUT_FILE.model.log`` so the test can count the calls a
crash made the engine repeat. NESYFLOW_CRASH_AFTER (set by the test) makes the process SIGKILL
itself at the N-th crash point.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from flows import FakeModel, fanout_answer, fanout_flow, note_flow, services

from nesyflow.engine import start_run
from nesyflow.store import open_store


def answer(messages):
    first = messages[0]["content"]
    if first.startswith("Summarise"):
        return {"text": "summary of " + first[10:], "amount": 5}
    if len(messages) == 1:
        return {"text": "draft", "amount": 150}
    return {"text": "draft fixed", "amount": 10}


def logged(log: Path):
    def reply(messages):
        with open(log, "a") as fh:
            fh.write(messages[0]["content"] + "\n")
        return fanout_answer(messages)

    return reply


def main() -> None:
    url, run_id, out = sys.argv[1:4]
    kind = sys.argv[4] if len(sys.argv) > 4 else "note"
    store = open_store(url)
    if kind == "fanout":
        flow, model = fanout_flow(), FakeModel(logged(Path(out + ".model.log")))
    else:
        flow, model = note_flow(), FakeModel(answer)
    result = start_run(
        flow, {"topic": "crash", "path": out}, store=store, services=services(model), run_id=run_id
    )
    print(result.status.value)


if __name__ == "__main__":
    main()
