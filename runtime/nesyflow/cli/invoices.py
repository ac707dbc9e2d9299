"""``nesyflow invoice-demo`` — the invoice agent on its 30 sample invoices, then what happened.

Each sample is a real run of ``agents/invoice/workflow.yaml`` in the store (``--db``, else
``$NESYFLOW_DB``, else ``./.nesyflow/store.db``), in file order, so a later sample sees what the
earlier ones paid (``inv-030`` resends ``inv-001``). Then the summary: how well the invoices were
read (per field, against the reading a person wrote for each sample), what was paid and what waits
for a person and why, and whether anything was paid that should not have been.

The scoring helpers (:func:`score_invoice`, :func:`run_invoice_sample`) are also used by
``tests/agents/test_invoice_agent.py``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

__all__ = [
    "HEADER_FIELDS",
    "LINE_FIELDS",
    "TAX_FIELDS",
    "InvoiceOutcome",
    "InvoiceScore",
    "invoice_agent_dir",
    "paid_wrongly",
    "register",
    "run_invoice_sample",
    "score_invoice",
]

out = Console(highlight=False)

HEADER_FIELDS = (
    "kind",
    "supplier_name",
    "supplier_country",
    "supplier_vat_id",
    "iban",
    "invoice_number",
    "issue_date",
    "due_date",
    "payment_terms_days",
    "currency",
    "po_number",
    "net_total",
    "tax_total",
    "gross_total",
)
LINE_FIELDS = ("quantity", "unit_price", "net", "tax_rate", "category")
TAX_FIELDS = ("rate", "amount")
"""The fields compared with the expected reading (a line's description is free text: not scored)."""

_LEDGER_KIND = "invoice.payment"  # the invoice agent's payments (its tools.py)


def register(app: typer.Typer) -> None:
    app.command("invoice-demo")(invoice_demo_cmd)


def invoice_agent_dir() -> Path:
    """``agents/invoice`` of this checkout."""
    from nesyflow.cli.demo import agent_dir

    return agent_dir("invoice")


# --------------------------------------------------------------------------------------- scoring


def _same(got: Any, want: Any) -> bool:
    if got is None or want is None:
        return got is None and want is None
    try:
        return Decimal(str(got)) == Decimal(str(want))
    except (InvalidOperation, ValueError):
        return str(got) == str(want)


@dataclass
class InvoiceScore:
    """How one reading compares with the expected one: ``per_field`` name → [right, total]."""

    per_field: dict[str, list[int]] = field(default_factory=dict)
    rows_right: bool = True
    invoice_right: bool = False

    def add(self, name: str, ok: bool) -> None:
        tally = self.per_field.setdefault(name, [0, 0])
        tally[0] += ok
        tally[1] += 1

    @property
    def wrong(self) -> list[str]:
        return [name for name, (r, t) in self.per_field.items() if r < t]


def score_invoice(got: dict[str, Any] | None, want: dict[str, Any]) -> InvoiceScore:
    """Compare every scored field (:data:`HEADER_FIELDS`, each line's and tax row's fields by
    position). A field counts on every sample (``None`` expected and ``None`` read is right, a
    value read where none is written is wrong); a missing or extra row makes all its fields
    wrong. The invoice is right when every field and both row counts are."""
    score = InvoiceScore()
    got = got or {}
    for name in HEADER_FIELDS:
        score.add(name, bool(got) and _same(got.get(name), want.get(name)))
    for rows, names in (("lines", LINE_FIELDS), ("taxes", TAX_FIELDS)):
        g_rows, w_rows = list(got.get(rows) or []), list(want.get(rows) or [])
        score.rows_right &= len(g_rows) == len(w_rows)
        score.add(f"{rows} (count)", len(g_rows) == len(w_rows))
        for index in range(max(len(g_rows), len(w_rows))):
            g = g_rows[index] if index < len(g_rows) else None
            w = w_rows[index] if index < len(w_rows) else None
            for name in names:
                ok = g is not None and w is not None and _same(g.get(name), w.get(name))
                score.add(f"{rows}[].{name}", ok)
    score.invoice_right = bool(got) and not score.wrong
    return score


# --------------------------------------------------------------------------------------- running


@dataclass
class InvoiceOutcome:
    """One sample's run, read back from the store."""

    sample_id: str
    run_id: str
    status: str  # completed | waiting_review | rejected | failed
    verdict: str | None
    expected_verdict: str | None
    expected_rules: list[str]
    rules: list[str]  # the rules that fired at the check
    invoice: dict[str, Any] | None
    expected: dict[str, Any]
    paid: dict[str, Any] | None
    why: list[str]  # the review's reasons, as a person reads them
    score: InvoiceScore
    model_calls: int = 0
    wall_s: float = 0.0
    error: str | None = None


def run_invoice_sample(flow: Any, sample: dict[str, Any], store: Any) -> InvoiceOutcome:
    """Run the workflow on one sample and read what happened back from the store."""
    from nesyflow.engine import start_run

    started = time.perf_counter()
    result = start_run(flow, sample, store=store)
    wall = time.perf_counter() - started
    steps = store.steps(result.run_id)
    read = next((s for s in steps if s.node == "read" and s.kind == "tool" and s.output), None)
    read_out = read.output if read is not None and isinstance(read.output, dict) else {}
    check = next((s for s in steps if s.node == "extract" and s.kind == "check"), None)
    records = store.tool_records(_LEDGER_KIND, run_id=result.run_id)
    why: list[str] = []
    if result.review_id:
        why = [  # the rule and its sentence; the facts behind it are in `nesyflow reviews show`
            f"{r.rule}: {r.message}" if r.rule else (r.message or r.kind)
            for r in store.get_review(result.review_id).reasons
        ]
    invoice = read_out.get("invoice")
    return InvoiceOutcome(
        sample_id=str(sample.get("id", "?")),
        run_id=result.run_id,
        status=str(result.status.value),
        verdict=check.verdict if check else None,
        expected_verdict=sample.get("expected_verdict"),
        expected_rules=list(sample.get("expected_rules") or []),
        rules=sorted({f["rule"] for f in (check.findings if check else [])}),
        invoice=invoice,
        expected=dict(sample.get("expected") or {}),
        paid=records[0].data if records else None,
        why=why,
        score=score_invoice(invoice, sample.get("expected") or {}),
        model_calls=int(read_out.get("model_calls") or 0),
        wall_s=wall,
        error=result.error,
    )


def paid_wrongly(outcome: InvoiceOutcome, iban_on_file: str | None) -> str | None:
    """Why a payment was wrong, or ``None``: paid although the invoice as a person reads it should
    not be paid at once, paid another amount than its gross, or into an account other than the
    supplier's on file (when one is)."""
    paid = outcome.paid
    if not paid:
        return None
    if outcome.expected_verdict != "pass":
        return f"paid, but the correct reading is '{outcome.expected_verdict}'"
    if not _same(paid.get("amount"), outcome.expected.get("gross_total")):
        return f"paid {paid.get('amount')}, the gross is {outcome.expected.get('gross_total')}"
    if iban_on_file and paid.get("iban") != iban_on_file:
        return "paid into an account other than the one on file"
    return None


# --------------------------------------------------------------------------------------- command


def invoice_demo_cmd(
    limit: Annotated[int | None, typer.Option(help="Run only the first N samples.")] = None,
    samples_file: Annotated[
        Path | None,
        typer.Option(
            "--samples", help="A JSONL file of invoices (default agents/invoice/samples.jsonl)."
        ),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            help="SQLAlchemy URL of the store (default $NESYFLOW_DB or ./.nesyflow/store.db)."
        ),
    ] = None,
) -> None:
    """Run the invoice agent on its sample invoices and summarise what the rules did."""
    from nesyflow._imports import load_module
    from nesyflow.cli.demo import load_samples
    from nesyflow.errors import NesyflowError
    from nesyflow.graph import load_workflow
    from nesyflow.store import StoreError, open_store

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        agent = invoice_agent_dir()
        flow = load_workflow(agent / "workflow.yaml")
        store = open_store(db)
    except (FileNotFoundError, NesyflowError, StoreError) as exc:
        out.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    try:
        samples = load_samples(samples_file or agent / "samples.jsonl")
    except (OSError, ValueError) as exc:
        out.print(f"[red]error:[/] {samples_file}: {exc}")
        raise typer.Exit(2) from None
    samples = samples[: limit if limit is not None else None]
    on_file = {n: s.iban for n, s in load_module(agent / "tools.py").suppliers_on_file().items()}
    out.rule("[bold]nesyflow invoice-demo[/] — the invoice agent")
    out.print(
        f"{len(samples)} sample invoices · rules [bold]rules/invoice[/] · store [bold]{store.url}[/]"
    )
    started = time.perf_counter()
    outcomes = []
    for sample in samples:
        try:
            outcomes.append(run_invoice_sample(flow, sample, store))
        except NesyflowError as exc:
            out.print(f"[red]error:[/] sample {sample.get('id')}: {exc}")
            raise typer.Exit(1) from None
    _summary(outcomes, on_file, time.perf_counter() - started)


