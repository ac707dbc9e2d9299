"""What-if reads each step's replay columns (``store/replay_keys.py``) and compares each distinct
(input, old outcome, decision) once; these tests hold that shortcut to the plain replay it stands
for, on a seeded store of the shipped expense and baggage packs: a step-by-step re-check from the
``check`` JSON, rows written without the columns, and a store migrated from before them."""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from nesyflow.insight import whatif
from nesyflow.logic import check_many, load_pack
from nesyflow.logic.result import OVERRIDES, Verdict
from nesyflow.store import open_store
from nesyflow.store.queries import checked_steps
from nesyflow.store.replay_keys import input_hash, replay_columns

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from seed_store import seed_store  # noqa: E402

PACKS = ("expense", "airline_baggage")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    """A seeded SQLite store (both packs' own cases, repeated, with decided reviews)."""
    path = tmp_path_factory.mktemp("seeded") / "seeded.db"
    seed_store(f"sqlite:///{path}", steps=1500, open_reviews=100, per_pack=25)
    return path


def _copy(seeded: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy.db"
    shutil.copyfile(seeded, copy)
    return copy


_SWITCHED_OFF = {
    "expense": ("violation(meal_over_per_diem",),
    "airline_baggage": ("review(carry_on_must_be_checked", "violation(over_max_weight"),
}


def _changed(name: str, tmp_path: Path) -> Path:
    """The shipped pack with rules the seeded cases fire switched off (``, 1 > 2``), and for
    expense a review of every claim added, so verdicts move both ways and rules start and stop."""
    folder = tmp_path / name
    shutil.copytree(ROOT / "rules" / name, folder)
    for target in _SWITCHED_OFF[name]:
        for rules in sorted(folder.glob("*.lp")):
            text = rules.read_text()
            if target in text:
                start = text.index(target)
                end = text.index(".\n", start)
                rules.write_text(text[:end] + ", 1 > 2" + text[end:])
    if name == "expense":
        with (folder / "limits.lp").open("a") as f:
            f.write("\nreview(manager_approval_required, claim) :- claim(_).\n")
    for case in (folder / "tests").glob("*.yaml"):
        case.unlink()
    return folder


def _step_by_step(store: Any, pack: Any) -> dict[str, Any]:
    """The what-if report's counts, replayed the plain way: every step decoded from its check
    JSON, re-checked and compared on its own (no columns, no grouping, no cache)."""
    rows = []
    for step in checked_steps(store, pack=pack.name):
        for result in step.check.get("results") or ():
            if (result.get("pack") or {}).get("name") == pack.name:
                rows.append((step, result))
                break
    skipped = sum(1 for step, _ in rows if step.check.get("subject") is None)
    rows = [(s, r) for s, r in rows if s.check.get("subject") is not None]
    fresh = check_many(
        pack, [s.check["subject"] for s, _ in rows], [s.check["context"] for s, _ in rows]
    )
    out: dict[str, Any] = {
        "steps": len(rows),
        "skipped": skipped,
        "changed": 0,
        "transitions": Counter(),
        "decisions": Counter(),
        "rules_started": Counter(),
        "rules_stopped": Counter(),
        "runs": set(),
        "from_versions": Counter(),
        "distinct": len(
            {json.dumps([s.check["subject"], s.check["context"]], sort_keys=True) for s, _ in rows}
        ),
    }
    for (step, old), new in zip(rows, fresh, strict=True):
        found = [f for k in ("violations", "reviews", "denials") for f in old.get(k) or ()]
        had = Counter((f["rule"], str(f.get("detail", ""))) for f in found)
        has = Counter((f.rule, str(f.detail)) for f in new.findings())
        before, after = old["verdict"], new.verdict.value
        rules_before, rules_after = {r for r, _ in had}, set(new.rule_ids())
        out["from_versions"][old["pack"]["version"]] += 1
        out["rules_started"].update(rules_after - rules_before)
        out["rules_stopped"].update(rules_before - rules_after)
        if before != after or had != has:
            out["changed"] += 1
            out["runs"].add(step.run_id)
        if before != after:
            out["transitions"][f"{before}→{after}"] += 1
        overrides = {v.value for v in OVERRIDES}
        if step.action == "approve" and before in overrides and rules_before - rules_after:
            out["decisions"]["approval_over_rule_gone"] += 1
        if step.action == "reject" and new.verdict is Verdict.PASS:
            out["decisions"]["rejection_now_passes"] += 1
        if before == "pass" and new.verdict is not Verdict.PASS:
            out["decisions"]["pass_now_needs_a_person"] += 1
    return out


@pytest.mark.parametrize("name", PACKS)
def test_the_report_equals_a_step_by_step_replay_of_the_check_json(seeded, tmp_path, name):
    store = open_store(f"sqlite:///{seeded}")
    pack = load_pack(_changed(name, tmp_path))
    report = whatif(store, pack)
    plain = _step_by_step(store, pack)
    store.close()

    assert plain["steps"] > 300 and plain["changed"] > 0, "the seeded store must exercise a change"
    assert report.steps == plain["steps"] and report.skipped == plain["skipped"]
    assert report.changed == plain["changed"]
    assert report.checked == plain["distinct"] < report.steps  # inputs repeat, checked once each
    assert {k: c.count for k, c in report.transitions.items()} == dict(plain["transitions"])
    assert {k: c.count for k, c in report.decisions.items()} == dict(plain["decisions"])
    assert report.rules_started == plain["rules_started"]
    assert report.rules_stopped == plain["rules_stopped"]
    assert report.runs == plain["runs"]
    assert report.from_versions == plain["from_versions"]
    for change in report.transitions.values():  # each example is a real step of that kind
        assert change.examples and all(
            f"{e.before}→{e.after}" == change.kind for e in change.examples
        )


def _without_timings(report: Any) -> dict[str, Any]:
    out = report.to_json()
    del out["seconds"], out["steps_per_second"]
    return out


@pytest.mark.parametrize("name", PACKS)
def test_rows_written_without_the_columns_give_the_same_report(seeded, tmp_path, name):
    """A store whose rows lack the columns (every other row, and one step whose check kept no
    subject) is replayed from the check JSON for those rows: the same report, examples included."""
    copy = _copy(seeded, tmp_path)
    pack = load_pack(_changed(name, tmp_path))
    store = open_store(f"sqlite:///{copy}")
    with_columns = _without_timings(whatif(store, pack))
    store.close()
    with sqlite3.connect(copy) as conn:
        conn.execute("UPDATE steps SET input_hash = NULL, outcomes = NULL WHERE rowid % 2 = 0")
    store = open_store(f"sqlite:///{copy}")
    mixed = _without_timings(whatif(store, pack))
    store.close()
    assert mixed == with_columns

    # a step that kept no subject cannot be replayed: skipped on either path
    with sqlite3.connect(copy) as conn:
        rows = conn.execute(
            'SELECT id, "check" FROM steps WHERE outcomes LIKE ? AND input_hash IS NOT NULL'
            " ORDER BY created_at LIMIT 2",
            (f'%"{name}":[%',),
        ).fetchall()
        for (step_id, text), fill in zip(rows, (True, False), strict=True):
            check = {**json.loads(text), "subject": None}
            keys = replay_columns(check) if fill else {"input_hash": None, "outcomes": None}
            conn.execute(
                'UPDATE steps SET "check" = ?, input_hash = ?, outcomes = ? WHERE id = ?',
                (json.dumps(check), keys["input_hash"], keys["outcomes"], step_id),
            )
    store = open_store(f"sqlite:///{copy}")
    report = whatif(store, pack)
    store.close()
    assert report.skipped == 2 and report.steps == with_columns["steps"] - 2


def test_a_store_from_before_the_columns_gets_them_filled_in_on_open(seeded, tmp_path):
    copy = _copy(seeded, tmp_path)
    with sqlite3.connect(copy) as conn:
        written = dict(
            (i, (h, o)) for i, h, o in conn.execute("SELECT id, input_hash, outcomes FROM steps")
        )
        assert all(h is not None for h, _ in written.values())
        conn.execute("ALTER TABLE steps DROP COLUMN input_hash")
        conn.execute("ALTER TABLE steps DROP COLUMN outcomes")
        conn.execute("DELETE FROM schema_version WHERE version = 11")
    open_store(f"sqlite:///{copy}").close()  # migrates to version 11
    with sqlite3.connect(copy) as conn:
        filled = dict(
            (i, (h, o)) for i, h, o in conn.execute("SELECT id, input_hash, outcomes FROM steps")
        )
        assert conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] == 11
    assert filled == written  # the migration computes what the write path wrote


