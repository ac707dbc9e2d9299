"""Benchmark the embedded model (local/smollm2): load time, speed, extraction latency and accuracy.

    .venv/bin/python benchmarks/local_model.py            # ~1-2 minutes on one thread

Prints a summary and writes benchmarks/results/local_model.json. Offline; one llama.cpp thread
(``NESYFLOW_LOCAL_THREADS`` to change). Extraction: 10 sentences, a 6-field schema (str, float, two
Literals, a date, a Literal), zero-shot and with 2 worked examples in the prompt.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Literal

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("NESYFLOW_LOCAL_THREADS", "1")

from pydantic import BaseModel, Field

RESULTS = Path(__file__).parent / "results" / "local_model.json"


class Expense(BaseModel):
    merchant: str = Field(max_length=60)
    amount: float
    currency: Literal["USD", "EUR", "GBP"]
    category: Literal["meals", "travel", "lodging", "office", "other"]
    date: datetime.date
    payment: Literal["card", "cash", "transfer"]


SYSTEM = (
    "You extract one expense from the text as JSON with the fields: merchant (the shop, restaurant "
    "or company paid), amount (a number), currency (USD, EUR or GBP), category (meals, travel, "
    "lodging, office or other), date (YYYY-MM-DD) and payment (card, cash or transfer). "
    "Use only what the text says."
)
TEMPLATE = "Text: {{ text }}"

EXAMPLES = [
    (
        {"text": "Paid 12.90 GBP cash at Pret A Manger for breakfast on 2024-01-08."},
        Expense(
            merchant="Pret A Manger",
            amount=12.9,
            currency="GBP",
            category="meals",
            date="2024-01-08",
            payment="cash",
        ),
    ),
    (
        {"text": "Hotel Ibis invoice, 2 nights, 189.00 EUR by bank transfer, dated 2023-10-30."},
        Expense(
            merchant="Hotel Ibis",
            amount=189.0,
            currency="EUR",
            category="lodging",
            date="2023-10-30",
            payment="transfer",
        ),
    ),
]

CASES: list[tuple[str, dict]] = [
    (
        "Lunch at Cafe Roma on 2024-05-02 cost 18.40 USD, paid by card.",
        {
            "merchant": "Cafe Roma",
            "amount": 18.4,
            "currency": "USD",
            "category": "meals",
            "date": "2024-05-02",
            "payment": "card",
        },
    ),
    (
        "Taxi to the airport with City Cabs: 35 GBP in cash on 2023-11-20.",
        {
            "merchant": "City Cabs",
            "amount": 35.0,
            "currency": "GBP",
            "category": "travel",
            "date": "2023-11-20",
            "payment": "cash",
        },
    ),
    (
        "On 2024-02-14 I bought printer paper at Staples for 23.99 USD with my card.",
        {
            "merchant": "Staples",
            "amount": 23.99,
            "currency": "USD",
            "category": "office",
            "date": "2024-02-14",
            "payment": "card",
        },
    ),
    (
        "Marriott Berlin charged 312.50 EUR to my card for the stay ending 2024-03-03.",
        {
            "merchant": "Marriott Berlin",
            "amount": 312.5,
            "currency": "EUR",
            "category": "lodging",
            "date": "2024-03-03",
            "payment": "card",
        },
    ),
    (
        "Train ticket from Deutsche Bahn, 89.00 EUR, paid by card on 2024-06-11.",
        {
            "merchant": "Deutsche Bahn",
            "amount": 89.0,
            "currency": "EUR",
            "category": "travel",
            "date": "2024-06-11",
            "payment": "card",
        },
    ),
    (
        "Team dinner at Nando's on 2023-12-15: 146.20 GBP, card.",
        {
            "merchant": "Nando's",
            "amount": 146.2,
            "currency": "GBP",
            "category": "meals",
            "date": "2023-12-15",
            "payment": "card",
        },
    ),
    (
        "Paid Adobe 59.99 USD by bank transfer on 2024-04-01 for a software licence.",
        {
            "merchant": "Adobe",
            "amount": 59.99,
            "currency": "USD",
            "category": "office",
            "date": "2024-04-01",
            "payment": "transfer",
        },
    ),
    (
        "Coffee at Starbucks, 4.75 USD cash, 2024-07-19.",
        {
            "merchant": "Starbucks",
            "amount": 4.75,
            "currency": "USD",
            "category": "meals",
            "date": "2024-07-19",
            "payment": "cash",
        },
    ),
    (
        "Ryanair flight booked on 2024-08-05 for 74.99 EUR with a card.",
        {
            "merchant": "Ryanair",
            "amount": 74.99,
            "currency": "EUR",
            "category": "travel",
            "date": "2024-08-05",
            "payment": "card",
        },
    ),
    (
        "Bought a desk lamp at IKEA for 29.00 GBP in cash on 2024-09-23.",
        {
            "merchant": "IKEA",
            "amount": 29.0,
            "currency": "GBP",
            "category": "office",
            "date": "2024-09-23",
            "payment": "cash",
        },
    ),
]

FIELDS = list(Expense.model_fields)


def _field_ok(name: str, got: object, want: object) -> bool:
    if name == "merchant":
        g, w = str(got).strip().lower(), str(want).lower()
        return bool(g) and (w in g or g in w)
    if name == "amount":
        return abs(float(got) - float(want)) < 0.005  # type: ignore[arg-type]
    if name == "date":
        return str(got) == str(want)
    return got == want


def _speed(llama: object) -> dict[str, float]:
    """Raw llama.cpp speed: prompt processing and free decoding (no grammar), 128 tokens."""
    prompt = "Tell me a long story about a lighthouse keeper. " * 8
    started = time.perf_counter()
    out = llama.create_completion(prompt, max_tokens=1, temperature=0)  # type: ignore[attr-defined]
    prompt_s = time.perf_counter() - started
    n_prompt = out["usage"]["prompt_tokens"]
    started = time.perf_counter()
    out = llama.create_completion(  # type: ignore[attr-defined]
        "Once upon a time", max_tokens=128, temperature=0
    )
    decode_s = time.perf_counter() - started
    n_out = out["usage"]["completion_tokens"]
    return {
        "prompt_tokens_per_s": round(n_prompt / prompt_s, 1),
        "decode_tokens_per_s": round(n_out / decode_s, 1),
        "decode_tokens": n_out,
    }


def _run(condition: str, examples: list) -> dict:
    from nesyflow.llm import generate, render_messages

    rows = []
    for text, want in CASES:
        messages = render_messages(SYSTEM, TEMPLATE, {"text": text}, examples=examples)
        call = generate("local/smollm2", messages, Expense)
        got = call.output.model_dump(mode="json") if call.output else None
        correct = {f: bool(got) and _field_ok(f, got[f], want[f]) for f in FIELDS}
        rows.append(
            {
                "text": text,
                "parsed": call.output is not None,
                "error": call.error,
                "attempts": call.attempts,
                "latency_s": round(call.latency_s, 3),
                "tokens_in": call.tokens_in,
                "tokens_out": call.tokens_out,
                "output": got,
                "correct": correct,
            }
        )
        print(f"  [{condition}] {call.latency_s:5.2f}s {sum(correct.values())}/6  {got}")
    latencies = [r["latency_s"] for r in rows]
    per_field = {f: sum(r["correct"][f] for r in rows) / len(rows) for f in FIELDS}
    gen_tokens = sum(r["tokens_out"] for r in rows)
    return {
        "calls": len(rows),
        "parse_rate": sum(r["parsed"] for r in rows) / len(rows),
        "latency_s_mean": round(statistics.mean(latencies), 3),
        "latency_s_median": round(statistics.median(latencies), 3),
        "latency_s_max": round(max(latencies), 3),
        "tokens_in_mean": round(statistics.mean(r["tokens_in"] for r in rows), 1),
        "tokens_out_mean": round(statistics.mean(r["tokens_out"] for r in rows), 1),
        "end_to_end_output_tokens_per_s": round(gen_tokens / sum(latencies), 1),
        "field_accuracy": round(sum(per_field.values()) / len(FIELDS), 3),
        "field_accuracy_by_field": {f: round(v, 2) for f, v in per_field.items()},
        "all_fields_right": sum(all(r["correct"].values()) for r in rows),
        "rows": rows,
    }


def main() -> int:
    started = time.perf_counter()
    import nesyflow.llm

    import_s = time.perf_counter() - started
    from nesyflow.llm.local import _get_llama, local_model_stats

    llama = _get_llama()
    load_s = local_model_stats()["load_s"]
    speed = _speed(llama)
    print(f"import nesyflow.llm {import_s:.3f}s; model load {load_s:.3f}s; {speed}")

    results = {
        "model": "local/smollm2 (SmolLM2-135M-Instruct Q4_1, llama.cpp)",
        "threads": int(os.environ["NESYFLOW_LOCAL_THREADS"]),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": sys.version.split()[0],
        },
        "date": datetime.date.today().isoformat(),
        "import_nesyflow_llm_s": round(import_s, 3),
        "model_load_s": round(load_s, 3),
        "speed": speed,
        "extraction": {
            "schema_fields": FIELDS,
            "zero_shot": _run("zero-shot", []),
            "two_examples": _run("2 examples", EXAMPLES),
        },
        "nesyflow_llm": nesyflow.llm.__name__,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print()
    for name in ("zero_shot", "two_examples"):
        r = results["extraction"][name]
        print(
            f"{name:13s} parse {r['parse_rate']:.0%}  latency mean {r['latency_s_mean']}s "
            f"median {r['latency_s_median']}s max {r['latency_s_max']}s  "
            f"field accuracy {r['field_accuracy']:.0%} {r['field_accuracy_by_field']}  "
            f"all 6 right {r['all_fields_right']}/10  tokens in/out {r['tokens_in_mean']}/"
            f"{r['tokens_out_mean']}"
        )
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
