"""Whole-workflow checks shared by the YAML loader and the Python builder.

Both front ends first turn their input into node objects (reporting what is wrong with single
fields), then call :func:`check_workflow`, which looks at the nodes together: edges to unknown nodes,
unreachable nodes, cycles without a bound, data paths that name fields the upstream schema lacks,
branches on nodes that have not run, packs that check a different schema. Every problem is collected
and returned, each at the most precise place the front end knows (a :data:`Locate` callback), so an
author fixes everything in one pass.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import networkx as nx
from pydantic import BaseModel

from nesyflow.errors import Location, Problem
from nesyflow.graph._hints import did_you_mean
from nesyflow.graph.model import (
    INPUT,
    BranchNode,
    CheckNode,
    HumanNode,
    LlmNode,
    Ref,
    ToolNode,
)

__all__ = [
    "MAX_REASKS",
    "MAX_VISITS",
    "Locate",
    "build_graph",
    "check_workflow",
    "infer_outputs",
    "schema_mismatch",
    "type_at",
]

AnyNode = LlmNode | ToolNode | CheckNode | HumanNode | BranchNode

Locate = Callable[[str | None, tuple[str | int, ...]], Location]
"""``locate(node_id, field_path)`` → where that is written (``node_id=None``: a top-level key).
A front end returns the closest place it knows when the exact field has no place of its own."""

_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")

MAX_REASKS = 10
"""Most reasks a node may ask for: each is a model call (seconds to a minute), and a model that
still breaks the rules after ten corrections needs a person, not an eleventh try."""
MAX_VISITS = 10_000
"""Most visits a node on a cycle may allow: a bound of 10^8 is no bound (a run loops for days)."""


def build_graph(nodes: Mapping[str, AnyNode]) -> nx.DiGraph:
    """The transition graph: one vertex per node (attribute ``kind``), one edge per possible move
    (attribute ``via``: ``next`` / ``route`` / ``default``). Edges to unknown nodes are left out;
    :func:`check_workflow` reports them."""
    graph = nx.DiGraph()
    for node_id, node in nodes.items():
        graph.add_node(node_id, kind=node.kind)
    for node_id, node in nodes.items():
        for target, via in _edges(node):
            if target in nodes and not graph.has_edge(node_id, target):
                graph.add_edge(node_id, target, via=via)
    return graph


def _edges(node: AnyNode) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if node.next is not None:
        out.append((node.next, "next"))
    if isinstance(node, BranchNode):
        out.extend((r.to, "route") for r in node.routes)
        if node.default is not None:
            out.append((node.default, "default"))
    return out


# ---------------------------------------------------------------------------- types along paths


def _unwrap(tp: Any) -> Any:
    """Strip ``Annotated`` and ``Optional`` so a path can walk into the real type."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            rest = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(rest) == 1:
                tp = rest[0]
                continue
            return Any  # a union of several types: a path into it cannot be checked statically
        return tp


