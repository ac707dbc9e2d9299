"""OpenTelemetry traces of runs, off unless asked for (the standard ``OTEL_*`` variables, or
:func:`use`). Off, nothing of OpenTelemetry is imported and a span is one shared no-op object.

Modules: ``config`` (the variables → a tracer provider), ``spans`` (the small facade the engine
calls: :func:`span`, :class:`SpanRef`). What the engine reports is in ``nesyflow.engine.tracing``.
"""

from nesyflow.telemetry.config import TelemetryError, enabled, use
from nesyflow.telemetry.spans import Span, SpanRef, current, current_ref, span

__all__ = [
    "Span",
    "SpanRef",
    "TelemetryError",
    "current",
    "current_ref",
    "enabled",
    "span",
    "use",
]
