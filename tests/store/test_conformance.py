"""The store conformance suite, part 2 (every backend): one driver per run (leases: held, renewed,
expired, taken over from a process that ended, fenced writes), one run per request id, tools'
records kept once per key — each also raced by real processes — and what a store URL that cannot
work says (a missing driver, an unwritable path): a sentence, never a traceback."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import socket
import subprocess
import sys
import time

import pytest

from nesyflow.store import (
    DuplicateRequest,
    LeaseHeld,
    NotFound,
    RunStatus,
    StepDraft,
    StoreError,
    open_store,
)
from nesyflow.store.leases import new_holder, renewal_slack

FORK = multiprocessing.get_context("fork")


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# --- leases ----------------------------------------------------------------------------------


def test_a_lease_has_one_holder_until_released(store):
    run = store.create_run("wf", {})
    first = store.acquire_lease(run.id, "host-a:1:one")
    assert first.holder == "host-a:1:one" and first.expires_at > first.acquired_at
    with pytest.raises(LeaseHeld) as held:
        store.acquire_lease(run.id, "host-b:2:two")
    assert held.value.details["holder"] == "host-a:1:one"
    assert "being driven by another process" in str(held.value)
    again = store.acquire_lease(run.id, "host-a:1:one")  # the holder renews
    assert again.acquired_at == first.acquired_at and again.expires_at >= first.expires_at
    store.release_lease(run.id, "host-b:2:two")  # not the holder: nothing happens
    assert store.get_lease(run.id).holder == "host-a:1:one"
    store.release_lease(run.id, "host-a:1:one")
    assert store.get_lease(run.id) is None
    assert store.acquire_lease(run.id, "host-b:2:two").holder == "host-b:2:two"


def test_a_run_created_with_its_lease_is_held_from_its_first_moment(store):
    """start_run takes the lease in the run's own transaction (no second round trip): no other
    driver can take the run between its creation and its first step, and a run whose request id
    was taken writes no lease (the transaction is one)."""
    run = store.create_run("wf", {}, lease="host-a:1:one")
    lease = store.get_lease(run.id)
    assert lease is not None and lease.holder == "host-a:1:one"
    assert lease.expires_at > lease.acquired_at
    with pytest.raises(LeaseHeld):
        store.acquire_lease(run.id, "host-b:2:two")
    store.create_run("wf", {}, request_id="r-1")
    with pytest.raises(DuplicateRequest):
        store.create_run("wf", {}, request_id="r-1", run_id="second", lease="host-a:1:one")
    assert store.find_run("second") is None and store.get_lease("second") is None


def test_a_lease_on_an_unknown_run_is_not_found(store):
    with pytest.raises(NotFound):
        store.acquire_lease("no-such-run", "h:1:x")


def test_an_expired_lease_is_taken_over_and_the_old_holder_is_fenced_off(store):
    run = store.create_run("wf", {}, current_node="a")
    store.acquire_lease(run.id, "host-a:1:old", seconds=0.05)
    time.sleep(0.1)
    assert store.acquire_lease(run.id, "host-b:2:new").holder == "host-b:2:new"
    # the old holder's writes are refused and leave nothing behind
    with pytest.raises(LeaseHeld):
        store.checkpoint(
            run.id,
            expect_version=0,
            state={"late": True},
            current_node="b",
            status=RunStatus.RUNNING,
            step=StepDraft(node="a", kind="llm"),
            lease="host-a:1:old",
        )
    with pytest.raises(LeaseHeld):
        store.begin_effect("k-old", run.id, "a", 1, {}, lease="host-a:1:old")
    assert store.steps(run.id) == [] and store.get_effect("k-old") is None
    assert store.get_run(run.id).version == 0


def test_a_lease_of_a_process_that_ended_is_taken_over_at_once(store):
    run = store.create_run("wf", {})
    here = socket.gethostname()
    store.acquire_lease(run.id, f"{here}:{_dead_pid()}:crashed", seconds=3600)
    assert store.acquire_lease(run.id, "next:1:x").holder == "next:1:x"
    # a holder on another host cannot be checked: it is alive until its lease expires
    other = store.create_run("wf", {})
    store.acquire_lease(other.id, f"not-{here}:{_dead_pid()}:far", seconds=3600)
    with pytest.raises(LeaseHeld):
        store.acquire_lease(other.id, "next:1:x")


def test_every_checkpoint_renews_the_lease(store):
    run = store.create_run("wf", {})
    lease = store.acquire_lease(run.id, "h:1:a", seconds=1)
    store.checkpoint(
        run.id,
        expect_version=0,
        state={},
        current_node=None,
        status=RunStatus.RUNNING,
        step=StepDraft(node="a", kind="llm"),
        lease="h:1:a",
    )
    renewed = store.get_lease(run.id)
    assert renewed.holder == "h:1:a"
    assert (renewed.expires_at - lease.expires_at).total_seconds() > store.lease_seconds - 5


def _move(store, run_id, version, holder, node="a"):
    return store.checkpoint(
        run_id,
        expect_version=version,
        state={},
        current_node=None,
        status=RunStatus.RUNNING,
        step=StepDraft(node=node, kind="llm"),
        lease=holder,
    )


def test_after_every_checkpoint_the_lease_lasts_at_least_its_time(store):
    """However a backend renews (SQLite rewrites the row only when it would end too soon), each
    checkpoint leaves the lease ending no earlier than its own time plus the lease's."""
    run = store.create_run("wf", {}, lease="h:1:a")
    for version in range(6):
        before = dt.datetime.now(dt.UTC)
        _move(store, run.id, version, "h:1:a")
        lease = store.get_lease(run.id)
        assert lease.holder == "h:1:a"
        assert lease.expires_at >= before + dt.timedelta(seconds=store.lease_seconds)


