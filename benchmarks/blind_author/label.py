"""Label a blind author's requests with the expense pack's own verdict on each expected claim.

    .venv/bin/python benchmarks/blind_author/label.py KIT/unseenN.jsonl

(a copy in the kit works the same when run with the repository's ``.venv/bin/python``).

Rewrites ``expected_verdict`` / ``expected_rules`` / ``expected_missing`` of every row in place
(the verdict of ``rules/expense`` on the row's ``expected`` claim, with the context the workflow's
evidence tool gives it, as ``tests/agents/test_expense_agent.py`` checks every shipped label) and
prints a line per row and the verdict counts. The author runs it; labels are never edited by hand.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import nesyflow
from nesyflow._imports import load_module
from nesyflow.logic import check, load_pack

ROOT = Path(nesyflow.__file__).resolve().parents[2]  # the repository: runtime/nesyflow/__init__.py


def main(path: Path) -> None:
    pack = load_pack(ROOT / "rules" / "expense")
    evidence = load_module(ROOT / "agents" / "expense" / "evidence.py")
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for row in rows:
        args = evidence.EvidenceArgs(request=row["request"], receipt=row.get("receipt", ""))
        try:
            result = check(pack, row["expected"], context=evidence.gather_context(args))
        except Exception as exc:  # a claim the schema refuses: the author fixes the claim
            print(f"{row['id']}: INVALID CLAIM: {exc}")
            continue
        row["expected_verdict"] = result.verdict.value
        row["expected_rules"] = sorted(set(result.rule_ids()))
        row["expected_missing"] = sorted(result.missing)
        print(
            f"{row['id']}: {row['expected_verdict']:8} {row['expected_rules']} {row['expected_missing']}"
        )
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    print(Counter(r.get("expected_verdict") for r in rows))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: label.py KIT/unseenN.jsonl")
    main(Path(sys.argv[1]))
