"""The typed, immutable workflow model: what a YAML file or the Python builder turns into.

The engine runs this model and nothing else, so both front ends (YAML for process owners, Python for
developers) meet here and are validated the same way (:mod:`nesyflow.graph.validate`). Every value is
a frozen pydantic model; classes (schemas), callables (tools), loaded packs and the networkx graph are
held as Python objects and left out of (or named in) serialization, so a workflow can be dumped to a
trace without pickling code.

Data paths (:class:`Ref`) name where a node's inputs come from::

    input                       the run's input (an instance of ``Workflow.input_schema``)
    input.request               a field of it (nested fields with dots, list items by index: items.0)
    extract.output.items        a field of node ``extract``'s output
    extract.derived.total       a value the rules derived when checking ``extract``
    extract.verdict             the verdict of that check ("pass", "fail", ...)
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import networkx as nx
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_serializer,
    model_validator,
)

from nesyflow.errors import Location
from nesyflow.logic.result import Verdict
from nesyflow.roles import Role

__all__ = [
    "INPUT",
    "LLM_MODES",
    "SUPERSTEP_KINDS",
    "VERDICTS",
    "BranchNode",
    "CheckNode",
    "Condition",
    "HumanNode",
    "LlmNode",
    "Node",
    "NodeKind",
    "OnFail",
    "PackRef",
    "Ref",
    "ReviewPolicy",
    "Route",
    "ToolNode",
    "Verdict",
    "Workflow",
]

INPUT = "input"
"""The reserved source name for the run's input; no node may be called this."""

VERDICTS: tuple[str, ...] = tuple(v.value for v in Verdict)
NodeKind = Literal["llm", "tool", "check", "human", "branch"]
#: Structured-output modes an llm node may name (the same as ``nesyflow.llm.Mode``'s values).
LLM_MODES = ("json_schema", "grammar", "json", "tools", "md_json")
Part = Literal["input", "output", "derived", "verdict"]
#: The kinds a superstep is made of (:meth:`Workflow.joins_superstep`): a model call and its check,
#: or a rule gate — steps with no effect outside the run, so running one again is harmless.
SUPERSTEP_KINDS: frozenset[str] = frozenset({"llm", "check"})


def _class_name(cls: type | None) -> str | None:
    return None if cls is None else f"{cls.__module__}:{cls.__qualname__}"


def _callable_name(fn: Callable[..., Any] | None) -> str | None:
    if fn is None:
        return None
    return f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', repr(fn))}"


SchemaClass = Annotated[
    type[BaseModel], PlainSerializer(_class_name, return_type=str | None, when_used="always")
]
"""A pydantic class; serialized as ``module:Class`` (a name for people, not for re-import)."""