def type_at(root: Any, fields: Sequence[str | int]) -> tuple[Any, str | None]:
    """Walk ``fields`` into the type ``root`` (a pydantic class, list, dict…).

    Returns ``(type, None)``, or ``(None, reason)`` when a step names something the type lacks.
    ``Any`` (or a union) stops the walk: what cannot be known statically is not reported.
    """
    current = root
    for step in fields:
        current = _unwrap(current)
        if current is Any:
            return Any, None
        origin = typing.get_origin(current)
        args = typing.get_args(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            if isinstance(step, int):
                return None, f"{current.__name__} is a model, not a list; '{step}' is no field"
            fields_ = current.model_fields
            if step not in fields_:
                hint = did_you_mean(step, fields_)
                return None, f"{current.__name__} has no field '{step}'{hint}"
            current = fields_[step].annotation
        elif origin in (list, tuple, set, frozenset, Sequence, typing.Sequence) or current in (
            list,
            tuple,
        ):
            if not isinstance(step, int):
                return None, f"'{step}' is not an index; the value there is a list"
            current = args[0] if args else Any
        elif origin in (dict, Mapping, typing.Mapping) or current is dict:
            current = args[1] if len(args) == 2 else Any
        else:
            name = getattr(current, "__name__", str(current))
            return None, f"the value there is a {name}; it has no field '{step}'"
    return current, None


def _as_model(tp: Any) -> type[BaseModel] | None:
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def infer_outputs(
    nodes: Mapping[str, AnyNode], input_schema: type[BaseModel] | None
) -> dict[str, AnyNode]:
    """Fill in the ``output`` of ``check`` and ``human`` nodes that do not declare one: the model
    class at their ``value`` path. Done to a fixed point, so a check of a check works."""
    out = dict(nodes)
    for _ in range(len(out) + 1):
        changed = False
        for node_id, node in out.items():
            if not isinstance(node, CheckNode | HumanNode) or node.output is not None:
                continue
            if node.value is None:
                continue
            root = _root_type(node.value, out, input_schema)
            if root is None:
                continue
            tp, _err = type_at(root, node.value.fields)
            model = _as_model(tp) if tp is not None else None
            if model is not None:
                out[node_id] = node.model_copy(update={"output": model})
                changed = True
        if not changed:
            break
    return out


def _root_type(
    ref: Ref, nodes: Mapping[str, AnyNode], input_schema: type[BaseModel] | None
) -> Any | None:
    if ref.node is None:
        return input_schema
    node = nodes.get(ref.node)
    if node is None:
        return None
    if ref.part == "output":
        return node.output
    if ref.part == "derived":
        return dict[str, Any]
    return str


# ---------------------------------------------------------------------------- the checks


class _Checker:
    def __init__(
        self,
        nodes: Mapping[str, AnyNode],
        start: str | None,
        input_schema: type[BaseModel] | None,
        locate: Locate,
        reported: frozenset[tuple[str | None, str]],
    ) -> None:
        self.nodes = nodes
        self.start = start
        self.input_schema = input_schema
        self.locate = locate
        self.reported = reported
        self.problems: list[Problem] = []
        self.graph = build_graph(nodes)
        reach = set()
        if start in nodes:
            reach = {start, *nx.descendants(self.graph, start)}
        self.reachable = reach

    def add(self, node_id: str | None, path: tuple[str | int, ...], code: str, msg: str) -> None:
        self.problems.append(Problem(self.locate(node_id, path), code, msg))

    def skip(self, node_id: str | None, field: str) -> bool:
        return (node_id, field) in self.reported or (node_id, "*") in self.reported

    def run(self) -> list[Problem]:
        self._start()
        for node_id, node in self.nodes.items():
            self._identity(node_id)
            self._edges(node_id, node)
            if self.skip(node_id, "kind"):
                continue
            self._refs(node_id, node)
            self._kind(node_id, node)
            self._packs(node_id, node)
        self._reachability()
        self._cycles()
        return self.problems

    def _start(self) -> None:
        if not self.nodes:
            self.add(None, ("nodes",), "no_nodes", "a workflow needs at least one node")
            return
        if self.start is not None and self.start not in self.nodes and not self.skip(None, "start"):
            hint = did_you_mean(self.start, self.nodes)
            self.add(
                None, ("start",), "unknown_node", f"start node '{self.start}' is not defined{hint}"
            )

    def _identity(self, node_id: str) -> None:
        if node_id == INPUT:
            self.add(
                node_id, (), "reserved_id", "'input' names the run input; pick another node id"
            )
        elif not _ID.match(node_id):
            self.add(
                node_id,
                (),
                "bad_id",
                f"node id '{node_id}' must be letters, digits, '_' or '-' (no dots: paths use them)",
            )

    def _edges(self, node_id: str, node: AnyNode) -> None:
        targets: list[tuple[str, tuple[str | int, ...]]] = []
        if node.next is not None:
            targets.append((node.next, ("next",)))
        if isinstance(node, BranchNode):
            targets += [(r.to, ("routes", i, "to")) for i, r in enumerate(node.routes)]
            if node.default is not None:
                targets.append((node.default, ("default",)))
        for target, path in targets:
            if target not in self.nodes:
                hint = did_you_mean(target, self.nodes)
                self.add(
                    node_id,
                    path,
                    "unknown_node",
                    f"'{node_id}' goes to unknown node '{target}'{hint}",
                )
            elif target == node_id and node.max_visits is None:
                pass  # a self-loop is a cycle; reported (once) by _cycles

    # -- data paths
    def _refs(self, node_id: str, node: AnyNode) -> None:
        for name, ref in node.input.items():
            if not self.skip(node_id, f"input.{name}"):
                self._ref(node_id, ("input", name), ref)
        if node.context is not None and not self.skip(node_id, "context"):
            self._ref(node_id, ("context",), node.context)
        value = getattr(node, "value", None)
        if value is not None and not self.skip(node_id, "value"):
            self._ref(node_id, ("value",), value)

    def _ref(self, node_id: str, path: tuple[str | int, ...], ref: Ref) -> Any | None:
        """Check one data path; return the type it names (``None`` when unknown or wrong)."""
        if ref.node is not None:
            source = self.nodes.get(ref.node)
            if source is None:
                hint = did_you_mean(ref.node, [*self.nodes, INPUT])
                self.add(
                    node_id, path, "unknown_node", f"'{ref}' names unknown node '{ref.node}'{hint}"
                )
                return None
            if ref.node == node_id:
                self.add(
                    node_id, path, "not_upstream", f"'{ref}': a node cannot read its own {ref.part}"
                )
                return None
            if node_id in self.reachable and ref.node not in nx.ancestors(self.graph, node_id):
                self.add(
                    node_id,
                    path,
                    "not_upstream",
                    f"'{ref}': node '{ref.node}' is not upstream of '{node_id}', "
                    "so it has not run when this node runs",
                )
                return None
            if ref.part in ("derived", "verdict") and not source.packs:
                self.add(
                    node_id,
                    path,
                    "no_packs",
                    f"'{ref}': node '{ref.node}' has no packs, so it has no {ref.part}",
                )
                return None
            if ref.part == "output" and source.output is None:
                if not self.skip(ref.node, "output") and not self.skip(ref.node, "tool"):
                    self.add(
                        node_id,
                        path,
                        "no_output",
                        f"'{ref}': node '{ref.node}' ({source.kind}) declares no output schema",
                    )
                return None
        elif self.input_schema is None:
            return None
        root = _root_type(ref, self.nodes, self.input_schema)
        if root is None:
            return None
        tp, err = type_at(root, ref.fields)
        if err is not None:
            self.add(node_id, path, "unknown_field", f"'{ref}': {err}")
            return None
        return tp

    # -- per kind
    def _bounds(self, node_id: str, node: AnyNode) -> None:
        if node.on_fail.max_reasks > MAX_REASKS and not self.skip(node_id, "on_fail"):
            self.add(
                node_id,
                ("on_fail", "max_reasks"),
                "bound_too_large",
                f"max_reasks {node.on_fail.max_reasks:,} is more than {MAX_REASKS}: every reask "
                "is a model call; after that many a person should look",
            )
        if node.max_visits is not None and node.max_visits > MAX_VISITS:
            self.add(
                node_id,
                ("max_visits",),
                "bound_too_large",
                f"max_visits {node.max_visits:,} is more than {MAX_VISITS:,}: that bounds no loop",
            )

    def _kind(self, node_id: str, node: AnyNode) -> None:
        self._bounds(node_id, node)
        reask = node.on_fail.policy == "reask" and not isinstance(node, LlmNode)
        if reask and not self.skip(node_id, "on_fail"):
            self.add(
                node_id,
                ("on_fail",),
                "bad_on_fail",
                f"on_fail 'reask' needs a model to ask again; a {node.kind} node can use "
                "'human' or 'reject'",
            )
        if isinstance(node, LlmNode):
            self._llm(node_id, node)
        elif isinstance(node, ToolNode):
            self._tool(node_id, node)
        elif isinstance(node, CheckNode):
            if not node.packs and not self.skip(node_id, "packs"):
                self.add(node_id, ("kind",), "no_packs", "a check node needs at least one pack")
        elif isinstance(node, BranchNode):
            self._branch(node_id, node)

    def _llm(self, node_id: str, node: LlmNode) -> None:
        if node.output is None and not self.skip(node_id, "output"):
            self.add(node_id, ("kind",), "no_output", "an llm node needs an output schema")
        if self.skip(node_id, "prompt") or self.skip(node_id, "prompt_file"):
            return
        where: tuple[str | int, ...] = ("prompt_file",) if node.prompt_file else ("prompt",)
        try:
            import jinja2
            from jinja2 import meta

            env = jinja2.Environment()
            names = meta.find_undeclared_variables(env.parse(node.prompt))
        except jinja2.TemplateSyntaxError as exc:
            self.add(
                node_id,
                where,
                "bad_template",
                f"prompt template: {exc.message} (line {exc.lineno})",
            )
            return
        for name in sorted(names - set(node.input)):
            hint = did_you_mean(name, node.input)
            self.add(
                node_id,
                where,
                "unknown_variable",
                f"the prompt uses '{{{{ {name} }}}}' but 'input' maps no '{name}'{hint}",
            )

    def _tool(self, node_id: str, node: ToolNode) -> None:
        if self.skip(node_id, "tool"):
            return
        fields = node.args_schema.model_fields
        for name in node.input:
            if name not in fields:
                hint = did_you_mean(name, fields)
                self.add(
                    node_id,
                    ("input", name),
                    "unknown_field",
                    f"the tool's argument {node.args_schema.__name__} has no field '{name}'{hint}",
                )
        for name, info in fields.items():
            if info.is_required() and name not in node.input and not self.skip(node_id, "input"):
                self.add(
                    node_id,
                    ("input",),
                    "missing_argument",
                    f"the tool's argument {node.args_schema.__name__} needs '{name}'; "
                    "map it in 'input'",
                )

    def _branch(self, node_id: str, node: BranchNode) -> None:
        if node.next is not None:
            self.add(
                node_id,
                ("next",),
                "branch_next",
                "a branch routes with 'routes'/'default', not 'next'",
            )
        if not node.routes and node.default is None and not self.skip(node_id, "routes"):
            self.add(node_id, ("kind",), "empty_branch", "a branch needs 'routes' or a 'default'")
        ancestors = nx.ancestors(self.graph, node_id) if node_id in self.reachable else None
        for i, route in enumerate(node.routes):
            path: tuple[str | int, ...] = ("routes", i, "when", "node")
            cond = route.when
            source = self.nodes.get(cond.node)
            if source is None:
                hint = did_you_mean(cond.node, self.nodes)
                self.add(
                    node_id,
                    path,
                    "unknown_node",
                    f"route {i + 1} tests unknown node '{cond.node}'{hint}",
                )
                continue
            if ancestors is not None and cond.node not in ancestors:
                self.add(
                    node_id,
                    path,
                    "not_upstream",
                    f"route {i + 1} tests node '{cond.node}', which is not upstream of '{node_id}'",
                )
            if cond.verdict is None and cond.derived is None:
                self.add(
                    node_id,
                    ("routes", i, "when"),
                    "empty_condition",
                    "a route tests 'verdict' or 'derived'",
                )
            elif not source.packs:
                self.add(
                    node_id,
                    path,
                    "no_packs",
                    f"route {i + 1} tests verdicts/derived values of '{cond.node}', which has no packs",
                )

    def _packs(self, node_id: str, node: AnyNode) -> None:
        subject = node.subject_schema()
        for i, ref in enumerate(node.packs):
            pack = ref.pack
            if pack is None:
                continue
            expected = getattr(pack, "input_model", None)
            if isinstance(node, BranchNode | HumanNode) and subject is None:
                continue
            if subject is None or expected is None:
                continue
            reason = schema_mismatch(subject, expected)
            if reason:
                name = getattr(pack, "name", ref.text)
                self.add(
                    node_id,
                    ("packs", i),
                    "schema_mismatch",
                    f"pack '{name}' checks {expected.__name__} but this node's "
                    f"{'arguments are' if isinstance(node, ToolNode) else 'output is'} "
                    f"{subject.__name__}: {reason}",
                )

    # -- graph shape
    def _reachability(self) -> None:
        if self.start not in self.nodes:
            return
        for node_id in self.nodes:
            if node_id not in self.reachable:
                self.add(
                    node_id,
                    (),
                    "unreachable",
                    f"node '{node_id}' cannot be reached from the start node '{self.start}'",
                )

    def _cycles(self) -> None:
        order = {n: i for i, n in enumerate(self.nodes)}
        unbounded = [n for n, node in self.nodes.items() if node.max_visits is None]
        sub = self.graph.subgraph(unbounded)
        for component in nx.strongly_connected_components(sub):
            first = min(component, key=order.__getitem__)
            if len(component) == 1 and not sub.has_edge(first, first):
                continue
            cycle = [u for u, _v in nx.find_cycle(sub.subgraph(component), source=first)]
            shown = " → ".join([*cycle, cycle[0]])
            self.add(
                first,
                (),
                "unbounded_cycle",
                f"cycle {shown} has no bound: set 'max_visits' on one of its nodes",
            )


def schema_mismatch(subject: type[BaseModel], expected: type[BaseModel]) -> str | None:
    """Why an instance of ``subject`` cannot be checked as ``expected`` (``None``: it can).

    Same class or a subclass fits; otherwise every field ``expected`` requires must exist in
    ``subject`` (the engine converts through ``model_validate(instance.model_dump())``).
    """
    if subject is expected or issubclass(subject, expected):
        return None
    missing = [
        name
        for name, info in expected.model_fields.items()
        if info.is_required() and name not in subject.model_fields
    ]
    if missing:
        return f"{subject.__name__} lacks {', '.join(repr(m) for m in missing)}"
    return None


def check_workflow(
    nodes: Mapping[str, AnyNode],
    start: str | None,
    input_schema: type[BaseModel] | None,
    locate: Locate,
    reported: frozenset[tuple[str | None, str]] = frozenset(),
) -> list[Problem]:
    """Every problem with the nodes taken together.

    ``reported`` lists ``(node_id, field)`` pairs the front end already reported (a schema that did
    not import, an unknown kind — field ``"kind"`` or ``"*"``); checks that depend on them are
    skipped so one mistake is reported once, not as a cascade.
    """
    return _Checker(nodes, start, input_schema, locate, reported).run()
