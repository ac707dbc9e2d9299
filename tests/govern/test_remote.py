"""A model marked remote never receives a sensitive value: the prompt carries placeholders, the
answer's placeholders are turned back into the values, and the tool is paid the real account.
The model is the file-backed replay model, which records what litellm really handed it."""

from __future__ import annotations

import json

import pytest
from payout_support import IBAN, PAYEE, leaks, run_payout

from nesyflow.llm.providers import is_remote
from nesyflow.store import open_store


@pytest.fixture
def store(tmp_path):
    return open_store(f"sqlite:///{tmp_path / 'store.db'}")


def test_a_remote_model_gets_placeholders_and_its_answer_is_restored(store, tmp_path, monkeypatch):
    result, received = run_payout(store, tmp_path, monkeypatch, remote=True)
    assert received, "the replay model recorded no call"
    sent = json.dumps(received, ensure_ascii=False)
    assert leaks(sent) == []  # neither the IBAN (spaced or not) nor the payee's name
    assert "‹bank:" in sent and "‹personal:" in sent  # the prompt did carry them, as placeholders
    # the answer came back with the values in their fields, and the stored prompt is what was sent
    steps = store.steps(result.run_id)
    assert steps[0].output == {"note": f"Pay {PAYEE} for March", "iban": IBAN}
    assert leaks(json.dumps(steps[0].prompt, ensure_ascii=False)) == []
    # the payout pack held it for a person (a must-keep field is empty), with the real account
    review = store.get_review(result.review_id)
    assert review.output["iban"] == IBAN and review.output["payee"] == PAYEE
    assert {r.rule for r in review.reasons} == {"must_keep_missing"}


def test_the_local_model_sees_the_values(store, tmp_path, monkeypatch):
    _result, received = run_payout(store, tmp_path, monkeypatch, remote=False)
    sent = json.dumps(received, ensure_ascii=False)
    assert IBAN in sent.replace(" ", "") and PAYEE in sent


def test_an_in_process_model_is_local_and_a_hosted_one_remote_unless_marked():
    assert not is_remote("local/smollm2") and not is_remote("replay:x.jsonl")
    assert not is_remote("scripted/test")
    assert is_remote("openai/gpt-4o-mini") and is_remote("anthropic/claude-3-5-sonnet")
    assert is_remote("gpt-4o-mini")  # no prefix: litellm sends it to a hosted provider
    assert not is_remote("openai/gpt-4o-mini", marked=False)  # a self-hosted server, declared
    assert is_remote("local/smollm2", marked=True)


def test_remote_must_be_a_boolean_in_the_workflow_file(tmp_path):
    from payout_support import workflow

    from nesyflow.errors import ProblemsError
    from nesyflow.graph import load_workflow

    path = workflow(tmp_path, remote=True)
    path.write_text(path.read_text().replace("remote: true", "remote: yes please"))
    with pytest.raises(ProblemsError, match="'remote' must be true or false"):
        load_workflow(path)


def test_a_sensitive_value_the_remote_model_was_not_given_goes_to_a_person(
    store, tmp_path, monkeypatch
):
    """The run knew the payee's IBAN, but the text held a second account it did not know: the
    remote model saw that one, and its answer carries it. Not a pass: a review says why."""
    from payout_support import REQUEST

    other = "GB29NWBK60161331926819"
    request = {**REQUEST, "id": "p-leak", "text": f"Ana Lima, or pay {other}."}
    replies = tmp_path / "leak.jsonl"
    replies.write_text(json.dumps({"note": "n", "iban": other}) + "\n")
    monkeypatch.setenv("NESYFLOW_MODEL", f"replay:{replies}")
    from payout_support import workflow

    from nesyflow.engine import start_run

    result = start_run(workflow(tmp_path), request, store=store)
    assert result.status.value == "waiting_review"
    review = store.get_review(result.review_id)
    assert review.kind == "governance" and review.verdict == "unknown"
    assert "was not given as a placeholder" in review.reasons[0].message
