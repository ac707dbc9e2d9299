"""Console test support: the claims workflow run by a scripted model, and an AppTest factory."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
FLOW = FIXTURES / "claims" / "workflow.yaml"
APP = ROOT / "ui" / "app.py"
for extra in (ROOT / "ui", ROOT / "benchmarks"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

# inputs the scripted model turns into claims: passes, fails (over the limit), needs review
PASSES = {
    "employee": "Ann",
    "submitted_on": "2025-03-14",
    "lines": [{"what": "taxi", "category": "travel", "amount": "20.00"}],
}
FAILS = {
    "employee": "Bob",
    "submitted_on": "2025-03-14",
    "lines": [{"what": "hotel", "category": "travel", "amount": "612.00", "receipt": True}],
}
REVIEWS = {
    "employee": "Cy",
    "submitted_on": "2025-03-14",
    "lines": [{"what": "dinner", "category": "meals", "amount": "80.00"}],
}


class _Call(BaseModel):
    model: str
    output: Any = None
    error: str | None = None
    raw: str | None = None
    tokens_in: int = 120
    tokens_out: int = 40
    cost: float = 0.0001


def _generate(model: str, messages: list[dict[str, Any]], output_type: Any) -> _Call:
    """A scripted model: the claim is the JSON at the end of the prompt."""
    text = messages[-1]["content"]
    claim = json.loads(text[text.index("{") :])
    out = output_type.model_validate(claim)
    return _Call(model=model, output=out, raw=out.model_dump_json())


def services() -> Any:
    from jinja2 import Template

    from nesyflow.engine import Services

    def render(system: str | None, template: str, variables: dict[str, Any]) -> list[dict]:
        head = [{"role": "system", "content": system}] if system else []
        return [*head, {"role": "user", "content": Template(template).render(**variables)}]

    return Services(
        generate=_generate,
        render_messages=render,
        resolve_model=lambda node, wf: node or wf or "scripted/test",
    )


def start(store: Any, claim: dict[str, Any]) -> Any:
    from nesyflow.engine import start_run

    return start_run(FLOW, {"text": json.dumps(claim)}, store=store, services=services())


def app(page: str | None = None, **params: str) -> Any:
    """An AppTest of the console on ``page`` (e.g. "reviews") with query parameters."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=30)
    if page is not None:
        at.switch_page(f"pages/{page}.py")
    for key, value in params.items():
        at.query_params[key] = value
    return at
