"""Provider faults: what went wrong with one HTTP call, whether to try again, and the bounded loop.

A provider answering 429 (with or without ``Retry-After``), 5xx, too slowly, with a body cut short or
not JSON is *transient*: :func:`call_with_retries` tries again after an exponential backoff (or the
``Retry-After`` the provider asked for, whichever is longer), up to ``max_attempts``. A refusal, no
choices, a bad key, an unknown model or a prompt too long is not: it fails at once. Either way the
result is data — every :class:`ProviderAttempt` with its time, status, reason and the wait before the
next — and after the bound a :class:`~nesyflow.llm.errors.ProviderFailed` that carries them.

Waits are real sleeps scaled by ``$NESYFLOW_RETRY_SCALE`` (default 1; tests use a small scale and
still see the ``Retry-After`` honoured in the recorded timestamps).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from nesyflow.errors import InputError
from nesyflow.llm.errors import LLMCallError, ProviderFailed
from nesyflow.llm.secrets import redact

__all__ = [
    "RETRY_SCALE_ENV_VAR",
    "TIMEOUT_ENV_VAR",
    "Fault",
    "NoChoices",
    "ProviderAttempt",
    "Refused",
    "RetryPolicy",
    "call_with_retries",
    "classify",
]

T = TypeVar("T")

RETRY_SCALE_ENV_VAR = "NESYFLOW_RETRY_SCALE"
TIMEOUT_ENV_VAR = "NESYFLOW_LLM_TIMEOUT"
ATTEMPTS_ENV_VAR = "NESYFLOW_LLM_ATTEMPTS"
MAX_ATTEMPTS = 20
_RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})


class NoChoices(Exception):
    """The provider answered 200 with an empty choice list."""


class Refused(Exception):
    """The model refused (OpenAI's ``message.refusal``); asking again gets the same."""


def _env_number(name: str, default: float, low: float, high: float) -> float:
    """A number from the environment, or ``default`` when unset; anything else is an error."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:  # NaN fails both comparisons
        raise InputError(f"${name}={raw!r}: must be a number from {low:g} to {high:g}")
    return value


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one provider call: attempts, backoff, the per-request timeout.

    ``time_scale`` multiplies every wait (``$NESYFLOW_RETRY_SCALE``); ``timeout_s`` bounds each HTTP
    request (``$NESYFLOW_LLM_TIMEOUT``, default 120 s); ``max_attempts`` counts the first try
    (``$NESYFLOW_LLM_ATTEMPTS``, default 4, at most 20). A value that is not a number in range is an
    :class:`~nesyflow.errors.InputError` naming the variable. A ``Retry-After`` longer than ``max_wait_s`` is not
    waited for: the call fails at once with the reason (a provider asking for minutes is down).
    """

    max_attempts: int = 4
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0
    max_wait_s: float = 120.0
    timeout_s: float = 120.0
    time_scale: float = 1.0
    jitter: float = 0.25

    @classmethod
    def from_env(cls) -> RetryPolicy:
        attempts = _env_number(ATTEMPTS_ENV_VAR, 4, 1, MAX_ATTEMPTS)
        if attempts != int(attempts):
            raise InputError(f"${ATTEMPTS_ENV_VAR}={attempts:g}: must be a whole number")
        return cls(
            max_attempts=int(attempts),
            timeout_s=_env_number(TIMEOUT_ENV_VAR, 120.0, 0.01, 3600),
            time_scale=_env_number(RETRY_SCALE_ENV_VAR, 1.0, 0.0, 10.0),
        )

    def backoff_s(self, retry_number: int) -> float:
        """Unscaled wait before retry ``retry_number`` (1 = the first retry), with jitter."""
        base = min(self.max_delay_s, self.base_delay_s * 2 ** (retry_number - 1))
        return base * (1 + self.jitter * random.random())


@dataclass(frozen=True)
class Fault:
    """One failed attempt, classified: ``kind`` (stable), HTTP ``status``, whether to retry."""

    kind: str
    reason: str
    status: int | None = None
    retryable: bool = False
    retry_after_s: float | None = None


@dataclass(frozen=True)
class ProviderAttempt:
    """One try of a provider call, as recorded: when, how long, what came back, the wait after."""

    number: int
    started_at: float  # time.time()
    elapsed_s: float
    ok: bool
    kind: str = "ok"
    status: int | None = None
    reason: str = ""
    waited_s: float = 0.0  # the sleep after this attempt, before the next one

    def describe(self) -> str:
        if self.ok:
            return f"attempt {self.number}: ok in {self.elapsed_s:.2f} s"
        status = f" {self.status}" if self.status else ""
        return f"attempt {self.number}:{status} {self.kind}: {self.reason}"


def _status(exc: BaseException) -> int | None:
    for name in ("status_code", "status"):
        value = getattr(exc, name, None)
        if isinstance(value, int):
            return value
    response = getattr(exc, "response", None)
    value = getattr(response, "status_code", None)
    return value if isinstance(value, int) else None


def _retry_after(exc: BaseException) -> float | None:
    """Seconds the provider asked to wait (``Retry-After``: seconds or an HTTP date), if any."""
    try:
        from litellm.litellm_core_utils.exception_mapping_utils import _get_response_headers
        from litellm.utils import _get_retry_after_from_exception_header

        headers = _get_response_headers(original_exception=exc)
        if headers is None or headers.get("retry-after") is None:
            return None
        seconds = _get_retry_after_from_exception_header(headers)
    except Exception:  # litellm's helpers moved or the header is garbage: no hint, use backoff
        return None
    return float(seconds) if seconds is not None and seconds >= 0 else None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    for prefix in ("litellm.", "OpenAIException - "):
        line = line.replace(prefix, "")
    return redact(line[:300]) or ""


def classify(exc: BaseException) -> Fault:
    """What kind of provider trouble ``exc`` is, and whether trying again can help."""
    if isinstance(exc, NoChoices):
        return Fault("no_choices", "the provider returned no choices")
    if isinstance(exc, Refused):
        return Fault("refusal", f"the model refused: {redact(str(exc)) or 'no reason given'}")
    name = type(exc).__name__
    status = _status(exc)
    message = _first_line(exc)
    lowered = message.lower()
    if "timeout" in name.lower() or "timed out" in lowered:
        return Fault("timeout", f"no answer within the timeout ({message})", status, True)
    if name == "ContextWindowExceededError":
        return Fault("context_window", message, status, False)
    if status == 429 or name == "RateLimitError":
        return Fault("rate_limited", message, 429, True, _retry_after(exc))
    if name in ("APIConnectionError",) or "connection error" in lowered:
        return Fault("connection", f"the connection failed or was cut ({message})", status, True)
    if status in (401, 403) or name in ("AuthenticationError", "PermissionDeniedError"):
        return Fault("auth", message, status, False)
    if status is not None and status in _RETRYABLE_STATUS:
        kind = "unavailable" if status == 503 else "server_error"
        if (
            "expecting" in lowered
            or "not json" in lowered
            or ("json" in lowered and "decode" in lowered)
        ):
            kind, message = "bad_response", f"the provider's reply is not JSON ({message})"
        elif "choices" in lowered and "not a list" in lowered:
            kind = "bad_response"
            message = f"the provider's reply is not a chat completion ({message})"
        return Fault(kind, message, status, True, _retry_after(exc))
    if status is not None and 400 <= status < 500:
        return Fault("bad_request", message, status, False)
    return Fault("error", f"{name}: {message}", status, False)


def call_with_retries(
    fn: Callable[[], T],
    policy: RetryPolicy,
    *,
    what: str,
    sleep: Callable[[float], None] = time.sleep,
    record: list[ProviderAttempt] | None = None,
) -> T:
    """``fn()`` with bounded retries of transient faults; :class:`ProviderFailed` after the bound.

    ``record`` (if given) receives every attempt, the successful one included, in order.
    """
    attempts = record if record is not None else []
    first = len(attempts)
    started_all = time.monotonic()
    number = 0
    while True:
        number += 1
        started, wall = time.monotonic(), time.time()
        try:
            result = fn()
        except LLMCallError:  # ours (a missing local model, a script run out): not a provider fault
            raise
        except Exception as exc:
            ours = _ours(exc)
            if ours is not None:  # litellm wraps errors raised in a custom provider: unwrap
                raise ours from None
            fault = classify(exc)
            elapsed = time.monotonic() - started
            last = number >= policy.max_attempts or not fault.retryable
            wait = 0.0
            too_long = False
            if not last:
                wait = policy.backoff_s(number)
                if fault.retry_after_s is not None:
                    if fault.retry_after_s > policy.max_wait_s:
                        too_long = True
                    wait = max(wait, fault.retry_after_s)
            if too_long:
                last, wait = True, 0.0
            attempts.append(
                ProviderAttempt(
                    number, wall, elapsed, False, fault.kind, fault.status, fault.reason, wait
                )
            )
            if last:
                total = time.monotonic() - started_all
                raise _failed(what, fault, attempts[first:], total, too_long, exc) from exc
            sleep(wait * policy.time_scale)
            continue
        attempts.append(ProviderAttempt(number, wall, time.monotonic() - started, True))
        return result


def _ours(exc: BaseException) -> LLMCallError | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, LLMCallError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _failed(
    what: str,
    fault: Fault,
    attempts: list[ProviderAttempt],
    total_s: float,
    too_long: bool,
    exc: BaseException,
) -> ProviderFailed:
    tried = f"{len(attempts)} attempt{'s' if len(attempts) != 1 else ''} over {total_s:.1f} s"
    status = f"{fault.status} " if fault.status else ""
    reason = f"{status}{fault.kind}: {fault.reason}"
    if too_long:
        reason += f" (it asked to wait {fault.retry_after_s:.0f} s, more than nesyflow waits)"
    elif not fault.retryable:
        reason += " (not retried: asking again cannot help)"
    message = f"the model provider failed: {what}: {reason} ({tried})"
    details: dict[str, Any] = {
        "kind": fault.kind,
        "type": type(exc).__name__,
        "model": what,
        "status": fault.status,
        "reason": fault.reason,
        "attempts": [a.describe() for a in attempts],
    }
    return ProviderFailed(message, details=details, fault=fault, attempts=tuple(attempts))
