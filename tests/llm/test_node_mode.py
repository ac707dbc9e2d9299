"""A node's ``mode:`` — validated where it is written, and what the engine asks ``generate`` for."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nesyflow.engine import Services, start_run
from nesyflow.errors import ProblemsError
from nesyflow.graph import load_workflow
from nesyflow.llm import LLMCall
from nesyflow.store import open_store

ROOT = Path(__file__).resolve().parents[2]
AIRLINE = ROOT / "agents" / "airline_baggage"


def _copy_with_mode(tmp_path: Path, mode: str) -> Path:
    """The shipped airline agent (its model variant) and its pack copied, ``mode:`` added to its llm
    node."""
    agent = tmp_path / "agents" / "airline_baggage"
    shutil.copytree(AIRLINE, agent)
    shutil.copytree(ROOT / "rules" / "airline_baggage", tmp_path / "rules" / "airline_baggage")
    text = (agent / "model.yaml").read_text(encoding="utf-8")
    marker = "    prompt_file: prompts/extract.md\n"
    assert marker in text, "the airline workflow changed; update this test"
    path = agent / "model.yaml"
    path.write_text(text.replace(marker, marker + f"    mode: {mode}\n"), encoding="utf-8")
    return path


@pytest.fixture
def workflow_with(tmp_path):
    return lambda mode: _copy_with_mode(tmp_path, mode)


def test_an_unknown_mode_is_a_problem_with_its_line_and_a_hint(workflow_with):
    path = workflow_with("jsno")
    with pytest.raises(ProblemsError) as info:
        load_workflow(path)
    (problem,) = [p for p in info.value.problems if p.code == "bad_mode"]
    assert problem.location.line is not None and "did you mean 'json'?" in str(problem)


def test_the_engine_asks_generate_for_the_nodes_mode(workflow_with, tmp_path):
    flow = load_workflow(workflow_with("grammar"))
    assert flow.nodes["extract"].mode == "grammar"
    asked: list[dict] = []

    def generate(model, messages, output_type, **options):
        asked.append(options)
        return LLMCall(model=model, messages=messages, error="no output in this test")

    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    row = {"prompt": "Economy from New York to London, $500, one 20 kg bag."}
    start_run(flow, row, store=store, services=Services(generate=generate))
    assert asked and all(o == {"mode": "grammar"} for o in asked)
