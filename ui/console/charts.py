"""Chart data and colours shared by the pages (Altair over pandas frames)."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from nesyflow.logic import Verdict

__all__ = ["ORDER", "trend_frame", "verdict_colour"]

# least serious first (the one precedence, nesyflow.logic.worst)
ORDER = [v.value for v in sorted(Verdict, key=lambda v: v.rank)]
_COLOUR = {
    Verdict.PASS: "#40c057",
    Verdict.REVIEW: "#fd7e14",
    Verdict.UNKNOWN: "#adb5bd",
    Verdict.DENY: "#c92a2a",
    Verdict.FAIL: "#fa5252",
}
_COLOURS = [_COLOUR[Verdict(v)] for v in ORDER]


def verdict_colour() -> Any:
    return alt.Color(
        "verdict:N",
        scale=alt.Scale(domain=ORDER, range=_COLOURS),
        legend=alt.Legend(orient="bottom", title=None),
    )


def trend_frame(rows: list[Any], by: str) -> pd.DataFrame:
    """Day × key × verdict counts, ``key`` being the workflow or each pack a step was checked by."""
    records = []
    for row in rows:
        keys = [row.workflow] if by == "workflow" else list(row.packs)
        for key in keys:
            records.append(
                {
                    "day": pd.Timestamp(row.day),
                    "key": key,
                    "verdict": row.verdict,
                    "count": row.count,
                    "rank": ORDER.index(row.verdict) if row.verdict in ORDER else len(ORDER),
                }
            )
    if not records:
        return pd.DataFrame(columns=["day", "key", "verdict", "count", "rank"])
    frame = pd.DataFrame.from_records(records)
    return (
        frame.groupby(["day", "key", "verdict", "rank"], as_index=False)["count"]
        .sum()
        .sort_values(["key", "day", "rank"])
    )
