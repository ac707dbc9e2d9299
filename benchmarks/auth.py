"""What accounts cost: an argon2id hash and a sign-in (verify + log rows), a CLI token lookup, the
who-may-decide check every decision now runs, and a tick over many passed deadlines.

    .venv/bin/python benchmarks/auth.py [--reviews 1000]

Writes benchmarks/results/auth.json (with the machine's load: figures taken while others work are
marked so).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "runtime"))


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50": round(statistics.median(ordered) * 1000, 3),
        "p95": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reviews", type=int, default=1000)
    args = parser.parse_args()

    from nesyflow.auth import SignInPolicy, hash_password, new_token, sign_in, user_for_token
    from nesyflow.review import duties, tick
    from nesyflow.store import ReviewDraft, open_store
    from nesyflow.store.accounts import Accounts
    from nesyflow.store.records import RunStatus

    folder = Path(tempfile.mkdtemp(prefix="nesyflow-auth-bench-"))
    store = open_store(f"sqlite:///{folder / 'store.db'}")
    accounts = Accounts(store)
    hashing = []
    for i in range(10):
        start = time.perf_counter()
        digest = hash_password(f"password number {i}")
        hashing.append(time.perf_counter() - start)
    accounts.add("Ana", ["approver"], digest)
    policy = SignInPolicy(max_failures=10**6)
    signing = []
    for _ in range(20):
        start = time.perf_counter()
        sign_in(accounts, "Ana", "password number 9", policy=policy)
        signing.append(time.perf_counter() - start)
    secret, token_digest = new_token()
    accounts.set_token("Ana", token_digest)
    tokens = []
    for _ in range(200):
        start = time.perf_counter()
        user_for_token(accounts, secret)
        tokens.append(time.perf_counter() - start)

    run = store.create_run("bench", {}, state={}, submitted_by=("Someone",))
    reviews = []
    for i in range(args.reviews):
        checkpoint = store.checkpoint(
            run.id,
            expect_version=run.version + i,
            state={},
            current_node="n",
            status=RunStatus.WAITING_REVIEW,
            review=ReviewDraft(
                node="n",
                visit=i + 1,
                verdict="review",
                required_role="approver",
                deadline_seconds=1,
                on_expiry={"escalate_to": "admin"},
            ),
        )
        reviews.append(checkpoint.review)
    checks = []
    for review in reviews[:200]:
        start = time.perf_counter()
        assert duties.refusal(store, review, "Ana") is None
        checks.append(time.perf_counter() - start)
    time.sleep(1.1)
    start = time.perf_counter()
    handled = tick(store)
    tick_s = time.perf_counter() - start
    assert len(handled) == args.reviews

    load = os.getloadavg()[0]
    results = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "load_1min": round(load, 2),
        "condition": "measured under load" if load > 1.5 else "quiet machine",
        "argon2id_hash_ms": _ms(hashing),
        "sign_in_ms": _ms(signing),
        "token_lookup_ms": _ms(tokens),
        "who_may_decide_check_ms": _ms(checks),
        "tick": {"reviews": args.reviews, "seconds": round(tick_s, 3)},
    }
    out = ROOT / "benchmarks" / "results" / "auth.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
