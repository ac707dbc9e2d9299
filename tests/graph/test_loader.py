"""Loading YAML workflows: the good fixtures load into a real graph; the broken one reports every
problem at its line."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from nesyflow.errors import InputError, ProblemsError
from nesyflow.graph import BranchNode, HumanNode, ToolNode, load_workflow, parse_workflow

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "workflows"


def test_expense_lite_loads() -> None:
    wf = load_workflow(FIXTURES / "expense_lite" / "workflow.yaml")
    assert wf.name == "expense_lite" and wf.start == "extract"
    assert list(wf.nodes) == ["extract", "route", "review", "record"]
    assert isinstance(wf.graph, nx.DiGraph)
    assert set(wf.graph.edges) == {
        ("extract", "route"),
        ("route", "record"),
        ("route", "review"),
        ("review", "record"),
    }
    assert nx.is_directed_acyclic_graph(wf.graph)
    extract = wf.nodes["extract"]
    assert "{{ request }}" in extract.prompt and extract.on_fail.max_reasks == 3
    assert extract.packs[0].pack is not None and extract.packs[0].pack.name == "expense_lite"
    # the pack and the workflow import the same schema.py: the very same class
    assert extract.output is extract.packs[0].pack.input_model
    review = wf.nodes["review"]
    assert isinstance(review, HumanNode) and review.output is extract.output  # inferred
    record = wf.nodes["record"]
    assert isinstance(record, ToolNode) and record.args_schema.__name__ == "Record"
    assert record.output.__name__ == "Receipt" and record.on_fail.policy == "reject"
    route = wf.nodes["route"]
    assert isinstance(route, BranchNode) and route.routes[1].when.derived == {"category": "meals"}
    assert wf.model_for("extract") == "openai/gpt-4o-mini"
    assert wf.model_dump(mode="json")["nodes"]["record"]["tool"].endswith(":record_claim")


def test_loop_with_max_visits_loads() -> None:
    wf = load_workflow(FIXTURES / "loop" / "workflow.yaml")
    assert not nx.is_directed_acyclic_graph(wf.graph)
    assert wf.nodes["gate"].output is wf.nodes["draft"].output  # a check passes its value on
    assert wf.successors("decide") == ["draft", "approve"]


# (line, code) of every problem planted in broken/workflow.yaml
EXPECTED = {
    (6, "missing_file"),  # prompt_file that does not exist
    (7, "unknown_field"),  # input.textt
    (8, "bad_schema"),  # Claimz
    (9, "bad_pack"),  # rules/nope
    (14, "not_upstream"),  # route on record, which runs after the branch
    (14, "no_packs"),  # ... and has no packs to give a verdict
    (15, "unknown_node"),  # to: recrod
    (19, "bad_tool"),  # record_clam
    (20, "unknown_field"),  # nxt
    (21, "unreachable"),  # review (record's 'next' is misspelt)
    (22, "unknown_kind"),  # humann
    (23, "unbounded_cycle"),  # orphan ⇄ again
    (23, "unreachable"),
    (27, "unreachable"),
}


def test_broken_reports_every_problem_with_its_line() -> None:
    path = FIXTURES / "broken" / "workflow.yaml"
    with pytest.raises(ProblemsError) as info:
        load_workflow(path)
    problems = info.value.problems
    assert {(p.location.line, p.code) for p in problems} == EXPECTED
    assert all(p.location.file == str(path) and p.location.column > 0 for p in problems)
    messages = "\n".join(p.message for p in problems)
    for hint in ("'text'?", "'Claim'?", "'record'?", "'record_claim'?", "'next'?", "'human'?"):
        assert f"did you mean {hint}" in messages
    assert problems == sorted(problems)


def _load(tmp_path: Path, text: str) -> ProblemsError:
    schema = FIXTURES / "expense_lite" / "schema.py"
    file = tmp_path / "wf.yaml"
    file.write_text(text.replace("SCHEMA", str(schema)), encoding="utf-8")
    with pytest.raises(ProblemsError) as info:
        load_workflow(file)
    return info.value


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    err = _load(tmp_path, "name: x\nnodes: [a\n")
    assert [p.code for p in err.problems] == ["yaml_syntax"]
    assert err.problems[0].location.line >= 2


def test_duplicate_node_ids_and_unknown_top_level_keys(tmp_path: Path) -> None:
    text = (
        "name: d\ninput_schema: SCHEMA:Request\nstrat: a\nnodes:\n"
        "  a: {kind: human}\n  a: {kind: human}\n"
    )
    err = _load(tmp_path, text)
    got = {(p.location.line, p.code) for p in err.problems}
    assert got == {(6, "duplicate_key"), (3, "unknown_field")}
    assert "did you mean 'start'?" in str(err)


def test_schema_paths_tool_args_and_prompt_variables(tmp_path: Path) -> None:
    tools = FIXTURES / "expense_lite" / "tools.py"
    claim = FIXTURES / "expense_lite" / "rules" / "expense_lite" / "schema.py"
    text = f"""name: t
input_schema: SCHEMA:Request
nodes:
  a:
    kind: llm
    prompt: "{{{{ who }}}} {{{{ whom }}}}"
    input: {{who: input.employee}}
    output: {claim}:Claim
    next: b
  b:
    kind: tool
    tool: {tools}:record_claim
    input:
      employee: a.output.items.0.descriptio
      totl: a.output.total
    on_fail: reask
"""
    err = _load(tmp_path, text)
    got = {(p.location.line, p.code) for p in err.problems}
    assert got == {
        (6, "unknown_variable"),  # whom
        (14, "missing_argument"),  # total and first_item not mapped
        (14, "unknown_field"),  # Item has no 'descriptio'
        (15, "unknown_field"),  # Record has no 'totl'
        (16, "bad_on_fail"),  # reask on a tool
    }


def test_unbounded_self_loop_and_dangling_start(tmp_path: Path) -> None:
    text = "name: s\ninput_schema: SCHEMA:Request\nstart: b\nnodes:\n  a: {kind: human, next: a}\n"
    got = {(p.location.line, p.code) for p in _load(tmp_path, text).problems}
    assert (3, "unknown_node") in got


def test_self_loop_needs_a_bound(tmp_path: Path) -> None:
    text = "name: s\ninput_schema: SCHEMA:Request\nnodes:\n  a: {kind: human, next: a}\n"
    got = {(p.location.line, p.code) for p in _load(tmp_path, text).problems}
    assert got == {(4, "unbounded_cycle")}
    fixed = text.replace("next: a}", "next: a, max_visits: 2}")
    (tmp_path / "ok.yaml").write_text(
        fixed.replace("SCHEMA", str(FIXTURES / "expense_lite" / "schema.py"))
    )
    assert load_workflow(tmp_path / "ok.yaml").nodes["a"].max_visits == 2


def test_unreadable_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        load_workflow(tmp_path / "absent.yaml")


def test_parse_workflow_empty_text() -> None:
    with pytest.raises(ProblemsError, match="empty"):
        parse_workflow("", Path("x.yaml"))
