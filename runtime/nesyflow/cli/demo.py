"""``nesyflow demo`` — the main job (``make demo``): the expense agent on its sample requests.

Each sample is a real run of ``agents/expense/workflow.yaml`` in the store (``--db``, else
``$NESYFLOW_DB``, else ``./.nesyflow/store.db``): the model extracts the claim, the expense rules
check it (a broken rule is sent back to the model once), a passing claim is paid into the ledger,
everything else waits for a person in the review queue. Then the summary: what was paid, what waits
and why, how well the model read the samples (against the claims a person wrote for them), and where
the time went (model, rules, store).

The offline default model (SmolLM2-135M on one CPU thread) takes a few seconds a sample, so the demo
runs a fixed subset of :data:`DEFAULT_SAMPLES` samples spread over every expected verdict; ``--all``
runs all of them, ``--limit N`` the first N of the subset (or of all, with ``--all``).

The scoring helpers (:func:`score_claim`, :func:`run_sample`) are also used by
``benchmarks/agents_accuracy.py``.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from nesyflow.logic.result import Verdict

if TYPE_CHECKING:
    from nesyflow.logic import Reason

__all__ = [
    "DEFAULT_SAMPLES",
    "SCORED_FIELDS",
    "SampleOutcome",
    "Score",
    "agent_dir",
    "default_subset",
    "expense_agent_dir",
    "field_tally",
    "load_samples",
    "register",
    "run_sample",
    "score_claim",
    "source_tally",
]

out = Console(highlight=False)

DEFAULT_SAMPLES = 12
"""How many samples the demo runs by default (three of each expected verdict; about 4 minutes
on 2 cores: the 135M model takes 6–17 s a claim on one thread, the rules a few ms)."""

SCORED_FIELDS = (
    "category",
    "merchant",
    "amount",
    "date",
    "currency",
    "fx_rate",
    "receipt_attached",
    "city_tier",
    "nights",
    "attendees",
    "alcohol",
    "fare_class",
    "miles",
)
"""Item fields compared with the expected claim. ``description`` and ``justification`` are free
text with no single right wording and are not scored."""

_EMPLOYEE_FIELDS = ("employee_name", "employee_level", "submitted_on")
_LEDGER_KIND = "expense.payment"  # the expense agent's payments, kept in the store (its tools.py)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_cmd)


# --------------------------------------------------------------------------------------- samples


def agent_dir(name: str) -> Path:
    """``agents/<name>`` of this checkout (found from this file, so any working folder works)."""
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "agents" / name
        if (candidate / "workflow.yaml").is_file():
            return candidate
    candidate = Path.cwd() / "agents" / name
    if (candidate / "workflow.yaml").is_file():
        return candidate
    raise FileNotFoundError(f"agents/{name}/workflow.yaml not found (run from the project folder)")


def expense_agent_dir() -> Path:
    """``agents/expense`` of this checkout."""
    return agent_dir("expense")


def load_samples(path: Path) -> list[dict[str, Any]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            rows.append(json.loads(line))
    return rows


def default_subset(samples: list[dict[str, Any]], n: int = DEFAULT_SAMPLES) -> list[dict[str, Any]]:
    """``n`` samples spread over the expected verdicts: round-robin over pass / fail / review /
    unknown in file order, so a short demo still shows every way a claim can go."""
    by_verdict: dict[str, list[dict[str, Any]]] = {}
    for s in samples:
        by_verdict.setdefault(str(s.get("expected_verdict")), []).append(s)
    shown = (Verdict.PASS, Verdict.FAIL, Verdict.REVIEW, Verdict.UNKNOWN)
    order = [v.value for v in shown if v in by_verdict]
    order += [v for v in by_verdict if v not in order]
    picked: list[dict[str, Any]] = []
    while len(picked) < min(n, len(samples)):
        for verdict in order:
            if by_verdict[verdict] and len(picked) < n:
                picked.append(by_verdict[verdict].pop(0))
    ids = {id(s) for s in picked}
    return [s for s in samples if id(s) in ids]  # file order


# --------------------------------------------------------------------------------------- scoring


def _norm_text(value: Any) -> str:
    return re.sub(r"[^a-z0-9]", "", str(value).lower())


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _same(name: str, got: Any, want: Any) -> bool:
    if name == "currency":
        return (got or "USD") == (want or "USD")
    if got is None or want is None:
        return got is None and want is None
    if name == "merchant":
        a, b = _norm_text(got), _norm_text(want)
        return bool(a) and bool(b) and (a == b or a in b or b in a)
    if name in ("amount", "fx_rate"):
        return _decimal(got) == _decimal(want)
    return str(got) == str(want)


def _as_pack_reads(item: dict[str, Any]) -> dict[str, Any]:
    """``item`` with a meal's ``attendees: 1`` left out: the pack reads a meal without attendees
    as one person (its default), so the two are the same claim, as ``currency`` left out is USD."""
    if item.get("category") == "meals" and item.get("attendees") == 1:
        return {k: v for k, v in item.items() if k != "attendees"}
    return item


@dataclass
class Score:
    """How one extracted claim compares with the expected one."""

    fields_right: int = 0
    fields_total: int = 0
    per_field: dict[str, list[int]] = field(default_factory=dict)  # name -> [right, total]
    items_right_count: bool = True
    employee_right: bool = True
    claim_right: bool = False


def score_claim(got: dict[str, Any] | None, want: dict[str, Any]) -> Score:
    """Compare item fields (:data:`SCORED_FIELDS`) position by position.

    A field counts where either claim gives it (a value the model invented counts as wrong); the
    merchant matches ignoring case and punctuation, or when one name contains the other. The whole
    claim is right when every scored field, the number of items and the three employee fields are.
    """
    score = Score()
    got_items = list((got or {}).get("items") or [])
    want_items = list(want.get("items") or [])
    score.items_right_count = len(got_items) == len(want_items)
    score.employee_right = got is not None and all(
        str(got.get(k)) == str(want.get(k)) for k in _EMPLOYEE_FIELDS
    )
    for index in range(max(len(got_items), len(want_items))):
        g = _as_pack_reads(got_items[index] if index < len(got_items) else {})
        w = _as_pack_reads(want_items[index] if index < len(want_items) else {})
        for name in SCORED_FIELDS:
            gv, wv = g.get(name), w.get(name)
            if name != "currency" and gv is None and wv is None:
                continue
            ok = _same(name, gv, wv) and bool(g) and bool(w)
            score.fields_total += 1
            score.fields_right += ok
            tally = score.per_field.setdefault(name, [0, 0])
            tally[0] += ok
            tally[1] += 1
    score.claim_right = (
        got is not None
        and score.items_right_count
        and score.employee_right
        and score.fields_right == score.fields_total
    )
    return score


def field_tally(outcomes: list[Any]) -> dict[str, list[int]]:
    """Per scored field, ``[right, total]`` summed over the outcomes' scores."""
    per_field: dict[str, list[int]] = {}
    for o in outcomes:
        for name, (r, t) in o.score.per_field.items():
            tally = per_field.setdefault(name, [0, 0])
            tally[0] += r
            tally[1] += t
    return per_field


