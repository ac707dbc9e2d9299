"""The decision log on every backend (SQLite, a real PostgreSQL): each decision and each resume a
person asks for is an entry of a hash chain written with it; processes deciding at once never
fork the chain; and ``nesyflow audit verify`` names the entry of every kind of tampering done
directly in the database with SQL — altered, removed, reordered, inserted entries, a decision
row or its review changed, a decision written behind the store's back, a rewritten chain."""

from __future__ import annotations

import hashlib
import json
import multiprocessing

import pytest
from sqlalchemy import delete, insert, select, text, update
from typer.testing import CliRunner

from nesyflow.cli import app
from nesyflow.store import (
    Action,
    AlreadyDecided,
    DecisionDraft,
    ReviewDraft,
    RunStatus,
    StepDraft,
    StoreError,
    open_store,
)
from nesyflow.store import tables as t
from nesyflow.store.audit import GENESIS, canonical, chain_hash

FORK = multiprocessing.get_context("fork")


def _paused(store, workflow="wf"):
    run = store.create_run(workflow, {"x": 1}, current_node="a")
    saved = store.checkpoint(
        run.id,
        expect_version=0,
        state={"n": 1},
        current_node="a",
        status=RunStatus.WAITING_REVIEW,
        step=StepDraft(node="a", kind="llm", verdict="fail"),
        review=ReviewDraft(
            node="a",
            verdict="fail",
            reasons=[{"rule": "too_big", "message": "m"}],
            output={"amount": 12.5, "note": "Zürich ☕"},
            packs=[{"name": "p", "version": "1", "hash": "h"}],
            facts_hash="f",
        ),
    )
    return saved


def _three_decisions(store):
    """Three decided reviews (approve with a comment, edit with output and check, reject)."""
    reviews = [_paused(store).review for _ in range(3)]
    store.decide(reviews[0].id, DecisionDraft(action=Action.APPROVE, who="ana", comment="ok"))
    store.decide(
        reviews[1].id,
        DecisionDraft(
            action=Action.EDIT,
            who="bo",
            comment="fixed the amount",
            output={"amount": 10.0},
            check={"verdict": "pass", "rules_ms": 1.25},
            overrides={"total_reimbursable": "10.00"},
        ),
    )
    store.decide(reviews[2].id, DecisionDraft(action=Action.REJECT, who="cy"))
    return reviews


def _verify(url, *extra):
    return CliRunner().invoke(app, ["audit", "verify", "--db", url, *extra])


def test_each_decision_is_an_entry_of_the_chain_written_with_it(db_url):
    store = open_store(db_url)
    reviews = _three_decisions(store)
    entries = store.audit_entries()
    assert [e.seq for e in entries] == [1, 2, 3]
    assert [e.kind for e in entries] == ["decision"] * 3
    assert [(e.who, e.data["action"]) for e in entries] == [
        ("ana", "approve"),
        ("bo", "edit"),
        ("cy", "reject"),
    ]
    assert [e.review_id for e in entries] == [r.id for r in reviews]
    assert entries[0].run_id == reviews[0].run_id
    assert entries[1].data["output"] == {"amount": 10.0}
    assert entries[1].data["overrides"] == {"total_reimbursable": "10.00"}
    # the chain, recomputed here from the stored bodies by the definition in the module doc
    with store.read() as conn:
        rows = conn.execute(select(t.audit_log).order_by(t.audit_log.c.seq)).all()
    prev = GENESIS
    for row in rows:
        body = json.loads(row.body)
        assert row.body == canonical(body) and body["seq"] == row.seq
        expected = hashlib.sha256(row.body.encode() + b"\n" + prev.encode()).hexdigest()
        assert row.prev_hash == prev and row.hash == expected
        prev = row.hash
    report = store.verify_audit()
    assert report.ok and report.entries == 3 and report.decisions == 3
    assert report.head == f"3:{rows[-1].hash}"
    result = _verify(db_url)
    assert result.exit_code == 0, result.output
    assert f"3 entries, 3 decisions: OK; head 3:{rows[-1].hash}" in result.output


