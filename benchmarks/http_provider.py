"""Benchmark the HTTP path: the embedded model in-process vs the same GGUF behind llama-cpp-python's
OpenAI-compatible server (litellm ``openai/`` route), in ``grammar`` and ``json`` modes.

    .venv/bin/python benchmarks/http_provider.py          # ~1-3 minutes on one thread

Same 10 sentences and 6-field schema as ``benchmarks/local_model.py`` (zero-shot). Per mode: latency
(mean, median, max), parse rate, field accuracy, and for ``grammar`` how many outputs are identical
to the in-process ones. Prints a summary and writes ``benchmarks/results/http_provider.json``.
The server runs on 127.0.0.1, one thread, started and stopped here (the tests' helper).
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import secrets
import statistics
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("NESYFLOW_LOCAL_THREADS", "1")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "llm"))

from llama_server import MODEL_ALIAS, llama_server  # noqa: E402
from local_model import CASES, FIELDS, SYSTEM, TEMPLATE, Expense, _field_ok  # noqa: E402

RESULTS = HERE / "results" / "http_provider.json"


def _run(label: str, model: str, **kwargs: object) -> dict:
    from nesyflow.llm import generate, render_messages

    rows = []
    for text, want in CASES:
        messages = render_messages(SYSTEM, TEMPLATE, {"text": text})
        call = generate(model, messages, Expense, **kwargs)
        got = call.output.model_dump(mode="json") if call.output else None
        correct = {f: bool(got) and _field_ok(f, got[f], want[f]) for f in FIELDS}
        rows.append(
            {
                "parsed": got is not None,
                "latency_s": round(call.latency_s, 3),
                "tokens_in": call.tokens_in,
                "tokens_out": call.tokens_out,
                "raw": call.raw,
                "correct": sum(correct.values()),
            }
        )
        print(f"  [{label}] {call.latency_s:5.2f}s {sum(correct.values())}/6 {got}")
    latencies = [r["latency_s"] for r in rows]
    return {
        "calls": len(rows),
        "parse_rate": sum(r["parsed"] for r in rows) / len(rows),
        "latency_s_mean": round(statistics.mean(latencies), 3),
        "latency_s_median": round(statistics.median(latencies), 3),
        "latency_s_max": round(max(latencies), 3),
        "tokens_in_mean": round(statistics.mean(r["tokens_in"] for r in rows), 1),
        "field_accuracy": round(sum(r["correct"] for r in rows) / (6 * len(rows)), 3),
        "rows": rows,
    }


def main() -> int:
    from nesyflow.llm import local_model_path

    key = f"sk-bench-{secrets.token_hex(8)}"
    results: dict = {
        "model": "SmolLM2-135M-Instruct Q4_1; in-process vs llama_cpp.server, one thread each",
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": sys.version.split()[0],
            "load_average_at_start": os.getloadavg()[0],
        },
        "date": datetime.date.today().isoformat(),
    }
    results["in_process"] = _run("in-process", "local/smollm2")
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "server.log"
        with llama_server(local_model_path(), key, log) as server:
            http = {"api_base": server.base_url, "api_key": key}
            model = f"openai/{MODEL_ALIAS}"
            results["http_grammar"] = _run("http grammar", model, mode="grammar", **http)
            results["http_json"] = _run("http json", model, mode="json", **http)
    same = sum(
        a["raw"] == b["raw"]
        for a, b in zip(results["in_process"]["rows"], results["http_grammar"]["rows"], strict=True)
    )
    results["http_grammar"]["identical_to_in_process"] = same
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print()
    for name in ("in_process", "http_grammar", "http_json"):
        r = results[name]
        print(
            f"{name:13s} parse {r['parse_rate']:.0%}  latency mean {r['latency_s_mean']}s "
            f"median {r['latency_s_median']}s max {r['latency_s_max']}s  "
            f"prompt tokens {r['tokens_in_mean']}  fields right {r['field_accuracy']:.0%}"
        )
    print(f"grammar over HTTP identical to in-process: {same}/{len(CASES)}")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
