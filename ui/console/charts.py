"""Chart data and colours shared by the pages (Altair over pandas frames)."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

__all__ = ["ORDER", "trend_frame", "verdict_colour"]

ORDER = ["pass", "review", "fail", "deny", "unknown"]
_COLOURS = ["#40c057", "#fd7e14", "#fa5252", "#c92a2a", "#adb5bd"]


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
