"""Run train scenarios end to end on a real model and write what happened.

    HF_HUB_OFFLINE=1 LITELLM_LOCAL_MODEL_COST_MAP=True \\
        .venv/bin/python benchmarks/retail_agent.py [--tasks 0 10 13 34 43] [--model M]

``--workflow grounded`` runs grounded.yaml instead (candidate calls grounded in spans of the request
checked against the database; the retail pack says which it allows now; the grounded policy —
or the model, ``--chooser model`` — picks among the allowed ones only) and writes
benchmarks/results/retail_agent_grounded.json (``_model`` appended with ``--chooser model``).

Each scenario is one run of the workflow on the scenario's reason for the call and known info, with
the request taken as the customer's agreement to the changes it asks for (``confirmed: true``, as
``nesyflow replay`` treats a recorded sequence), at most ``--max-calls`` tool calls. A review (the
rules deny or want a person for a proposed call, a proposal still incomplete after its reask, the
budget spent) stops the scenario: this script then rejects it as the reviewer, which ends the run.

Reported per scenario and in total: model calls (proposals, reasks included), calls that ran, of
those the ones equal to a correct action of the task (name and arguments) and the ones the tool
refused, proposals denied or sent to review by the rules (with the rule ids), how the run ended, and
whether anything ran that the rules had not allowed (by construction: never) or any database write
that is not one of the task's correct actions (allowed by the policy, but wrong).
Writes benchmarks/results/retail_agent.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "agents" / "retail_service"
TASKS = ROOT / "tests" / "fixtures" / "retail" / "train_tasks.json"
OUT = ROOT / "benchmarks" / "results" / "retail_agent.json"
DEFAULT_TASKS = ["0", "10", "13", "34", "43"]


def _key(name: str, arguments: dict[str, Any]) -> str:
    return json.dumps([name, arguments], sort_keys=True)


def run_scenario(task: dict[str, Any], flow: Any, store: Any, agent: Any, max_calls: int) -> dict:
    from nesyflow.engine import start_run
    from nesyflow.review import decide

    info = task["user_scenario"]["instructions"]
    gold = task["evaluation_criteria"]["actions"] or []
    started = time.perf_counter()
    result = start_run(
        flow,
        {
            "reason_for_call": info["reason_for_call"],
            "known_info": info.get("known_info") or "",
            "confirmed": True,
            "max_calls": max_calls,
        },
        store=store,
    )
    review = None
    if result.review_id:
        review = store.get_review(result.review_id)
        decide(
            review.id,
            "reject",
            "benchmarks/retail_agent.py",
            comment="benchmark: stop here",
            store=store,
        )
    seconds = time.perf_counter() - started
    steps = store.steps(result.run_id)
    proposals = [s for s in steps if s.node == "propose" and s.kind in ("llm", "check")]
    checks = [s for s in steps if s.node == "dispatch" and s.kind in ("tool", "tool_check")]
    ran = [s for s in steps if s.node == "dispatch" and s.kind == "tool"]
    final = store.get_run(result.run_id)
    dispatch_out = final.state.get("outputs", {}).get("dispatch")
    session = agent.Session.model_validate(dispatch_out) if dispatch_out else agent.Session()

    # grounded.yaml: each turn's candidates, the pack's verdict on each, the choice among them
    grounds = [s.output for s in steps if s.node == "ground" and s.kind == "tool" and s.output]
    options = [o for g in grounds for o in g.get("options") or []]
    chosen_outside_allowed = 0
    for g in grounds:
        p = agent.Proposal.model_validate(g["proposal"])
        if p.name in ("done", "transfer_to_human_agents") and g.get("chosen_by") != "policy":
            continue
        k = _key(p.name, agent.tool_arguments(p.name, p))
        if not any(
            o["verdict"] == "allow" and _key(o["name"], o["arguments"]) == k
            for o in g.get("options") or []
        ):
            chosen_outside_allowed += 1
    wanted = Counter(_key(a["name"], a["arguments"]) for a in gold)
    correct = 0
    for call in session.calls:
        k = _key(call.name, call.arguments)
        if wanted[k] > 0:
            wanted[k] -= 1
            correct += 1
    gold_writes = {
        _key(a["name"], a["arguments"]) for a in gold if agent.DOMAIN.tools[a["name"]].writes
    }
    wrong_writes = [
        {"name": c.name, "arguments": c.arguments, "error": c.error}
        for c in session.calls
        if agent.DOMAIN.tools[c.name].writes and _key(c.name, c.arguments) not in gold_writes
    ]
    stopped_by_rules = [
        {
            "node": s.node,
            "verdict": s.verdict,
            "rules": sorted({f["rule"] for f in s.findings if f.get("rule")}),
            "proposal": s.inputs if s.node == "dispatch" else s.output,
        }
        for s in steps
        if s.kind == "tool_check" or (s.kind == "llm" and s.verdict not in (None, "pass"))
    ]
    if review is None:
        last = proposals[-1].output if proposals else None
        ended = "done" if last and last.get("name") == "done" else "transfer"
        if final.status.value == "failed":
            ended = f"failed: {final.error}"
    else:
        ended = f"review at {review.node}: " + ", ".join(
            sorted({str(r.rule or r.kind) for r in review.reasons})
        )
    return {
        "task": task["id"],
        "reason_for_call": info["reason_for_call"],
        "correct_actions": len(gold),
        "model_calls": sum(1 for s in proposals if s.kind == "llm"),
        "proposals_made": len(proposals),
        "reasks": sum(1 for s in proposals if s.attempt > 1),
        "calls_checked_by_policy": len(checks),
        "calls_ran": len(ran),
        "calls_correct": correct,
        "calls_refused_by_tool": sum(1 for c in session.calls if c.error),
        "denied_or_reviewed_by_rules": stopped_by_rules,
        "ran_without_allow": sum(1 for s in ran if s.verdict != "pass"),
        "candidates_checked": len(options),
        "candidates_not_allowed": len([o for o in options if o["verdict"] != "allow"]),
        "candidates_not_allowed_by_rule": dict(
            Counter(r for o in options if o["verdict"] != "allow" for r in o["rules"])
        ),
        "chosen_outside_allowed": chosen_outside_allowed,
        "chosen_by": dict(Counter(g.get("chosen_by") for g in grounds)),
        "writes_not_in_correct_actions": wrong_writes,
        "ended": ended,
        "run_status": final.status.value,
        "seconds": round(seconds, 1),
        "calls": [
            {"name": c.name, "arguments": c.arguments, "error": c.error} for c in session.calls
        ],
        "proposals": [
            {"attempt": s.attempt, "verdict": s.verdict, "proposal": s.output} for s in proposals
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", nargs="+", default=DEFAULT_TASKS)
    parser.add_argument("--model", default=None, help="a litellm model (default: local/smollm2)")
    parser.add_argument("--max-calls", type=int, default=10)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--chooser",
        choices=("policy", "model"),
        default="policy",
        help="grounded.yaml: who picks among the calls the rules allow (NESYFLOW_RETAIL_CHOOSER)",
    )
    parser.add_argument(
        "--workflow",
        choices=("workflow", "grounded"),
        default="workflow",
        help="workflow.yaml (the model proposes) or grounded.yaml (spans checked against the "
        "database propose; results in retail_agent_grounded.json)",
    )
    args = parser.parse_args(argv)
    if args.out is None:
        suffix = "_model" if args.chooser == "model" else ""
        args.out = (
            OUT
            if args.workflow == "workflow"
            else OUT.with_name(f"retail_agent_grounded{suffix}.json")
        )
    os.environ["NESYFLOW_RETAIL_CHOOSER"] = args.chooser
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    if args.model:
        os.environ["NESYFLOW_MODEL"] = args.model

    from nesyflow._imports import load_module
    from nesyflow.graph import load_workflow
    from nesyflow.llm.selection import resolve_model
    from nesyflow.store import open_store

    agent = load_module(HERE / "agent.py")
    flow = load_workflow(HERE / f"{args.workflow}.yaml")
    tasks = {t["id"]: t for t in json.loads(TASKS.read_text(encoding="utf-8"))}
    scenarios = []
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'store.db'}")
        try:
            for task_id in args.tasks:
                out = run_scenario(tasks[task_id], flow, store, agent, args.max_calls)
                scenarios.append(out)
                print(
                    f"task {task_id}: {out['model_calls']} model calls, {out['calls_ran']} ran "
                    f"({out['calls_correct']} correct, {out['calls_refused_by_tool']} refused by "
                    f"the tool), {len(out['denied_or_reviewed_by_rules'])} stopped by rules; "
                    f"{out['ended']} ({out['seconds']} s)",
                    flush=True,
                )
        finally:
            store.close()
    total = {
        key: sum(s[key] for s in scenarios)
        for key in (
            "correct_actions",
            "model_calls",
            "reasks",
            "calls_checked_by_policy",
            "calls_ran",
            "calls_correct",
            "calls_refused_by_tool",
            "ran_without_allow",
            "candidates_checked",
            "candidates_not_allowed",
            "chosen_outside_allowed",
        )
    }
    total["denied_or_reviewed_by_rules"] = sum(
        len(s["denied_or_reviewed_by_rules"]) for s in scenarios
    )
    total["writes_not_in_correct_actions"] = sum(
        len(s["writes_not_in_correct_actions"]) for s in scenarios
    )
    total["scenarios_done"] = sum(1 for s in scenarios if s["ended"] == "done")
    report = {
        "what": f"retail agent (agents/retail_service/{args.workflow}.yaml) on tau2 retail train "
        "scenarios",
        "model": resolve_model(None, flow.model),
        "max_calls": args.max_calls,
        "confirmed": True,
        "chooser": args.chooser if args.workflow == "grounded" else "model",
        "machine": {"python": sys.version.split()[0], "platform": platform.platform()},
        "total": total,
        "scenarios": scenarios,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    print(json.dumps(total, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
