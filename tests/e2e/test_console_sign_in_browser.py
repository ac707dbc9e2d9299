"""Sign-in and separation of duties in a real browser: ``nesyflow console`` over a store with
accounts, driven by Debian's chromium (as ``test_console_browser.py``). Nothing shows before
sign-in; a wrong password is refused; signed in, the submitter of a run cannot approve its review
(nothing is recorded); signing out asks for sign-in again. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from console_browser import ARTIFACTS, ROOT, chromium, chromium_page, running_console, settle


def _sign_in(page, name: str, password: str) -> None:
    page.locator('input[aria-label="Name"]').fill(name)
    page.locator('input[aria-label="Password"]').fill(password)
    page.locator("button", has_text="Sign in").click()
    settle(page)


def test_sign_in_and_a_refused_own_submission_in_a_browser(tmp_path):
    chromium()
    from console_support import FAILS, FLOW, services

    from nesyflow.auth import hash_password
    from nesyflow.engine import start_run
    from nesyflow.store import open_store
    from nesyflow.store.accounts import Accounts

    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = open_store(url)
    accounts = Accounts(store)
    accounts.add("Ana", ["admin"], hash_password("ana's password"))
    accounts.add("Ben", ["reviewer"], hash_password("ben's password"))
    result = start_run(
        FLOW, {"text": json.dumps(FAILS)}, store=store, services=services(), submitted_by="Ana"
    )
    assert result.status.value == "waiting_review"

    env = {
        "NESYFLOW_DB": url,
        "NESYFLOW_RULES": f"{ROOT / 'rules'}{os.pathsep}{ROOT / 'tests/ui/fixtures/claims/packs'}",
        "NESYFLOW_WORKFLOWS": str(ROOT / "tests/ui/fixtures"),
    }
    try:
        profile = tmp_path / "chromium-profile"
        with running_console(env) as base, chromium_page(profile, height=1400) as page:
            # the review's own address: still the sign-in form, and nothing of the review
            page.goto(f"{base}/reviews?review={result.review_id}", wait_until="networkidle")
            settle(page)
            page.get_by_text("Sign in — every decision is recorded").wait_for()
            assert page.get_by_text("Why it is here").count() == 0
            _sign_in(page, "Ana", "a wrong password")
            page.get_by_text("unknown name or wrong password").wait_for()
            assert page.get_by_text("Why it is here").count() == 0
            page.screenshot(path=str(ARTIFACTS / "console-sign-in-refused.png"), full_page=True)

            _sign_in(page, "Ana", "ana's password")
            page.get_by_text("Why it is here").wait_for(timeout=20_000)
            sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
            assert "Signed in as Ana (admin)" in sidebar, sidebar
            page.locator('textarea[aria-label^="Comment"]').fill("fine by me")
            page.locator(".st-key-approve-btn button").click()
            settle(page)
            page.get_by_text("own submission").first.wait_for(timeout=20_000)
            page.screenshot(path=str(ARTIFACTS / "console-own-submission.png"), full_page=True)
            assert store.decision_for(result.review_id) is None
            assert store.get_review(result.review_id).status.value == "open"

            page.locator(".st-key-sign-out button").click()
            settle(page)
            page.get_by_text("Sign in — every decision is recorded").wait_for()
            assert page.get_by_text("Why it is here").count() == 0
        log = [(s.name, s.ok) for s in accounts.sign_ins()]
        assert log[:2] == [("Ana", True), ("Ana", False)]
    finally:
        store.close()


def test_a_trusted_proxy_header_signs_in_its_account_in_a_browser(tmp_path):
    """The operator's proxy sets X-Forwarded-User: the console signs that account in (its roles
    shown), asks no password, and logs the sign-in once."""
    chromium()
    from nesyflow.store import open_store
    from nesyflow.store.accounts import Accounts

    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = open_store(url)
    accounts = Accounts(store)
    accounts.add("Ana", ["admin"], None)
    accounts.add("Ben", ["reviewer"], None)  # proxy-only accounts: no password at all
    env = {
        "NESYFLOW_DB": url,
        "NESYFLOW_AUTH_PROXY_HEADER": "X-Forwarded-User",
        "NESYFLOW_AUTH_PROXY_TRUSTED": "1",
    }
    try:
        headers = {"X-Forwarded-User": "Ben"}
        with (
            running_console(env) as base,
            chromium_page(tmp_path / "chromium-profile", height=1000, headers=headers) as page,
        ):
            page.goto(base, wait_until="networkidle")
            settle(page)
            page.get_by_text("Oldest waiting reviews").wait_for(timeout=20_000)
            sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
            assert "Signed in as Ben (reviewer)" in sidebar, sidebar
            assert page.locator('input[aria-label="Password"]').count() == 0
            page.screenshot(path=str(ARTIFACTS / "console-proxy.png"), full_page=True)
        assert [(s.name, s.ok, s.method) for s in accounts.sign_ins()] == [("Ben", True, "proxy")]
    finally:
        store.close()
