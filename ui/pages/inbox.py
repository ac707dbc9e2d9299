"""Inbox: what needs attention now — counts, the oldest waiting reviews, the rules that fire most,
and how each workflow's and pack's checks went over time."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st
from console import charts, data, fmt, session

from nesyflow.review import assigned_to_me
from nesyflow.store import queries as q

session.gate()  # with accounts, nothing shows before sign-in
store = data.store()
url = data.store_url()

st.title("Inbox")
counts = q.status_counts(store)
actions = q.decision_counts(store)
open_reviews = counts.reviews.get("open", 0)
st.caption(
    f"{open_reviews:,} review{'s' if open_reviews != 1 else ''} waiting · "
    f"{sum(counts.runs.values()):,} runs in the store"
)

tiles = [
    ("To review", counts.runs.get("waiting_review", 0), ":material/hourglass_top:"),
    ("Running", counts.runs.get("running", 0), ":material/progress_activity:"),
    ("Completed", counts.runs.get("completed", 0), ":material/task_alt:"),
    ("Approved", actions.get("approve", 0) + actions.get("edit", 0), ":material/thumb_up:"),
    ("Rejected", counts.runs.get("rejected", 0), ":material/do_not_disturb_on:"),
    ("Failed", counts.runs.get("failed", 0), ":material/error:"),
]
for column, (label, value, icon) in zip(st.columns(len(tiles)), tiles, strict=True):
    column.metric(f"{icon} {label}", f"{value:,}", border=True)

me = session.signed_in()
if me is not None:
    mine = assigned_to_me(store, me, limit=50)
    overdue = sum(1 for r in mine if r.overdue())
    st.subheader("Assigned to me")
    st.caption(
        f"{len(mine)} review{'s' if len(mine) != 1 else ''} for {me.name}"
        + (f" · **{overdue} overdue**" if overdue else "")
        + " — given to you, your groups, or your role; overdue first"
    )
    for review in mine[:8]:
        with st.container(border=True, key=f"mine-{review.id}"):
            a, b, c = st.columns([1.1, 4, 1.2], vertical_alignment="center")
            due = "no deadline" if review.due_at is None else f"due {review.due_at:%b %d %H:%M} UTC"
            flag = fmt.badge("overdue", "red", "alarm") if review.overdue() else due
            a.markdown(f"{flag}  \n{fmt.verdict_badge(review.verdict)}")
            to = review.assigned_to or (
                f"group {review.assigned_group}" if review.assigned_group else ""
            )
            b.markdown(f"**{review.workflow}** · {review.node}" + (f"  \n{to}" if to else ""))
            c.page_link(
                "pages/reviews.py",
                label="Open",
                icon=":material/open_in_new:",
                query_params={"review": review.id},
            )

left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader("Oldest waiting reviews")
    oldest = q.review_queue(store, page_size=6)
    if not oldest.items:
        st.success("Nothing is waiting for a person. :material/celebration:")
    masks = data.masks()
    for review in (masks.mask(r) for r in oldest.items):
        with st.container(border=True):
            a, b, c = st.columns([1.1, 4, 1.2], vertical_alignment="center")
            a.markdown(f"**{fmt.age(review.created_at)}**  \n{fmt.verdict_badge(review.verdict)}")
            first = next((r for r in review.reasons if r.message), None)
            more = len(review.reasons) - 1
            b.markdown(
                f"**{review.workflow}** · {review.node}  \n"
                + (first.message if first else review.question or "a person must decide")
                + (f" *(+{more} more)*" if more > 0 else "")
            )
            c.page_link(
                "pages/reviews.py",
                label="Open",
                icon=":material/open_in_new:",
                query_params={"review": review.id},
            )
    if oldest.total > len(oldest.items):
        st.page_link(
            "pages/reviews.py",
            label=f"All {oldest.total:,} open reviews",
            icon=":material/arrow_forward:",
        )

with right:
    st.subheader("Rules that fire most")
    days = 30
    firing = data.firing_counts(url, days)[:10]
    if not firing:
        st.info("No rule has fired yet.")
    else:
        st.caption(f"Findings in the last {days} days")
        frame = pd.DataFrame(
            [{"rule": r.rule, "kind": r.kind, "pack": r.pack, "fired": r.count} for r in firing]
        )
        bars = (
            alt.Chart(frame)
            .mark_bar()
            .encode(
                y=alt.Y("rule:N", sort="-x", title=None, axis=alt.Axis(labelLimit=260)),
                x=alt.X("fired:Q", title="findings"),
                color=alt.Color(
                    "kind:N",
                    scale=alt.Scale(
                        domain=["violation", "review", "deny"],
                        range=["#fa5252", "#fd7e14", "#c92a2a"],
                    ),
                    legend=alt.Legend(orient="bottom", title=None),
                ),
                tooltip=["rule:N", "pack:N", "kind:N", "fired:Q"],
            )
            .properties(height=32 * len(frame) + 40)
        )
        st.altair_chart(bars, width="stretch")

st.subheader("Verdicts over time")
top = st.columns([2, 2, 5])
by = top[0].segmented_control(
    "Per", ["workflow", "pack"], default="workflow", key="inbox-by", required=True
)
window = top[1].segmented_control("Days", [7, 14, 30], default=14, key="inbox-days", required=True)
rows = data.trend(url, int(window or 14))
frame = charts.trend_frame(rows, by or "workflow")
if frame.empty:
    st.info("No checked steps in this period.")
else:
    keys = list(frame["key"].drop_duplicates())
    for start in range(0, len(keys), 2):
        for column, key in zip(st.columns(2), keys[start : start + 2], strict=False):
            part = frame[frame["key"] == key]
            total = int(part["count"].sum())
            shares = part.groupby("verdict")["count"].sum() / max(1, total)
            column.markdown(
                f"**{key}** · {total:,} checked steps  \n"
                + " · ".join(f"{v} {shares.get(v, 0):.0%}" for v in charts.ORDER if v in shares)
            )
            chart = (
                alt.Chart(part)
                .mark_bar()
                .encode(
                    x=alt.X("day:T", title=None, axis=alt.Axis(format="%b %d")),
                    y=alt.Y("count:Q", stack="normalize", title="share", axis=alt.Axis(format="%")),
                    color=charts.verdict_colour(),
                    order=alt.Order("rank:Q"),
                    tooltip=["day:T", "verdict:N", "count:Q"],
                )
                .properties(height=180)
            )
            column.altair_chart(chart, width="stretch")
