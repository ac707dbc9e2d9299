"""A pack reads only its own files, runs no code, and every file it reads is in its identity hash."""

import os
import shutil

import pytest

from nesyflow.errors import ProblemsError
from nesyflow.logic import check, load_pack

from ..conftest import FIXTURES

CLAIM = {"level": "staff", "items": [{"category": "meals", "amount": "20"}]}


def _toy(tmp_path, name="p"):
    folder = tmp_path / name
    shutil.copytree(FIXTURES / "packs" / "toy", folder)
    return folder


def _problems(folder):
    with pytest.raises(ProblemsError) as info:
        load_pack(folder)
    return info.value.problems


def test_an_include_outside_the_folder_is_refused_before_it_is_read(tmp_path):
    """The bug: an included file outside the folder changed verdicts and kept the hash."""
    folder = _toy(tmp_path)
    outside = tmp_path / "outside.lp"
    outside.write_text("violation(no_alcohol, 1).\n")
    (folder / "more.lp").write_text(
        '% fine: #include "x.lp".\nx("#include").\n#include "../outside.lp".\n'
    )
    (problem,) = _problems(folder)
    assert problem.code == "no_include" and problem.location.line == 3
    assert problem.location.file.endswith("more.lp") and problem.location.column == 1
    # a missing target gives the same refusal, not a parse error: clingo never opened it
    (folder / "more.lp").write_text('#include <incmode>.\n#include "/nonexistent.lp".\n')
    assert [p.code for p in _problems(folder)] == ["no_include", "no_include"]


def test_a_script_is_refused_and_never_runs(tmp_path):
    folder = _toy(tmp_path)
    marker = tmp_path / "ran"
    (folder / "more.lp").write_text(f'#script (python)\nopen("{marker}", "w").write("x")\n#end.\n')
    assert [p.code for p in _problems(folder)] == ["no_script"]
    assert not marker.exists()


@pytest.mark.parametrize("ref", ["../other/schema:Claim", "nesyflow.logic.result:CheckResult"])
def test_a_schema_outside_the_folder_is_refused(tmp_path, ref):
    folder = _toy(tmp_path)
    _toy(tmp_path, "other")
    manifest = folder / "pack.toml"
    manifest.write_text(manifest.read_text().replace('"schema:Claim"', f'"{ref}"'))
    problems = _problems(folder)
    assert [p.code for p in problems] in (["outside_pack"], ["schema"])
    assert "schema.input" in problems[0].message


def test_symlinks_out_of_the_folder_are_refused(tmp_path):
    folder = _toy(tmp_path)
    elsewhere = _toy(tmp_path, "elsewhere")
    (folder / "schema.py").unlink()
    os.symlink(elsewhere / "schema.py", folder / "schema.py")
    os.symlink(elsewhere / "rules.lp", folder / "linked.lp")
    problems = _problems(folder)
    assert {(p.code, p.location.file.rsplit("/", 1)[-1]) for p in problems} >= {
        ("outside_pack", "linked.lp"),
        ("outside_pack", "pack.toml"),
    }


def test_a_schema_under_tests_is_refused_because_the_hash_skips_it(tmp_path):
    folder = _toy(tmp_path)
    shutil.copy(folder / "schema.py", folder / "tests" / "schema.py")
    manifest = folder / "pack.toml"
    manifest.write_text(manifest.read_text().replace('"schema:Claim"', '"tests/schema:Claim"'))
    (problem,) = _problems(folder)
    assert problem.code == "outside_pack" and "identity hash" in problem.message


@pytest.mark.parametrize("name", ["rules.lp", "schema.py", "pack.toml"])
def test_changing_any_file_the_pack_reads_changes_its_hash(tmp_path, name):
    folder = _toy(tmp_path)
    first = load_pack(folder).identity.hash
    with (folder / name).open("a") as f:
        f.write("\n# x\n" if name != "rules.lp" else "\n% x\n")
    assert load_pack(folder).identity.hash != first


def test_a_hidden_lp_file_is_not_read(tmp_path):
    """Hidden files are outside the hash, so they must be outside the program too."""
    folder = _toy(tmp_path)
    before = load_pack(folder)
    (folder / ".sneaky.lp").write_text("violation(no_alcohol, 1).\n")
    after = load_pack(folder)
    assert after.identity == before.identity
    assert check(after, CLAIM).verdict == check(before, CLAIM).verdict
