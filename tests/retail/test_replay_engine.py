"""The generic parts of nesyflow.replay on a tiny domain of its own (no retail in sight): the
context builder sees the history, denied calls do not run, a builder that fails is never a pass."""

from pathlib import Path

import pytest
from pydantic import BaseModel

from nesyflow.logic import load_pack
from nesyflow.replay import (
    ActionSequence,
    Domain,
    History,
    ProposedCall,
    Tool,
    ToolError,
    ToolRegistry,
    check_call,
    replay_sequence,
)

PACK_TOML = """
name = "counter"
version = "0.1.0"
[schema]
input = "schema:Call"
context = "schema:Ctx"
[rules.twice]
message = "A counter may be bumped at most twice per run."
"""
SCHEMA = """
from typing import ClassVar, Literal
from pydantic import BaseModel
class Call(BaseModel):
    __asp_name__: ClassVar[str] = "call"
    name: Literal["bump"]
    by: int = 1
class Ctx(BaseModel):
    __asp_name__: ClassVar[str] = "ctx"
    bumps_so_far: int
"""
RULES = "deny(twice, N) :- ctx_bumps_so_far(_, N), N >= 2.\n"


class By(BaseModel):
    by: int = 1


def bump(state: dict, args: By) -> int:
    if args.by > 10:
        raise ToolError("too big")
    state["n"] += args.by
    return state["n"]


def builder(state, history: History, call: ProposedCall):
    return {"bumps_so_far": sum(1 for _ in history.executed("bump"))}


@pytest.fixture()
def pack(tmp_path: Path):
    (tmp_path / "pack.toml").write_text(PACK_TOML)
    (tmp_path / "schema.py").write_text(SCHEMA)
    (tmp_path / "rules.lp").write_text(RULES)
    return load_pack(tmp_path)


DOMAIN = Domain(
    name="counter",
    tools=ToolRegistry.of(Tool("bump", bump, By, writes=True)),
    new_state=lambda path: {"n": 0},
    build_context=builder,
)


def test_history_drives_the_verdict_and_denied_calls_do_not_run(pack):
    state = DOMAIN.new_state(None)
    seq = ActionSequence(tuple(ProposedCall("bump", {"by": b}) for b in (1, 20, 1, 1)))
    outcomes = list(replay_sequence(pack, DOMAIN, seq, state))
    # the tool refused by=20 (ran, error): it is not an executed bump, so the third call is allowed
    assert [(o.verdict, o.error) for o in outcomes] == [
        ("allow", None),
        ("allow", "too big"),
        ("allow", None),
        ("deny", None),
    ]
    assert outcomes[3].reasons[0].rule == "twice"
    assert state["n"] == 2


def test_a_failing_builder_is_review_never_allow(pack):
    def broken(state, history, call):
        raise KeyError("oops")

    domain = Domain("x", DOMAIN.tools, DOMAIN.new_state, broken)
    checked = check_call(pack, domain, {"n": 0}, History(), ProposedCall("bump", {}))
    assert checked.verdict == "review" and checked.reasons[0].kind == "unknown"


def test_registry_reports_argument_problems_by_field():
    assert DOMAIN.tools.problems("bump", {"by": "x"})[0][0] == "arguments.by"
    assert DOMAIN.tools.problems("nope", {})[0][0] == "name"