def _pct(a: float, b: float) -> str:
    return f"{100 * a / b:.0f}%" if b else "–"


def _summary(outcomes: list[InvoiceOutcome], on_file: dict[str, Any], elapsed: float) -> None:
    from rich.table import Table

    n = len(outcomes)
    if not n:
        out.print("no samples run")
        return
    tally: dict[str, list[int]] = {}
    for o in outcomes:
        for name, (r, t) in o.score.per_field.items():
            tally.setdefault(name, [0, 0])
            tally[name][0] += r
            tally[name][1] += t
    table = Table(title="Reading: fields right against the expected reading", show_lines=False)
    table.add_column("field")
    table.add_column("right", justify="right")
    for name, (r, t) in tally.items():
        table.add_row(name, f"{r}/{t} ({_pct(r, t)})")
    out.print(table)
    fields_right, fields = (sum(t[i] for t in tally.values()) for i in (0, 1))
    out.print(f"fields right: [bold]{fields_right}/{fields} ({_pct(fields_right, fields)})[/]")
    right = sum(o.score.invoice_right for o in outcomes)
    calls = sum(o.model_calls for o in outcomes)
    out.print(
        f"invoices read wholly right: [bold]{right}/{n} ({_pct(right, n)})[/] · questions asked "
        f"of the model: [bold]{calls}[/] (the evidence was decisive for every other field)"
    )
    paid = [o for o in outcomes if o.paid]
    out.print(f"\n[bold green]paid[/] {len(paid)}:")
    for o in paid:
        p = o.paid or {}
        out.print(
            f"  {o.sample_id}  {p.get('supplier')} {p.get('invoice_number')}  "
            f"{p.get('amount')} {p.get('currency')} into the account {p.get('account_from')}"
        )
    waiting = [o for o in outcomes if not o.paid]
    out.print(f"\n[bold yellow]to a person[/] {len(waiting)}:")
    for o in waiting:
        reason = "; ".join(o.why) or o.error or o.status
        out.print(f"  {o.sample_id}  {o.verdict or o.status}: {reason}")
    wrong = [(o, w) for o in outcomes if (w := paid_wrongly(o, _file_iban(o, on_file)))]
    agree = sum(o.verdict == o.expected_verdict for o in outcomes)
    out.print(
        f"\nverdict as expected: [bold]{agree}/{n}[/] · paid wrongly: [bold]{len(wrong)}[/]"
        f" · {elapsed:.1f} s ({elapsed / n:.2f} s an invoice)"
    )
    for o, w in wrong:
        out.print(f"  [red]{o.sample_id}[/]: {w}")


def _file_iban(outcome: InvoiceOutcome, on_file: dict[str, Any]) -> str | None:
    name = (outcome.paid or {}).get("supplier")
    return on_file.get(name) if name else None
