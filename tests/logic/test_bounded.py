"""Limits that really limit: a grounding that emits nothing is stopped by killing its worker.

clingo's grounder cannot be interrupted from Python while it emits no rule; before the worker
processes a pack like ``SILENT`` ran 147 s against ``--timeout 2``. Every path — ``check``,
``check_many``, the engine's ``check_subject``, ``nesyflow check`` and loading a pack (``lint``) — must
answer ``unknown`` (or a ``grounding_limit`` problem) within the limit plus a small margin.
"""

import json
import shutil
import subprocess
import sys
import time

import pytest

from nesyflow.errors import ProblemsError
from nesyflow.logic import Verdict, bounded, check, check_many, load_pack

from ..conftest import FIXTURES, ROOT

# 2·10^9 candidates, none passes the filter: the grounder loops without emitting anything
SILENT = "slow(X) :- item(_), X = 1..2000000000, X \\ 7 = 8.\n"
STATIC_SILENT = "slow(X) :- X = 1..2000000000, X \\ 7 = 8.\n"
CLAIM = {"level": "staff", "items": [{"category": "meals", "amount": "20"}]}
SLACK = 1.0  # pipe, pickling, a loaded shared machine


def _pack_folder(tmp_path, rules: str, name="p"):
    folder = tmp_path / name
    shutil.copytree(FIXTURES / "packs" / "toy", folder)
    (folder / "more.lp").write_text(rules)
    return folder


@pytest.fixture
def silent(tmp_path):
    pack = load_pack(_pack_folder(tmp_path, SILENT))
    check(pack, {"level": "staff", "items": []})  # a warm worker: start-up is not the check's time
    return pack


def _timed(fn):
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


def test_check_stops_a_grounding_that_emits_nothing(silent):
    result, took = _timed(lambda: check(silent, CLAIM, timeout=1.0))
    assert result.verdict == Verdict.UNKNOWN and "time limit reached" in result.reason
    assert took < 1.0 + bounded.MARGIN + SLACK
    assert len(result.facts_hash) == 64  # still bound to its input
    # the next check gets a fresh worker and the right answer
    assert check(silent, {"level": "staff", "items": []}).verdict == Verdict.PASS


def test_check_many_stops_it_too_and_keeps_cases_apart(silent):
    results, took = _timed(lambda: check_many(silent, [CLAIM] * 3, timeout=1.0))
    assert [r.verdict for r in results] == [Verdict.UNKNOWN] * 3
    assert took < 1.0 + bounded.MARGIN + SLACK


