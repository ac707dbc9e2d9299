"""Sign-in in the console (Streamlit AppTest, real store; ``app(page)`` runs the page, which gates
itself as ``ui/app.py`` does — the browser test goes through app.py). With accounts nothing shows before
sign-in, a wrong password is refused and rate-limited, a session expires, roles and separation of
duties hold for a decision made from the console, and ``session.signed_in()`` gives the account
to other console code."""

from __future__ import annotations

import json
import time

import pytest
from console_support import FAILS, FLOW, app, services

from nesyflow.auth import Session, hash_password
from nesyflow.engine import start_run
from nesyflow.store.accounts import Accounts


def _people(store) -> None:
    accounts = Accounts(store)
    accounts.add("Ana", ["admin"], hash_password("ana's password"))
    accounts.add("Ben", ["reviewer"], hash_password("ben's password"))


def _sign_in(at, name: str, password: str, form: str = "app"):
    at.text_input(key=f"sign-in-name-{form}").set_value(name)
    at.text_input(key=f"sign-in-password-{form}").set_value(password)
    at.button[[b.label for b in at.button].index("Sign in")].click().run()
    return at


def _errors(at) -> str:
    return " ".join(e.value for e in at.error)


def test_with_accounts_the_console_shows_nothing_before_sign_in(console_env):
    _, store = console_env()
    _people(store)
    at = app("inbox").run()
    assert not at.exception
    assert [t.value for t in at.title] == []  # the page did not run
    assert any("Sign in" in m.value for m in at.markdown)
    _sign_in(at, "Ana", "not it at all")
    assert "unknown name or wrong password" in _errors(at)
    assert [t.value for t in at.title] == []
    _sign_in(at, "Ana", "ana's password")
    assert not at.exception and not at.error
    assert [t.value for t in at.title] == ["Inbox"]
    assert [(s.name, s.ok) for s in Accounts(store).sign_ins()[:2]] == [
        ("Ana", True),
        ("Ana", False),
    ]


def test_sign_in_failures_are_rate_limited(console_env, monkeypatch):
    monkeypatch.setenv("NESYFLOW_SIGNIN_MAX_FAILURES", "2")
    _, store = console_env()
    _people(store)
    at = app("inbox").run()
    for _ in range(2):
        _sign_in(at, "Ben", "guessing wrong")
    _sign_in(at, "Ben", "ben's password")
    assert "too many failed sign-ins for 'Ben'" in _errors(at)
    assert [t.value for t in at.title] == []


def test_a_session_expires_and_asks_for_sign_in_again(console_env, monkeypatch):
    monkeypatch.setenv("NESYFLOW_SESSION_IDLE_MINUTES", "0.02")  # 1.2 s
    _, store = console_env()
    _people(store)
    at = _sign_in(app("inbox").run(), "Ben", "ben's password")
    assert [t.value for t in at.title] == ["Inbox"]
    time.sleep(1.5)
    at.run()
    assert [t.value for t in at.title] == []
    assert any("session expired" in i.value for i in at.info)


def test_the_console_refuses_a_decision_on_ones_own_submission(console_env):
    _, store = console_env()
    _people(store)
    result = start_run(
        FLOW, {"text": json.dumps(FAILS)}, store=store, services=services(), submitted_by="Ana"
    )
    assert result.status.value == "waiting_review"
    at = app("reviews", review=result.review_id).run()
    _sign_in(at, "Ana", "ana's password")
    at.text_area(key=f"comment-approve-{result.review_id}").set_value("looks fine to me")
    at.button(key="approve-btn").click().run()
    assert "own submission" in _errors(at)
    assert store.decision_for(result.review_id) is None
    # another account decides it
    at = _sign_in(app("reviews", review=result.review_id).run(), "Ben", "ben's password")
    at.text_area(key=f"comment-approve-{result.review_id}").set_value("one-off, CFO agreed")
    at.button(key="approve-btn").click().run()
    assert store.decision_for(result.review_id).who == "Ben"


def test_signed_in_gives_the_account_to_console_code(console_env, tmp_path):
    """gov's ``viewer()`` reads who is looking from ``session.signed_in()``: a page that prints it."""
    _, store = console_env()
    _people(store)
    page = tmp_path / "whoami.py"
    page.write_text(
        "import streamlit as st\nfrom console import session\n"
        "user = session.signed_in()\n"
        "st.write(f'user={user.name if user else None} roles={user.roles if user else ()}')\n"
    )
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(page), default_timeout=30).run()
    assert at.markdown[0].value == "user=None roles=()"
    at.session_state["nesyflow-session"] = Session.start("Ben", "password")
    at.session_state["nesyflow-user"] = Accounts(store).get("Ben")
    at.run()
    assert at.markdown[0].value == "user=Ben roles=('reviewer',)"


PAGES = ["inbox", "reviews", "runs", "rules", "workflows"]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_shows_nothing_before_sign_in(console_env, page):
    """A page's address opened directly runs that page's file alone: each gates itself."""
    _, store = console_env()
    _people(store)
    at = app(page).run()
    assert not at.exception and [t.value for t in at.title] == []
    assert [t.key for t in at.text_input] == ["sign-in-name-app", "sign-in-password-app"]
    assert not at.dataframe and not at.metric


@pytest.mark.parametrize("page", PAGES)
def test_single_user_mode_needs_no_sign_in(console_env, page):
    console_env()
    at = app(page).run()
    assert not at.exception and [t.value for t in at.title] == [page.capitalize()]
    assert not [t for t in at.text_input if str(t.key).startswith("sign-in")]
    assert any("Single-user mode" in c.value for c in at.sidebar.caption)


def test_the_inbox_shows_what_is_assigned_to_me_overdue_first(console_env):
    import datetime as dt

    from sqlalchemy import update

    from nesyflow.store import tables as t

    _, store = console_env()
    _people(store)
    later = start_run(FLOW, {"text": json.dumps(FAILS)}, store=store, services=services())
    other = dict(FAILS, employee="Zed")
    overdue = start_run(FLOW, {"text": json.dumps(other)}, store=store, services=services())
    with store.engine.begin() as conn:
        conn.execute(
            update(t.reviews)
            .where(t.reviews.c.id == overdue.review_id)
            .values(due_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
        )
    at = _sign_in(app("inbox").run(), "Ben", "ben's password")
    assert "Assigned to me" in [s.value for s in at.subheader]
    assert any("2 reviews for Ben · **1 overdue**" in c.value for c in at.caption)
    keys = [b for b in _keys(at) if b.startswith("mine-")]
    assert keys == [f"mine-{overdue.review_id}", f"mine-{later.review_id}"]


def _keys(at) -> list[str]:
    """The keys of the page's elements and containers, in page order."""
    found: list[str] = []

    def walk(node) -> None:
        if getattr(node, "key", None):
            found.append(str(node.key))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree[0])
    return found
