"""How the console writes verdicts, statuses, ages, durations and money (one place, one look)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from nesyflow.logic import Verdict

__all__ = [
    "STATUS",
    "VERDICT",
    "age",
    "badge",
    "cost",
    "ms",
    "short_id",
    "status_badge",
    "verdict_badge",
    "when",
]

# verdict -> (colour, material icon, label)
VERDICT: dict[str, tuple[str, str, str]] = {
    Verdict.PASS: ("green", "check_circle", "pass"),
    Verdict.REVIEW: ("orange", "person_search", "review"),
    Verdict.FAIL: ("red", "cancel", "fail"),
    Verdict.DENY: ("red", "block", "denied"),
    Verdict.UNKNOWN: ("gray", "help", "unknown"),
}
STATUS: dict[str, tuple[str, str, str]] = {
    "running": ("blue", "progress_activity", "running"),
    "waiting_review": ("orange", "hourglass_top", "waiting for review"),
    "completed": ("green", "task_alt", "completed"),
    "rejected": ("red", "do_not_disturb_on", "rejected"),
    "failed": ("violet", "error", "failed"),
    "open": ("orange", "hourglass_top", "open"),
    "decided": ("green", "gavel", "decided"),
}
SEVERITY = {"critical": "red", "high": "red", "medium": "orange", "low": "gray"}
ACTION = {"approve": "green", "edit": "blue", "reject": "red"}


def badge(label: str, colour: str = "gray", icon: str | None = None) -> str:
    """Streamlit markdown for a coloured badge."""
    text = label.replace("[", "(").replace("]", ")")
    return f":{colour}-badge[:material/{icon}: {text}]" if icon else f":{colour}-badge[{text}]"


def verdict_badge(verdict: str | None) -> str:
    if not verdict:
        return badge("—")
    colour, icon, label = VERDICT.get(verdict, ("gray", "help", verdict))
    return badge(label, colour, icon)


def status_badge(status: Any) -> str:
    value = getattr(status, "value", status)
    colour, icon, label = STATUS.get(str(value), ("gray", "help", str(value)))
    return badge(label, colour, icon)


def severity_badge(severity: str | None) -> str:
    return badge(severity or "—", SEVERITY.get(severity or "", "gray"))


def action_badge(action: Any) -> str:
    value = str(getattr(action, "value", action))
    return badge(value, ACTION.get(value, "gray"))


def age(since: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """How long ago, as a person says it: '42 s', '12 min', '5 h 10 min', '3 d 4 h'."""
    if since is None:
        return "—"
    now = now or dt.datetime.now(dt.UTC)
    if since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def when(value: dt.datetime | None) -> str:
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def ms(value: float | None) -> str:
    if not value:
        return "0 ms"
    return f"{value / 1000:.1f} s" if value >= 1000 else f"{value:.0f} ms"


def cost(value: float | None) -> str:
    if not value:
        return "$0"
    return f"${value:.4f}" if value < 1 else f"${value:,.2f}"


def short_id(value: str | None) -> str:
    """The distinguishing tail of a UUIDv7 (its head is the timestamp, shared by neighbours)."""
    return "—" if not value else value[-12:]
