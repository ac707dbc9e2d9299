"""Build a workflow in Python: the developer's form, same model and same checks as the YAML.

    wf = (
        WorkflowBuilder("expenses", ExpenseRequest, model="openai/gpt-4o-mini")
        .llm("extract", prompt="Extract: {{ request }}", input={"request": "input.request"},
             output=ExpenseClaim, packs=["rules/expense"], next="route")
        .branch("route", routes=[({"node": "extract", "verdict": ["pass"]}, "record")],
                default="review")
        .tool("record", record_claim, input={"claim": "extract.output"})
        .human("review", question="Approve?", value="extract.output")
        .build()
    )

Problems are collected like the loader's and raised together as a ProblemsError; each is placed at
the line of the Python call that added the node.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ValidationError

from nesyflow.errors import Location, Problem, ProblemsError
from nesyflow.graph import packs as pack_loading
from nesyflow.graph.model import (
    BranchNode,
    CheckNode,
    Condition,
    HumanNode,
    LlmNode,
    PackRef,
    Route,
    ToolNode,
    Workflow,
)
from nesyflow.graph.resolve import ResolveError, resolve_tool, tool_signature
from nesyflow.graph.validate import build_graph, check_workflow, infer_outputs

__all__ = ["WorkflowBuilder", "build_workflow"]

AnyNode = LlmNode | ToolNode | CheckNode | HumanNode | BranchNode
PackLike = str | Path | PackRef | Any  # a folder, a PackRef, or a loaded nesyflow.logic.Pack


def _caller(depth: int) -> Location:
    frame = sys._getframe(depth + 1)
    return Location(frame.f_code.co_filename, frame.f_lineno)


def _pack_refs(
    packs: Iterable[PackLike], base: Path, where: Location, problems: list[Problem]
) -> tuple[PackRef, ...]:
    out: list[PackRef] = []
    for item in packs:
        if isinstance(item, PackRef) and item.pack is not None:
            out.append(item)
            continue
        if isinstance(item, PackRef | str | Path):
            text = (item.text or str(item.path)) if isinstance(item, PackRef) else str(item)
            ref, why, inner = pack_loading.load_pack_ref(text, base)
            if ref is None:
                problems.append(Problem(where, "bad_pack", why or f"bad pack {text}"))
                problems.extend(inner)
            else:
                out.append(ref)
        elif hasattr(item, "input_model"):  # an already loaded nesyflow.logic.Pack
            out.append(PackRef(path=Path(getattr(item, "path", ".")), text=str(item), pack=item))
        else:
            problems.append(Problem(where, "bad_pack", f"{item!r} is not a rule pack"))
    return tuple(out)


def build_workflow(
    name: str,
    input_schema: type[BaseModel],
    nodes: Iterable[AnyNode] | Mapping[str, AnyNode],
    *,
    start: str | None = None,
    model: str | None = None,
    description: str = "",
    version: str = "",
    base_dir: str | Path | None = None,
    path: Path | None = None,
) -> Workflow:
    """Validate node objects together and return the workflow (or raise ProblemsError).

    Packs given as :class:`PackRef` without a loaded pack are loaded here, relative to ``base_dir``
    (default: the current directory).
    """
    here = _caller(1)
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    listed = list(nodes.values()) if isinstance(nodes, Mapping) else list(nodes)
    problems: list[Problem] = []
    by_id: dict[str, AnyNode] = {}
    for node in listed:
        where = node.location or here
        if node.id in by_id:
            problems.append(Problem(where, "duplicate_node", f"node id '{node.id}' is used twice"))
            continue
        if node.packs and any(p.pack is None for p in node.packs):
            node = node.model_copy(update={"packs": _pack_refs(node.packs, base, where, problems)})
        by_id[node.id] = node
    if start is None and by_id:
        start = next(iter(by_id))
    by_id = infer_outputs(by_id, input_schema)

    def locate(node_id: str | None, _path: tuple[str | int, ...]) -> Location:
        node = by_id.get(node_id) if node_id is not None else None
        return (node.location if node is not None else None) or here

    problems += check_workflow(by_id, start, input_schema, locate)
    if problems:
        raise ProblemsError(f"workflow {name}", problems)
    assert start is not None
    return Workflow(
        name=name,
        description=description,
        version=version,
        path=path,
        model=model,
        input_schema=input_schema,
        start=start,
        nodes=by_id,
        graph=build_graph(by_id),
    )


class WorkflowBuilder:
    """Add nodes one call at a time; :meth:`build` validates them together."""

    def __init__(
        self,
        name: str,
        input_schema: type[BaseModel],
        *,
        description: str = "",
        version: str = "",
        model: str | None = None,
        base_dir: str | Path | None = None,
    ) -> None:
        self.name = name
        self.input_schema = input_schema
        self.description = description
        self.version = version
        self.model = model
        self.base = Path(base_dir) if base_dir is not None else Path.cwd()
        self._nodes: list[AnyNode] = []
        self._problems: list[Problem] = []

    def _add(
        self, cls: type[AnyNode], node_id: str, packs: Sequence[PackLike], **fields: Any
    ) -> Self:
        where = _caller(2)
        fields = {k: v for k, v in fields.items() if v is not None}
        fields["packs"] = _pack_refs(packs, self.base, where, self._problems)
        try:
            self._nodes.append(cls(id=node_id, location=where, **fields))
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(map(str, err["loc"]))
                self._problems.append(
                    Problem(where, "bad_value", f"node '{node_id}': {loc}: {err['msg']}")
                )
        return self

    def llm(
        self,
        node_id: str,
        *,
        prompt: str,
        output: type[BaseModel],
        input: Mapping[str, str] | None = None,
        packs: Sequence[PackLike] = (),
        system: str | None = None,
        model: str | None = None,
        on_fail: Any = None,
        next: str | None = None,
        max_visits: int | None = None,
        context: str | None = None,
        description: str = "",
        remote: bool | None = None,
    ) -> Self:
        """An llm node: render ``prompt`` (Jinja2) with ``input``, ask for ``output``."""
        return self._add(
            LlmNode, node_id, packs, prompt=prompt, output=output, input=input, system=system,
            model=model, on_fail=_on_fail(on_fail), next=next, max_visits=max_visits,
            context=context, description=description, remote=remote,
        )  # fmt: skip

    def tool(
        self,
        node_id: str,
        fn: Callable[..., Any] | str,
        *,
        input: Mapping[str, str] | None = None,
        output: type[BaseModel] | None = None,
        packs: Sequence[PackLike] = (),
        on_fail: Any = None,
        next: str | None = None,
        max_visits: int | None = None,
        context: str | None = None,
        description: str = "",
    ) -> Self:
        """A tool node: ``fn`` takes one pydantic model built from ``input``."""
        ref = fn if isinstance(fn, str) else f"{fn.__module__}:{fn.__qualname__}"
        try:
            if isinstance(fn, str):
                callable_, arg, ret = resolve_tool(fn, self.base)
            else:
                callable_, arg, ret = tool_signature(fn, ref)
        except ResolveError as exc:
            self._problems.append(Problem(_caller(1), "bad_tool", f"node '{node_id}': {exc}"))
            return self
        return self._add(
            ToolNode, node_id, packs, tool=callable_, tool_ref=ref, args_schema=arg,
            output=output or ret, input=input, on_fail=_on_fail(on_fail), next=next,
            max_visits=max_visits, context=context, description=description,
        )  # fmt: skip

    def check(
        self,
        node_id: str,
        value: str,
        *,
        packs: Sequence[PackLike],
        on_fail: Any = None,
        next: str | None = None,
        max_visits: int | None = None,
        context: str | None = None,
        description: str = "",
    ) -> Self:
        """A rule gate on the value at ``value`` (a data path)."""
        return self._add(
            CheckNode, node_id, packs, value=value, on_fail=_on_fail(on_fail), next=next,
            max_visits=max_visits, context=context, description=description,
        )  # fmt: skip

    def human(
        self,
        node_id: str,
        *,
        question: str = "",
        value: str | None = None,
        output: type[BaseModel] | None = None,
        packs: Sequence[PackLike] = (),
        next: str | None = None,
        max_visits: int | None = None,
        description: str = "",
    ) -> Self:
        """Ask a person about ``value``."""
        return self._add(
            HumanNode, node_id, packs, question=question, value=value, output=output, next=next,
            max_visits=max_visits, description=description,
        )  # fmt: skip

    def branch(
        self,
        node_id: str,
        routes: Sequence[Route | tuple[Condition | Mapping[str, Any], str]] = (),
        *,
        default: str | None = None,
        max_visits: int | None = None,
        description: str = "",
    ) -> Self:
        """Route on verdicts / derived values: ``routes`` are ``(condition, to)`` pairs."""
        built = tuple(
            r if isinstance(r, Route) else Route(when=Condition.model_validate(r[0]), to=r[1])
            for r in routes
        )
        return self._add(
            BranchNode, node_id, (), routes=built, default=default, max_visits=max_visits,
            description=description,
        )  # fmt: skip

    def build(self, start: str | None = None) -> Workflow:
        """Validate everything added and return the workflow (or raise ProblemsError)."""
        if self._problems:
            # still run the whole-graph checks so every problem is reported at once
            try:
                build_workflow(self.name, self.input_schema, self._nodes, start=start,
                               base_dir=self.base)  # fmt: skip
            except ProblemsError as exc:
                raise ProblemsError(
                    f"workflow {self.name}", self._problems + exc.problems
                ) from None
            raise ProblemsError(f"workflow {self.name}", self._problems)
        return build_workflow(
            self.name, self.input_schema, self._nodes, start=start, model=self.model,
            description=self.description, version=self.version, base_dir=self.base,
        )  # fmt: skip


def _on_fail(value: Any) -> Any:
    return {"policy": value} if isinstance(value, str) else value
