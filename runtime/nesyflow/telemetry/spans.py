"""The facade the engine traces through: :func:`span` and the :class:`SpanRef` a run keeps.

Off, :func:`span` returns one shared no-op object (its ``set`` / ``event`` / ``error`` do nothing,
its ``ref`` is ``None``): a step pays one function call and a global read. On, it is a real
OpenTelemetry span made current, so spans opened inside it (a model call, a rule check) are its
children. A span can be placed under a stored parent (``parent``: a run's root, kept in its
checkpoint) and linked to others (``links``) — how a resume days later joins the run's trace.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel, ConfigDict

from nesyflow.telemetry.config import tracer

__all__ = ["OFF", "Span", "SpanRef", "current", "current_ref", "span"]


class SpanRef(BaseModel):
    """A span's identity as text (W3C trace-context hex): what a run keeps to continue its trace."""

    model_config = ConfigDict(frozen=True)

    trace_id: str  # 32 hex digits
    span_id: str  # 16 hex digits

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-01"


def _value(value: Any) -> Any:
    """An attribute value OpenTelemetry takes (str, bool, int, float, or a list of one of them)."""
    if isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        items = [v if isinstance(v, (str, bool, int, float)) else str(v) for v in value]
        return [str(v) for v in items] if len({type(v) for v in items}) > 1 else items
    return str(value)


def _attrs(attributes: dict[str, Any]) -> dict[str, Any]:
    return {k: _value(v) for k, v in attributes.items() if v is not None}


class Span:
    """A live span: add attributes and events, mark it failed; ``ref`` is its identity."""

    __slots__ = ("_span",)

    def __init__(self, otel_span: Any) -> None:
        self._span = otel_span

    def set(self, **attributes: Any) -> None:
        self._span.set_attributes(_attrs(attributes))

    def event(self, name: str, **attributes: Any) -> None:
        self._span.add_event(name, _attrs(attributes))

    def error(self, message: str) -> None:
        from opentelemetry.trace import Status, StatusCode

        self._span.set_status(Status(StatusCode.ERROR, message))

    @property
    def ref(self) -> SpanRef | None:
        ctx = self._span.get_span_context()
        if not ctx.is_valid:
            return None
        return SpanRef(trace_id=f"{ctx.trace_id:032x}", span_id=f"{ctx.span_id:016x}")


class _Off:
    """The span when traces are off: a context manager and a span that do nothing."""

    __slots__ = ()
    ref = None

    def __enter__(self) -> _Off:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def set(self, **attributes: Any) -> None:
        return None

    def event(self, name: str, **attributes: Any) -> None:
        return None

    def error(self, message: str) -> None:
        return None


OFF = _Off()


def _context_of(ref: SpanRef) -> Any:
    from opentelemetry import trace

    ctx = trace.SpanContext(
        trace_id=int(ref.trace_id, 16),
        span_id=int(ref.span_id, 16),
        is_remote=True,
        trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED),
    )
    return ctx


@contextmanager
def _live(
    otel: Any,
    name: str,
    attributes: dict[str, Any],
    parent: SpanRef | None,
    links: Sequence[SpanRef],
    root: bool,
) -> Iterator[Span]:
    from opentelemetry import context as otel_context
    from opentelemetry import trace

    if parent is not None:
        ctx = trace.set_span_in_context(trace.NonRecordingSpan(_context_of(parent)))
    elif root:
        ctx = otel_context.Context()  # a trace of its own, whatever the caller has open
    else:
        ctx = None
    made = [trace.Link(_context_of(ref)) for ref in links if ref is not None]
    with otel.start_as_current_span(
        name, context=ctx, links=made, attributes=_attrs(attributes)
    ) as otel_span:
        yield Span(otel_span)


def span(
    name: str,
    attributes: dict[str, Any] | None = None,
    *,
    parent: SpanRef | None = None,
    links: Sequence[SpanRef | None] = (),
    root: bool = False,
) -> Any:
    """A span to use in ``with``: a child of the current span, or of ``parent`` when given, or
    the root of a new trace with ``root=True``. Off, the shared no-op span."""
    otel = tracer()
    if otel is None:
        return OFF
    return _live(otel, name, attributes or {}, parent, [r for r in links if r is not None], root)


def current_ref() -> SpanRef | None:
    """The span the caller is inside (an application's own, say), if traces are on."""
    if tracer() is None:
        return None
    from opentelemetry import trace

    return Span(trace.get_current_span()).ref


def current() -> Any:
    """The innermost nesyflow-or-application span as a :class:`Span` (no-op when off)."""
    if tracer() is None:
        return OFF
    from opentelemetry import trace

    return Span(trace.get_current_span())