def test_a_decision_that_loses_or_fails_leaves_no_entry(db_url, monkeypatch):
    store = open_store(db_url)
    review = _paused(store).review
    store.decide(review.id, DecisionDraft(action=Action.REJECT, who="ana"))
    with pytest.raises(AlreadyDecided):
        store.decide(review.id, DecisionDraft(action=Action.APPROVE, who="bo"))
    assert len(store.audit_entries()) == 1

    # the entry cannot be written: the decision is not recorded either (one transaction)
    import nesyflow.store.sql as sql

    real = sql.append_entry

    def written_then_broken(conn, **entry):
        real(conn, **entry)
        raise ValueError("disk says no")

    monkeypatch.setattr(sql, "append_entry", written_then_broken)
    other = _paused(store).review
    with pytest.raises(StoreError, match="decision log cannot record"):
        store.decide(other.id, DecisionDraft(action=Action.APPROVE, who="bo", comment="x"))
    monkeypatch.setattr(sql, "append_entry", real)
    assert store.decision_for(other.id) is None
    assert store.get_review(other.id).status.value == "open"
    assert len(store.audit_entries()) == 1 and store.verify_audit().ok


def _decide_many(url, review_ids, who, barrier, results):
    s = open_store(url)
    barrier.wait()
    for review_id in review_ids:
        s.decide(review_id, DecisionDraft(action=Action.REJECT, who=who))
    results.put(who)


