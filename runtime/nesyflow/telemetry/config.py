"""Whether traces are on, and the tracer that makes them: the standard ``OTEL_*`` variables.

Off by default. On when ``OTEL_TRACES_EXPORTER`` names an exporter (``otlp``, ``console``, a
comma-separated list) or an OTLP endpoint is set (``OTEL_EXPORTER_OTLP_ENDPOINT`` /
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``, which mean ``otlp``); ``OTEL_SDK_DISABLED=true`` or
``OTEL_TRACES_EXPORTER=none`` turn it off. The OTLP exporter is OTLP/HTTP with protobuf (the `otel`
extra); it reads its own variables (endpoint, headers, timeout, compression), the batch processor
``OTEL_BSP_*``, the sampler ``OTEL_TRACES_SAMPLER``, the resource ``OTEL_SERVICE_NAME`` /
``OTEL_RESOURCE_ATTRIBUTES`` (``service.name`` defaults to ``nesyflow``). nesyflow never sets the
global tracer provider: an application that has one passes it to :func:`use`.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from nesyflow.errors import NesyflowError

__all__ = ["TelemetryError", "enabled", "tracer", "use"]

_EXPORTERS = ("otlp", "console")
_lock = threading.Lock()
_resolved = False
_tracer: Any = None  # an opentelemetry Tracer when on


class TelemetryError(NesyflowError):
    """The ``OTEL_*`` variables ask for something nesyflow cannot do (an exporter it does not
    ship, OpenTelemetry not installed); said before a run moves, so nothing is half-traced."""

    code = "telemetry_config"


def _exporters() -> list[str]:
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    raw = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if not raw:
        endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
            "OTEL_EXPORTER_OTLP_ENDPOINT"
        )
        return ["otlp"] if endpoint else []
    names = [n.strip() for n in raw.split(",") if n.strip()]
    if names == ["none"]:
        return []
    unknown = [n for n in names if n not in _EXPORTERS]
    if unknown:
        raise TelemetryError(
            f"OTEL_TRACES_EXPORTER={raw!r}: nesyflow exports traces with "
            f"{' or '.join(_EXPORTERS)} (or none), not {', '.join(unknown)}"
        )
    return names


def _protocol() -> None:
    protocol = (
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).strip()
    if protocol != "http/protobuf":
        raise TelemetryError(
            f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r}: nesyflow ships the OTLP/HTTP exporter "
            "with protobuf; set http/protobuf (and the collector's HTTP port, usually 4318)"
        )


def _build(names: list[str]) -> Any:
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
    except ModuleNotFoundError as exc:
        raise TelemetryError(
            f"traces are asked for ({', '.join(names)}) but OpenTelemetry is not installed "
            f"({exc.name} is missing): pip install 'nesyflow[otel]'"
        ) from None
    resource = Resource.create()
    if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": "nesyflow"}))
    provider = TracerProvider(resource=resource)
    for name in names:
        if name == "console":
            provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
            continue
        _protocol()
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ModuleNotFoundError as exc:
            raise TelemetryError(
                f"OTEL_TRACES_EXPORTER=otlp but the OTLP/HTTP exporter is not installed "
                f"({exc.name} is missing): pip install 'nesyflow[otel]'"
            ) from None
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def _tracer_of(provider: Any) -> Any:
    from nesyflow import __version__

    return provider.get_tracer("nesyflow", __version__)


def tracer() -> Any:
    """The tracer when traces are on, else ``None`` (decided once per process, or by
    :func:`use`). Raises :class:`TelemetryError` when the variables cannot be honoured."""
    global _resolved, _tracer
    if _resolved:
        return _tracer
    with _lock:
        if not _resolved:
            names = _exporters()
            _tracer = _tracer_of(_build(names)) if names else None
            _resolved = True
    return _tracer


def enabled() -> bool:
    """Whether spans are made (see :func:`tracer`)."""
    return tracer() is not None


def use(provider: Any | None) -> None:
    """Trace with ``provider`` (an OpenTelemetry ``TracerProvider``: the application's own, or a
    test's with an in-memory exporter) instead of the variables; ``None`` reads them again."""
    global _resolved, _tracer
    with _lock:
        _tracer = None if provider is None else _tracer_of(provider)
        _resolved = provider is not None
