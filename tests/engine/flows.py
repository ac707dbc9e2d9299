"""Small workflows, schemas, tools and a scripted fake model shared by the engine, review and crash
tests (importable by the crash worker subprocess too, so it builds the very same workflow)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from nesyflow.engine import Services, idempotency_key
from nesyflow.graph.builder import WorkflowBuilder

PACKS = Path(__file__).parent / "packs"
NOTE_PACK = PACKS / "note"
GUARD_PACK = PACKS / "guard"


class Request(BaseModel):
    topic: str
    path: str


class Note(BaseModel):
    text: str
    amount: int


class AppendArgs(BaseModel):
    path: str
    text: str


class Appended(BaseModel):
    line: str


def append_line(args: AppendArgs) -> Appended:
    """A side effect that honours its idempotency key (as a payment API does): a key already in the
    file is not written again. ``calls.log`` beside the file records every call, to show how often
    a crash forced a repeat call."""
    key = idempotency_key()
    assert key, "the engine sets the idempotency key for every tool call"
    target = Path(args.path)
    with open(target.with_suffix(".calls.log"), "a") as log:
        log.write(key + "\n")
    if target.exists() and any(
        line.split("\t", 1)[0] == key for line in target.read_text().splitlines()
    ):
        return Appended(line=args.text)
    with open(target, "a") as fh:
        fh.write(f"{key}\t{args.text}\n")
        fh.flush()
        os.fsync(fh.fileno())
    return Appended(line=args.text)


def note_flow(*, on_fail: Any = None, second_tool: bool = True) -> Any:
    """draft (llm, note pack) → write (tool, guard pack) → summary (llm) → write2 (tool)."""
    b = WorkflowBuilder("notes", Request, model="scripted/test")
    b.llm(
        "draft",
        prompt="Write a note about {{ topic }}",
        input={"topic": "input.topic"},
        output=Note,
        packs=[NOTE_PACK],
        on_fail=on_fail,
        next="write",
    )
    b.tool(
        "write",
        append_line,
        input={"path": "input.path", "text": "draft.output.text"},
        output=Appended,
        packs=[GUARD_PACK],
        next="summary" if second_tool else None,
    )
    if second_tool:
        b.llm(
            "summary",
            prompt="Summarise {{ text }}",
            input={"text": "draft.output.text"},
            output=Note,
            packs=[NOTE_PACK],
            next="write2",
        )
        b.tool(
            "write2",
            append_line,
            input={"path": "input.path", "text": "summary.output.text"},
            output=Appended,
            packs=[GUARD_PACK],
        )
    return b.build(start="draft")


def fanout_flow(*, branches: int = 3, on_fail: Any = None, tool: bool = True) -> Any:
    """root (llm) → b1 … bN (llm, each reading only root's text: one superstep) → write (tool).

    Every llm node is checked by the note pack (amount ≤ 100, above 50 a person looks); the tool
    appends one line under its idempotency key, so a repeated effect shows in the file."""
    b = WorkflowBuilder("fanout", Request, model="scripted/test")
    ids = [f"b{i}" for i in range(1, branches + 1)]
    b.llm(
        "root",
        prompt="Write a note about {{ topic }}",
        input={"topic": "input.topic"},
        output=Note,
        packs=[NOTE_PACK],
        next=ids[0],
    )
    for i, nid in enumerate(ids):
        last = i + 1 == len(ids)
        b.llm(
            nid,
            prompt=f"Branch {i + 1} of {{{{ text }}}}",
            input={"text": "root.output.text"},
            output=Note,
            packs=[NOTE_PACK],
            on_fail=on_fail,
            next=("write" if tool else None) if last else ids[i + 1],
        )
    if tool:
        b.tool(
            "write",
            append_line,
            input={"path": "input.path", "text": f"{ids[-1]}.output.text"},
            output=Appended,
            packs=[GUARD_PACK],
        )
    return b.build(start="root")


def fanout_answer(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The fan-out's model, a function of the prompt (every process answers alike): branch i
    says ``branch i`` with amount i."""
    first = messages[0]["content"]
    if first.startswith("Branch "):
        number = int(first.split()[1])
        return {"text": f"branch {number}", "amount": number}
    return {"text": "root", "amount": 5}


class FakeCall(BaseModel):
    model: str
    output: Any = None
    error: str | None = None
    raw: str | None = None
    tokens_in: int = 10
    tokens_out: int = 20
    cost: float = 0.0


class FakeModel:
    """Answers by a function of the messages (so a resumed process answers the same way) or from a
    list. A string answer is a parse failure."""

    def __init__(self, answers: list[Any] | Callable[[list[dict[str, Any]]], Any]):
        self.answers = answers
        self.calls: list[list[dict[str, Any]]] = []

    def __call__(self, model: str, messages: list[dict[str, Any]], output_type: Any) -> FakeCall:
        self.calls.append(messages)
        answer = self.answers(messages) if callable(self.answers) else self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        if isinstance(answer, str):
            return FakeCall(model=model, error=f"not JSON: {answer!r}", raw=answer)
        out = output_type.model_validate(answer)
        return FakeCall(model=model, output=out, raw=out.model_dump_json())


def services(model: FakeModel) -> Services:
    def render(
        system: str | None, template: str, variables: dict[str, Any]
    ) -> list[dict[str, Any]]:
        from jinja2 import Template

        return [{"role": "user", "content": Template(template).render(**variables)}]

    return Services(
        generate=model,
        render_messages=render,
        resolve_model=lambda node, wf: node or wf or "scripted/test",
    )
