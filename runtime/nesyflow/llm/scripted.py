"""A scripted test model: ``generate`` returns given responses, in order, without any model.

    from nesyflow.llm import generate, scripted_responses

    with scripted_responses([Expense(...), '{"amount": "oops"}', "not json"]) as script:
        call = generate("local/smollm2", messages, Expense)   # 1st response: parses
        bad = generate("local/smollm2", messages, Expense)    # 2nd, 3rd: retried, then bad.error
    assert script.calls[0].messages == messages

Each attempt (a parse retry is an attempt) takes the next item:

* ``str`` — the raw text the model "said" (malformed JSON is fine: that is how parse failures are
  tested); ``""`` or ``None`` — an empty answer;
* a pydantic model, ``dict`` or ``list`` — dumped as JSON;
* an exception (instance) — raised as the provider's error (``generate`` raises ``LLMCallError``);
* a callable ``f(messages, response_format) -> any of the above`` — computed per call
  (like pydantic-ai's ``FunctionModel``).

It works for every model string (no provider is reached, nothing loads, no key is needed) because each
response goes through litellm's ``mock_response`` (routed to a ``scripted`` litellm provider that is
never reached), so instructor, retries and ``LLMCall`` accounting run as for a real model
(litellm's mock usage: 10 tokens in, 20 out; cost 0.0). The script is process-wide (all threads), and
scripts nest (the innermost is used). Running out raises :class:`ScriptExhausted`; leftover items
raise on exit unless ``allow_leftover=True``.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from nesyflow.llm.errors import ScriptExhausted

__all__ = ["Script", "ScriptedCall", "active_script", "scripted_responses"]

SCRIPTED_PROVIDER = "scripted"
ScriptItem = Any  # str | None | BaseModel | dict | list | BaseException | Callable


@dataclass
class ScriptedCall:
    """One request the scripted model answered."""

    model: str
    messages: list[dict[str, Any]]
    response_format: dict[str, Any] | None
    response: str


@dataclass
class Script:
    """The responses still to give and the requests answered so far (``calls``)."""

    items: deque[ScriptItem]
    calls: list[ScriptedCall] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def remaining(self) -> int:
        return len(self.items)

    def _next(self, kwargs: dict[str, Any]) -> str:
        messages = list(kwargs.get("messages") or [])
        response_format = kwargs.get("response_format")
        with self._lock:
            if not self.items:
                raise ScriptExhausted(
                    f"scripted model: no response left for call {len(self.calls) + 1} "
                    f"(model {kwargs.get('model')!r})"
                )
            item = self.items.popleft()
        if callable(item) and not isinstance(item, BaseModel | BaseException | type):
            item = item(messages, response_format)
        if isinstance(item, BaseException):
            with self._lock:
                self.calls.append(
                    ScriptedCall(str(kwargs.get("model")), messages, response_format, "")
                )
            raise item
        text = _as_text(item)
        with self._lock:
            self.calls.append(
                ScriptedCall(str(kwargs.get("model")), messages, response_format, text)
            )
        return text

    def wrap(self, completion: Callable[..., Any]) -> Callable[..., Any]:
        """A litellm-``completion``-like function answering from this script via ``mock_response``."""

        _register_scripted_provider()

        def scripted_completion(*args: Any, **kwargs: Any) -> Any:
            text = self._next(kwargs)
            # Route every model string to the (never reached) "scripted" provider: mock_response
            # short-circuits before any provider code, and unknown providers do not error out.
            kwargs["custom_llm_provider"] = SCRIPTED_PROVIDER
            if text:
                kwargs["mock_response"] = text
            else:  # litellm ignores a falsy mock_response: give a whole (empty) response instead
                kwargs["mock_response"] = {
                    "model": str(kwargs.get("model")),
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": ""},
                        }
                    ],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 0, "total_tokens": 10},
                }
            return completion(*args, **kwargs)

        return scripted_completion


def _register_scripted_provider() -> None:
    import litellm

    with _stack_lock:
        if any(i.get("provider") == SCRIPTED_PROVIDER for i in litellm.custom_provider_map):
            return
        from litellm import CustomLLM
        from litellm.llms.custom_llm import CustomLLMError

        class ScriptedLLM(CustomLLM):  # type: ignore[misc]
            def completion(self, *args: Any, **kwargs: Any) -> Any:
                raise CustomLLMError(
                    500, "the scripted model answers only inside scripted_responses"
                )

        litellm.custom_provider_map = [
            *litellm.custom_provider_map,
            {"provider": SCRIPTED_PROVIDER, "custom_handler": ScriptedLLM()},
        ]


def _as_text(item: ScriptItem) -> str:
    if item is None:
        return ""
    if isinstance(item, str):
        return item
    if isinstance(item, BaseModel):
        return item.model_dump_json()
    if isinstance(item, dict | list):
        return json.dumps(item, ensure_ascii=False, default=str)
    raise TypeError(f"scripted model: cannot use {type(item).__name__} as a response")


_stack: list[Script] = []
_stack_lock = threading.Lock()


def active_script() -> Script | None:
    """The innermost active script, or None."""
    with _stack_lock:
        return _stack[-1] if _stack else None


@contextmanager
def scripted_responses(
    items: Iterable[ScriptItem], *, allow_leftover: bool = False
) -> Iterator[Script]:
    """Make every ``generate`` call inside the block answer from ``items``, in order."""
    script = Script(deque(items))
    with _stack_lock:
        _stack.append(script)
    failed = False
    try:
        yield script
    except BaseException:
        failed = True
        raise
    finally:
        with _stack_lock:
            _stack.remove(script)
        if not failed and not allow_leftover and script.items:
            raise AssertionError(
                f"scripted model: {len(script.items)} response(s) never used "
                "(pass allow_leftover=True if that is expected)"
            )
