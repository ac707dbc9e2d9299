"""Sign-in and separation of duties in a real browser: ``nesyflow console`` over a store with
accounts, driven by Debian's chromium (as ``test_console_browser.py``). Nothing shows before
sign-in; a wrong password is refused; signed in, the submitter of a run cannot approve its review
(nothing is recorded); signing out asks for sign-in again. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_console_browser import (
    ARTIFACTS,
    ROOT,
    _chromium,
    _free_port,
    _settle,
    _wait_http,
)

_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def _sign_in(page, name: str, password: str) -> None:
    page.locator('input[aria-label="Name"]').fill(name)
    page.locator('input[aria-label="Password"]').fill(password)
    page.locator("button", has_text="Sign in").click()
    _settle(page)


def test_sign_in_and_a_refused_own_submission_in_a_browser(tmp_path):
    browser_path = _chromium()
    from console_support import FAILS, FLOW, services
    from playwright.sync_api import sync_playwright

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

    port = _free_port()
    env = {
        **os.environ,
        "NESYFLOW_DB": url,
        "NESYFLOW_RULES": f"{ROOT / 'rules'}{os.pathsep}{ROOT / 'tests/ui/fixtures/claims/packs'}",
        "NESYFLOW_WORKFLOWS": str(ROOT / "tests/ui/fixtures"),
    }
    console = subprocess.Popen(
        [str(Path(sys.executable).parent / "nesyflow"), "console", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        _wait_http(base, console)
        with sync_playwright() as pw:
            browser = pw.chromium.launch_persistent_context(
                str(tmp_path / "chromium-profile"),
                executable_path=str(browser_path),
                headless=True,
                viewport={"width": 1440, "height": 1400},
                args=_ARGS,
            )
            page = browser.pages[0] if browser.pages else browser.new_page()
            # the review's own address: still the sign-in form, and nothing of the review
            page.goto(f"{base}/reviews?review={result.review_id}", wait_until="networkidle")
            _settle(page)
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
            _settle(page)
            page.get_by_text("own submission").first.wait_for(timeout=20_000)
            page.screenshot(path=str(ARTIFACTS / "console-own-submission.png"), full_page=True)
            assert store.decision_for(result.review_id) is None
            assert store.get_review(result.review_id).status.value == "open"

            page.locator(".st-key-sign-out button").click()
            _settle(page)
            page.get_by_text("Sign in — every decision is recorded").wait_for()
            assert page.get_by_text("Why it is here").count() == 0
            browser.close()
        log = [(s.name, s.ok) for s in accounts.sign_ins()]
        assert log[:2] == [("Ana", True), ("Ana", False)]
    finally:
        os.killpg(console.pid, signal.SIGTERM)
        try:
            console.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(console.pid, signal.SIGKILL)
        store.close()


def test_a_trusted_proxy_header_signs_in_its_account_in_a_browser(tmp_path):
    """The operator's proxy sets X-Forwarded-User: the console signs that account in (its roles
    shown), asks no password, and logs the sign-in once."""
    browser_path = _chromium()
    from playwright.sync_api import sync_playwright

    from nesyflow.store import open_store
    from nesyflow.store.accounts import Accounts

    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = open_store(url)
    accounts = Accounts(store)
    accounts.add("Ana", ["admin"], None)
    accounts.add("Ben", ["reviewer"], None)  # proxy-only accounts: no password at all
    port = _free_port()
    env = {
        **os.environ,
        "NESYFLOW_DB": url,
        "NESYFLOW_AUTH_PROXY_HEADER": "X-Forwarded-User",
        "NESYFLOW_AUTH_PROXY_TRUSTED": "1",
    }
    console = subprocess.Popen(
        [str(Path(sys.executable).parent / "nesyflow"), "console", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_http(base, console)
        with sync_playwright() as pw:
            browser = pw.chromium.launch_persistent_context(
                str(tmp_path / "chromium-profile"),
                executable_path=str(browser_path),
                headless=True,
                viewport={"width": 1440, "height": 1000},
                args=_ARGS,
                extra_http_headers={"X-Forwarded-User": "Ben"},
            )
            page = browser.pages[0] if browser.pages else browser.new_page()
            page.goto(base, wait_until="networkidle")
            _settle(page)
            page.get_by_text("Oldest waiting reviews").wait_for(timeout=20_000)
            sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
            assert "Signed in as Ben (reviewer)" in sidebar, sidebar
            assert page.locator('input[aria-label="Password"]').count() == 0
            page.screenshot(path=str(ARTIFACTS / "console-proxy.png"), full_page=True)
            browser.close()
        assert [(s.name, s.ok, s.method) for s in accounts.sign_ins()] == [("Ben", True, "proxy")]
    finally:
        os.killpg(console.pid, signal.SIGTERM)
        try:
            console.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(console.pid, signal.SIGKILL)
        store.close()