def test_the_input_key_is_canonical_and_tells_values_apart():
    assert input_hash({"b": 1, "a": [1, 2]}, None) == input_hash({"a": [1, 2], "b": 1}, None)
    assert input_hash({"a": 1}, None) != input_hash({"a": 1}, {"today": "2025-01-01"})
    assert input_hash({"a": "1"}, None) != input_hash({"a": 1}, None)
    assert input_hash({"a": 2**40}, None) != input_hash({"a": 2**40 + 1}, None)
    assert input_hash({"city": "Zürich"}, None) != input_hash({"city": "Zurich"}, None)


def _claims_history(url: str, tmp_path: Path) -> Any:
    """Five one-meal claims through the check workflow, the over-per-diem ones held for a person,
    one approved and one rejected by people."""
    from insight_history import meal, write_workflow

    from nesyflow.engine import start_run
    from nesyflow.review import decide

    store = open_store(url)
    flow = write_workflow(tmp_path)
    held = [start_run(flow, meal(a), store=store) for a in ("104.00", "130.00", "40.00")]
    held += [start_run(flow, meal("40.00", day=d), store=store) for d in (11, 12)]
    decide(held[0].review_id, "approve", "fin-ops", "agreed in advance", store=store)
    decide(held[1].review_id, "reject", "fin-ops", "too much", store=store)
    return store


