"""``generate``: one structured LLM call (instructor over litellm) recorded as an :class:`LLMCall`."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel

from nesyflow.llm.call import LLMCall
from nesyflow.llm.errors import LLMCallError
from nesyflow.llm.providers import Mode, route_for
from nesyflow.llm.replay import litellm_model
from nesyflow.llm.retry import NoChoices, ProviderAttempt, Refused, RetryPolicy, call_with_retries
from nesyflow.llm.scripted import active_script
from nesyflow.llm.secrets import redact

__all__ = ["generate"]

T = TypeVar("T", bound=BaseModel)

_setup_lock = threading.Lock()
_setup_done = False


def _litellm() -> Any:
    """Import litellm offline-safe and register the local provider (once per process)."""
    global _setup_done
    if _setup_done:
        import litellm

        return litellm
    with _setup_lock:
        # Without this litellm fetches its model price map from the network at import time.
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        import litellm

        from nesyflow.llm.local import register_local_provider
        from nesyflow.llm.replay import register_replay_provider

        litellm.suppress_debug_info = True  # no "Give Feedback / Get Help" banners on errors
        register_local_provider()
        register_replay_provider()
        # instructor logs every failed attempt at ERROR level; with no logging configured Python's
        # last-resort handler would print those to stderr. Keep them for apps that configure logging.
        logging.getLogger("instructor").addHandler(logging.NullHandler())
        _setup_done = True
    return litellm


def _mode(mode: Any) -> Any:
    import instructor

    if isinstance(mode, instructor.Mode):
        return mode
    text = str(mode)
    try:
        return instructor.Mode[text.upper()]
    except KeyError:
        return instructor.Mode(text)


def _content(response: Any) -> str | None:
    try:
        content = response.choices[0].message.content
    except (AttributeError, IndexError, TypeError):
        return None
    return content if isinstance(content, str) or content is None else str(content)


def _usage(response: Any) -> tuple[int, int]:
    usage = getattr(response, "usage", None)
    if usage is None:
        return 0, 0
    return int(getattr(usage, "prompt_tokens", 0) or 0), int(
        getattr(usage, "completion_tokens", 0) or 0
    )


def _cost(response: Any) -> float:
    hidden = getattr(response, "_hidden_params", None) or {}
    cost = hidden.get("response_cost")
    try:
        return float(cost) if cost is not None else 0.0
    except (TypeError, ValueError):
        return 0.0


def _parse_errors() -> tuple[type[BaseException], ...]:
    from pydantic import ValidationError

    errors: list[type[BaseException]] = [ValidationError, json.JSONDecodeError]
    try:
        from instructor.v2.core.errors import ResponseParsingError

        errors.append(ResponseParsingError)
    except ImportError:  # pragma: no cover - older instructor
        pass
    return tuple(errors)


def _describe(exc: BaseException, output_type: type[BaseModel]) -> str:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}"
            for err in exc.errors(include_url=False)[:5]
        )
        more = exc.error_count() - 5
        if more > 0:
            problems += f"; and {more} more"
        return f"output is not a valid {output_type.__name__}: {problems}"
    return f"output is not a valid {output_type.__name__}: {type(exc).__name__}: {exc}"


def generate(
    model: str,
    messages: Sequence[dict[str, Any]],
    output_type: type[T],
    *,
    max_parse_retries: int = 2,
    temperature: float | None = 0,
    mode: str | Mode | None = None,
    instructor_mode: Any = None,
    retry: RetryPolicy | None = None,
    **litellm_kwargs: Any,
) -> LLMCall:
    """Ask ``model`` (any litellm model string, or ``local/smollm2``) for an ``output_type``.

    The structured-output ``mode`` is the provider's (:data:`~nesyflow.llm.providers.PROVIDER_MODES`)
    unless ``mode``, the config file or ``$NESYFLOW_MODEL_MODE`` says otherwise (under a scripted
    model with no mode given: ``json_schema``); ``instructor_mode`` still takes a raw instructor mode.
    An answer that does not parse or validate is sent back with the errors and retried up to
    ``max_parse_retries`` times; a parse failure after that is *returned* (``LLMCall.error``), never
    raised. Each HTTP request is retried on its own for transient provider faults (429 honouring
    ``Retry-After``, 5xx, timeouts, cut or garbled bodies) with backoff, bounded by ``retry``
    (default :meth:`RetryPolicy.from_env`); after the bound, or at once for a fault asking again
    cannot fix, :class:`~nesyflow.llm.errors.ProviderFailed` is raised, its message redacted of
    every known secret. Other keyword arguments go to ``litellm.completion`` (``max_tokens``,
    ``api_base``, ``api_key``, ``timeout``…); the config file's settings for the model fill in
    what is not given.
    """
    litellm = _litellm()
    import instructor
    from instructor.v2.core.errors import IncompleteOutputException, InstructorRetryException

    completion = litellm.completion
    script = active_script()
    if script is not None:
        completion = script.wrap(completion)
    policy = retry or RetryPolicy.from_env()
    route = route_for(model, mode=mode, api_base=litellm_kwargs.get("api_base"))
    chosen = route.mode if (mode is not None or script is None) else Mode.JSON_SCHEMA

    sent = [dict(m) for m in messages]
    seen: list[tuple[str | None, int, int, float]] = []  # per attempt: raw, in, out, cost
    tries: list[ProviderAttempt] = []

    def on_response(response: Any) -> None:
        # Read usage now: instructor then overwrites response.usage with the running total.
        seen.append((_content(response), *_usage(response), _cost(response)))

    http = route.provider not in ("local", "scripted", "replay") and script is None

    def provider_completion(*args: Any, **kw: Any) -> Any:
        if http:
            kw.setdefault("max_retries", 0)
        if chosen is Mode.GRAMMAR and instructor_mode is None:
            _to_grammar(kw)
        return call_with_retries(
            lambda: _checked(completion(*args, **kw)), policy, what=model, record=tries
        )

    raw_mode = instructor_mode if instructor_mode is not None else chosen.instructor_mode
    client = instructor.from_litellm(provider_completion, mode=_mode(raw_mode))
    client.on("completion:response", on_response)

    kwargs = {**route.litellm_kwargs(), **litellm_kwargs}
    if temperature is not None:
        kwargs["temperature"] = temperature
    if http:
        # one bounded retry loop, ours (max_retries=0 above): the SDK's would hide attempts and waits
        kwargs.setdefault("timeout", route.timeout_s or policy.timeout_s)
    if chosen is Mode.GRAMMAR:
        kwargs.setdefault("max_tokens", _GRAMMAR_MAX_TOKENS)

    output: BaseModel | None = None
    error: str | None = None
    started = time.perf_counter()
    try:
        output, _ = client.create_with_completion(
            model=litellm_model(model),  # replay:FILE → the replay provider (nesyflow.llm.replay)
            messages=[dict(m) for m in sent],
            response_model=output_type,
            max_retries=max(0, int(max_parse_retries)),
            **kwargs,
        )
    except IncompleteOutputException:
        error = "output was cut off at the token limit (max_tokens) before it was complete JSON"
    except InstructorRetryException as exc:
        cause = exc.__cause__ or exc
        if isinstance(cause, _parse_errors()):
            last = seen[-1][0] if seen else None
            if not (last or "").strip():
                error = f"the model returned an empty response, not a {output_type.__name__}"
            else:
                error = _describe(cause, output_type)
        else:
            _raise_call_error(model, cause)
    except Exception as exc:
        _raise_call_error(model, exc)
    latency = time.perf_counter() - started

    if output is not None:
        output = _plain(output, output_type)
    raws = [raw for raw, _, _, _ in seen]
    if error is not None and len(seen) > 1:
        error += f" (after {len(seen)} attempts)"
    return LLMCall(
        model=model,
        mode=str(raw_mode if instructor_mode is not None else chosen.value),
        messages=sent,
        output=output,
        error=redact(error),
        raw=raws[-1] if raws else None,
        raw_attempts=raws,
        attempts=len(seen),
        provider_attempts=[t.describe() for t in tries],
        tokens_in=sum(s[1] for s in seen),
        tokens_out=sum(s[2] for s in seen),
        cost=sum(s[3] for s in seen),
        latency_s=latency,
    )


_GRAMMAR_MAX_TOKENS = 512  # the embedded model's default, so a server gives the same outputs


def _to_grammar(kw: dict[str, Any]) -> None:
    """Move a ``json_schema`` response_format into the body as nesyflow's strict GBNF grammar."""
    response_format = kw.get("response_format")
    if not isinstance(response_format, dict) or response_format.get("type") != "json_schema":
        return
    from nesyflow.llm.grammar import schema_to_grammar

    spec = response_format.get("json_schema") or {}
    schema = spec.get("schema", spec) if isinstance(spec, dict) else {}
    kw.pop("response_format")
    # llama.cpp's servers default to repeat_penalty 1.1; the embedded model samples with 1.0 —
    # with the same value a server at temperature 0 gives the in-process outputs token for token
    kw["extra_body"] = {
        "repeat_penalty": 1.0,
        **(kw.get("extra_body") or {}),
        "grammar": schema_to_grammar(schema),
    }