def test_a_lease_taken_over_between_two_checkpoints_stops_the_next(store):
    """Two checkpoints in quick succession (the second need not rewrite the lease), then the run
    is taken over: the old driver's next checkpoint is refused and writes nothing."""
    crashed = f"{socket.gethostname()}:{_dead_pid()}:crashed"
    run = store.create_run("wf", {}, lease=crashed)
    _move(store, run.id, 0, crashed)
    _move(store, run.id, 1, crashed, node="b")
    assert store.acquire_lease(run.id, "next:1:x").holder == "next:1:x"  # its process ended
    with pytest.raises(LeaseHeld, match="next:1:x"):
        _move(store, run.id, 2, crashed, node="c")
    assert store.get_run(run.id).version == 2
    assert [s.node for s in store.steps(run.id)] == ["a", "b"]
    assert store.get_lease(run.id).holder == "next:1:x"


def test_a_fenced_driver_behind_the_new_holder_is_told_of_the_lease_not_a_stale_version(store):
    """The run was taken over and the new holder has checkpointed since: the old driver's next
    checkpoint is both stale and unleased; it writes nothing and the reason given is the lease
    (the one it can act on: stop driving), as when only the lease had changed."""
    crashed = f"{socket.gethostname()}:{_dead_pid()}:crashed"
    run = store.create_run("wf", {}, lease=crashed)
    _move(store, run.id, 0, crashed)
    assert store.acquire_lease(run.id, "next:1:x").holder == "next:1:x"
    _move(store, run.id, 1, "next:1:x", node="b")
    with pytest.raises(LeaseHeld, match="next:1:x"):
        _move(store, run.id, 1, crashed, node="c")
    assert store.get_run(run.id).version == 2
    assert [s.node for s in store.steps(run.id)] == ["a", "b"]
    assert store.get_lease(run.id).holder == "next:1:x"


def test_a_checkpoint_after_its_lease_was_released_writes_nothing(store):
    """A lease given up (the run finished or was handed back) fences its old holder too."""
    run = store.create_run("wf", {}, lease="h:1:a")
    _move(store, run.id, 0, "h:1:a")
    store.release_lease(run.id, "h:1:a")
    with pytest.raises(LeaseHeld):
        _move(store, run.id, 1, "h:1:a", node="b")
    assert store.get_run(run.id).version == 1
    assert [s.node for s in store.steps(run.id)] == ["a"]


