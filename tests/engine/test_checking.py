"""One precedence for a node's verdict, and nothing checked is never a pass."""

from __future__ import annotations

import shutil

from flows import NOTE_PACK

from nesyflow.engine.checking import check_subject
from nesyflow.graph.model import PackRef
from nesyflow.logic import Verdict, worst


def test_no_verdicts_at_all_is_unknown_never_pass():
    assert worst([]) is Verdict.UNKNOWN
    assert worst(iter(())) is Verdict.UNKNOWN


def test_the_precedence_is_fail_deny_unknown_review_pass():
    order = ["pass", "review", "unknown", "deny", "fail"]
    for i, lower in enumerate(order):
        for higher in order[i:]:
            assert worst([lower, higher]) == higher and worst([higher, lower]) == higher
    assert worst(["pass", "no such word"]) is Verdict.UNKNOWN


def test_zero_packs_is_unchecked_not_pass():
    summary = check_subject((), {"text": "a", "amount": 1})
    assert summary.verdict is Verdict.UNKNOWN
    assert [r.kind for r in summary.reasons] == ["unchecked"]


def test_a_pack_is_read_from_disk_not_from_the_copy_a_workflow_holds(tmp_path):
    from nesyflow.logic import load_pack

    folder = tmp_path / "note"
    shutil.copytree(NOTE_PACK, folder)
    ref = PackRef(path=folder, text="note", pack=load_pack(folder))
    assert check_subject([ref], {"text": "a", "amount": 70}).verdict is Verdict.REVIEW
    (folder / "rules.lp").write_text(
        "violation(too_big, N) :- note_amount(N, A), A > 60.\n"
        "review(large, N) :- note_amount(N, A), A > 50, A <= 60.\n"
    )
    changed = check_subject([ref], {"text": "a", "amount": 70})
    assert changed.verdict is Verdict.FAIL and changed.packs[0]["hash"] != ref.pack.identity.hash
    shutil.rmtree(folder)
    gone = check_subject([ref], {"text": "a", "amount": 1})
    assert gone.verdict is Verdict.UNKNOWN and "did not load" in gone.reasons[0].message