def _checked(response: Any) -> Any:
    """A 200 with no choices, or a refusal, is a provider fault, not an answer to parse."""
    choices = getattr(response, "choices", None)
    if not choices:
        raise NoChoices("no choices")
    message = getattr(choices[0], "message", None)
    refusal = getattr(message, "refusal", None)
    if refusal is None:
        extra = getattr(message, "provider_specific_fields", None) or {}
        refusal = extra.get("refusal") if isinstance(extra, dict) else None
    if (
        refusal
        and not getattr(message, "content", None)
        and not getattr(message, "tool_calls", None)
    ):
        raise Refused(str(refusal))
    return response


def _raise_call_error(model: str, exc: BaseException) -> None:
    error = _call_error(model, exc)
    if error is exc or error.__cause__ is not None:
        raise error
    raise error from exc


def _plain(parsed: BaseModel, output_type: type[BaseModel]) -> BaseModel:
    """The output as an instance of exactly ``output_type``.

    instructor returns an instance of a subclass it made (same name) with the raw response stored in
    its ``__dict__``; that breaks ``==``, ``type(x) is T`` and anything walking ``__dict__``.
    The values are already validated, so they are copied over, not validated again.
    """
    if type(parsed) is output_type:
        parsed.__dict__.pop("_raw_response", None)
        parsed.__dict__.pop("_total_usage", None)
        return parsed
    values = {k: parsed.__dict__[k] for k in output_type.model_fields if k in parsed.__dict__}
    clean = output_type.model_construct(_fields_set=set(parsed.model_fields_set), **values)
    if parsed.__pydantic_extra__:
        object.__setattr__(clean, "__pydantic_extra__", dict(parsed.__pydantic_extra__))
    return clean


def _call_error(model: str, exc: BaseException) -> LLMCallError:
    # Our own errors raised inside a provider (e.g. the local model missing) come back wrapped by
    # litellm (APIConnectionError, its message a traceback): find and raise the original.
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, LLMCallError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    text = redact(str(exc).strip()) or ""
    first_line = text.splitlines()[0] if text else ""
    return LLMCallError(
        f"{model}: {type(exc).__name__}: {first_line}",
        details={"model": model, "type": type(exc).__name__, "message": text},
    )
