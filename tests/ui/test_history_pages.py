"""The console's history views on a real store of decided expense reviews: a review's similar past
decisions (asked for, then shown with decision, comment and who), the Rules page's what-if for a
pack folder whose identity differs from production, and its proposals with their diff."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from console_support import app

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "insight"))

from insight_history import build  # noqa: E402


@pytest.fixture(scope="module")
def decided(tmp_path_factory):
    history = build(tmp_path_factory.mktemp("history-pages"))
    yield history
    history["store"].close()


@pytest.fixture
def env(decided, monkeypatch, tmp_path):
    monkeypatch.setenv("NESYFLOW_DB", decided["url"])
    monkeypatch.setenv("NESYFLOW_RULES", str(ROOT / "rules"))
    monkeypatch.setenv("NESYFLOW_WORKFLOWS", str(tmp_path))
    return decided


def _ok(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _text(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [x.value for x in at.success] + [x.value for x in at.warning]
    return "\n".join(str(p) for p in parts)


def test_review_page_shows_precedents_when_asked(env):
    at = app("reviews", review=env["open_meal"]).run(timeout=60)
    _ok(at)
    assert "client dinner agreed" not in _text(at)  # not built on the page's first view
    at.button(key="precedents").click().run(timeout=300)
    _ok(at)
    text = _text(at)
    assert text.count("client dinner agreed") == 3
    assert "ana.lopez" in text or "ben.okafor" in text
    assert "meal_over_per_diem" in text


def test_rules_page_replays_history_for_a_folder_unlike_production(env, monkeypatch, tmp_path):
    folder = tmp_path / "packs" / "expense"
    shutil.copytree(ROOT / "rules/expense", folder)
    rules = folder / "categories.lp"
    text = rules.read_text()
    start = text.index("violation(meal_over_per_diem")
    end = text.index(".\n", start)
    rules.write_text(text[:end] + ", 1 > 2" + text[end:])  # the per-diem cap, switched off
    monkeypatch.setenv("NESYFLOW_RULES", str(folder.parent))
    at = app("rules").run(timeout=60)
    at.selectbox(key="pack").select("expense").run(timeout=60)
    _ok(at)
    assert "is not the version in production" in _text(at)
    at.button(key="run-whatif").click().run(timeout=300)
    _ok(at)
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Would change"]) >= 7  # the six approvals, the rejection, the open one
    changes = [d.value for d in at.dataframe if "change" in d.value.columns]
    kinds = {k for frame in changes for k in frame["change"]}
    assert {"fail→pass", "approval_over_rule_gone", "rejection_now_passes"} <= kinds


def test_rules_page_proposes_an_exception_with_its_diff(env):
    at = app("rules").run(timeout=60)
    at.selectbox(key="pack").select("expense").run(timeout=60)
    assert "is not the version in production" not in _text(at)  # the shipped pack is production
    at.button(key="run-proposals").click().run(timeout=600)
    _ok(at)
    assert any("all" in s.value and "tests pass" in s.value for s in at.success)
    assert any("approved_exception(meal_over_per_diem, item(N))" in c.value for c in at.code)
