"""``nesyflow users`` and deciding as a token's account, through the real CLI on a real store and
the shipped expense agent: the first account is an admin, then only an admin adds accounts; a
token is shown once and kept hashed; once accounts exist, deciding (and starting runs) without a
token is a clear error and ``$USER`` counts for nothing."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nesyflow.cli import app
from nesyflow.cli.demo import load_samples
from nesyflow.store import open_store
from nesyflow.store.accounts import Accounts

ROOT = Path(__file__).resolve().parents[2]
AGENT = ROOT / "agents" / "expense"
OVER_LIMIT = next(r for r in load_samples(AGENT / "samples.jsonl") if r["id"] == "exp-048")


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("NESYFLOW_EXTRACT_CHOOSER", "person")
    monkeypatch.delenv("NESYFLOW_TOKEN", raising=False)
    url = f"sqlite:///{tmp_path / 'store.db'}"

    def run(*args: str, stdin: str | None = None, **env: str):
        return CliRunner().invoke(app, list(args), input=stdin, env={"NESYFLOW_DB": url, **env})

    run.url = url
    return run


def _token(cli, name: str, password: str, **env: str) -> str:
    res = cli("users", "token", name, stdin=password + "\n", **env)
    assert res.exit_code == 0, res.output
    return res.stdout.strip().splitlines()[0]


def _people(cli) -> dict[str, str]:
    """Ana (admin), Ben (reviewer), Cleo (approver); returns their tokens."""
    res = cli("users", "add", "Ben", "--role", "reviewer", stdin="a long password\n")
    assert res.exit_code == 2 and "first one must be an admin" in res.output
    assert cli("users", "add", "Ana", "--role", "admin", stdin="ana's password\n").exit_code == 0
    ana = _token(cli, "Ana", "ana's password")
    for name, role in (("Ben", "reviewer"), ("Cleo", "approver")):
        res = cli("users", "add", name, "--role", role, stdin="a long password\n")
        assert res.exit_code == 2 and "--token" in res.output  # now it takes an admin
        res = cli("users", "add", name, "--role", role, "--token", ana, stdin="a long password\n")
        assert res.exit_code == 0, res.output
    return {
        "Ana": ana,
        "Ben": _token(cli, "Ben", "a long password"),
        "Cleo": _token(cli, "Cleo", "a long password"),
    }


def test_accounts_are_added_by_an_admin_and_tokens_are_kept_hashed(cli):
    tokens = _people(cli)
    res = cli("users", "list")
    assert res.stdout.splitlines() == [
        "Ana\tadmin\tpassword",
        "Ben\treviewer\tpassword",
        "Cleo\tapprover\tpassword",
    ]
    res = cli("users", "add", "Dan", "--role", "admin", "--token", tokens["Ben"], stdin="x" * 9)
    assert res.exit_code == 2 and "only an admin adds accounts" in res.output
    db = Path(cli.url.removeprefix("sqlite:///")).read_bytes()
    for secret in tokens.values():
        assert secret.encode() not in db
    assert b"a long password" not in db and b"ana's password" not in db
    res = cli("users", "token", "Ben", stdin="wrong password\n")
    assert res.exit_code == 2 and "unknown name or wrong password" in res.output
    res = cli("users", "add", "Eve", "--role", "boss", "--token", tokens["Ana"])
    assert res.exit_code == 2 and "unknown role 'boss'" in res.output
    res = cli(
        "users", "add", "Eve", "--role", "reviewer", "--token", tokens["Ana"], stdin="short\n"
    )
    assert res.exit_code == 2 and "at least 8 characters" in res.output


def test_the_password_file_is_read_and_a_missing_one_is_an_error(cli, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("from a file, long enough\n")
    res = cli("users", "add", "Ana", "--role", "admin", "--password-file", str(secret))
    assert res.exit_code == 0, res.output
    assert _token(cli, "Ana", "from a file, long enough")
    res = cli("users", "token", "Ana", "--password-file", str(tmp_path / "none"))
    assert res.exit_code == 2 and "cannot read the password" in res.output


def _over_limit_review(cli, tmp_path, token: str) -> tuple[str, str]:
    request = tmp_path / "claim.json"
    request.write_text(json.dumps(copy.deepcopy(OVER_LIMIT)))
    res = cli("run", str(AGENT / "workflow.yaml"), "--input", str(request), "--token", token)
    assert res.exit_code == 0, res.output
    run_id, status, _, review_id = res.stdout.split()[:4]
    assert status == "waiting_review"
    return run_id, review_id


def test_deciding_needs_a_token_once_accounts_exist_and_is_held_to_roles_and_duties(cli, tmp_path):
    tokens = _people(cli)
    request = tmp_path / "claim.json"
    request.write_text(json.dumps(OVER_LIMIT))
    res = cli("run", str(AGENT / "workflow.yaml"), "--input", str(request), USER="Ana")
    assert res.exit_code == 2 and "this store has accounts" in res.output
    run_id, review_id = _over_limit_review(cli, tmp_path, tokens["Cleo"])
    store = open_store(cli.url)
    assert store.get_run(run_id).submitted_by == ("Cleo", "Nina Petrova")
    approve = ("reviews", "approve", review_id, "-m", "within budget")
    res = cli(*approve, USER="Ana")  # $USER is nobody's proof of identity
    assert res.exit_code == 2 and "--token or NESYFLOW_TOKEN" in res.output
    res = cli(*approve, "--token", "nft_forged")
    assert res.exit_code == 2 and "token is not valid" in res.output
    res = cli(*approve, "--token", tokens["Ben"])
    assert res.exit_code == 2 and "needs the role 'approver'" in res.output
    res = cli(*approve, "--token", tokens["Cleo"])  # Cleo started the run
    assert res.exit_code == 2 and "own submission" in res.output
    res = cli(*approve, "--token", tokens["Ana"], "--who", "Cleo")
    assert res.exit_code == 2 and "not the token's account" in res.output
    assert store.decision_for(review_id) is None
    res = cli(*approve, NESYFLOW_TOKEN=tokens["Ana"])
    assert res.exit_code == 0, res.output
    assert f"approve: review {review_id} decided by Ana" in res.output
    assert store.decision_for(review_id).who == "Ana"
    assert "completed" in res.output
    res = cli("resume", run_id, USER="Ana")  # a resume is a person's act too: authenticated
    assert res.exit_code == 2 and "to resume a run" in res.output
    assert cli("resume", run_id, "--token", tokens["Ben"]).exit_code == 0


def test_single_user_mode_decides_as_user_and_refuses_a_token(cli, tmp_path):
    request = tmp_path / "claim.json"
    request.write_text(json.dumps(OVER_LIMIT))
    res = cli("run", str(AGENT / "workflow.yaml"), "--input", str(request))
    assert res.exit_code == 0, res.output
    review_id = res.stdout.split()[3]
    approve = ("reviews", "approve", review_id, "-m", "ok")
    res = cli(*approve, "--token", "nft_whatever", USER="fin-ops")
    assert res.exit_code == 2 and "no accounts (single-user mode)" in res.output
    res = cli(*approve, USER="Nina Petrova")
    assert res.exit_code == 2 and "own submission" in res.output
    res = cli(*approve, USER="fin-ops")
    assert res.exit_code == 0 and "decided by fin-ops" in res.output
    assert Accounts(open_store(cli.url)).list() == []


def test_reviews_mine_and_reassign_through_the_cli(cli, tmp_path):
    tokens = _people(cli)
    res = cli(
        "users", "add", "Dan", "--role", "approver", "--group", "finance",
        "--token", tokens["Ana"], stdin="a long password\n",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    dan = _token(cli, "Dan", "a long password")
    _run_id, review_id = _over_limit_review(cli, tmp_path, tokens["Ben"])
    res = cli("reviews", "mine", "--token", tokens["Cleo"])
    assert res.exit_code == 0 and res.stdout.split("\t")[0] == review_id
    assert cli("reviews", "mine", "--token", tokens["Ben"]).stdout == ""  # a reviewer: not his
    res = cli("reviews", "reassign", review_id, "--to", "Dan", "--token", tokens["Cleo"])
    assert res.exit_code == 2 and "--reason" in res.output
    res = cli(
        "reviews", "reassign", review_id, "--to", "Dan", "-m", "Dan owns this client",
        "--token", tokens["Cleo"],
    )  # fmt: skip
    assert res.exit_code == 0 and "reassigned to Dan by Cleo" in res.stdout
    assert cli("reviews", "mine", "--token", tokens["Cleo"]).stdout == ""
    assert cli("reviews", "mine", "--token", dan).stdout.startswith(review_id)
    res = cli("reviews", "approve", review_id, "-m", "ok", "--token", tokens["Cleo"])
    assert res.exit_code == 2 and "assigned to Dan" in res.output
    assert cli("reviews", "approve", review_id, "-m", "ok", "--token", dan).exit_code == 0
