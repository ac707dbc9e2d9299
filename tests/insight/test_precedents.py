"""Precedents on a real store: the past decided reviews of the same rule come first, each with its
decision, comment and who; close values rank before far ones; the index takes in a decision made a
moment ago; the command prints them."""

from __future__ import annotations

import json
import subprocess
import sys

from insight_history import ROOT, meal, run_and_decide

from nesyflow.insight import PrecedentIndex


def test_precedents_share_the_rule_and_carry_the_decision(decided):
    store = decided["store"]
    index = PrecedentIndex(store)
    top = index.for_review(decided["open_meal"], k=3)
    assert len(top) == 3
    assert all("meal_over_per_diem" in p.shared_rules for p in top)
    assert {p.review_id for p in top} <= set(decided["approved"])
    assert all(p.action == "approve" and p.who and p.comment == "client dinner agreed" for p in top)
    # the alcohol claim's precedents are the alcohol rejections, not the many meal approvals
    beer = index.for_review(decided["open_beer"], k=2)
    assert {p.review_id for p in beer} == set(decided["beer"])
    assert all(p.action == "reject" and "alcohol_not_reimbursable" in p.shared_rules for p in beer)


def test_close_values_rank_before_far_ones(decided):
    index = PrecedentIndex(decided["store"], facts_weight=1.0)  # facts alone: no text channel
    (first,) = index.for_review(decided["open_meal"], k=1)
    # $108.00 is nearest $107.50 (the second approval), not $104, $118 or the rejected $190
    assert first.review_id == decided["approved"][1]
    ranked = index.for_review(decided["open_meal"], k=10)
    assert ranked[-1].review_id == decided["far"] or decided["far"] not in {
        p.review_id for p in ranked[:3]
    }


def test_the_index_takes_in_new_decisions(decided, tmp_path):
    store, flow = decided["store"], decided["flow"]
    index = PrecedentIndex(store)
    before = len(index.for_review(decided["open_beer"], k=10)) and len(index)
    claim = meal("39.00", tier=2, level="staff", day=14, name="Grace Kim")
    claim["items"][0].update(alcohol=True, description="pizza and wine")
    new = run_and_decide(store, flow, claim, "approve", "eli.kim", "client was there after all")
    found = index.for_review(decided["open_beer"], k=10)
    assert len(index) == before + 1
    assert new in {p.review_id for p in found}
    assert next(p for p in found if p.review_id == new).who == "eli.kim"


def test_the_command_prints_precedents_and_refuses_an_unknown_review(decided):
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "nesyflow.cli", "reviews", "precedents", *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=300,
        )

    shown = cli(decided["open_meal"], "--db", decided["url"], "--format", "json")
    assert shown.returncode == 0, shown.stderr
    rows = json.loads(shown.stdout)
    assert len(rows) == 3 and all(r["action"] == "approve" and r["who"] for r in rows)
    text = cli(decided["open_meal"], "--db", decided["url"])
    assert text.returncode == 0 and "client dinner agreed" in text.stdout
    missing = cli("no-such-review", "--db", decided["url"])
    assert missing.returncode == 2 and "no-such-review" in (missing.stderr + missing.stdout)
