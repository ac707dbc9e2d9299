"""Assignment and deadlines on the shipped expense agent (its workflow with a ``review:`` block on
the rules' checkpoint): escalation and default decisions when a deadline passes — once, whenever
the next tick runs, also from ``nesyflow tick`` — a default approval that would override the rules
never applied, "assigned to me" overdue first, and reassignment with its reason recorded."""

from __future__ import annotations

import copy
import datetime as dt
import shutil
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from nesyflow.auth import hash_password
from nesyflow.cli import app
from nesyflow.cli.demo import load_samples
from nesyflow.engine import start_run
from nesyflow.graph import load_workflow
from nesyflow.review import (
    DecisionRefused,
    ReassignRefused,
    assigned_to_me,
    decide,
    reassign,
    tick,
)
from nesyflow.review.assign import events
from nesyflow.store import open_store
from nesyflow.store import tables as t
from nesyflow.store.accounts import Accounts

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = {row["id"]: row for row in load_samples(ROOT / "agents/expense/samples.jsonl")}
HOUR = dt.timedelta(hours=1)


@pytest.fixture(autouse=True)
def _no_model(monkeypatch):
    monkeypatch.setenv("NESYFLOW_EXTRACT_CHOOSER", "person")


def _flow(tmp_path: Path, policy: str):
    """The shipped expense workflow (and pack, copied beside it) with ``review: {policy}`` on the
    node where the rules send a claim to a person."""
    shutil.copytree(ROOT / "agents" / "expense", tmp_path / "agents" / "expense")
    shutil.copytree(ROOT / "rules" / "expense", tmp_path / "rules" / "expense")
    path = tmp_path / "agents" / "expense" / "workflow.yaml"
    text = path.read_text()
    anchor = "    context: read.output.context\n    on_fail: human\n    next: paid_before\n"
    assert anchor in text
    path.write_text(text.replace(anchor, anchor + f"    review: {{{policy}}}\n"))
    return load_workflow(path)


def _over_limit(store, flow):
    result = start_run(flow, copy.deepcopy(SAMPLES["exp-048"]), store=store)
    assert result.status.value == "waiting_review", result.error
    return store.get_review(result.review_id)


def _late_ride(store, flow):
    """exp-001 dated after its submission: a ``fail`` verdict (item_after_submission)."""
    row = copy.deepcopy(SAMPLES["exp-001"])
    row["request"] = row["request"].replace("April 2nd", "June 3rd")
    row["receipt"] = row["receipt"].replace("Wed, Apr 2, 2025", "Tue, Jun 3, 2025")
    result = start_run(flow, row, store=store)
    review = store.get_review(result.review_id)
    assert review.verdict.value == "fail"
    return review


def _people(store) -> None:
    accounts = Accounts(store)
    for name, role, groups in [
        ("Ana", "admin", ()),
        ("Ben", "reviewer", ("finance",)),
        ("Cleo", "approver", ("finance",)),
        ("Dan", "approver", ()),
        ("Nina Petrova", "approver", ("finance",)),
    ]:
        accounts.add(name, [role], hash_password("a long password"), groups=groups)


def test_a_passed_deadline_escalates_once(store, tmp_path):
    _people(store)
    flow = _flow(tmp_path, "deadline: 1h, escalate_to: admin")
    review = _over_limit(store, flow)
    assert review.required_role == "approver"
    assert review.due_at - review.created_at == HOUR
    assert tick(store, at=review.created_at + dt.timedelta(minutes=59)) == []
    later = review.created_at + 2 * HOUR
    [done] = tick(store, at=later)
    assert (done.review_id, done.outcome, done.detail) == (review.id, "escalated", "admin")
    assert tick(store, at=later) == []  # once
    now = store.get_review(review.id)
    assert now.required_role == "admin" and now.overdue(later)
    assert [e["kind"] for e in events(store, review.id)] == ["escalated"]
    with pytest.raises(DecisionRefused, match="needs the role 'admin'"):
        decide(review.id, "approve", "Cleo", "fine", store=store)
    decide(review.id, "approve", "Ana", "fine", store=store)


def test_a_default_rejection_is_recorded_as_the_deadlines(store, tmp_path):
    flow = _flow(tmp_path, "deadline: 30m, default: reject")
    review = _over_limit(store, flow)
    [done] = tick(store, at=review.created_at + HOUR)
    assert (done.outcome, done.detail, done.run_status) == ("defaulted", "reject", "rejected")
    decision = store.decision_for(review.id)
    assert decision.who == "deadline" and decision.comment.startswith("default decision:")
    assert [e["kind"] for e in events(store, review.id)] == ["defaulted"]


