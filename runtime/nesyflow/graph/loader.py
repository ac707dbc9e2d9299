"""Load a workflow from YAML: the form a process owner edits.

The file is read with its marks (:mod:`nesyflow.graph._yaml`), every field of every node is read and
resolved (schemas, tools, prompt files, rule packs) collecting problems instead of stopping at the
first, then the nodes are checked together (:mod:`nesyflow.graph.validate`). Anything wrong raises
one :class:`~nesyflow.errors.ProblemsError` listing every problem with ``file:line:col``.

The format::

    name: expense_reimbursement
    description: Extract a claim from an e-mail, check it, record it.
    model: openai/gpt-4o-mini            # default for llm nodes (optional)
    input_schema: schema:ExpenseRequest  # module:Class, module = a .py file next to this one
    start: extract                       # optional: the first node listed
    nodes:
      extract:
        kind: llm
        prompt_file: prompts/extract.md  # or prompt: "inline {{ request }}"
        input: {request: input.request}
        output: ../../rules/expense/schema.py:ExpenseClaim
        packs: [../../rules/expense]
        on_fail: {policy: reask, max_reasks: 2, then: human}
        next: route
      route:
        kind: branch
        routes:
          - when: {node: extract, verdict: [pass]}
            to: record
        default: review
      ...
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from nesyflow.errors import InputError, Location, Problem, ProblemsError
from nesyflow.graph import packs as pack_loading
from nesyflow.graph._hints import did_you_mean
from nesyflow.graph._yaml import MDict, MList, parse_yaml
from nesyflow.graph.model import (
    LLM_MODES,
    VERDICTS,
    BranchNode,
    CheckNode,
    Condition,
    HumanNode,
    LlmNode,
    OnFail,
    PackRef,
    Ref,
    ReviewPolicy,
    Route,
    ToolNode,
    Workflow,
)
from nesyflow.graph.resolve import ResolveError, resolve_schema, resolve_tool
from nesyflow.graph.validate import build_graph, check_workflow, infer_outputs
from nesyflow.roles import parse_role

__all__ = ["load_workflow", "parse_workflow"]

_TOP_KEYS = ("name", "description", "version", "model", "input_schema", "start", "nodes")
_TOP_KEYS += ("submitter",)
_COMMON = ("kind", "description", "input", "output", "packs", "context", "on_fail", "next")
_COMMON += ("max_visits", "review")
_KIND_KEYS: dict[str, tuple[str, ...]] = {
    "llm": ("prompt", "prompt_file", "system", "model", "mode", "remote"),
    "tool": ("tool",),
    "check": ("value",),
    "human": ("question", "value"),
    "branch": ("routes", "default"),
}
# required fields of a node that could not be read, so the graph checks can still look at it
_PLACEHOLDERS: dict[str, Any] = {"prompt": "", "tool": None, "args_schema": None, "value": None}
_CLASSES = {
    "llm": LlmNode,
    "tool": ToolNode,
    "check": CheckNode,
    "human": HumanNode,
    "branch": BranchNode,
}


def load_workflow(path: str | Path) -> Workflow:
    """Read, resolve and validate the workflow file at ``path``.

    Raises :class:`InputError` when the file cannot be read, :class:`ProblemsError` (every problem,
    sorted by location) when it is not a valid workflow.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"cannot read the workflow file ({getattr(exc, 'strerror', None) or exc})",
            location=Location(str(file)),
        ) from exc
    return parse_workflow(text, file)


def parse_workflow(text: str, file: Path) -> Workflow:
    """Like :func:`load_workflow` for text already read; paths resolve relative to ``file``."""
    shown = str(file)
    data, problems = parse_yaml(text, shown)
    if data is None and not problems:
        problems.append(Problem(Location(shown), "empty", "the file is empty"))
    if data is None:
        raise ProblemsError(f"workflow {shown}", problems)
    if not isinstance(data, MDict):
        raise ProblemsError(
            f"workflow {shown}",
            [Problem(Location(shown, 1, 1), "not_a_mapping", "a workflow file is a YAML mapping")],
        )
    reader = _Reader(data, file)
    reader.problems += problems  # duplicate keys: report them with everything else
    return reader.read()