def test_in_process_the_same_grounding_is_not_bounded_which_is_why_workers_exist(tmp_path):
    """The control: without a worker the observer never gets a say. Run in a child process that
    is killed after three times the limit (a thread would burn a core for the rest of the run)."""
    folder = _pack_folder(tmp_path, SILENT)
    code = (
        "from nesyflow.logic import check, load_pack\n"
        f"pack = load_pack({str(folder)!r})\n"
        "print('loaded', flush=True)\n"
        f"check(pack, {CLAIM!r}, timeout=0.3, isolated=False)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "loaded"
        with pytest.raises(subprocess.TimeoutExpired):
            child.wait(timeout=1.0)
    finally:
        child.kill()
        child.wait()


def test_the_engine_path_is_bounded(tmp_path):
    from nesyflow.engine.checking import check_subject
    from nesyflow.graph.model import PackRef

    folder = _pack_folder(tmp_path, SILENT)
    ref = PackRef(path=str(folder))
    check_subject([ref], {"level": "staff", "items": []}, timeout=1.0)  # warm
    summary, took = _timed(lambda: check_subject([ref], CLAIM, timeout=1.0))
    assert summary.verdict == "unknown"
    assert took < 1.0 + bounded.MARGIN + SLACK


def _run_timed(cmd: list[str]) -> tuple[subprocess.CompletedProcess, float]:
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return done, time.perf_counter() - started


NESYFLOW = [sys.executable, "-m", "nesyflow.cli"]


def test_nesyflow_check_timeout_is_a_real_bound(tmp_path):
    """Timed against the same command on an input the rules decide at once, so what is measured
    is the check, not the interpreter's start-up on a loaded machine."""
    folder = _pack_folder(tmp_path, SILENT)
    quiet, slow = tmp_path / "quiet.jsonl", tmp_path / "slow.jsonl"
    quiet.write_text(json.dumps({"level": "staff", "items": []}) + "\n")
    slow.write_text(json.dumps(CLAIM) + "\n")
    base = [*NESYFLOW, "check", str(folder), "--timeout", "2", "-f", "json", "-i"]
    fast, fast_s = _run_timed([*base, str(quiet)])
    assert fast.returncode == 0, fast.stderr
    done, took = _run_timed([*base, str(slow)])
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert result["verdict"] == "unknown" and "time limit reached" in result["reason"]
    assert took - fast_s < 2 + bounded.MARGIN + 2 * SLACK


def test_loading_a_pack_whose_static_part_never_finishes_fails_naming_the_bound(tmp_path):
    folder = _pack_folder(tmp_path, STATIC_SILENT)
    started = time.perf_counter()
    with pytest.raises(ProblemsError) as info:
        load_pack(folder, timeout=1.0)
    assert time.perf_counter() - started < 1.0 + bounded.MARGIN + SLACK + 1.0  # + worker start
    (problem,) = info.value.problems
    assert problem.code == "grounding_limit" and "time limit" in problem.message


def test_a_static_explosion_is_a_problem_naming_the_rule_bound(tmp_path, monkeypatch):
    from nesyflow.logic import lint

    monkeypatch.setattr(lint, "LOAD_MAX_GROUND_RULES", 20_000)
    folder = _pack_folder(tmp_path, "big(X, Y) :- X = 1..20000, Y = 1..20000.\n")
    with pytest.raises(ProblemsError) as info:
        load_pack(folder, timeout=20)
    (problem,) = info.value.problems
    assert problem.code == "grounding_limit" and "20000 rules" in problem.message


@pytest.fixture
def small_pool(monkeypatch):
    """Workers allowed 100 MB above their start-up size (the default is 1 GB)."""
    from nesyflow.logic._workers import WorkerPool

    pool = WorkerPool(1, memory_mb=100, recycle_after=1000)
    monkeypatch.setattr(bounded, "pool", lambda: pool)
    yield pool
    pool.close()


# an aggregate keeps its 3·10^6 elements in the grounder and emits one rule at the end
HUNGRY = "S = #sum{ X : X = 1..3000000 }"


def test_a_static_part_that_eats_memory_fails_loading_naming_the_bound(tmp_path, small_pool):
    folder = _pack_folder(tmp_path, f"t(S) :- {HUNGRY}.\n")
    with pytest.raises(ProblemsError) as info:
        load_pack(folder, timeout=30)
    (problem,) = info.value.problems
    assert problem.code == "grounding_limit" and "memory" in problem.message


def test_a_check_that_eats_memory_is_unknown_naming_the_bound(tmp_path, small_pool):
    pack = load_pack(_pack_folder(tmp_path, f"t(S) :- item(_), {HUNGRY}.\n"))
    result = check(pack, CLAIM, timeout=30)
    assert result.verdict == Verdict.UNKNOWN
    assert "memory limit reached (100 MB)" in result.reason
    assert check(pack, {"level": "staff", "items": []}).verdict == Verdict.PASS  # it lives on


# rules emitted without end, and a quadratic grounding that emits 9·10^6 of them quickly
ENDLESS = "n(0). n(X+1) :- n(X), item(_).\n"
SQUARE = "n(0..3000) :- item(_). m(X,Y) :- n(X), n(Y).\n"


def test_in_a_worker_a_grounding_that_emits_rules_without_end_is_stopped_at_the_time_limit(
    tmp_path,
):
    """A worker does not count ground rules at the default limit (the observer's Python call per
    rule was a quarter of a batch check): its own bounds stop the grounding, and the answer is
    unknown — in one check and in a batch."""
    pack = load_pack(_pack_folder(tmp_path, ENDLESS))
    check(pack, {"level": "staff", "items": []})  # a warm worker
    result, took = _timed(lambda: check(pack, CLAIM, timeout=1.0))
    assert result.verdict == Verdict.UNKNOWN and "time limit reached" in result.reason
    assert took < 1.0 + bounded.MARGIN + SLACK
    (result,) = check_many(pack, [CLAIM], timeout=1.0)
    assert result.verdict == Verdict.UNKNOWN and "time limit reached" in result.reason


def test_in_a_worker_a_grounding_that_outgrows_memory_is_unknown(tmp_path, small_pool):
    pack = load_pack(_pack_folder(tmp_path, SQUARE))
    result = check(pack, CLAIM, timeout=30)
    assert result.verdict == Verdict.UNKNOWN
    assert "memory limit reached (100 MB)" in result.reason


def test_a_limit_the_caller_sets_is_counted_in_a_worker_and_the_default_in_process(tmp_path):
    pack = load_pack(_pack_folder(tmp_path, SQUARE))
    result = check(pack, CLAIM, timeout=30, max_ground_rules=50_000)
    assert result.verdict == Verdict.UNKNOWN and "grounding exceeded 50000 rules" in result.reason
    result = check(pack, CLAIM, timeout=30, isolated=False)
    assert result.verdict == Verdict.UNKNOWN
    assert "grounding exceeded 1000000 rules" in result.reason


def test_workers_are_recycled_after_a_bounded_number_of_cases(toy_pack, monkeypatch):
    pool = bounded.pool()
    monkeypatch.setattr(pool, "recycle_after", 5)
    started = pool.started
    for n in range(12):  # twelve distinct cases (a repeat is answered by the result cache)
        claim = {"level": "staff", "items": [{"category": "meals", "amount": str(20 + n)}]}
        assert check(toy_pack, claim).verdict == Verdict.PASS
    assert pool.started - started >= 2


def test_a_pack_changed_on_disk_is_not_checked_with_other_rules(tmp_path):
    folder = _pack_folder(tmp_path, "% nothing\n")
    pack = load_pack(folder)
    (folder / "more.lp").write_text("violation(no_alcohol, 1).\n")
    pool = bounded.pool()
    for worker in list(pool._idle):  # fresh workers must load the pack from disk
        pool._idle.remove(worker)
        pool._busy += 1
        pool._discard(worker)
    result = check(pack, CLAIM)
    assert result.verdict == Verdict.UNKNOWN and "changed on disk" in result.reason


def test_workers_in_parallel_give_the_same_results(toy_pack):
    cases = [CLAIM, {"level": "staff", "items": [{"category": "alcohol", "amount": "5"}]}] * 150
    one = check_many(toy_pack, cases, workers=1)
    two = check_many(toy_pack, cases, workers=2)
    here = check_many(toy_pack, cases, isolated=False)
    view = lambda rs: [(r.verdict, r.atoms, r.findings()) for r in rs]  # noqa: E731
    assert view(one) == view(two) == view(here)


def test_instances_of_a_workflows_own_model_class_cross_to_the_worker(toy_pack):
    from nesyflow._imports import load_module

    mod = load_module(ROOT / "tests" / "fixtures" / "packs" / "toy" / "schema.py")
    claim = mod.Claim.model_validate(CLAIM)
    result = check(toy_pack, claim)
    assert result.verdict == Verdict.PASS, result.reason


def test_nesyflow_lint_reports_a_static_part_that_never_grounds_within_its_timeout(tmp_path):
    fine, fine_s = _run_timed([*NESYFLOW, "lint", str(_pack_folder(tmp_path, "", "ok"))])
    assert fine.returncode == 0, fine.stdout
    folder = _pack_folder(tmp_path, STATIC_SILENT)
    done, took = _run_timed([*NESYFLOW, "lint", str(folder), "--timeout", "1"])
    assert done.returncode == 1
    said = " ".join(done.stdout.split())  # rich wraps lines
    assert "grounding_limit" in said and "time limit reached" in said
    assert took - fine_s < 1 + bounded.MARGIN + 2 * SLACK
    bad, _ = _run_timed([*NESYFLOW, "lint", str(folder), "--timeout", "-1"])
    assert bad.returncode == 2 and "--timeout must be" in bad.stderr + bad.stdout


@pytest.mark.parametrize("timeout", [-1.0, 0.0, float("nan"), float("inf"), 1e300])
def test_odd_time_limits_never_pass_by_accident_nor_raise(toy_pack, timeout):
    wine = {"level": "staff", "items": [{"category": "alcohol", "amount": "5"}]}
    for isolated in (True, False):
        result = check(toy_pack, wine, timeout=timeout, isolated=isolated)
        assert result.verdict in (Verdict.FAIL, Verdict.UNKNOWN)
        (batch,) = check_many(toy_pack, [wine], timeout=timeout, isolated=isolated)
        assert batch.verdict == result.verdict


def test_workers_start_from_any_main_script_even_stdin():
    """multiprocessing re-runs the parent's main script in a child; from ``python -`` that fails
    (the first version of the pool made every load_pack from stdin a grounding_limit problem)."""
    code = (
        "from nesyflow.logic import check, load_pack\n"
        f"pack = load_pack({str(FIXTURES / 'packs' / 'toy')!r})\n"
        f"print(check(pack, {CLAIM!r}).verdict.value)\n"
    )
    done = subprocess.run(
        [sys.executable, "-"], input=code, capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == "pass", done.stderr