def test_a_default_approval_applies_only_where_the_rules_asked_a_person(store, tmp_path):
    flow = _flow(tmp_path, "deadline: 30m, default: approve")
    asked = _over_limit(store, flow)  # verdict review: the rules asked for a sign-off
    broken = _late_ride(store, flow)  # verdict fail: approving would override the rules
    at = max(asked.created_at, broken.created_at) + HOUR
    outcomes = {d.review_id: d for d in tick(store, at=at)}
    assert outcomes[asked.id].outcome == "defaulted"
    assert outcomes[asked.id].run_status == "completed"
    assert outcomes[broken.id].outcome == "held" and "override" in outcomes[broken.id].detail
    assert store.decision_for(broken.id) is None
    assert store.get_review(broken.id).overdue(at)  # still open, overdue, for a person
    assert [e["kind"] for e in events(store, broken.id)] == ["default_held"]
    assert tick(store, at=at) == []


def test_nesyflow_tick_honours_a_deadline_that_passed_while_nothing_ran(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    store = open_store(url)
    review = _over_limit(store, _flow(tmp_path, "deadline: 2d, escalate_to: admin"))
    store.close()
    # three days pass with no process running: the deadline is in the store, not in a timer
    with open_store(url).engine.begin() as conn:
        conn.execute(
            update(t.reviews)
            .where(t.reviews.c.id == review.id)
            .values(due_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
        )
    res = CliRunner().invoke(app, ["tick", "--db", url])
    assert res.exit_code == 0, res.output
    assert f"{review.id}  escalated  admin" in res.stdout
    res = CliRunner().invoke(app, ["tick", "--db", url])
    assert res.exit_code == 0 and review.id not in res.stdout


def test_a_group_review_is_the_groups_and_reassigning_records_why(store, tmp_path):
    _people(store)
    flow = _flow(tmp_path, "group: finance, deadline: 4h")
    review = _over_limit(store, flow)
    accounts = Accounts(store)
    cleo, dan, nina = (accounts.get(n) for n in ("Cleo", "Dan", "Nina Petrova"))
    assert [r.id for r in assigned_to_me(store, cleo)] == [review.id]
    assert assigned_to_me(store, dan) == []
    assert assigned_to_me(store, nina) == []  # in finance, but she submitted it
    with pytest.raises(DecisionRefused, match="for the group 'finance'"):
        decide(review.id, "approve", "Dan", "fine", store=store)
    with pytest.raises(ReassignRefused, match="says why"):
        reassign(store, review.id, "Dan", " ", "Cleo")
    with pytest.raises(ReassignRefused, match="needs the role 'approver'"):
        reassign(store, review.id, "Ben", "Ben knows the client", "Cleo")
    with pytest.raises(ReassignRefused, match="own submission"):
        reassign(store, review.id, "Nina Petrova", "she knows it best", "Cleo")
    reassign(store, review.id, "Dan", "Cleo is on leave this week", "Cleo")
    [event] = events(store, review.id)
    assert (event["kind"], event["who"], event["to"], event["from"], event["reason"]) == (
        "reassigned",
        "Cleo",
        "Dan",
        "group:finance",
        "Cleo is on leave this week",
    )
    assert [r.id for r in assigned_to_me(store, dan)] == [review.id]
    assert assigned_to_me(store, cleo) == []
    with pytest.raises(DecisionRefused, match="assigned to Dan"):
        decide(review.id, "approve", "Cleo", "fine", store=store)
    decide(review.id, "approve", "Dan", "fine", store=store)


def test_assigned_to_me_lists_overdue_first(store, tmp_path):
    _people(store)
    flow = _flow(tmp_path, "deadline: 2h")
    first = _over_limit(store, flow)
    row = copy.deepcopy(SAMPLES["exp-048"])
    row["id"] = "exp-048-again"
    second = store.get_review(start_run(flow, row, store=store).review_id)
    with store.engine.begin() as conn:  # the second was due an hour ago, the first is not yet
        conn.execute(
            update(t.reviews)
            .where(t.reviews.c.id == second.id)
            .values(due_at=dt.datetime.now(dt.UTC) - HOUR)
        )
    cleo = Accounts(store).get("Cleo")
    mine = assigned_to_me(store, cleo)
    assert [r.id for r in mine] == [second.id, first.id]
    assert mine[0].overdue() and not mine[1].overdue()
