"""The workflow model: data paths, defaults, serialization."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from nesyflow.graph import LlmNode, OnFail, Ref, ToolNode


class Item(BaseModel):
    name: str


class Out(BaseModel):
    items: list[Item]


def test_ref_parse_forms() -> None:
    assert Ref.parse("input") == Ref(node=None, part="input", fields=())
    assert Ref.parse("input.request").fields == ("request",)
    ref = Ref.parse("extract.output.items.0.name")
    assert (ref.node, ref.part, ref.fields) == ("extract", "output", ("items", 0, "name"))
    assert Ref.parse("calc.derived.total").part == "derived"
    assert str(Ref.parse("calc.verdict")) == "calc.verdict"


@pytest.mark.parametrize("bad", ["", "extract", "extract.outputs.x", "a..b", "x.verdict.y"])
def test_ref_parse_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        Ref.parse(bad)


def test_ref_resolve_walks_models_lists_and_dicts() -> None:
    outputs = {"extract": Out(items=[Item(name="lunch")])}
    assert Ref.parse("extract.output.items.0.name").resolve(None, outputs) == "lunch"
    assert Ref.parse("calc.derived.total").resolve(None, {}, {"calc": {"total": 5}}) == 5
    assert Ref.parse("calc.verdict").resolve(None, {}, verdicts={"calc": "pass"}) == "pass"


def test_nodes_are_frozen_and_serialize_paths_as_text() -> None:
    node = LlmNode(id="a", prompt="p", output=Out, input={"x": "input.x"})
    with pytest.raises(ValidationError):
        node.id = "b"  # type: ignore[misc]
    dumped = node.model_dump(mode="json")
    assert dumped["input"] == {"x": "input.x"}
    assert dumped["output"].endswith(":Out")
    assert LlmNode.model_validate({**dumped, "output": Out}).input == node.input


def test_on_fail_defaults_depend_on_kind() -> None:
    assert LlmNode(id="a", prompt="p").on_fail == OnFail(policy="reask", max_reasks=2, then="human")

    def tool(item: Item) -> Out: ...

    node = ToolNode(id="t", tool=tool, args_schema=Item)
    assert node.on_fail.policy == "human"
    assert node.subject_schema() is Item