def test_processes_deciding_at_once_never_fork_the_chain(db_url):
    setup = open_store(db_url)
    n, each = 4, 5
    reviews = [_paused(setup).review.id for _ in range(n * each)]
    barrier, results = FORK.Barrier(n), FORK.Queue()
    procs = [
        FORK.Process(
            target=_decide_many,
            args=(db_url, reviews[i * each : (i + 1) * each], f"p{i}", barrier, results),
        )
        for i in range(n)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert sorted(results.get(timeout=5) for _ in procs) == [f"p{i}" for i in range(n)]
    entries = setup.audit_entries()
    assert [e.seq for e in entries] == list(range(1, n * each + 1))
    assert len({e.prev_hash for e in entries}) == n * each  # no two entries share a parent
    assert sorted(e.review_id for e in entries) == sorted(reviews)
    assert setup.verify_audit().ok


# --- tampering, done directly with SQL --------------------------------------------------------


def _problems(url, *extra):
    result = _verify(url, *extra)
    assert result.exit_code == 1, result.output
    return result.output


def _row(store, seq):
    with store.read() as conn:
        return conn.execute(select(t.audit_log).where(t.audit_log.c.seq == seq)).one()


def test_an_altered_entry_is_named(db_url):
    store = open_store(db_url)
    _three_decisions(store)
    row = _row(store, 2)
    body = json.loads(row.body)
    body["data"]["comment"] = "nothing changed"
    with store.engine.begin() as conn:
        conn.execute(update(t.audit_log).where(t.audit_log.c.seq == 2).values(body=canonical(body)))
    out = _problems(db_url)
    assert "entry 2: altered: its content does not match its hash" in out
    # the decision row still says what was decided: the difference is named, field and values
    assert (
        "entry 2: decision_changed: decision "
        f"{row.ref} differs from its entry: comment: log 'nothing changed', "
        "table 'fixed the amount'" in out
    )
    assert [x.split(":")[0] for x in out.splitlines()[:-1]] == ["entry 2", "entry 2"]


def test_a_changed_column_of_an_entry_is_named(db_url):
    store = open_store(db_url)
    _three_decisions(store)
    with store.engine.begin() as conn:
        conn.execute(update(t.audit_log).where(t.audit_log.c.seq == 1).values(who="mallory"))
    out = _problems(db_url)
    assert "entry 1: column_changed: column who is 'mallory', its hashed body says 'ana'" in out


def test_a_removed_entry_is_named(db_url):
    store = open_store(db_url)
    reviews = _three_decisions(store)
    ref = _row(store, 2).ref
    with store.engine.begin() as conn:
        conn.execute(delete(t.audit_log).where(t.audit_log.c.seq == 2))
    out = _problems(db_url)
    assert "entry 3: missing: entry 2 is missing: entry 3 follows entry 1" in out
    assert f"decision {ref} (edit of review {reviews[1].id} by bo) has no entry in the log" in out


def test_a_removed_entry_with_the_rest_renumbered_is_named(db_url):
    store = open_store(db_url)
    _three_decisions(store)
    with store.engine.begin() as conn:
        conn.execute(delete(t.audit_log).where(t.audit_log.c.seq == 2))
        conn.execute(update(t.audit_log).where(t.audit_log.c.seq == 3).values(seq=2))
    out = _problems(db_url)
    assert "entry 2: broken_link: does not follow entry 1" in out
    assert "entry 2: moved: its hashed body says it is entry 3" in out


def test_reordered_entries_are_named(db_url):
    store = open_store(db_url)
    _three_decisions(store)
    with store.engine.begin() as conn:
        conn.execute(update(t.audit_log).where(t.audit_log.c.seq == 2).values(seq=99))
        conn.execute(update(t.audit_log).where(t.audit_log.c.seq == 3).values(seq=2))
        conn.execute(update(t.audit_log).where(t.audit_log.c.seq == 99).values(seq=3))
    out = _problems(db_url)
    assert (
        "entry 2: broken_link" in out
        and "entry 2: moved: its hashed body says it is entry 3" in out
    )
    assert (
        "entry 3: broken_link" in out
        and "entry 3: moved: its hashed body says it is entry 2" in out
    )


def test_an_inserted_entry_is_named_even_with_a_correct_hash(db_url):
    store = open_store(db_url)
    _three_decisions(store)
    first = _row(store, 1)
    # a forged entry 2 that follows entry 1 correctly; the old 2 and 3 moved up one
    with store.engine.begin() as conn:
        conn.execute(update(t.audit_log).where(t.audit_log.c.seq == 3).values(seq=4))
        conn.execute(update(t.audit_log).where(t.audit_log.c.seq == 2).values(seq=3))
        body = canonical(
            {
                "seq": 2,
                "at": json.loads(first.body)["at"],
                "kind": "resume",
                "who": "mallory",
                "run_id": first.run_id,
                "review_id": None,
                "ref": None,
                "data": {},
            }
        )
        conn.execute(
            insert(t.audit_log).values(
                seq=2,
                at=first.at,
                kind="resume",
                who="mallory",
                run_id=first.run_id,
                body=body,
                prev_hash=first.hash,
                hash=chain_hash(body, first.hash),
            )
        )
    out = _problems(db_url)
    lines = out.splitlines()
    assert not [x for x in lines if x.startswith("entry 2:")]  # the forgery itself is consistent…
    assert "entry 3: broken_link: does not follow entry 2" in out  # …what follows it is not
    assert "entry 3: moved: its hashed body says it is entry 2" in out


def test_a_decision_row_changed_in_the_decisions_table_is_named(db_url):
    store = open_store(db_url)
    reviews = _three_decisions(store)
    decision = store.decision_for(reviews[1].id)
    with store.engine.begin() as conn:
        conn.execute(
            update(t.decisions)
            .where(t.decisions.c.id == decision.id)
            .values(who="mallory", output={"amount": 9999.0})
        )
    out = _problems(db_url)
    assert f"entry 2: decision_changed: decision {decision.id} differs from its entry:" in out
    assert 'output: log {"amount":10.0}, table {"amount":9999.0}' in out
    assert "who: log 'bo', table 'mallory'" in out
    assert "altered" not in out  # the log itself is intact


def test_a_review_whose_decided_columns_changed_is_named(db_url):
    store = open_store(db_url)
    reviews = _three_decisions(store)
    with store.engine.begin() as conn:
        conn.execute(
            update(t.reviews)
            .where(t.reviews.c.id == reviews[2].id)
            .values(action="approve", decided_by="mallory")
        )
    out = _problems(db_url)
    assert f"entry 3: review_changed: review {reviews[2].id}'s decided columns differ" in out
    assert (
        "action: log 'reject', table 'approve'" in out and "who: log 'cy', table 'mallory'" in out
    )


def test_a_decision_written_behind_the_stores_back_or_removed_is_named(db_url):
    store = open_store(db_url)
    reviews = _three_decisions(store)
    extra = _paused(store).review
    gone = store.decision_for(reviews[0].id)
    with store.engine.begin() as conn:
        conn.execute(
            insert(t.decisions).values(
                id="forged-decision",
                review_id=extra.id,
                action="approve",
                who="mallory",
                at=gone.at,
            )
        )
        conn.execute(delete(t.decisions).where(t.decisions.c.id == gone.id))
    out = _problems(db_url)
    assert (
        f"entry 1: decision_missing: decision {gone.id} is no longer in the decisions table" in out
    )
    assert (
        "decision forged-decision (approve of review" in out and "by mallory) has no entry" in out
    )


def test_a_chain_rewritten_from_an_entry_on_fails_the_head_noted_earlier(db_url):
    store = open_store(db_url)
    _three_decisions(store)
    noted = store.verify_audit().head
    # rewrite entry 2 and recompute every hash after it: the chain alone is consistent again
    with store.engine.begin() as conn:
        rows = conn.execute(select(t.audit_log).order_by(t.audit_log.c.seq)).all()
        prev = rows[0].hash
        for row in rows[1:]:
            body = json.loads(row.body)
            if row.seq == 2:
                body["data"]["comment"] = "rewritten"
            new = canonical(body)
            digest = chain_hash(new, prev)
            conn.execute(
                update(t.audit_log)
                .where(t.audit_log.c.seq == row.seq)
                .values(body=new, prev_hash=prev, hash=digest)
            )
            prev = digest
        conn.execute(
            update(t.decisions).where(t.decisions.c.id == rows[1].ref).values(comment="rewritten")
        )
    assert store.verify_audit().ok  # what a bare chain cannot see
    out = _problems(db_url, "--head", noted)
    assert "entry 3: head_mismatch: the head noted earlier" in out
    assert _verify(db_url, "--head", "3:nothex").exit_code == 2


def test_migrating_a_store_with_earlier_decisions_enters_them_first(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = open_store(url)
    reviews = _three_decisions(store)
    # as an older nesyflow left it: no log, schema version 4 (later versions re-applied too)
    with store.engine.begin() as conn:
        conn.execute(delete(t.audit_log))
        conn.execute(text("DROP TABLE audit_log"))
        conn.execute(delete(t.schema_version).where(t.schema_version.c.version >= 5))
    store.close()
    again = open_store(url)
    entries = again.audit_entries()
    assert [e.review_id for e in entries] == [r.id for r in reviews]
    assert all(e.data["backfilled"] is True for e in entries)
    assert again.verify_audit().ok


def test_a_dropped_log_is_named(db_url):
    store = open_store(db_url)
    _three_decisions(store)
    with store.engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_log"))
    assert "log: log_missing: the audit_log table is gone" in _problems(db_url)


def test_a_store_whose_decisions_table_is_gone_is_exit_2(db_url):
    store = open_store(db_url)
    _three_decisions(store)
    with store.engine.begin() as conn:
        conn.execute(text("DROP TABLE decisions"))
    result = _verify(db_url)
    assert result.exit_code == 2 and "cannot read the decision log" in result.output
    assert "Traceback" not in result.output
