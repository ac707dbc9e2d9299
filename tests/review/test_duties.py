"""Who may decide, on the shipped expense agent: the role a pack rule names (over the approval
limit → an approver), the role a workflow's human checkpoint names, and separation of duties (the
employee the claim names, and the account that started the run, never decide it) — every refusal
recording nothing, through the Python API (the CLI and the console call the same function)."""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path

import pytest

from nesyflow.auth import hash_password
from nesyflow.cli.demo import load_samples
from nesyflow.engine import start_run
from nesyflow.errors import ProblemsError
from nesyflow.graph import load_workflow
from nesyflow.review import DecisionRefused, decide
from nesyflow.store.accounts import Accounts

ROOT = Path(__file__).resolve().parents[2]
AGENT = ROOT / "agents" / "expense"
SAMPLES = {row["id"]: row for row in load_samples(AGENT / "samples.jsonl")}
OVER_LIMIT = "exp-048"  # Nina Petrova, staff: a claim above her approval limit


@pytest.fixture(autouse=True)
def _no_model(monkeypatch):
    monkeypatch.setenv("NESYFLOW_EXTRACT_CHOOSER", "person")


def _people(store) -> Accounts:
    accounts = Accounts(store)
    for name, role in [
        ("Ana Admin", "admin"),
        ("Ben Reviewer", "reviewer"),
        ("Cleo Approver", "approver"),
        ("Nina Petrova", "approver"),  # the employee of OVER_LIMIT, who is also an approver
    ]:
        accounts.add(name, [role], hash_password("a long password"))
    return accounts


def _over_limit(store, **kwargs):
    row = copy.deepcopy(SAMPLES[OVER_LIMIT])
    assert row["expected_rules"] == ["manager_approval_required"]
    result = start_run(load_workflow(AGENT / "workflow.yaml"), row, store=store, **kwargs)
    assert result.status.value == "waiting_review", result.error
    return result, store.get_review(result.review_id)


def _refused(store, review_id, who, match, action="approve"):
    with pytest.raises(DecisionRefused, match=match) as refused:
        decide(review_id, action, who, "checked the receipts", store=store, resume=True)
    assert store.decision_for(review_id) is None
    assert store.get_review(review_id).status.value == "open"
    return refused.value


def test_the_pack_rule_names_the_role_and_a_reviewer_cannot_sign_off(store):
    _people(store)
    _result, review = _over_limit(store)
    assert review.rules == ["manager_approval_required"] and review.required_role == "approver"
    for action in ("approve", "reject"):
        refused = _refused(store, review.id, "Ben Reviewer", "needs the role 'approver'", action)
        assert refused.details["reasons"][0].kind == "not_allowed"
    done = decide(review.id, "approve", "Cleo Approver", "within budget", store=store, resume=True)
    assert done.decision.who == "Cleo Approver" and done.run.status.value == "completed"


def test_an_admin_covers_an_approver(store):
    _people(store)
    _result, review = _over_limit(store)
    done = decide(review.id, "approve", "Ana Admin", "signed off", store=store, resume=True)
    assert done.run.status.value == "completed"


def test_the_employee_never_decides_their_own_claim_whatever_their_role(store):
    _people(store)
    result, review = _over_limit(store)
    assert store.get_run(result.run_id).submitted_by == ("Nina Petrova",)
    for who in ("Nina Petrova", "  nina   PETROVA "):
        for action in ("approve", "reject"):
            refused = _refused(store, review.id, who, "own submission", action)
            assert refused.details["reasons"][0].kind == "own_submission"


def test_the_account_that_started_the_run_does_not_decide_it(store):
    _people(store)
    result, review = _over_limit(store, submitted_by="Cleo Approver")
    assert store.get_run(result.run_id).submitted_by == ("Cleo Approver", "Nina Petrova")
    _refused(store, review.id, "Cleo Approver", "Cleo Approver submitted run")
    decide(review.id, "approve", "Ana Admin", "signed off", store=store)


def test_with_accounts_a_name_that_is_no_account_decides_nothing(store):
    _people(store)
    _result, review = _over_limit(store)
    _refused(store, review.id, "Mallory", "has no account")


def test_single_user_mode_keeps_separation_of_duties_by_name(store):
    """No accounts: roles are not enforced (nobody holds one), the submitter still never decides."""
    _result, review = _over_limit(store)
    assert review.required_role == "approver"
    _refused(store, review.id, "nina petrova", "own submission")
    done = decide(review.id, "approve", "fin-ops", "signed off", store=store, resume=True)
    assert done.run.status.value == "completed"


def _sign_off_flow(folder: Path, role: str) -> Path:
    (folder / "schema.py").write_text(
        "from pydantic import BaseModel\n\n\nclass Ask(BaseModel):\n    text: str\n"
        "    submitted_by: str\n"
    )
    flow = folder / "workflow.yaml"
    flow.write_text(
        textwrap.dedent(
            f"""\
            name: sign_off
            input_schema: schema:Ask
            start: sign
            nodes:
              sign:
                kind: human
                question: Sign this off?
                value: input
                review: {{role: {role}}}
            """
        )
    )
    return flow


def test_a_human_checkpoint_names_the_role_and_the_input_names_the_submitter(store, tmp_path):
    _people(store)
    flow = load_workflow(_sign_off_flow(tmp_path, "admin"))
    result = start_run(
        flow, {"text": "rename the vendor", "submitted_by": "Ana Admin"}, store=store
    )
    review = store.get_review(result.review_id)
    assert review.required_role == "admin"
    _refused(store, review.id, "Cleo Approver", "needs the role 'admin'")
    _refused(store, review.id, "Ana Admin", "own submission")  # the only admin submitted it


def test_an_unknown_role_is_a_load_error_at_its_place(tmp_path):
    with pytest.raises(ProblemsError) as bad:
        load_workflow(_sign_off_flow(tmp_path, "boss"))
    assert "unknown role 'boss'" in str(bad.value) and "workflow.yaml:9" in str(bad.value)


def test_an_unknown_role_in_a_pack_rule_is_a_load_error(tmp_path):
    import shutil

    from nesyflow.logic import load_pack

    pack = tmp_path / "expense"
    shutil.copytree(ROOT / "rules" / "expense", pack)
    manifest = pack / "pack.toml"
    text = manifest.read_text()
    assert 'role = "approver"' in text
    manifest.write_text(text.replace('role = "approver"', 'role = "cfo"'))
    with pytest.raises(
        ProblemsError, match=r"rules\.manager_approval_required: unknown role 'cfo'"
    ):
        load_pack(pack)