# --------------------------------------------------------------------------------------- running


@dataclass
class SampleOutcome:
    """One sample's run, read back from the store."""

    sample_id: str
    run_id: str
    status: str  # completed | waiting_review | rejected | failed
    verdict: str | None  # the rules' verdict on the model's last claim
    first_verdict: str | None  # ... on its first claim (before any reask)
    expected_verdict: str | None
    attempts: int
    claim: dict[str, Any] | None
    paid: dict[str, Any] | None
    review_reasons: tuple[Reason, ...]
    first_rules: list[str]  # rules that fired on the first claim
    score: Score
    model_ms: float = 0.0
    rules_ms: float = 0.0
    store_ms: float = 0.0
    tool_ms: float = 0.0
    wall_s: float = 0.0
    error: str | None = None
    readings: list[dict[str, Any]] = field(default_factory=list)  # provenance of each value
    model_calls: int = 0  # questions the reader asked the model
    expected: dict[str, Any] = field(default_factory=dict)


def run_sample(flow: Any, sample: dict[str, Any], store: Any, services: Any) -> SampleOutcome:
    """Run the workflow on one sample and read what happened back from the store."""
    from nesyflow.engine import start_run

    started = time.perf_counter()
    result = start_run(flow, sample, store=store, services=services)
    wall = time.perf_counter() - started
    steps = store.steps(result.run_id)
    extract = [s for s in steps if s.node == "extract" and s.kind in ("llm", "check")]
    read = next((s for s in steps if s.node == "read" and s.kind == "tool" and s.output), None)
    read_out = read.output if read is not None and isinstance(read.output, dict) else {}
    last = extract[-1] if extract else None
    first = extract[0] if extract else None
    # What was paid is what the ledger in the store holds for this run (the tool's own record).
    records = store.tool_records(_LEDGER_KIND, run_id=result.run_id)
    paid = records[0].data if records else None
    reasons: tuple[Reason, ...] = ()
    if result.review_id:
        reasons = store.get_review(result.review_id).reasons
    first_rules = [f["rule"] for f in (first.findings if first else [])]
    claim = last.output if last is not None else None
    if claim is None and read_out.get("claim"):
        claim = read_out["claim"]
    return SampleOutcome(
        sample_id=str(sample.get("id", "?")),
        run_id=result.run_id,
        status=str(result.status.value),
        verdict=last.verdict if last else None,
        first_verdict=first.verdict if first else None,
        expected_verdict=sample.get("expected_verdict"),
        attempts=len(extract),
        claim=claim,
        paid=paid,
        review_reasons=reasons,
        first_rules=first_rules,
        score=score_claim(claim, sample.get("expected") or {}),
        model_ms=sum(s.model_ms for s in steps) + float(read_out.get("model_ms") or 0.0),
        rules_ms=sum(s.rules_ms for s in steps),
        store_ms=sum(s.store_ms for s in steps),
        tool_ms=sum(s.tool_ms for s in steps),
        wall_s=wall,
        error=result.error,
        readings=list(read_out.get("readings") or []),
        model_calls=int(read_out.get("model_calls") or 0),
        expected=dict(sample.get("expected") or {}),
    )


