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


# --- the same property on every shipped pack, on its own cases, through check and check_many -------
#
# A shipped pack compares strings: with each other (a duplicate's merchant, a user id in the call
# and in the context) and with constants written in its rules ("pending", "Cuba", ""). So every
# string of a case is renamed consistently — equal strings stay equal, strings the rules name stay
# as they are — once to benign names ("s0003") and once to a fuzzed string carrying the same number.
# If no input text is ever parsed, both renamings derive the same atoms, up to the renaming.
# (The shipped packs compare strings only for (in)equality, never by order.)

import re  # noqa: E402
from datetime import date, datetime  # noqa: E402
from decimal import Decimal  # noqa: E402
from enum import Enum  # noqa: E402
from functools import cache  # noqa: E402

from clingo import String  # noqa: E402
from pydantic import ValidationError  # noqa: E402

from nesyflow.logic import check_many  # noqa: E402

from .shipped import PACK_DIRS, PACK_IDS, cases, pack  # noqa: E402

_LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')
SHORT = 6  # characters of the fuzzed text kept for fields with a short max_length (ids, zip codes)


@cache
def _protected(folder) -> frozenset[str]:
    """Strings written in the pack's rules (outside comments): renaming them would change meaning."""
    found = {""}
    for lines in pack(folder).sources.values():
        for line in lines:
            code = line.split("%", 1)[0]
            found.update(m.group(1) for m in _LITERAL.finditer(code))
    return frozenset(found)


def _strings(value, path=(), out=None):
    """(path, string) of every plain string in a dumped model (not enum values)."""
    out = [] if out is None else out
    if isinstance(value, dict):
        for k, v in value.items():
            _strings(v, (*path, k), out)
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _strings(v, (*path, i), out)
    elif isinstance(value, str) and not isinstance(value, Enum):
        out.append((path, value))
    return out


def _replace(value, names):
    if isinstance(value, dict):
        return {k: _replace(v, names) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_replace(v, names) for v in value]
    if isinstance(value, str) and not isinstance(value, Enum | date | datetime | Decimal):
        return names.get(value, value)
    return value


def _at(data, loc):
    """The string at the longest prefix of a validation error's ``loc`` that names one."""
    for end in range(len(loc), 0, -1):
        node = data
        try:
            for part in loc[:end]:
                node = node[part]
        except (KeyError, IndexError, TypeError):
            continue
        if isinstance(node, str):
            return node
    return None


def _renamed(loaded, case, protected, text: str | None):
    """The case with its strings renamed (``text`` None: benign names), as validated models, and
    the renaming. Strings a field refuses when long get the short form; refused twice: kept."""
    roots = [("input", loaded.input_model, case.input.model_dump())]
    if case.context is not None:
        roots.append(("context", loaded.context_model, case.context.model_dump()))
    originals = sorted({s for _n, _m, d in roots for _p, s in _strings(d)} - protected)
    short: set[str] = set()
    keep: set[str] = set()
    for _attempt in range(6):
        names = {}
        for k, s in enumerate(originals):
            if s in keep:
                continue
            if text is None:
                names[s] = f"s{k:04d}"
            else:
                names[s] = (text[:SHORT] if s in short else text) + f"{k:04d}"
        try:
            built = [model.model_validate(_replace(d, names)) for _n, model, d in roots]
        except ValidationError as exc:
            for err in exc.errors():
                for _n, _m, d in roots:
                    original = _at(d, err["loc"])
                    if original is not None and original in originals:
                        (keep if original in short else short).add(original)
            continue
        return built, names, frozenset(short), frozenset(keep)
    raise AssertionError(f"{case.name}: cannot rename its strings")


def _benign(loaded, case, protected, short, keep):
    roots = [("input", loaded.input_model, case.input.model_dump())]
    if case.context is not None:
        roots.append(("context", loaded.context_model, case.context.model_dump()))
    originals = sorted({s for _n, _m, d in roots for _p, s in _strings(d)} - protected)
    names = {s: f"s{k:04d}" for k, s in enumerate(originals) if s not in keep}
    built = [model.model_validate(_replace(d, names)) for _n, model, d in roots]
    return built, names


def _translated(atoms, fuzzed: dict[str, str], benign: dict[str, str]) -> tuple[str, ...]:
    # a NUL is held as U+2400 (README "How inputs become facts"): the fuzzed text as the facts hold it
    swaps = [
        (str(String(fuzzed[s].replace("\x00", "\u2400"))), str(String(benign[s]))) for s in fuzzed
    ]
    out = []
    for atom in atoms:
        for bad, good in swaps:
            atom = atom.replace(bad, good)
        out.append(atom)
    return tuple(sorted(out))


shipped_text = st.one_of(
    st.text(
        alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
        min_size=1,
        max_size=40,
    ),
    st.lists(st.sampled_from(NASTY), min_size=1, max_size=4).map("".join),
)


_EXPECTED: dict = {}


def _expected(loaded, case, protected, short, keep):
    """The check of the benignly renamed case (cached: it depends on the fuzzed text only through
    which strings had to be shortened or kept)."""
    key = (loaded.identity, id(case), short, keep)
    if key not in _EXPECTED:
        built, names = _benign(loaded, case, protected, short, keep)
        _EXPECTED[key] = (check(loaded, built[0], built[1] if len(built) > 1 else None), names)
    return _EXPECTED[key]


@pytest.mark.parametrize("folder", PACK_DIRS, ids=PACK_IDS)
def test_no_string_changes_a_shipped_pack_through_check(folder):
    loaded, all_cases, protected = pack(folder), cases(folder), _protected(folder)
    with_strings = [c for c in all_cases if _renamed(loaded, c, protected, None)[1]]
    assert with_strings, "the property would be vacuous: no case of the pack has a string"
    tried = []

    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
    @given(index=st.integers(0, len(with_strings) - 1), text=shipped_text)
    def prop(index, text):
        case = with_strings[index]
        built, fuzzed, short, keep = _renamed(loaded, case, protected, text)
        benign, names = _expected(loaded, case, protected, short, keep)
        result = check(loaded, built[0], built[1] if len(built) > 1 else None)
        assert result.verdict == benign.verdict, case.name
        assert _translated(result.atoms, fuzzed, names) == tuple(sorted(benign.atoms)), case.name
        tried.append(len(fuzzed))

    prop()
    assert sum(tried) >= 200  # fuzzed strings that reached the rules


@pytest.mark.parametrize("folder", PACK_DIRS, ids=PACK_IDS)
def test_no_string_changes_a_shipped_pack_through_check_many(folder):
    loaded, all_cases, protected = pack(folder), cases(folder), _protected(folder)

    @settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
    @given(text=shipped_text)
    def prop(text):
        renamed = [_renamed(loaded, c, protected, text) for c in all_cases]
        expected = [
            _expected(loaded, c, protected, r[2], r[3])
            for c, r in zip(all_cases, renamed, strict=True)
        ]
        contexts = [r[0][1] if len(r[0]) > 1 else None for r in renamed]
        results = check_many(
            loaded, [r[0][0] for r in renamed], contexts if any(contexts) else None
        )
        for case, result, (_b, fuzzed, _s, _k), (benign, names) in zip(
            all_cases, results, renamed, expected, strict=True
        ):
            assert result.verdict == benign.verdict, case.name
            assert _translated(result.atoms, fuzzed, names) == tuple(sorted(benign.atoms)), (
                case.name
            )

    prop()
