"""ASP injection: no string can change the program. Property-tested with ≥ 2,000 fuzzed strings.

The toy pack reads ``item_note`` (a note equal to "gift" opens a review). For any other note — quotes,
``). violation(x,"y"). %``, newlines, backslashes, ``#show``, unicode, NUL, 10 kB of text — the atoms
the pack derives must be exactly those derived with a benign note.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nesyflow.logic import Verdict, check
from nesyflow.schema import NUL_ESCAPE, to_facts

NASTY = [
    '"). violation(x,"y"). %',
    '"). violation(over_limit, 2). #show violation/2.',
    "\n#show.\n",
    "\\",
    '\\"',
    "%* block comment",
    ":- item(I).",
    "#const limit=0.",
    "#program base.",
    "}.",
    "é漢字🙂",
    "\r\n\t",
    "\x00",
    "gift\x00",
]

notes = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",))),
    st.lists(st.sampled_from(NASTY), min_size=1, max_size=6).map("".join),
    st.tuples(st.text(max_size=20), st.sampled_from(NASTY), st.text(max_size=20)).map("".join),
).filter(lambda s: s.replace("\x00", NUL_ESCAPE) != "gift")


def _claim(note: str) -> dict:
    return {
        "level": "staff",
        "items": [
            {"category": "meals", "amount": "60.50", "note": note},
            {"category": "travel", "amount": "20", "note": note},
        ],
    }


@pytest.fixture(scope="module")
def benign(toy_pack):
    return check(toy_pack, _claim("team lunch"))


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(note=notes)
def test_any_note_derives_the_same_atoms_as_a_benign_one(toy_pack, benign, note):
    result = check(toy_pack, _claim(note))
    assert result.verdict == benign.verdict == Verdict.FAIL
    assert result.atoms == benign.atoms


def test_ten_kilobytes_of_injection_is_one_string(toy_pack, benign):
    note = ('"). violation(x,"y"). %\n#show.\\' * 500)[:10_240]
    result = check(toy_pack, _claim(note))
    assert result.atoms == benign.atoms


def test_the_rules_do_see_the_string_value(toy_pack):
    # the property above would be vacuous if notes were ignored: "gift" must change the outcome
    result = check(
        toy_pack, {"level": "staff", "items": [{"category": "meals", "amount": 1, "note": "gift"}]}
    )
    assert result.verdict == Verdict.REVIEW
    assert [f.rule for f in result.reviews] == ["gift_note"]


def test_a_nul_character_is_held_escaped_and_keeps_the_verdict(toy_pack, benign):
    # clingo would cut "gift\x00" to "gift" (and open the gift review); it is held as "gift␀"
    result = check(toy_pack, _claim("gift\x00"))
    assert result.verdict == benign.verdict == Verdict.FAIL
    assert result.atoms == benign.atoms
    claim = toy_pack.input_model.model_validate(_claim("a\x00b"))
    assert '"a\u2400b"' in to_facts(claim).text()