def source_tally(outcomes: list[Any]) -> dict[str, dict[str, list[int]]]:
    """Per scored item field, per origin of its value (span, lookup, keywords, default,
    structure, model), ``[right, total]`` against the expected claims: what each source
    contributed. A field the reader left unset where the claim has one counts under ``none``."""
    tally: dict[str, dict[str, list[int]]] = {}
    for o in outcomes:
        by_path = {r.get("field"): r for r in o.readings}
        want_items = list((o.expected or {}).get("items") or [])
        got_items = list((o.claim or {}).get("items") or [])
        for index in range(max(len(want_items), len(got_items))):
            want = want_items[index] if index < len(want_items) else {}
            got = got_items[index] if index < len(got_items) else {}
            for name in SCORED_FIELDS:
                wv, gv = want.get(name), got.get(name)
                if name != "currency" and wv is None and gv is None:
                    continue
                reading = by_path.get(f"items.{index}.{name}")
                origin = str(reading.get("origin")) if reading else "none"
                cell = tally.setdefault(name, {}).setdefault(origin, [0, 0])
                cell[0] += bool(want) and bool(got) and _same(name, gv, wv)
                cell[1] += 1
    return tally


# --------------------------------------------------------------------------------------- command


def demo_cmd(
    model: Annotated[
        str | None,
        typer.Option(help="Any litellm model string (default: $NESYFLOW_MODEL or local/smollm2)."),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Run only the first N samples of the selection.")
    ] = None,
    all_samples: Annotated[
        bool,
        typer.Option(
            "--all", help=f"Run all the samples (default: a subset of {DEFAULT_SAMPLES})."
        ),
    ] = False,
    db: Annotated[
        str | None,
        typer.Option(
            help="SQLAlchemy URL of the store (default $NESYFLOW_DB or ./.nesyflow/store.db)."
        ),
    ] = None,
) -> None:
    """Run the expense agent on its sample requests and summarise what the rules did."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from nesyflow.engine import Services
    from nesyflow.errors import NesyflowError
    from nesyflow.graph import load_workflow
    from nesyflow.store import StoreError, open_store

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        agent = expense_agent_dir()
        flow = load_workflow(agent / "workflow.yaml")
    except (FileNotFoundError, NesyflowError) as exc:
        out.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    samples = load_samples(agent / "samples.jsonl")
    chosen = samples if all_samples else default_subset(samples)
    if limit is not None:
        chosen = chosen[:limit]
    try:
        store = open_store(db)
    except StoreError as exc:
        out.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    services = Services(resolve_model=(lambda _n, _w: model) if model else None)
    if model:  # the reader asks its questions through nesyflow.llm with the same model
        os.environ["NESYFLOW_MODEL"] = model
    shown_model = model or os.environ.get("NESYFLOW_MODEL") or "local/smollm2"

    out.rule("[bold]nesyflow demo[/] — the expense agent")
    out.print(
        f"{len(chosen)} of {len(samples)} sample requests · model [bold]{shown_model}[/] · "
        f"rules [bold]rules/expense[/] · store [bold]{store.url}[/]"
    )
    out.print(
        "Each request: the reader takes every value from a place in the text (spans, the pack's "
        "tables; the model only chooses when the evidence is not decisive) → the rules check the "
        "claim → a passing claim is paid into the ledger, the rest wait for a person."
    )
    outcomes: list[SampleOutcome] = []
    started, written = time.perf_counter(), store.write_seconds
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=out,
        transient=False,
    ) as progress:
        task = progress.add_task("running", total=len(chosen))
        for sample in chosen:
            progress.update(task, description=f"{sample.get('id', '?')}")
            try:
                outcomes.append(run_sample(flow, sample, store, services))
            except NesyflowError as exc:
                progress.stop()
                out.print(f"[red]error:[/] sample {sample.get('id')}: {exc}")
                raise typer.Exit(1) from None
            progress.advance(task)
        progress.update(task, description="done")
    elapsed = time.perf_counter() - started
    # the store's share is every write transaction of the runs, commits included (a step's own
    # store_ms stops before its row and the commit)
    _summary(outcomes, flow, elapsed, store.url, store.write_seconds - written)


def _pct(a: float, b: float) -> str:
    return f"{100 * a / b:.0f}%" if b else "–"


def _summary(
    outcomes: list[SampleOutcome], flow: Any, elapsed: float, url: str, store_s: float
) -> None:
    from rich.table import Table

    n = len(outcomes)
    if not n:
        out.print("no samples run")
        return
    catalogue = _catalogue(flow)
    paid = [o for o in outcomes if o.status == "completed" and o.paid]
    waiting = [o for o in outcomes if o.status == "waiting_review"]
    rejected = [o for o in outcomes if o.status == "rejected"]
    failed = [o for o in outcomes if o.status == "failed"]

    out.rule("[bold]What happened")
    table = Table(show_header=True, header_style="bold")
    table.add_column("outcome")
    table.add_column("claims", justify="right")
    table.add_column("")
    total_paid = sum(Decimal(str(o.paid.get("amount_usd", 0))) for o in paid if o.paid)
    table.add_row(
        "[green]approved and paid[/]",
        str(len(paid)),
        f"${total_paid:,.2f} (what the rules allow) into the ledger in the store",
    )
    why = Counter(o.verdict for o in waiting)
    words = {
        Verdict.FAIL: "broke a rule",
        Verdict.REVIEW: "the policy asks for a person",
        Verdict.UNKNOWN: "a fact the rules need is not in the text",
        Verdict.PASS: "passed, but the payment gate (level and date from the input) stopped it",
    }
    table.add_row(
        "[yellow]sent to a person[/]",
        str(len(waiting)),
        "; ".join(
            f"{v} {words.get(str(k), str(k))}"
            for k, v in sorted(why.items(), key=lambda kv: -kv[1])
        ),
    )
    table.add_row("[red]rejected[/]", str(len(rejected)), "only a person rejects a claim")
    if failed:
        table.add_row(
            "[red]run failed[/]", str(len(failed)), "; ".join(str(o.error) for o in failed)[:120]
        )
    out.print(table)

    reasons: Counter[str] = Counter()
    for o in waiting:
        seen = set()
        for r in o.review_reasons:
            key = r.rule or r.message
            if key and key not in seen:
                seen.add(key)
                reasons[str(key)] += 1
    if reasons:
        out.print("\n[bold]Top reasons a claim went to a person[/]")
        for key, count in reasons.most_common(6):
            sentence = catalogue.get(key, "")
            out.print(f"  {count:>2} × [bold]{key}[/]" + (f" — {sentence}" if sentence else ""))

    caught = Counter(rule for o in outcomes for rule in o.first_rules)
    reasked = [o for o in outcomes if o.attempts > 1]
    fixed = [o for o in reasked if o.verdict == "pass"]
    again = (
        f"; {len(reasked)} claims sent back to the model, {len(fixed)} of them then passed"
        if reasked
        else ""
    )
    out.print(
        f"\n[bold]What the rules caught[/]: {sum(caught.values())} findings on the claims as read "
        f"({', '.join(f'{k} ×{v}' for k, v in caught.most_common(5)) or 'none'}){again}."
    )

    out.rule("[bold]Where the values came from")
    tally = source_tally(outcomes)
    origins = sorted({k for per in tally.values() for k in per})
    src = Table(show_header=True, header_style="bold")
    src.add_column("field")
    for origin in origins:
        src.add_column(origin, justify="right")
    for name in SCORED_FIELDS:
        if name in tally:
            src.add_row(
                name,
                *(f"{c[0]}/{c[1]}" if (c := tally[name].get(origin)) else "" for origin in origins),
            )
    out.print(src)
    asked = sum(o.model_calls for o in outcomes)
    out.print(
        f"right/read per source. The model was asked {asked} question(s) in {n} claims: only "
        "when the finders' evidence was not decisive (a model answer that disagrees with the "
        "top candidate sends the claim to a person as 'ambiguous')."
    )
    if paid:
        out.print("\n[bold]Where each paid value was read[/]")
        for o in paid:
            out.print(
                f"  [bold]{o.sample_id}[/] paid ${o.paid.get('amount_usd')}: "
                + _provenance_line(o.readings)
            )

    out.rule("[bold]How well the claims were read")
    right = sum(o.score.fields_right for o in outcomes)
    total = sum(o.score.fields_total for o in outcomes)
    whole = sum(o.score.claim_right for o in outcomes)
    employee = sum(o.score.employee_right for o in outcomes)
    judged = [o for o in outcomes if o.expected_verdict]
    agree = sum(o.verdict == o.expected_verdict for o in judged)
    out.print(
        f"fields right: [bold]{right}/{total} ({_pct(right, total)})[/] · whole claims right: "
        f"[bold]{whole}/{n} ({_pct(whole, n)})[/] · employee/date copied right: {employee}/{n} · "
        f"verdict as expected: [bold]{agree}/{len(judged)} ({_pct(agree, len(judged))})[/]"
    )
    per_field = field_tally(outcomes)
    out.print(
        "per field: "
        + " · ".join(
            f"{name} {_pct(r, t)} ({t})"
            for name in SCORED_FIELDS
            if (rt := per_field.get(name)) and (r := rt[0]) is not None and (t := rt[1])
        )
    )
    out.print(
        "[dim](compared with the claims written for the samples; description and justification "
        "are free text and not scored)[/]"
    )

    out.rule("[bold]Where the time went")
    model_s = sum(o.model_ms for o in outcomes) / 1000
    rules_s = sum(o.rules_ms for o in outcomes) / 1000
    tool_s = sum(o.tool_ms for o in outcomes) / 1000
    calls = sum(o.model_calls for o in outcomes)
    out.print(
        f"{elapsed:.0f} s for {n} claims ({elapsed / n:.1f} s a claim) · model {model_s:.1f} s "
        f"({calls} calls, {model_s / max(calls, 1):.1f} s each) · rules {rules_s:.2f} s · store "
        f"{store_s:.2f} s · tools (reader incl. model load, ledger) {tool_s:.2f} s"
    )

    out.rule("[bold]Look at it")
    db_opt = "" if url == _default_url() else f" --db '{url}'"
    out.print(f"  nesyflow runs list{db_opt}              every run, newest first")
    out.print(
        f"  nesyflow runs show RUN_ID{db_opt}       a run's trace: where each value was read, "
        "the claim, facts, verdict"
    )
    out.print(f"  nesyflow reviews list{db_opt}           the claims waiting for a person")
    out.print(
        f"  nesyflow reviews approve REVIEW_ID{db_opt}  decide one; then nesyflow resume RUN_ID pays it"
    )
    out.print("  nesyflow console                  the same in the browser (traces, review queue)")
    out.print(f"  payments: the ledger is in the store ({url}), one record per payment")


def _provenance_line(readings: list[dict[str, Any]]) -> str:
    """``amount 27.40 ← receipt[95:108] 'Total  $27.40'`` for the fields a payment rests on."""
    parts = []
    for r in readings:
        name = str(r.get("field", "")).rsplit(".", 1)[-1]
        if name not in ("amount", "date", "merchant", "category", "city_tier"):
            continue
        where = (
            f"{r.get('source')}[{r.get('start')}:{r.get('end')}]"
            if r.get("start") is not None
            else str(r.get("origin"))
        )
        parts.append(f"{name} {r.get('value')} ← {r.get('origin')} {where} ({r.get('detail')})")
    return "; ".join(parts)


def _default_url() -> str:
    try:
        from nesyflow.store import default_url

        return str(default_url())
    except Exception:
        return ""


def _catalogue(flow: Any) -> dict[str, str]:
    """Rule id → the catalogue sentence, from the packs the workflow uses."""
    from nesyflow.engine.checking import load_packs

    sentences: dict[str, str] = {}
    for node in flow.nodes.values():
        for _ref, pack, _problem in load_packs(node.packs):
            if pack is None:
                continue
            for rule_id, entry in getattr(pack, "catalogue", {}).items():
                sentences[str(rule_id)] = str(getattr(entry, "message", entry))
    return sentences
