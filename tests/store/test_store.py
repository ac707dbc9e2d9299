"""The store conformance suite, part 1 (every backend: SQLite file and memory, PostgreSQL): runs,
checkpoints, effects, reviews, decisions, schema versions, the console's queries, and one winner
among simultaneous decisions (threads and processes). Part 2 (leases, requests, tool records,
driver errors) is ``test_conformance.py``."""

from __future__ import annotations

import multiprocessing
import threading

import pytest
from sqlalchemy import select

from nesyflow.store import (
    Action,
    AlreadyDecided,
    Conflict,
    DecisionDraft,
    NotFound,
    ReviewDraft,
    RunStatus,
    StepDraft,
    StoreError,
    new_id,
    open_store,
)
from nesyflow.store import queries as q
from nesyflow.store import tables as t
from nesyflow.store.migrations import MIGRATIONS


def _paused(store, rule="too_big", workflow="wf"):
    run = store.create_run(workflow, {"x": 1}, current_node="a")
    saved = store.checkpoint(
        run.id,
        expect_version=0,
        state={"n": 1},
        current_node="a",
        status=RunStatus.WAITING_REVIEW,
        step=StepDraft(
            node="a",
            kind="llm",
            verdict="fail",
            findings=[{"rule": rule, "kind": "violation", "pack": "p@1"}],
        ),
        review=ReviewDraft(
            node="a",
            verdict="fail",
            reasons=[{"rule": rule, "message": "m"}],
            output={"x": 1},
            packs=[{"name": "p", "version": "1", "hash": "h"}],
            facts_hash="f",
        ),
    )
    return saved