def test_postgresql_gives_the_report_sqlite_gives(postgres_server, tmp_path):
    server = postgres_server
    pack = load_pack(_changed("expense", tmp_path / "pack"))
    reports = []
    for url in (f"sqlite:///{tmp_path / 'store.db'}", server.new_database()):
        store = _claims_history(url, tmp_path)
        report = whatif(store, pack).to_json()
        store.close()
        for change in (*report["transitions"].values(), *report["decisions"].values()):
            change["examples"] = [
                (e["before"], e["after"], e["rules_before"]) for e in change["examples"]
            ]
        del report["seconds"], report["steps_per_second"]
        reports.append(report)
    sqlite_report, postgres_report = reports
    assert (
        sqlite_report["steps"] == 5
        and sqlite_report["decisions"]["approval_over_rule_gone"]["count"] == 1
    )
    # the added review of every claim: the three passes would now wait for a person
    assert sqlite_report["decisions"]["pass_now_needs_a_person"]["count"] == 3
    assert postgres_report == sqlite_report


def test_a_replay_past_its_memory_bound_gives_the_same_report(seeded, tmp_path, monkeypatch):
    """More distinct inputs than the replay keeps (``_SEEN_LIMIT``, 200,000 in production; 7 here,
    with chunks of 50 steps) makes it add up and forget its comparisons part way: the report must
    not change (an earlier version raised KeyError there)."""
    import importlib

    module = importlib.import_module("nesyflow.insight.whatif")

    store = open_store(f"sqlite:///{seeded}")
    pack = load_pack(_changed("expense", tmp_path))
    whole = _without_timings(whatif(store, pack))
    monkeypatch.setattr(module, "_SEEN_LIMIT", 7)
    monkeypatch.setattr(module, "_CHUNK", 50)
    bounded = _without_timings(whatif(store, pack))
    store.close()
    assert bounded.pop("distinct_inputs_checked") > whole.pop("distinct_inputs_checked")
    assert bounded == whole
