"""Which model a step uses: the node's, else the workflow's, else ``$NESYFLOW_MODEL``, else local."""

from __future__ import annotations

import os

__all__ = ["DEFAULT_MODEL", "MODEL_ENV_VAR", "resolve_model"]

#: The embedded offline model (SmolLM2-135M-Instruct through llama.cpp), needs no network or key.
DEFAULT_MODEL = "local/smollm2"
#: Environment variable naming the model used when neither the node nor the workflow names one.
MODEL_ENV_VAR = "NESYFLOW_MODEL"


def _given(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def resolve_model(node_model: str | None, workflow_model: str | None) -> str:
    """Return the litellm model string to use for one step.

    The first one set (not ``None``, not blank) of: the node's model, the workflow's model, the
    ``NESYFLOW_MODEL`` environment variable, and finally :data:`DEFAULT_MODEL` (``local/smollm2``).
    """
    return (
        _given(node_model)
        or _given(workflow_model)
        or _given(os.environ.get(MODEL_ENV_VAR))
        or DEFAULT_MODEL
    )
