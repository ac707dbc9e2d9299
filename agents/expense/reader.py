"""The ``read`` tool: the expense claim read from the request and receipt by the planner.

Every value comes from a place: the employee fields from the run's input, amounts, dates,
merchants and counts from spans the finders found, the city tier from the pack's city table,
category, alcohol, receipt and cabin class from the pack's keyword table
(``rules/expense/data/``) — a category the keywords leave open by the nearest labelled samples
and the categories people saved in their edits of earlier claims of this workflow
(sentence-transformers + faiss) —, the number of items from the request's structure. The model is asked
only to choose when the evidence is not decisive; when it disagrees with the finders the field is
ambiguous and the context tells the rules (``ambiguous``), which send the claim to a person.

The result keeps the provenance of every value (``readings``) in the step record, for
``nesyflow runs show`` and the console's review page.

``$NESYFLOW_EXTRACT_CHOOSER``: ``model`` (default: ``$NESYFLOW_MODEL`` or the embedded model,
through ``nesyflow.llm``) or ``person`` (no model: every field the evidence leaves open goes to a
person as ambiguous).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from nesyflow._imports import load_module
from nesyflow.extract import (
    Ambiguity,
    Chooser,
    ModelChooser,
    PersonChooser,
    Reading,
    extract_items,
    field_sources,
    load_table,
    quoted_receipt,
    read_from,
    split_items,
    unclaimed_receipts,
    without_mail_headers,
    without_markup,
    without_signature,
)

__all__ = ["ReadArgs", "ReadResult", "read_claim", "read_with"]

_HERE = Path(__file__).resolve().parent
_DATA = _HERE.parents[1] / "rules" / "expense" / "data"
_schema = load_module(_HERE / "schema.py")
_pack = load_module(_HERE.parents[1] / "rules" / "expense" / "schema.py")

ExtractedClaim = _schema.ExtractedClaim
ExtractedItem = _schema.ExtractedItem
Employee = _schema.Employee
ClaimContext = _pack.ClaimContext
field_sources(ExtractedItem)  # the schema's sources are validated when the workflow loads


class ReadArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request: str
    receipt: str = ""
    submitted_on: dt.date
    employee: Employee  # type: ignore[valid-type]
    context: ClaimContext = Field(default_factory=ClaimContext)  # type: ignore[valid-type]


class ReadResult(BaseModel):
    """The claim, the context the rules check it with (ambiguities added), and how it was read."""

    claim: ExtractedClaim  # type: ignore[valid-type]
    context: ClaimContext  # type: ignore[valid-type]
    readings: list[Reading]
    ambiguities: list[Ambiguity]
    model_calls: int = 0
    model_ms: float = 0.0


@cache
def _tables() -> dict[str, Any]:
    return {
        "cities": load_table(_DATA, "cities", ("city", "tier")),
        "keywords": load_table(_DATA, "keywords", ("field", "value", "phrase")),
        "dishes": load_table(_DATA, "dishes", ("phrase",)),
        "places": load_table(_DATA, "places", ("city", "country", "population", "tier")),
    }


@cache
def category_index() -> Any:
    """The agent's labelled requests (single-item samples: request → category) as a neighbour
    index, built on first use; a request is never judged by its own label (leave-one-out)."""
    import json

    from nesyflow.extract.neighbours import NeighbourIndex

    examples = []
    for line in (_HERE / "samples.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line) if line.strip() else None
        items = (row or {}).get("expected", {}).get("items") or []
        if len(items) == 1:
            examples.append((row["id"], row["request"], items[0]["category"]))
    return NeighbourIndex(examples)


REVIEWED_NODE = "extract"
"""The node whose reviews hold the claim as read: a person's edit there is a labelled example."""


def decided_examples(store: Any, workflow: str) -> tuple[tuple[str, str, str], ...]:
    """``(id, request, category)`` for each edit people saved on the ``extract`` reviews of
    ``workflow`` in ``store``, oldest first: the category the person left on a one-item claim
    labels the request it was read from. Claims of several items are left out (which part of the
    request is which item's is the reader's guess, not the person's)."""
    from nesyflow.store import queries

    examples = []
    for edit in queries.decided_edits(store, workflow=workflow, node=REVIEWED_NODE):
        items = (edit.output or {}).get("items") if isinstance(edit.output, dict) else None
        request = (edit.input or {}).get("request") if isinstance(edit.input, dict) else None
        if not isinstance(request, str) or not isinstance(items, list) or len(items) != 1:
            continue
        category = items[0].get("category") if isinstance(items[0], dict) else None
        if isinstance(category, str) and category:
            examples.append((f"review:{edit.review_id}", request, category))
    return tuple(examples)


