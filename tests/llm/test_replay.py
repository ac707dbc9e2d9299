"""The file-backed model ``replay:FILE.jsonl``: one raw reply per line, consumed in order — across
threads and processes — through instructor and litellm like any provider; running out is an error."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from nesyflow.llm import LLMCallError, generate
from nesyflow.llm.replay import ReplayError, ReplayExhausted, litellm_model

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = [{"role": "user", "content": "Extract the expense."}]


def _file(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "replies.jsonl"
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def test_replies_come_in_order_and_parse_through_instructor(tmp_path, good_expense, expense_type):
    bad = '{"merchant": "X", "amount": "lots"}'
    path = _file(tmp_path, good_expense.model_dump_json(), bad, good_expense.model_dump_json())
    first = generate(f"replay:{path}", MESSAGES, expense_type)
    assert first.output == good_expense and first.attempts == 1 and first.model == f"replay:{path}"
    second = generate(f"replay:{path}", MESSAGES, expense_type)  # the bad line is retried
    assert second.output == good_expense and second.raw_attempts[0] == bad
    assert second.attempts == 2


def test_a_reply_that_never_parses_is_a_parse_failure_not_a_crash(tmp_path, expense_type):
    path = _file(tmp_path, "not json", "", '{"amount": 1}')
    call = generate(f"replay:{path}", MESSAGES, expense_type, max_parse_retries=2)
    assert call.output is None and call.attempts == 3
    assert call.raw_attempts == ["not json", "", '{"amount": 1}']


def test_running_out_is_an_llm_call_error_naming_the_file(tmp_path, good_expense, expense_type):
    path = _file(tmp_path, good_expense.model_dump_json())
    generate(f"replay:{path}", MESSAGES, expense_type)
    with pytest.raises(ReplayExhausted) as info:
        generate(f"replay:{path}", MESSAGES, expense_type)
    assert isinstance(info.value, LLMCallError) and str(path) in str(info.value)
    assert "all 1 replies are used" in str(info.value)


def test_missing_file_or_no_file_named_is_a_clear_error(tmp_path, expense_type):
    with pytest.raises(ReplayError, match="no such file"):
        generate(f"replay:{tmp_path / 'absent.jsonl'}", MESSAGES, expense_type)
    with pytest.raises(ReplayError, match="name a file"):
        generate("replay:", MESSAGES, expense_type)
    (tmp_path / "latin1.jsonl").write_bytes(b"\xe9\n")
    with pytest.raises(ReplayError, match="not UTF-8"):
        generate(f"replay:{tmp_path / 'latin1.jsonl'}", MESSAGES, expense_type)


def test_editing_the_file_starts_it_over(tmp_path, good_expense, expense_type):
    path = _file(tmp_path, good_expense.model_dump_json())
    generate(f"replay:{path}", MESSAGES, expense_type)
    other = good_expense.model_copy(update={"merchant": "Other"})
    path.write_text(other.model_dump_json() + "\n")
    assert generate(f"replay:{path}", MESSAGES, expense_type).output.merchant == "Other"


def test_threads_never_get_the_same_line(tmp_path, good_expense, expense_type):
    n = 12
    lines = [
        good_expense.model_copy(update={"merchant": f"m{i}"}).model_dump_json() for i in range(n)
    ]
    path = _file(tmp_path, *lines)
    got: list[str] = []

    def call() -> None:
        got.append(generate(f"replay:{path}", MESSAGES, expense_type).output.merchant)

    threads = [threading.Thread(target=call) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == sorted(f"m{i}" for i in range(n))


# The provider's own step, without importing litellm (seconds per process on these machines): the
# litellm path above calls exactly this for every attempt.
_CALL = """
import json, sys
from pathlib import Path
from nesyflow.llm.replay import next_reply
for _ in range(int(sys.argv[2])):
    print(json.loads(next_reply(Path(sys.argv[1])).text)["n"], flush=True)
"""


def _process(path: Path, calls: int) -> subprocess.Popen:
    env = {"PYTHONPATH": str(ROOT / "runtime"), "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    return subprocess.Popen(
        [sys.executable, "-c", _CALL, str(path), str(calls)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**env, "PATH": "/usr/bin:/bin", "HOME": str(path.parent)},
    )


def test_a_second_process_continues_where_the_first_stopped_and_two_at_once_share(tmp_path):
    path = _file(tmp_path, *(json.dumps({"n": i}) for i in range(1, 10)))
    first = _process(path, 2)
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert out.split() == ["1", "2"]
    both = [_process(path, 3), _process(path, 3)]
    outs = [p.communicate(timeout=120) for p in both]
    assert all(p.returncode == 0 for p in both), [e for _o, e in outs]
    numbers = sorted(int(n) for o, _e in outs for n in o.split())
    assert numbers == [3, 4, 5, 6, 7, 8]  # each line once, none lost, none repeated
    last = _process(path, 2)
    out, err = last.communicate(timeout=120)
    assert out.split() == ["9"] and "ReplayExhausted" in err


def test_other_model_strings_are_left_alone():
    assert litellm_model("openai/gpt-4o-mini") == "openai/gpt-4o-mini"
    assert litellm_model("replay:a/b.jsonl") == "replay/a/b.jsonl"
