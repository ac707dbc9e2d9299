"""Subprocess for the double-payment test: start one run of the shipped expense agent.

    python expense_run_worker.py DB_URL RUN_ID INPUT_JSON

NESYFLOW_CRASH_AT / NESYFLOW_CRASH_AFTER (set by the test) make it SIGKILL itself at a crash point.
"""

import json
import sys
from pathlib import Path

from nesyflow.engine import start_run
from nesyflow.graph import load_workflow
from nesyflow.store import open_store

AGENT = Path(__file__).resolve().parents[2] / "agents" / "expense"


def main() -> None:
    url, run_id, row = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    result = start_run(
        load_workflow(AGENT / "workflow.yaml"), row, store=open_store(url), run_id=run_id
    )
    print(result.status.value)


if __name__ == "__main__":
    main()