ToolCallable = Annotated[
    Callable[..., Any],
    PlainSerializer(_callable_name, return_type=str | None, when_used="always"),
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class Ref(_Frozen):
    """Where a value comes from: the run input, or an earlier node's output / derived / verdict.

    ``node`` is ``None`` for the run input. ``fields`` walks into the value: attribute names for
    models and mappings, integers for list items. For ``derived`` the first field is the derived key.
    """

    node: str | None
    part: Part
    fields: tuple[str | int, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        # A path may be given as its text anywhere a Ref is expected (builder, JSON traces).
        if isinstance(data, str):
            return cls.parse(data).__dict__
        return data

    @model_serializer
    def _to_text(self) -> str:
        return str(self)

    @classmethod
    def parse(cls, text: str) -> Ref:
        """Parse ``input.a.b`` / ``NODE.output.a`` / ``NODE.derived.key`` / ``NODE.verdict``.

        Raises ``ValueError`` with a sentence for people when the text is not a data path.
        """
        if not isinstance(text, str) or not text.strip():
            raise ValueError("a data path is a non-empty string like 'input.x' or 'node.output.x'")
        parts = text.strip().split(".")
        if any(not p for p in parts):
            raise ValueError(f"'{text}' has an empty segment")
        fields = tuple(int(p) if p.isdigit() else p for p in parts)
        if parts[0] == INPUT:
            return cls(node=None, part="input", fields=fields[1:])
        if len(parts) < 2 or parts[1] not in ("output", "derived", "verdict"):
            raise ValueError(
                f"'{text}' must start with 'input' or with a node id followed by "
                "'output', 'derived' or 'verdict' (e.g. 'extract.output.items')"
            )
        if parts[1] == "verdict" and len(parts) > 2:
            raise ValueError(f"'{text}': a verdict has no fields")
        if parts[1] == "derived" and len(parts) > 2 and isinstance(fields[2], int):
            raise ValueError(f"'{text}': a derived key is a name, not an index")
        return cls(node=parts[0], part=parts[1], fields=fields[2:])  # type: ignore[arg-type]

    def __str__(self) -> str:
        head = INPUT if self.node is None else f"{self.node}.{self.part}"
        return ".".join([head, *(str(f) for f in self.fields)])

    def resolve(
        self,
        run_input: Any,
        outputs: Mapping[str, Any],
        derived: Mapping[str, Mapping[str, Any]] | None = None,
        verdicts: Mapping[str, str] | None = None,
    ) -> Any:
        """The value this path names, given the run's state so far.

        Raises ``KeyError`` when the node has not produced the part yet, ``LookupError`` /
        ``AttributeError`` when a field is absent; the engine turns those into a step error.
        """
        if self.node is None:
            value = run_input
        elif self.part == "output":
            value = outputs[self.node]
        elif self.part == "derived":
            value = (derived or {})[self.node]
        else:
            return (verdicts or {})[self.node]
        for f in self.fields:
            if isinstance(f, int) or isinstance(value, Mapping):
                value = value[f]
            else:
                value = getattr(value, f)
        return value


class OnFail(_Frozen):
    """What happens when a node's check does not pass.

    ``reask`` sends the violations back to the model up to ``max_reasks`` times, then applies
    ``then``; ``human`` opens a review and pauses the run; ``reject`` ends the run.
    """

    policy: Literal["reask", "human", "reject"] = "human"
    max_reasks: int = Field(default=2, ge=0)
    then: Literal["human", "reject"] = "human"


class ReviewPolicy(_Frozen):
    """Who decides the reviews a node opens (its human checkpoint, or ``on_fail: human``).

    ``role`` is the least role that may decide them (``nesyflow.roles``); a pack rule's own
    ``role`` can raise it for the reviews that rule causes, never lower it."""

    role: Role | None = None
    #: the accounts of this group decide them (``nesyflow users add NAME --group G``)
    group: str | None = Field(default=None, min_length=1, max_length=200)
    #: how long a person has (``90m``, ``4h``, ``2d``); past it, ``escalate_to`` or ``default``
    deadline: str | None = None
    #: on expiry the review goes to this role (the least role that may decide it rises to it)
    escalate_to: Role | None = None
    #: on expiry this decision is recorded as the deadline's (never an approval over a finding
    #: that overrides the rules: that review stays open, overdue)
    default: Literal["approve", "reject"] | None = None

    @field_validator("deadline")
    @classmethod
    def _deadline(cls, value: str | None) -> str | None:
        if value is not None:
            deadline_seconds(value)
        return value

    @model_validator(mode="after")
    def _expiry(self) -> ReviewPolicy:
        if (self.escalate_to or self.default) and not self.deadline:
            raise ValueError("'escalate_to' and 'default' need a 'deadline'")
        if self.escalate_to and self.default:
            raise ValueError("on expiry a review escalates or gets a default decision, not both")
        return self

    @property
    def seconds(self) -> int | None:
        return None if self.deadline is None else deadline_seconds(self.deadline)


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def deadline_seconds(text: str) -> int:
    """``90m`` / ``4h`` / ``2d`` / ``30s`` as seconds (a ValueError saying the form otherwise)."""
    raw = str(text).strip().lower()
    number, unit = raw[:-1], raw[-1:]
    if unit not in _UNITS or not number.isdigit() or int(number) <= 0:
        raise ValueError(f"deadline {text!r} is not a duration like 90m, 4h or 2d")
    return int(number) * _UNITS[unit]


class PackRef(_Frozen):
    """A rule pack a node is checked by: its folder (absolute) and, once loaded, the pack itself.

    ``pack`` is a :class:`nesyflow.logic.Pack` when the logic layer loaded it, else ``None`` (the
    engine then loads it from ``path``).
    """

    path: Path
    text: str = Field(default="", description="The path as written in the workflow file.")
    pack: Any = Field(default=None, exclude=True, repr=False)


class Condition(_Frozen):
    """A branch test on an earlier node: its verdict is one of ``verdict`` (if given) and every
    ``derived`` key equals the given value (if given). Both given → both must hold."""

    node: str
    verdict: tuple[Verdict, ...] | None = None
    derived: dict[str, Any] | None = None


class Route(_Frozen):
    when: Condition
    to: str


class _NodeBase(_Frozen):
    """Fields every node has.

    ``input`` maps a name to a data path; for ``llm`` nodes the names are the prompt template's
    variables, for ``tool`` nodes the fields of the tool's argument model. ``output`` is the pydantic
    class of what the node produces. ``packs`` check the node's *subject* (see each kind);
    ``next`` is the following node id or ``None`` for the end. ``max_visits`` bounds how often a node
    on a cycle may run. ``location`` is where the node is written (for error messages).
    """

    id: str
    description: str = ""
    input: dict[str, Ref] = Field(default_factory=dict)
    output: SchemaClass | None = None
    packs: tuple[PackRef, ...] = ()
    context: Ref | None = None
    on_fail: OnFail = Field(default_factory=OnFail)
    review: ReviewPolicy = Field(default_factory=ReviewPolicy)
    next: str | None = None
    max_visits: int | None = Field(default=None, ge=1)
    location: Location | None = Field(default=None, exclude=True, repr=False)

    def subject_schema(self) -> type[BaseModel] | None:
        """The class of the value the packs check (the output, unless a kind says otherwise)."""
        return self.output

    def refs(self) -> tuple[Ref, ...]:
        """Every data path this node reads (its ``input``, ``context`` and a kind's own)."""
        own = () if self.context is None else (self.context,)
        return (*self.input.values(), *own)

    def reads(self) -> frozenset[str]:
        """The nodes whose output, derived values or verdict this node reads."""
        return frozenset(r.node for r in self.refs() if r.node is not None)


class LlmNode(_NodeBase):
    """Prompt template (Jinja2, variables = ``input`` names) → a pydantic ``output`` via the model.

    Packs check the output; ``on_fail`` defaults to ``reask``.
    """

    kind: Literal["llm"] = "llm"
    prompt: str
    prompt_file: Path | None = None
    system: str | None = None
    model: str | None = None
    #: the structured-output mode for this node's model (one of :data:`LLM_MODES`), overriding the
    #: provider table, the config file and ``$NESYFLOW_MODEL_MODE`` (``docs/llm.md``)
    mode: str | None = None
    #: whether this node's model is remote (a prompt to it leaves this machine's trust): sensitive
    #: values are replaced by placeholders before it and restored in its answer. ``None``: every
    #: provider but the in-process ones (``nesyflow.llm.is_remote``).
    remote: bool | None = None
    on_fail: OnFail = Field(default_factory=lambda: OnFail(policy="reask"))


class ToolNode(_NodeBase):
    """A Python callable ``module:function`` taking one pydantic argument (``args_schema``) built
    from the ``input`` mapping. Packs check the argument *before* the call (``deny`` stops it)."""

    kind: Literal["tool"] = "tool"
    tool: ToolCallable
    tool_ref: str = ""
    args_schema: SchemaClass

    def subject_schema(self) -> type[BaseModel] | None:
        return self.args_schema


class CheckNode(_NodeBase):
    """A rule gate: the packs check ``value``; the node's output is that value, passed on."""

    kind: Literal["check"] = "check"
    value: Ref

    def refs(self) -> tuple[Ref, ...]:
        return (*super().refs(), self.value)


class HumanNode(_NodeBase):
    """Always ask a person: show ``question`` and ``value`` (if any); the person approves, edits
    (re-checked by the packs) or rejects. The output is the value as approved."""

    kind: Literal["human"] = "human"
    question: str = ""
    value: Ref | None = None

    def refs(self) -> tuple[Ref, ...]:
        return super().refs() if self.value is None else (*super().refs(), self.value)


class BranchNode(_NodeBase):
    """Route to the first ``routes`` entry whose condition holds, else to ``default`` (``None`` =
    end). A branch has no ``next`` of its own."""

    kind: Literal["branch"] = "branch"
    routes: tuple[Route, ...] = ()
    default: str | None = None

    def targets(self) -> list[str]:
        """Every node this branch may go to, in order."""
        out = [r.to for r in self.routes]
        if self.default is not None:
            out.append(self.default)
        return out


Node = Annotated[
    LlmNode | ToolNode | CheckNode | HumanNode | BranchNode, Field(discriminator="kind")
]


class Workflow(_Frozen):
    """A validated workflow: nodes by id, the start node, and the graph of their edges.

    ``graph`` has one networkx node per workflow node (attribute ``kind``) and an edge per possible
    transition (attribute ``via``: ``"next"``, ``"route"`` or ``"default"``). It is derived from
    ``nodes``; it is not serialized.
    """

    name: str
    description: str = ""
    version: str = ""
    path: Path | None = None
    model: str | None = None
    input_schema: SchemaClass
    start: str
    nodes: dict[str, Node]
    #: where the input names who submitted it (``input.employee.name``): that person never
    #: decides a review of the run (separation of duties, :mod:`nesyflow.review.duties`)
    submitter: Ref | None = None
    graph: nx.DiGraph = Field(default_factory=nx.DiGraph, exclude=True, repr=False)

    def node(self, node_id: str) -> LlmNode | ToolNode | CheckNode | HumanNode | BranchNode:
        """The node with this id (``KeyError`` if none)."""
        return self.nodes[node_id]

    def successors(self, node_id: str) -> list[str]:
        """Where the run may go after ``node_id`` (branch targets in route order)."""
        node = self.nodes[node_id]
        if isinstance(node, BranchNode):
            return node.targets()
        return [] if node.next is None else [node.next]

    def joins_superstep(self, node_id: str | None, held: Collection[str]) -> bool:
        """Whether ``node_id`` runs in the superstep of the nodes ``held`` (the llm/check nodes the
        run has just passed, in a row, not yet written).

        A superstep is a run of consecutive llm/check nodes none of which reads a value produced
        inside the run: the independent branches of a fan-out (each reading what came before
        them). Its steps are each checked as usual but written in one checkpoint, so a fan-out
        costs one write, as in LangGraph's superstep, not one per branch. A node that reads a held
        node, or a kind with effects or people (tool, human) or routing (branch), starts anew:
        what it reads or does then rests on steps already in the store. One place decides this,
        from the workflow's structure (``Node.reads``); the runner holds and writes
        (``Runner.advance``/``Runner.commit``)."""
        node = self.nodes.get(node_id) if node_id is not None else None
        if node is None or node.kind not in SUPERSTEP_KINDS or node_id in held:
            return False
        return node.reads().isdisjoint(held)

    def model_for(self, node_id: str) -> str | None:
        """The model string an ``llm`` node uses: its own, else the workflow's default."""
        node = self.nodes[node_id]
        return getattr(node, "model", None) or self.model

    @classmethod
    def build(cls, **kwargs: Any) -> Workflow:
        """Build and validate a workflow from Python values (see :mod:`nesyflow.graph.builder`)."""
        from nesyflow.graph.builder import build_workflow

        return build_workflow(**kwargs)
