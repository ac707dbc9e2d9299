"""``nesyflow replay``: JSON object or JSONL in, one JSON object per action out, exit 0 / 1 / 2."""

import json
import subprocess
import sys

from .sequences import PACK, ROOT

PACK_DIR = str(PACK)
DB = str(ROOT / "agents" / "retail_service" / "data" / "db.json")

AUTH = {
    "name": "find_user_id_by_name_zip",
    "arguments": {"first_name": "Yusuf", "last_name": "Rossi", "zip": "19122"},
}
EXCHANGE = {
    "name": "exchange_delivered_order_items",
    "arguments": {
        "order_id": "#W2378156",
        "item_ids": ["1151293680", "4983901480"],
        "new_item_ids": ["7706410293", "7747408585"],
        "payment_method_id": "credit_card_9513926",
    },
}


def nesyflow(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nesyflow.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_one_sequence_all_allowed_exit_0(tmp_path):
    file = tmp_path / "one.json"
    file.write_text(json.dumps({"actions": [AUTH, EXCHANGE]}, indent=2))
    proc = nesyflow("replay", PACK_DIR, "--db", DB, "--actions", str(file), "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert rows == [
        {"sequence": 0, "index": 0, "name": AUTH["name"], "verdict": "allow", "reasons": []},
        {"sequence": 0, "index": 1, "name": EXCHANGE["name"], "verdict": "allow", "reasons": []},
    ]


def test_jsonl_fresh_database_per_sequence_and_denials_exit_1(tmp_path):
    file = tmp_path / "many.jsonl"
    file.write_text(
        "\n".join(
            [
                json.dumps({"actions": [EXCHANGE]}),  # nobody authenticated
                json.dumps({"actions": [AUTH, EXCHANGE, EXCHANGE]}),  # the second is one too many
                "",
                json.dumps({"actions": [EXCHANGE], "authenticated_user": "yusuf_rossi_9620"}),
            ]
        )
    )
    proc = nesyflow("replay", PACK_DIR, "--actions", str(file), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    got = [
        (r["sequence"], r["index"], r["verdict"], [x["rule"] for x in r["reasons"]]) for r in rows
    ]
    assert got == [
        (0, 0, "deny", ["not_authenticated"]),
        (1, 0, "allow", []),
        (1, 1, "allow", []),
        (1, 2, "deny", ["already_returned_or_exchanged"]),
        (2, 0, "allow", []),  # a fresh database: the exchange of sequence 1 is not seen
    ]
    assert all(r["reasons"][0]["message"] for r in rows if r["reasons"])


def test_require_confirmation_sends_unconfirmed_writes_to_review(tmp_path):
    file = tmp_path / "one.json"
    confirmed = {**EXCHANGE, "confirmed": True}
    file.write_text(json.dumps({"actions": [AUTH, EXCHANGE]}))
    proc = nesyflow(
        "replay", PACK_DIR, "--actions", str(file), "-f", "json", "--require-confirmation"
    )
    assert proc.returncode == 1
    last = json.loads(proc.stdout.splitlines()[-1])
    assert last["verdict"] == "review" and last["reasons"][0]["rule"] == "explicit_confirmation"
    file.write_text(json.dumps({"actions": [AUTH, confirmed]}))
    proc = nesyflow(
        "replay", PACK_DIR, "--actions", str(file), "-f", "json", "--require-confirmation"
    )
    assert proc.returncode == 0, proc.stdout


def test_text_output_names_rules(tmp_path):
    file = tmp_path / "one.json"
    file.write_text(json.dumps({"actions": [EXCHANGE]}))
    proc = nesyflow("replay", PACK_DIR, "--actions", str(file))
    assert proc.returncode == 1
    assert "not_authenticated" in proc.stdout and "1 denied" in proc.stdout


def test_bad_input_exit_2_names_file_line_and_field(tmp_path):
    file = tmp_path / "bad.jsonl"
    bad_args = {"name": "cancel_pending_order", "arguments": {"order_id": "#W1"}}
    file.write_text(
        json.dumps({"actions": [AUTH]}) + "\n" + json.dumps({"actions": [AUTH, bad_args]}) + "\n"
    )
    proc = nesyflow("replay", PACK_DIR, "--actions", str(file))
    assert proc.returncode == 2
    assert f"{file}:2" in proc.stderr and "actions[1].arguments.reason" in proc.stderr
    assert "Traceback" not in proc.stderr

    file.write_text(json.dumps({"actions": [{"name": "refund_everything", "arguments": {}}]}))
    proc = nesyflow("replay", PACK_DIR, "--actions", str(file))
    assert (
        proc.returncode == 2 and "actions[0].name" in proc.stderr and "unknown tool" in proc.stderr
    )

    file.write_text('{"actions": [}\n')
    proc = nesyflow("replay", PACK_DIR, "--actions", str(file))
    assert proc.returncode == 2 and f"{file}:1" in proc.stderr and "invalid JSON" in proc.stderr

    file.write_text(json.dumps({"actions": [AUTH], "authenticated_user": 7}))
    proc = nesyflow("replay", PACK_DIR, "--actions", str(file))
    assert proc.returncode == 2 and "authenticated_user" in proc.stderr

    proc = nesyflow("replay", PACK_DIR, "--actions", str(tmp_path / "nope.json"))
    assert proc.returncode == 2 and "cannot read" in proc.stderr

    file.write_text(json.dumps({"actions": [AUTH]}))
    proc = nesyflow("replay", PACK_DIR, "--actions", str(file), "--db", str(tmp_path / "no.json"))
    assert proc.returncode == 2 and "no such database" in proc.stderr
