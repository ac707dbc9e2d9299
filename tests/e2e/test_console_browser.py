"""The console in a real browser: ``nesyflow console`` on a free loopback port over a seeded store,
driven by Debian's chromium through the PyPI playwright package. A reviewer finds a review, signs in,
approves it, and the store shows the run resumed. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from console_browser import ARTIFACTS, ROOT, chromium, chromium_page, running_console, settle

sys.path.insert(0, str(ROOT / "tests" / "ui"))
sys.path.insert(0, str(ROOT / "benchmarks"))


def test_review_and_approve_in_a_browser(tmp_path):
    chromium()
    from console_support import REVIEWS, start
    from seed_store import seed_store

    from nesyflow.store import open_store

    db = tmp_path / "store.db"
    url = f"sqlite:///{db}"
    seed_store(url, steps=3000, open_reviews=240, per_pack=25)
    store = open_store(url)
    result = start(store, REVIEWS)
    assert result.status.value == "waiting_review"

    env = {
        "NESYFLOW_DB": url,
        "NESYFLOW_RULES": f"{ROOT / 'rules'}{os.pathsep}{ROOT / 'tests/ui/fixtures/claims/packs'}",
        "NESYFLOW_WORKFLOWS": str(ROOT / "tests/ui/fixtures"),
    }
    try:
        with running_console(env) as base, chromium_page(tmp_path / "chromium-profile") as page:
            page.goto(base, wait_until="networkidle")
            settle(page)
            page.get_by_text("Oldest waiting reviews").wait_for()
            page.wait_for_function(  # the two charts (lazy-loaded components) have drawn
                """() => document.querySelectorAll(
                    '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg'
                ).length >= 2""",
                timeout=20_000,
            )
            page.wait_for_timeout(800)
            page.screenshot(path=str(ARTIFACTS / "console-inbox.png"), full_page=True)

            # find the review in the queue by its id and open it
            page.goto(base + "/reviews", wait_until="networkidle")
            settle(page)
            search = page.locator('input[aria-label="Search"]')
            search.wait_for(timeout=20_000)
            search.fill(result.review_id)
            search.press("Enter")
            settle(page)
            page.get_by_text("1 open review").wait_for()
            page.locator(f".st-key-open-{result.review_id} button").click()
            settle(page)
            try:
                page.get_by_text("Why it is here").wait_for()
            except Exception:
                page.screenshot(path=str(ARTIFACTS / "console-failure.png"))
                raise

            # who is reviewing: asked once, then the decision
            page.locator('input[aria-label="Your name"]').fill("Rita Reviewer")
            page.locator("button", has_text="Start reviewing").click()
            settle(page)
            comment = page.locator('textarea[aria-label^="Comment"]')
            comment.fill("receipt seen on the shared drive")
            page.screenshot(path=str(ARTIFACTS / "console-review.png"), full_page=True)
            page.locator(".st-key-approve-btn button").click()
            settle(page)
            page.get_by_text("What happened next").wait_for(timeout=20_000)
            page.screenshot(path=str(ARTIFACTS / "console-decided.png"), full_page=True)

            # the run resumed and completed; its trace shows the decision and the paid step
            decision = store.decision_for(result.review_id)
            assert decision is not None and decision.who == "Rita Reviewer"
            assert decision.comment == "receipt seen on the shared drive"
            run = store.get_run(result.run_id)
            assert run.status.value == "completed", run
            assert [s.kind for s in store.steps(result.run_id)] == ["llm", "decision", "tool"]

            page.goto(f"{base}/runs?run={result.run_id}&step=1", wait_until="networkidle")
            settle(page)
            page.get_by_text("Timeline", exact=True).wait_for()
            page.screenshot(path=str(ARTIFACTS / "console-run.png"), full_page=True)
    finally:
        store.close()


def test_a_sensitive_value_never_reaches_the_page_html(tmp_path, monkeypatch):
    """The payout run (an IBAN and a name, classified sensitive) waits for a person: the inbox,
    the queue, the review, the run list and every tab of its trace are loaded in chromium and
    the HTML the browser holds never contains either value, however spaced — only placeholders."""
    chromium()
    sys.path.insert(0, str(ROOT / "tests" / "govern"))
    from payout_support import IBAN, leaks, run_payout

    from nesyflow.schema.redact import placeholder
    from nesyflow.store import open_store

    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = open_store(url)
    result, _ = run_payout(store, tmp_path, monkeypatch)
    assert result.status.value == "waiting_review"
    env = {"NESYFLOW_DB": url, "NESYFLOW_WORKFLOWS": str(tmp_path)}
    seen: dict[str, str] = {}
    try:
        with running_console(env) as base, chromium_page(tmp_path / "chromium-profile") as page:
            for name, path, wait in (
                ("inbox", "", "Oldest waiting reviews"),
                ("queue", "/reviews", "1 open review"),
                ("review", f"/reviews?review={result.review_id}", "What it produced"),
                ("runs", "/runs", "Runs"),
                ("run-step-1", f"/runs?run={result.run_id}&step=1", "Timeline"),
                ("run-step-2", f"/runs?run={result.run_id}&step=2", "Timeline"),
            ):
                page.goto(base + path, wait_until="networkidle")
                settle(page)
                page.get_by_text(wait).first.wait_for(timeout=20_000)
                if name == "review":  # the JSON views draw after the script: wait for the output's
                    page.wait_for_function(
                        """() => [...document.querySelectorAll('[data-testid="stJson"]')]
                            .some(e => (e.innerText || '').includes('iban'))""",
                        timeout=20_000,
                    )
                seen[name] = page.content()
                if name.startswith("run-step"):  # every tab of the open step, one after another
                    for tab in ("Prompt", "Raw model output", "Facts", "Check", "Input"):
                        page.get_by_role("tab", name=tab).first.click()
                        page.wait_for_timeout(300)
                        seen[f"{name}-{tab}"] = page.content()
            page.screenshot(path=str(ARTIFACTS / "console-masked-run.png"), full_page=True)
    finally:
        store.close()
    for name, html in seen.items():
        assert leaks(html) == [], name
    mark = placeholder("bank", IBAN)
    for name in ("review", "run-step-1", "run-step-2-Facts"):
        assert mark in seen[name] or mark.replace("›", "&rsaquo;") in seen[name], name
