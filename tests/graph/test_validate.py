"""Whole-graph checks and type walking, through the Python builder (same checks as the YAML)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated

import pytest
from pydantic import BaseModel

from nesyflow.errors import ProblemsError
from nesyflow.graph import HumanNode, LlmNode, Workflow, WorkflowBuilder
from nesyflow.graph.validate import schema_mismatch, type_at

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "workflows"
PACK = FIXTURES / "expense_lite" / "rules" / "expense_lite"


class Req(BaseModel):
    text: str
    tags: dict[str, int] = {}


class Line(BaseModel):
    amount: Annotated[Decimal, "x"]


class Draft(BaseModel):
    lines: list[Line]
    note: str | None = None


class Booking(BaseModel):
    note: str


class Ticket(BaseModel):
    id: str


def book(booking: Booking) -> Ticket:
    return Ticket(id=booking.note)


def test_type_at_walks_models_lists_dicts_and_optionals() -> None:
    assert type_at(Draft, ["lines", 0, "amount"])[0] is not None
    assert type_at(Req, ["tags", "anything"]) == (int, None)
    _, err = type_at(Draft, ["lines", "amount"])
    assert err and "not an index" in err
    _, err = type_at(Draft, ["lines", 0, "amont"])
    assert err == "Line has no field 'amont' (did you mean 'amount'?)"
    _, err = type_at(Draft, ["note", "x"])
    assert err and "str" in err


def test_schema_mismatch() -> None:
    assert schema_mismatch(Draft, Draft) is None
    assert "lacks 'lines'" in (schema_mismatch(Booking, Draft) or "")


def _good() -> WorkflowBuilder:
    return (
        WorkflowBuilder("b", Req, model="m")
        .llm("draft", prompt="{{ t }}", input={"t": "input.text"}, output=Draft, next="gate")
        .branch("gate", [({"node": "draft", "verdict": ["pass"]}, "book")], default="ask")
        .human("ask", question="ok?", value="draft.output", next="book")
        .tool("book", book, input={"note": "draft.output.note"})
    )


def test_builder_gives_the_same_model_as_yaml() -> None:
    with pytest.raises(ProblemsError) as info:
        _good().build()  # the branch tests verdicts of 'draft', which has no packs
    assert [p.code for p in info.value.problems] == ["no_packs"]
    assert info.value.problems[0].location.file == __file__


def test_builder_with_packs_builds_a_graph() -> None:
    claim = __import__("nesyflow.graph.resolve", fromlist=["x"]).resolve_schema(
        "schema:Claim", PACK
    )
    wf = (
        WorkflowBuilder("b", Req, base_dir=FIXTURES / "expense_lite")
        .llm("extract", prompt="{{ t }}", input={"t": "input.text"}, output=claim,
             packs=["rules/expense_lite"], next="gate")
        .branch("gate", [({"node": "extract", "verdict": ["pass"]}, "done")], default="done")
        .human("done", value="extract.output.items")
        .build()
    )  # fmt: skip
    assert isinstance(wf, Workflow) and wf.graph.number_of_edges() == 2
    assert wf.nodes["extract"].packs[0].pack.name == "expense_lite"
    assert wf.nodes["done"].output is None  # a list is not a model: nothing to infer


def test_pack_schema_mismatch_is_reported() -> None:
    with pytest.raises(ProblemsError) as info:
        (
            WorkflowBuilder("b", Req, base_dir=FIXTURES / "expense_lite")
            .llm("x", prompt="hi", output=Booking, packs=["rules/expense_lite"])
            .build()
        )
    (problem,) = info.value.problems
    assert problem.code == "schema_mismatch" and "Claim" in problem.message


def test_workflow_build_with_node_objects_checks_the_graph() -> None:
    nodes = [
        LlmNode(id="a", prompt="{{ x }}", input={"x": "input.text"}, output=Draft, next="b"),
        HumanNode(id="b", value="a.output", next="a"),
        HumanNode(id="c", value="b.output.lines"),
    ]
    with pytest.raises(ProblemsError) as info:
        Workflow.build(name="w", input_schema=Req, nodes=nodes)
    codes = sorted(p.code for p in info.value.problems)
    assert codes == ["unbounded_cycle", "unreachable"]
    bounded = [nodes[0].model_copy(update={"max_visits": 2}), nodes[1]]
    wf = Workflow.build(name="w", input_schema=Req, nodes=bounded)
    assert wf.nodes["b"].output is Draft


def test_refs_to_downstream_or_unknown_nodes() -> None:
    with pytest.raises(ProblemsError) as info:
        (
            WorkflowBuilder("b", Req)
            .llm("a", prompt="{{ x }} {{ y }}", input={"x": "b.output", "y": "zz.output"},
                 output=Draft, next="b")
            .human("b", value="a.output.lines.0.amount.cents")
            .build()
        )  # fmt: skip
    got = sorted((p.code, p.message.split(":")[0]) for p in info.value.problems)
    assert [c for c, _ in got] == ["not_upstream", "unknown_field", "unknown_node"]
