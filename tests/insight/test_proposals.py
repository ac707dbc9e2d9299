"""Proposals on a real store: six approvals of the per-diem violation for one kind of claim become
an exception rule as a diff that ``patch`` applies to a copy of the shipped pack, whose own tests and
the tests generated from the decisions then pass, with its what-if impact; the pack itself is never
touched; too few approvals, or a kind people mostly reject, propose nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import yaml
from insight_history import ROOT, build, meal, run_and_decide

from nesyflow.insight import propose, whatif
from nesyflow.logic import check, load_pack
from nesyflow.logic.testing import run_pack_tests


def test_repeated_approvals_become_an_exception_that_passes_every_test(decided, tmp_path):
    store = decided["store"]
    shipped = load_pack(ROOT / "rules/expense")
    (proposal,) = propose(store, shipped)
    assert proposal.rule == "meal_over_per_diem" and proposal.where == "categories.lp:17"
    assert {i.review for i in proposal.approvals} == set(decided["approved"])
    # within what people approved: at most $18.00 over, a manager's tier-1 meal
    assert "S - X <= 1800" in proposal.conditions
    assert "item_city_tier(I,1)" in proposal.conditions
    assert "claim_employee_level(1,manager)" in proposal.conditions
    assert not proposal.conflicts and len(proposal.rejections) == 1  # the $190 one, outside
    assert proposal.tests_failed == 0 and proposal.tests_passed > 0
    # the diff is a real diff: patch applies it to a copy of the pack
    copy = tmp_path / "expense"
    shutil.copytree(ROOT / "rules/expense", copy)
    subprocess.run(
        ["patch", "-p1", "-d", str(copy)],
        input=proposal.diff,
        text=True,
        check=True,
        capture_output=True,
    )
    patched = load_pack(copy)
    assert patched.identity.hash != shipped.identity.hash
    report = run_pack_tests(patched)
    assert report.failed == 0, [c.diffs for c in report.cases if not c.passed]
    generated = yaml.safe_load((copy / "tests/proposed_meal_over_per_diem.yaml").read_text())
    assert len(generated["cases"]) == 7  # six approvals (rule gone) and the rejection (still fires)
    assert any("still fires" in c["name"] for c in generated["cases"])
    # what the exception does: the open $108 dinner passes, $19 over and the $190 one still fail
    assert check(patched, meal("108.00", day=20)).verdict.value == "pass"
    assert check(patched, meal("119.00", day=20)).verdict.value == "fail"
    assert check(patched, meal("190.00", day=20)).verdict.value == "fail"
    assert check(patched, meal("108.00", day=20, level="staff")).verdict.value == "fail"
    # and its what-if impact over the store: the six approvals are now moot
    impact = whatif(store, patched)
    assert impact.decisions["approval_over_rule_gone"].count == 6
    assert (
        proposal.impact is not None
        and proposal.impact.to_json()["decisions"] == (impact.to_json()["decisions"])
    )


def test_nothing_changes_the_pack_and_too_few_approvals_propose_nothing(decided):
    store = decided["store"]
    before = load_pack(ROOT / "rules/expense").identity.hash
    assert propose(store, load_pack(ROOT / "rules/expense"), min_approvals=7, impact=False) == []
    propose(store, load_pack(ROOT / "rules/expense"), impact=False)
    assert load_pack(ROOT / "rules/expense").identity.hash == before
    assert not (ROOT / "rules/expense/exception_meal_over_per_diem.lp").exists()


def test_a_kind_people_also_reject_is_shown_or_withheld(tmp_path):
    """Rejections inside the bounds are conflicts: one against six approvals is shown with the
    proposal; two (more than a fifth of the approvals) withhold it."""
    history = build(tmp_path)
    store, flow = history["store"], history["flow"]
    pack = load_pack(ROOT / "rules/expense")
    try:
        # the alcohol claims were only rejected: never proposed, however few approvals are asked
        assert [p.rule for p in propose(store, pack, min_approvals=2, impact=False)] == [
            "meal_over_per_diem"
        ]
        run_and_decide(store, flow, meal("106.00", day=15), "reject", "eli.kim", "not this one")
        (shown,) = propose(store, pack, impact=False)
        assert len(shown.conflicts) == 1 and shown.conflicts[0].item.step.decided_by == "eli.kim"
        run_and_decide(store, flow, meal("111.00", day=16), "reject", "eli.kim", "nor this one")
        assert propose(store, pack, impact=False) == []
    finally:
        store.close()


def test_the_command_prints_the_diff_and_exits_one(decided):
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "nesyflow.cli", "proposals", *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=600,
        )

    shown = cli("rules/expense", "--db", decided["url"], "--format", "json", "--no-impact")
    assert shown.returncode == 1, shown.stderr
    (row,) = json.loads(shown.stdout)
    assert row["rule"] == "meal_over_per_diem" and row["tests"]["failed"] == 0
    assert "+++ b/exception_meal_over_per_diem.lp" in row["diff"]
    none = cli("rules/expense", "--db", decided["url"], "--min", "50", "--no-impact")
    assert none.returncode == 0 and "No violation" in none.stdout


def test_a_lower_bound_is_measured_from_the_right_side():
    """``Q <= 0``: how far past it is ``0 - Q``; an instance further past stays outside."""
    from nesyflow.insight.proposals import Instance, _conditions, _inside, _parse_body

    text = "violation(invalid_quantity, item(N)) :- line(I, N), item_nights(I, Q), Q <= 0."
    body = _parse_body(("invalid_quantity", "items.lp", 7), text)
    assert body is not None and body.variables == {"I"}  # N is a line number, not an id
    approved = [Instance(None, "item(0)", {"N": "0", "I": "2", "Q": q}) for q in ("-2", "0")]
    conditions = _conditions(body, approved)
    assert conditions == ["0 - Q <= 2"]
    assert _inside(body, conditions, Instance(None, "item(0)", {"Q": "-1"}))
    assert not _inside(body, conditions, Instance(None, "item(0)", {"Q": "-5"}))