def test_an_expired_lease_still_held_is_renewed_by_a_checkpoint(store):
    """Expired but not taken over: the holder's checkpoint goes through and renews it in full."""
    run = store.create_run("wf", {})
    store.acquire_lease(run.id, "h:1:a", seconds=0.0)
    before = dt.datetime.now(dt.UTC)
    _move(store, run.id, 0, "h:1:a")
    lease = store.get_lease(run.id)
    assert lease.expires_at >= before + dt.timedelta(seconds=store.lease_seconds)


def test_a_lease_taken_for_longer_is_brought_back_to_the_lease_time(store):
    """A lease acquired for an hour is renewed to the lease's time by the next checkpoint (as
    every checkpoint always did), not left to last the hour."""
    run = store.create_run("wf", {})
    store.acquire_lease(run.id, "h:1:a", seconds=3600)
    _move(store, run.id, 0, "h:1:a")
    after = dt.datetime.now(dt.UTC)
    limit = after + dt.timedelta(seconds=store.lease_seconds + renewal_slack(store.lease_seconds))
    assert store.get_lease(run.id).expires_at <= limit


def _race_for_lease(url, run_id, barrier, done, results):
    s = open_store(url)
    holder = new_holder()
    barrier.wait()
    try:
        s.acquire_lease(run_id, holder)
        results.put("won")
    except LeaseHeld:
        results.put("lost")
    done.wait()  # stay alive until all have tried: a finished winner may rightly be taken over