@lru_cache(maxsize=4)  # the index as of the latest decisions; older ones are dropped
def _with_decisions(examples: tuple[tuple[str, str, str], ...]) -> Any:
    return category_index().extended(examples)


def category_index_now() -> Any:
    """The category index for the run in progress: the samples, plus the categories people saved
    in edits of this workflow's earlier claims (read from the run's store, so a decision made a
    minute ago in the console counts for the next request). Outside a run: the samples."""
    from nesyflow.engine import current_run, current_store

    store, view = current_store(), current_run()
    if store is None or view is None:
        return category_index()
    examples = decided_examples(store, view.workflow)
    return _with_decisions(examples) if examples else category_index()


def _is_city(text: str) -> bool:
    cities = {c.lower() for c in _tables()["cities"].column("city")}
    return text.lower() in cities


def _not_a_merchant(employee: str) -> Callable[[str], bool]:
    """What no merchant is: a city of the pack's table, or the employee ("I'm submitting this
    on behalf of Raymond Achebe": the assistant names whose claim it is, not who was paid)."""
    own = {employee.lower(), *employee.lower().split()} - {""}
    return lambda text: _is_city(text) or text.lower() in own


def _chooser() -> Chooser:
    if os.environ.get("NESYFLOW_EXTRACT_CHOOSER", "model").strip() == "person":
        return PersonChooser()
    from nesyflow.llm import resolve_model

    return ModelChooser(resolve_model(None, None))


def read_claim(args: ReadArgs) -> ReadResult:
    """The workflow's tool: read the claim with the configured chooser (see the module doc)."""
    return read_with(args, _chooser())


def read_with(args: ReadArgs, chooser: Chooser) -> ReadResult:
    """Read the claim from ``args``' text; ``chooser`` decides what the evidence leaves open."""
    # e-mail HTML and chat markdown read as their words, a mail's envelope not at all; offsets
    # still point into the original
    request, receipt = without_markup(args.request), without_markup(args.receipt)
    # nothing pasted as the receipt but a receipt quoted in the mail: read it as the receipt,
    # its values still pointing into the request
    quoted = None if receipt.strip() else quoted_receipt(request)
    if quoted is not None:
        request, receipt = quoted
    request = without_signature(without_mail_headers(request))
    texts = split_items(request, receipt)
    got = extract_items(
        ExtractedItem,
        texts,
        _tables(),
        chooser,
        submitted=args.submitted_on,
        exclude_names=_not_a_merchant(args.employee.name),
        indexes={"categories": category_index_now},
    )
    inputs = [
        Reading(
            field="employee_name", value=args.employee.name, origin="input", detail="employee.name"
        ),
        Reading(
            field="employee_level",
            value=args.employee.level,
            origin="input",
            detail="employee.level",
        ),
        Reading(
            field="submitted_on",
            value=args.submitted_on.isoformat(),
            origin="input",
            detail="submitted_on",
        ),
        Reading(
            field="items",
            value=len(texts),
            origin="structure",
            detail="one item per amount the employee wrote (or 'two rides'), at least one",
        ),
    ]
    for index, values in enumerate(got.items):
        for name in ("amount", "merchant"):
            if name not in values:
                raise ValueError(
                    f"items.{index}.{name}: not found in the request or the receipt "
                    f"(item {index + 1} of {len(texts)}); a person must read it"
                )
    claim = ExtractedClaim.model_validate(
        {
            "employee_name": args.employee.name,
            "employee_level": args.employee.level,
            "submitted_on": args.submitted_on,
            "items": got.items,
        }
    )
    doubts = [*unclaimed_receipts(texts, receipt), *got.ambiguities]
    context = args.context.model_copy(
        update={
            "ambiguities": [
                _pack.Ambiguity(field=a.field, values=" | ".join(a.values)) for a in doubts
            ]
        }
    )
    return ReadResult(
        claim=claim,
        context=context,
        readings=[
            *inputs,
            *(got.readings if quoted is None else read_from(got.readings, "receipt", "request")),
        ],
        ambiguities=doubts,
        model_calls=got.model_calls,
        model_ms=float(getattr(chooser, "ms", 0.0)),
    )