def test_ids_sort_by_creation():
    ids = [new_id() for _ in range(2000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_schema_is_versioned_and_reopening_does_not_migrate_again(db_url):
    url = db_url
    assert open_store(url).schema_version == len(MIGRATIONS)
    again = open_store(url)
    with again.read() as conn:
        rows = conn.execute(select(t.schema_version.c.version)).scalars().all()
    assert rows == list(range(1, len(MIGRATIONS) + 1))


def test_wal_mode_on_a_file(tmp_path):
    s = open_store(f"sqlite:///{tmp_path / 'w.db'}")
    with s.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_checkpoint_writes_step_state_review_together(store):
    saved = _paused(store)
    run = store.get_run(saved.run.id)
    assert run.status is RunStatus.WAITING_REVIEW and run.version == 1 and run.state == {"n": 1}
    assert [s.seq for s in store.steps(run.id)] == [1]
    assert saved.step.store_ms > 0
    review = store.get_review(saved.review.id)
    assert review.step_id == saved.step.id and review.rules == ["too_big"]


def test_write_seconds_count_the_whole_transaction_commit_included(store):
    """The demo's store figure: a step's ``store_ms`` stops before its row and the commit; the
    store's ``write_seconds`` counts every write transaction whole."""
    before = store.write_seconds
    saved = _paused(store)
    assert store.write_seconds - before > saved.step.store_ms / 1000 > 0


def test_checkpoint_with_a_stale_version_writes_nothing(store):
    run = store.create_run("wf", {}, current_node="a")
    store.checkpoint(
        run.id,
        expect_version=0,
        state={},
        current_node="b",
        status=RunStatus.RUNNING,
        step=StepDraft(node="a", kind="llm"),
    )
    with pytest.raises(Conflict):
        store.checkpoint(
            run.id,
            expect_version=0,
            state={"late": True},
            current_node="c",
            status=RunStatus.RUNNING,
            step=StepDraft(node="a", kind="llm"),
        )
    assert len(store.steps(run.id)) == 1 and store.get_run(run.id).state == {}


def test_failed_transaction_leaves_nothing(store):
    run = store.create_run("wf", {}, current_node="a")
    with pytest.raises(StoreError):
        store.checkpoint(
            run.id,
            expect_version=0,
            state={"x": 1},
            current_node="b",
            status=RunStatus.RUNNING,
            step=StepDraft(node="a", kind="tool"),
            effect=("never-begun", {"r": 1}),
        )
    assert store.steps(run.id) == [] and store.get_run(run.id).version == 0


def test_effects_are_recorded_once_by_key(store):
    run = store.create_run("wf", {}, current_node="a")
    first = store.begin_effect("k1", run.id, "a", 1, {"a": 1})
    assert first.status == "pending"
    assert store.begin_effect("k1", run.id, "a", 1, {"a": 2}).args == {"a": 1}
    store.checkpoint(
        run.id,
        expect_version=0,
        state={},
        current_node=None,
        status=RunStatus.RUNNING,
        step=StepDraft(node="a", kind="tool"),
        effect=("k1", {"ok": True}),
    )
    done = store.get_effect("k1")
    assert done.status == "done" and done.result == {"ok": True}


def test_create_run_with_a_taken_id_conflicts(store):
    run = store.create_run("wf", {})
    with pytest.raises(Conflict):
        store.create_run("wf", {}, run_id=run.id)
    with pytest.raises(NotFound):
        store.get_run("nope")


def test_decide_once_then_already_decided(store):
    review = _paused(store).review
    won = store.decide(review.id, DecisionDraft(action=Action.APPROVE, who="ann", comment="ok"))
    with pytest.raises(AlreadyDecided):
        store.decide(review.id, DecisionDraft(action=Action.REJECT, who="bob"))
    assert store.decision_for(review.id) == won
    assert store.get_review(review.id).decided_by == "ann"


def test_threads_deciding_at_once_one_wins(db_url):
    url = db_url
    setup = open_store(url)
    reviews = [_paused(setup).review.id for _ in range(10)]
    for review_id in reviews:
        stores = [open_store(url) for _ in range(6)]  # a connection pool each: real connections
        barrier = threading.Barrier(len(stores))
        outcomes: list[str] = []

        def race(s, who, review_id=review_id, barrier=barrier, outcomes=outcomes):
            barrier.wait()
            try:
                s.decide(review_id, DecisionDraft(action=Action.APPROVE, who=who, comment="c"))
                outcomes.append("won")
            except AlreadyDecided:
                outcomes.append("lost")

        threads = [threading.Thread(target=race, args=(s, f"p{i}")) for i, s in enumerate(stores)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert sorted(outcomes) == ["lost"] * 5 + ["won"]
        for s in stores:
            s.close()
    with setup.read() as conn:
        assert conn.execute(select(t.decisions)).all().__len__() == len(reviews)


def _decide_in_process(url, review_id, who, barrier, results):
    s = open_store(url)
    barrier.wait()
    try:
        s.decide(review_id, DecisionDraft(action=Action.REJECT, who=who))
        results.put("won")
    except AlreadyDecided:
        results.put("lost")


def test_processes_deciding_at_once_one_wins(db_url):
    url = db_url
    review_id = _paused(open_store(url)).review.id
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(4), ctx.Queue()
    procs = [
        ctx.Process(target=_decide_in_process, args=(url, review_id, f"p{i}", barrier, results))
        for i in range(4)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    outcomes = sorted(results.get(timeout=5) for _ in procs)
    assert outcomes == ["lost", "lost", "lost", "won"]


def test_queries(store):
    a = _paused(store, rule="too_big", workflow="wf1")
    b = _paused(store, rule="large", workflow="wf2")
    store.create_run("wf1", {"needle": "haystack"})
    assert q.review_queue(store).total == 2
    assert [r.id for r in q.review_queue(store, rule="large").items] == [b.review.id]
    assert [r.id for r in q.review_queue(store, workflow="wf1").items] == [a.review.id]
    assert q.review_queue(store, oldest_first=True).items[0].id == a.review.id
    page = q.review_queue(store, page=2, page_size=1)
    assert page.total == 2 and page.pages == 2 and page.items[0].id == b.review.id
    store.decide(a.review.id, DecisionDraft(action=Action.REJECT, who="x"))
    assert q.review_queue(store).total == 1
    assert q.review_queue(store, status="decided").total == 1
    assert q.list_runs(store, search="haystack").total == 1
    assert q.list_runs(store, status="waiting_review").total == 2
    assert q.list_runs(store, workflow="wf1").total == 2
    counts = q.status_counts(store)
    assert counts.runs["waiting_review"] == 2 and counts.runs["running"] == 1
    assert counts.reviews == {"open": 1, "decided": 1}
    rules = {(r.rule, r.count) for r in q.rule_firing_counts(store)}
    assert rules == {("too_big", 1), ("large", 1)}
    assert q.workflow_names(store) == ["wf1", "wf2"]
    assert [s.seq for s in q.run_steps(store, a.run.id)] == [1]


def test_a_version_1_store_is_migrated_to_the_current_schema(db_url):
    import datetime as dt

    from sqlalchemy import create_engine, insert, inspect

    from nesyflow.store import migrations

    url = db_url
    engine = create_engine(url)
    with engine.begin() as conn:  # what a nesyflow with only the first migration left behind
        t.schema_version.create(conn)
        migrations.MIGRATIONS[0][1](conn)
        # the tables as version 1 made them: before the index existed
        conn.exec_driver_sql("DROP INDEX IF EXISTS ix_steps_created")
        conn.exec_driver_sql("ALTER TABLE decisions DROP COLUMN overrides")  # added in v4
        conn.execute(
            insert(t.schema_version).values(
                version=1, description="v1", applied_at=dt.datetime.now(dt.UTC)
            )
        )
        indexes = {i["name"] for i in inspect(conn).get_indexes("steps")}
    engine.dispose()
    store = open_store(url)
    assert store.schema_version == len(MIGRATIONS) >= 3
    with store.read() as conn:
        assert "ix_steps_created" in {i["name"] for i in inspect(conn).get_indexes("steps")}
        tables = set(inspect(conn).get_table_names())
    assert "ix_steps_created" not in indexes
    assert {"leases", "requests", "tool_records"} <= tables
    with store.read() as conn:
        assert "overrides" in {c["name"] for c in inspect(conn).get_columns("decisions")}
    # the migrated store works: a run can be leased and a tool record kept
    run = store.create_run("wf", {}, request_id="r-1")
    assert store.acquire_lease(run.id, "h:1:a").holder == "h:1:a"
    assert store.record_once("k", run.id, "pay", {"usd": "1.00"})[1] is True