class _Reader:
    """Reads one workflow file, collecting problems."""

    def __init__(self, data: MDict, file: Path) -> None:
        self.data = data
        self.file = file
        self.shown = str(file)
        self.base = file.parent
        self.problems: list[Problem] = []
        self.reported: set[tuple[str | None, str]] = set()

    # -- places
    def locate(self, node_id: str | None, path: tuple[str | int, ...]) -> Location:
        """The place of ``nodes.<node_id>.<path>`` (or a top-level ``path``), or the nearest
        enclosing place that exists."""
        current: Any = self.data
        where = Location(self.shown, 1, 1)
        steps: list[str | int] = ["nodes", node_id] if node_id is not None else []
        steps += list(path)
        for i, step in enumerate(steps):
            if isinstance(current, MDict) and step in current:
                # a node itself is shown at its id; a field at its value
                is_node = node_id is not None and i == 1
                where = current.key_marks[step] if is_node else current.value_marks[step]
                current = current[step]
            elif isinstance(current, MList) and isinstance(step, int) and step < len(current):
                where = current.item_marks[step]
                current = current[step]
            else:
                break
        return where

    def add(self, node_id: str | None, path: tuple[str | int, ...], code: str, msg: str) -> None:
        self.problems.append(Problem(self.locate(node_id, path), code, msg))
        if path and path[0] != "kind":
            field = ".".join(str(p) for p in path[:2]) if path[0] == "input" else str(path[0])
            self.reported.add((node_id, field))

    def key_problem(self, node_id: str | None, container: MDict, key: Any, msg: str) -> None:
        self.problems.append(Problem(container.key_marks[key], "unknown_field", msg))

    # -- the file
    def read(self) -> Workflow:
        d = self.data
        for key in d:
            if key not in _TOP_KEYS:
                hint = did_you_mean(key, _TOP_KEYS)
                self.key_problem(None, d, key, f"unknown top-level field '{key}'{hint}")
        name = self.text(None, ("name",), d.get("name"), required=True) or self.file.stem
        description = self.text(None, ("description",), d.get("description")) or ""
        version = self.text(None, ("version",), d.get("version")) or ""
        model = self.text(None, ("model",), d.get("model"))
        input_schema = self.schema(None, ("input_schema",), d.get("input_schema"), required=True)
        start = self.text(None, ("start",), d.get("start"))
        submitter = None
        if d.get("submitter") is not None:
            submitter = self.ref(None, ("submitter",), d["submitter"])  # type: ignore[arg-type]
            if submitter is not None and submitter.node is not None:
                self.add(None, ("submitter",), "bad_path", "'submitter' is a path in the input")
                submitter = None

        raw_nodes = d.get("nodes")
        nodes: dict[str, Any] = {}
        if not isinstance(raw_nodes, MDict) or not raw_nodes:
            self.add(None, ("nodes",), "no_nodes", "'nodes' must map node ids to nodes")
        else:
            for node_id, raw in raw_nodes.items():
                node = self.node(str(node_id), raw)
                nodes[str(node_id)] = node
            if start is None:
                start = next(iter(nodes))
        nodes = infer_outputs(nodes, input_schema)
        self.problems += check_workflow(
            nodes, start, input_schema, self.locate, frozenset(self.reported)
        )
        if self.problems:
            raise ProblemsError(f"workflow {self.shown}", self.problems)
        assert input_schema is not None and start is not None
        return Workflow(
            name=name,
            description=description,
            version=version,
            path=self.file.resolve(),
            model=model,
            input_schema=input_schema,
            start=start,
            nodes=nodes,
            submitter=submitter,
            graph=build_graph(nodes),
        )

    # -- scalar fields
    def text(
        self,
        node_id: str | None,
        path: tuple[str | int, ...],
        value: Any,
        *,
        required: bool = False,
    ) -> str | None:
        if value is None:
            if required:
                self.add(node_id, path, "missing_field", f"'{path[-1]}' is required")
            return None
        if isinstance(value, bool | MDict | MList) or not isinstance(value, str | int | float):
            self.add(node_id, path, "bad_value", f"'{path[-1]}' must be a string")
            return None
        return str(value)

    def schema(
        self,
        node_id: str | None,
        path: tuple[str | int, ...],
        value: Any,
        *,
        required: bool = False,
    ) -> type[BaseModel] | None:
        ref = self.text(node_id, path, value, required=required)
        if ref is None:
            if value is not None or required:
                self.reported.add((node_id, str(path[0])))
            return None
        try:
            return resolve_schema(ref, self.base)
        except ResolveError as exc:
            self.add(node_id, path, "bad_schema", str(exc))
            return None

    def ref(self, node_id: str, path: tuple[str | int, ...], value: Any) -> Ref | None:
        text = self.text(node_id, path, value)
        if text is None:
            return None
        try:
            return Ref.parse(text)
        except ValueError as exc:
            self.add(node_id, path, "bad_path", str(exc))
            return None

    # -- one node
    def node(self, node_id: str, raw: Any) -> Any:
        if not isinstance(raw, MDict):
            self.add(node_id, (), "bad_node", f"node '{node_id}' must be a mapping with a 'kind'")
            self.reported.add((node_id, "*"))
            return HumanNode.model_construct(id=node_id)
        kind = raw.get("kind")
        if kind not in _CLASSES:
            if kind is None:
                self.add(node_id, (), "missing_field", f"node '{node_id}' needs a 'kind'")
            else:
                hint = did_you_mean(str(kind), _CLASSES)
                kinds = ", ".join(_CLASSES)
                self.add(
                    node_id,
                    ("kind",),
                    "unknown_kind",
                    f"unknown node kind '{kind}'{hint}; one of {kinds}",
                )
            self.reported.add((node_id, "*"))
            nxt = raw.get("next")
            return HumanNode.model_construct(id=node_id, next=nxt if isinstance(nxt, str) else None)

        allowed = _COMMON + _KIND_KEYS[kind]
        for key in raw:
            if key in allowed:
                continue
            owners = [k for k, keys in _KIND_KEYS.items() if key in keys]
            if owners:
                msg = f"'{key}' is not a field of a {kind} node (it belongs to {'/'.join(owners)})"
            else:
                msg = (
                    f"unknown field '{key}' in {kind} node '{node_id}'{did_you_mean(key, allowed)}"
                )
            self.key_problem(node_id, raw, key, msg)

        before = len(self.problems)
        fields: dict[str, Any] = {"id": node_id, "location": self.locate(node_id, ())}
        fields.update(self.common(node_id, raw, kind))
        fields.update(getattr(self, f"kind_{kind}")(node_id, raw))
        cls = _CLASSES[kind]
        if len(self.problems) == before and not any(r[0] == node_id for r in self.reported):
            try:
                return cls(**fields)
            except ValidationError as exc:
                for err in exc.errors():
                    path = tuple(err["loc"])
                    self.add(
                        node_id, path[:1], "bad_value", f"{'.'.join(map(str, path))}: {err['msg']}"
                    )
        # the node is wrong somewhere: keep what was read so the graph checks still run
        kept = {k: v for k, v in fields.items() if v is not None}
        return cls.model_construct(**{**_PLACEHOLDERS, **kept})

    def common(self, node_id: str, raw: MDict, kind: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if "description" in raw:
            out["description"] = self.text(node_id, ("description",), raw["description"]) or ""
        mapping = raw.get("input")
        inputs: dict[str, Ref] = {}
        if mapping is not None and not isinstance(mapping, MDict):
            self.add(node_id, ("input",), "bad_value", "'input' maps names to data paths")
        elif mapping:
            for name, value in mapping.items():
                ref = self.ref(node_id, ("input", name), value)
                if ref is not None:
                    inputs[str(name)] = ref
        out["input"] = inputs
        if "output" in raw:
            out["output"] = self.schema(node_id, ("output",), raw["output"])
        out["packs"] = self.packs(node_id, raw.get("packs"))
        if "context" in raw:
            out["context"] = self.ref(node_id, ("context",), raw["context"])
        if "on_fail" in raw:
            out["on_fail"] = self.on_fail(node_id, raw["on_fail"])
        if "next" in raw:
            out["next"] = self.text(node_id, ("next",), raw["next"])
        if "review" in raw:
            policy = self.review_policy(node_id, raw["review"])
            if policy is not None:
                out["review"] = policy
        if "max_visits" in raw:
            mv = raw["max_visits"]
            if isinstance(mv, bool) or not isinstance(mv, int) or mv < 1:
                self.add(
                    node_id, ("max_visits",), "bad_value", "'max_visits' is a whole number ≥ 1"
                )
            else:
                out["max_visits"] = mv
        return out

    def packs(self, node_id: str, value: Any) -> tuple[PackRef, ...]:
        if value is None:
            return ()
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list):
            self.add(node_id, ("packs",), "bad_value", "'packs' is a list of rule pack folders")
            return ()
        out: list[PackRef] = []
        for i, item in enumerate(items):
            path: tuple[str | int, ...] = ("packs", i) if isinstance(value, list) else ("packs",)
            text = self.text(node_id, path, item)
            if text is None:
                continue
            ref, problem, inner = pack_loading.load_pack_ref(text, self.base)
            if problem is not None:
                self.add(node_id, path, "bad_pack", problem)
                self.problems += inner
                continue
            out.append(ref)
        return tuple(out)

    def review_policy(self, node_id: str, value: Any) -> ReviewPolicy | None:
        """A node's ``review:`` mapping (who decides its reviews), each problem at its place."""
        path = ("review",)
        if not isinstance(value, dict):
            self.add(node_id, path, "bad_review", "'review' is a mapping, e.g. {role: approver}")
            return None
        for key in value:
            if key not in ReviewPolicy.model_fields:
                hint = did_you_mean(key, ReviewPolicy.model_fields)
                self.add(node_id, path, "bad_review", f"unknown review field '{key}'{hint}")
                return None
        if "role" in value:
            try:
                parse_role(value["role"])
            except ValueError as exc:
                self.add(node_id, path, "bad_review", f"review.role: {exc}")
                return None
        try:
            return ReviewPolicy(**value)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(map(str, err["loc"]))
            self.add(node_id, path, "bad_review", f"review.{where}: {err['msg']}")
            return None

    def on_fail(self, node_id: str, value: Any) -> OnFail | None:
        path = ("on_fail",)
        if isinstance(value, str):
            value = {"policy": value}
        if not isinstance(value, dict):
            self.add(
                node_id, path, "bad_on_fail", "'on_fail' is reask | human | reject or a mapping"
            )
            return None
        for key in value:
            if key not in OnFail.model_fields:
                hint = did_you_mean(key, OnFail.model_fields)
                self.add(node_id, path, "bad_on_fail", f"unknown on_fail field '{key}'{hint}")
                return None
        try:
            return OnFail(**value)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(map(str, err["loc"]))
            self.add(node_id, path, "bad_on_fail", f"on_fail.{where}: {err['msg']}")
            return None

    # -- per kind
    def kind_llm(self, node_id: str, raw: MDict) -> dict[str, Any]:
        out: dict[str, Any] = {}
        prompt = self.text(node_id, ("prompt",), raw.get("prompt"))
        prompt_file = self.text(node_id, ("prompt_file",), raw.get("prompt_file"))
        if prompt is not None and prompt_file is not None:
            self.add(
                node_id, ("prompt_file",), "bad_prompt", "give 'prompt' or 'prompt_file', not both"
            )
        elif prompt_file is not None:
            file = self.base / prompt_file
            try:
                prompt = file.read_text(encoding="utf-8")
                out["prompt_file"] = file.resolve()
            except (OSError, UnicodeDecodeError) as exc:
                reason = "does not exist" if not file.exists() else f"cannot be read ({exc})"
                self.add(node_id, ("prompt_file",), "missing_file", f"prompt file {file} {reason}")
        elif prompt is None:
            self.add(
                node_id, ("kind",), "missing_field", "an llm node needs 'prompt' or 'prompt_file'"
            )
        out["prompt"] = prompt
        out["system"] = self.text(node_id, ("system",), raw.get("system"))
        out["model"] = self.text(node_id, ("model",), raw.get("model"))
        mode = self.text(node_id, ("mode",), raw.get("mode"))
        if mode is not None and mode not in LLM_MODES:
            self.add(
                node_id,
                ("mode",),
                "bad_mode",
                f"unknown mode '{mode}'{did_you_mean(mode, LLM_MODES)}; one of {', '.join(LLM_MODES)}",
            )
            mode = None
        out["mode"] = mode
        remote = raw.get("remote")
        if remote is not None and not isinstance(remote, bool):
            self.add(node_id, ("remote",), "bad_value", "'remote' must be true or false")
            remote = None
        out["remote"] = remote
        return out

    def kind_tool(self, node_id: str, raw: MDict) -> dict[str, Any]:
        ref = self.text(node_id, ("tool",), raw.get("tool"), required=True)
        if ref is None:
            self.reported.add((node_id, "tool"))
            return {}
        try:
            fn, arg, ret = resolve_tool(ref, self.base)
        except ResolveError as exc:
            self.add(node_id, ("tool",), "bad_tool", str(exc))
            return {}
        out: dict[str, Any] = {"tool": fn, "tool_ref": ref, "args_schema": arg}
        if "output" not in raw and ret is not None:
            out["output"] = ret
        return out

    def kind_check(self, node_id: str, raw: MDict) -> dict[str, Any]:
        if raw.get("value") is None:
            self.add(
                node_id, ("kind",), "missing_field", "a check node needs 'value' (a data path)"
            )
            return {}
        return {"value": self.ref(node_id, ("value",), raw["value"])}

    def kind_human(self, node_id: str, raw: MDict) -> dict[str, Any]:
        out: dict[str, Any] = {
            "question": self.text(node_id, ("question",), raw.get("question")) or ""
        }
        if raw.get("value") is not None:
            out["value"] = self.ref(node_id, ("value",), raw["value"])
        return out

    def kind_branch(self, node_id: str, raw: MDict) -> dict[str, Any]:
        out: dict[str, Any] = {"default": self.text(node_id, ("default",), raw.get("default"))}
        routes = raw.get("routes")
        if routes is None:
            return out
        if not isinstance(routes, MList):
            self.add(node_id, ("routes",), "bad_route", "'routes' is a list of {when, to}")
            return out
        parsed: list[Route] = []
        for i, item in enumerate(routes):
            route = self.route(node_id, i, item)
            if route is not None:
                parsed.append(route)
        out["routes"] = tuple(parsed)
        return out

    def route(self, node_id: str, i: int, item: Any) -> Route | None:
        here: tuple[str | int, ...] = ("routes", i)
        if not isinstance(item, MDict) or set(item) - {"when", "to"} or "to" not in item:
            self.add(
                node_id, here, "bad_route", "a route is {when: {node, verdict|derived}, to: NODE}"
            )
            return None
        to = self.text(node_id, (*here, "to"), item["to"])
        when = item.get("when")
        if not isinstance(when, MDict) or "node" not in when:
            self.add(node_id, (*here, "when"), "bad_route", "'when' needs a 'node' to test")
            return None
        for key in when:
            if key not in ("node", "verdict", "derived"):
                hint = did_you_mean(key, ("node", "verdict", "derived"))
                self.add(node_id, (*here, "when"), "bad_route", f"unknown condition '{key}'{hint}")
                return None
        verdict = when.get("verdict")
        if isinstance(verdict, str):
            verdict = [verdict]
        if verdict is not None:
            bad = (
                [v for v in verdict if v not in VERDICTS]
                if isinstance(verdict, list)
                else [verdict]
            )
            if bad:
                self.add(
                    node_id,
                    (*here, "when", "verdict"),
                    "bad_route",
                    f"unknown verdict {bad[0]!r}; one of {', '.join(VERDICTS)}",
                )
                return None
        derived = when.get("derived")
        if derived is not None and not isinstance(derived, MDict):
            self.add(
                node_id, (*here, "when", "derived"), "bad_route", "'derived' maps keys to values"
            )
            return None
        cond_node = self.text(node_id, (*here, "when", "node"), when["node"])
        if to is None or cond_node is None:
            return None
        return Route(
            when=Condition(
                node=cond_node,
                verdict=tuple(verdict) if verdict is not None else None,
                derived=dict(derived) if derived is not None else None,
            ),
            to=to,
        )
