"""Loading a pack validates everything first and reports every problem with its place."""

import shutil

import pytest

from nesyflow.errors import ProblemsError
from nesyflow.logic import load_pack

from ..conftest import FIXTURES


def _problems(path):
    with pytest.raises(ProblemsError) as info:
        load_pack(path)
    return info.value.problems


def test_every_problem_is_reported_at_once_with_its_place():
    problems = _problems(FIXTURES / "packs" / "broken")
    found = {(p.code, p.location.file.rsplit("/", 1)[-1], p.location.line) for p in problems}
    assert ("syntax", "syntax.lp", 2) in found
    assert ("uncatalogued_rule", "rules.lp", 3) in found
    assert ("rule_id", "rules.lp", 4) in found
    assert ("unsafe_variable", "rules.lp", 5) in found
    assert ("unsafe_variable", "rules.lp", 6) in found
    assert ("manifest", "pack.toml", 0) in found  # unknown key 'colour'
    assert ("catalogue", "pack.toml", 0) in found  # severity 'urgent'
    syntax = next(p for p in problems if p.code == "syntax")
    assert syntax.location.column == 5


def test_whole_program_checks_run_when_every_file_parses(tmp_path):
    pack = tmp_path / "broken"
    shutil.copytree(FIXTURES / "packs" / "broken", pack)
    (pack / "syntax.lp").unlink()
    problems = _problems(pack)
    messages = {p.code: p.message for p in problems}
    assert "itme_amount/2 is read but never defined" in messages["undefined_predicate"]
    assert "did you mean item_amount/2" in messages["undefined_predicate"]
    assert "'never_made' is produced by no" in messages["unproduced_rule"]


def test_missing_folder_and_manifest_are_problems_not_crashes(tmp_path):
    assert _problems(tmp_path / "nope")[0].code == "pack_missing"
    assert _problems(tmp_path)[0].code == "pack_missing"


def test_unimportable_schema_is_reported(tmp_path):
    pack = tmp_path / "p"
    shutil.copytree(FIXTURES / "packs" / "toy", pack)
    (pack / "schema.py").write_text("raise RuntimeError('boom')\n")
    problems = _problems(pack)
    assert any(p.code == "schema" and "boom" in p.message for p in problems)


def test_identity_changes_with_rules_but_not_with_tests(tmp_path):
    pack = tmp_path / "p"
    shutil.copytree(FIXTURES / "packs" / "toy", pack)
    first = load_pack(pack).identity
    (pack / "tests" / "cases.yaml").write_text((pack / "tests" / "cases.yaml").read_text() + "\n")
    assert load_pack(pack).identity == first
    (pack / "rules.lp").write_text((pack / "rules.lp").read_text() + "\n% a comment\n")
    second = load_pack(pack).identity
    assert second.hash != first.hash and second.version == first.version


def test_a_json_schema_pack_checks_like_the_python_schema_pack(toy_pack):
    from nesyflow.logic import check

    json_pack = load_pack(FIXTURES / "packs" / "toy_json")
    claim = {"level": "staff", "items": [{"category": "meals", "amount": "60.5", "note": "gift"}]}
    a, b = check(toy_pack, claim), check(json_pack, claim)
    assert (a.verdict, a.atoms, a.derived) == (b.verdict, b.atoms, b.derived)


def test_pooled_facts_define_their_predicate(tmp_path):
    pack = tmp_path / "p"
    shutil.copytree(FIXTURES / "packs" / "toy", pack)
    (pack / "more.lp").write_text("cheap(meals; travel).\nderived(cheap, C) :- cheap(C).\n")
    from nesyflow.logic import check

    result = check(load_pack(pack), {"level": "staff", "items": []})
    assert sorted(result.derived["cheap"]) == ["meals", "travel"]