def test_processes_taking_one_lease_at_once_one_wins(db_url):
    run = open_store(db_url).create_run("wf", {})
    n = 5
    barrier, done, results = FORK.Barrier(n), FORK.Barrier(n), FORK.Queue()
    procs = [
        FORK.Process(target=_race_for_lease, args=(db_url, run.id, barrier, done, results))
        for _ in range(n)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    outcomes = sorted(results.get(timeout=5) for _ in procs)
    assert outcomes == ["lost"] * (n - 1) + ["won"]


def _race_to_begin(url, run_id, barrier, done, results):
    """What a resumer does before a tool call: take the lease, then begin the effect under it."""
    s = open_store(url)
    holder = new_holder()
    barrier.wait()
    try:
        s.acquire_lease(run_id, holder)
        effect = s.begin_effect(f"{run_id}:pay:1", run_id, "pay", 1, {"usd": 5}, lease=holder)
        results.put("entered" if effect.status == "pending" else "done")
    except LeaseHeld:
        results.put("refused")
    done.wait()


def test_processes_beginning_one_effect_at_once_one_enters(db_url):
    run = open_store(db_url).create_run("wf", {})
    n = 5
    barrier, done, results = FORK.Barrier(n), FORK.Barrier(n), FORK.Queue()
    procs = [
        FORK.Process(target=_race_to_begin, args=(db_url, run.id, barrier, done, results))
        for _ in range(n)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    outcomes = sorted(results.get(timeout=5) for _ in procs)
    assert outcomes == ["entered"] + ["refused"] * (n - 1)


# --- requests --------------------------------------------------------------------------------


def test_a_request_id_names_one_run_per_workflow(store):
    first = store.create_run("wf", {"id": "r-1"}, request_id="r-1", input_hash="h1")
    with pytest.raises(DuplicateRequest) as dup:
        store.create_run("wf", {"id": "r-1"}, request_id="r-1", input_hash="h1")
    assert dup.value.details["run_id"] == first.id
    assert store.find_request("wf", "r-1") == (first.id, "h1")
    assert store.find_request("wf", "r-2") is None
    other = store.create_run("other_wf", {"id": "r-1"}, request_id="r-1")  # another workflow
    assert other.id != first.id


def _race_to_submit(url, barrier, results):
    s = open_store(url)
    barrier.wait()
    try:
        results.put(s.create_run("wf", {"id": "same"}, request_id="same").id)
    except DuplicateRequest as exc:
        results.put("dup:" + exc.details["run_id"])


def test_processes_submitting_one_request_at_once_start_one_run(db_url):
    open_store(db_url).close()
    n = 5
    barrier, results = FORK.Barrier(n), FORK.Queue()
    procs = [
        FORK.Process(target=_race_to_submit, args=(db_url, barrier, results)) for _ in range(n)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    outcomes = [results.get(timeout=5) for _ in procs]
    started = [o for o in outcomes if not o.startswith("dup:")]
    assert len(started) == 1
    assert all(o == "dup:" + started[0] for o in outcomes if o.startswith("dup:"))


# --- tools' records --------------------------------------------------------------------------


def test_a_tool_record_is_kept_once_per_key(store):
    run = store.create_run("wf", {})
    first, wrote = store.record_once("run:pay:1", run.id, "payment", {"usd": "10.00"})
    assert wrote is True
    again, wrote = store.record_once("run:pay:1", run.id, "payment", {"usd": "99.00"})
    assert wrote is False and again == first and again.data == {"usd": "10.00"}
    store.record_once("run:pay:2", run.id, "payment", {"usd": "5.00"})
    store.record_once("run:note:1", run.id, "note", {"x": 1})
    assert [r.data["usd"] for r in store.tool_records("payment")] == ["10.00", "5.00"]
    assert store.tool_records("payment", run_id="other") == []


def _race_to_record(url, run_id, number, barrier, results):
    s = open_store(url)
    barrier.wait()
    record, wrote = s.record_once(f"{run_id}:pay:1", run_id, "payment", {"by": number})
    results.put((record.data["by"], wrote))


def test_processes_recording_one_key_at_once_keep_one_record(db_url):
    run = open_store(db_url).create_run("wf", {})
    n = 5
    barrier, results = FORK.Barrier(n), FORK.Queue()
    procs = [
        FORK.Process(target=_race_to_record, args=(db_url, run.id, i, barrier, results))
        for i in range(n)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    outcomes = [results.get(timeout=5) for _ in procs]
    assert sum(wrote for _, wrote in outcomes) == 1
    assert len({by for by, _ in outcomes}) == 1  # every caller got the one record kept
    assert len(open_store(db_url).tool_records("payment")) == 1


# --- URLs that cannot work -------------------------------------------------------------------


def test_a_missing_postgres_driver_names_the_extra():
    code = (
        "import sys; sys.modules['psycopg'] = None\n"
        "from nesyflow.store import StoreError, open_store\n"
        "try:\n"
        "    open_store('postgresql://u@127.0.0.1:9/x')\n"
        "except StoreError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "pip install 'nesyflow[postgres]'" in out.stdout and "psycopg" in out.stdout
    with pytest.raises(StoreError, match="psycopg2"):
        open_store("postgresql+psycopg2://u@127.0.0.1:9/x")  # a driver this project never ships


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////proc/nesyflow-cannot-write-here/store.db",  # not even root may mkdir in /proc
        "postgresql+psycopg2://u@127.0.0.1:9/x",
        "postgresql://nobody@127.0.0.1:9/nothing",  # no server there
        "not a url",
        "nosuchdb://x/y",
    ],
)
def test_the_cli_says_what_is_wrong_with_a_store_url_and_exits_2(url, tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "nesyflow.cli", "runs", "list", "--db", url],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr and out.stderr.startswith("error: ")


def test_a_store_path_under_a_file_is_a_clear_error(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot create the store's folder"):
        open_store(f"sqlite:///{blocker / 'store.db'}")


@pytest.mark.parametrize("value", ["0", "-5", "soon", "nan", "inf"])
def test_a_lease_time_that_is_not_a_positive_number_is_refused(value, monkeypatch, tmp_path):
    monkeypatch.setenv("NESYFLOW_LEASE_SECONDS", value)
    with pytest.raises(StoreError, match="NESYFLOW_LEASE_SECONDS"):
        open_store(f"sqlite:///{tmp_path / 's.db'}")
