"""Runs: search and page through runs; one run opens into the timeline of its steps, and each step
into its prompt, raw and parsed output, facts, check result, reasks and decisions."""

from __future__ import annotations

import json
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st
from console import data, fmt, session

from nesyflow.logic import Verdict, read_reasons
from nesyflow.store import RunStatus, Step
from nesyflow.store import queries as q

session.gate()  # with accounts, nothing shows before sign-in
store = data.store()
PAGE_SIZE = 50


def _open(run_id: str | None) -> None:
    if run_id:
        st.query_params["run"] = run_id
    else:
        st.query_params.pop("run", None)
        st.query_params.pop("step", None)


def _reset_page() -> None:
    st.session_state["runs-page"] = 1


def listing() -> None:
    st.title("Runs")
    cols = st.columns([4, 2, 2])
    search = cols[0].text_input(
        "Search",
        key="r-search",
        placeholder="run id, workflow, node or words in the input",
        on_change=_reset_page,
    )
    status = cols[1].selectbox(
        "Status",
        ["All", *[s.value for s in RunStatus]],
        key="r-status",
        on_change=_reset_page,
        format_func=lambda s: s if s == "All" else fmt.STATUS[s][2],
    )
    workflow = cols[2].selectbox(
        "Workflow", ["All", *q.workflow_names(store)], key="r-workflow", on_change=_reset_page
    )
    page = int(st.session_state.get("runs-page", 1))
    result = q.list_runs(
        store,
        search=search.strip() or None,
        status=None if status == "All" else status,
        workflow=None if workflow == "All" else workflow,
        page=page,
        page_size=PAGE_SIZE,
    )
    st.caption(
        f"**{result.total:,}** run{'s' if result.total != 1 else ''}, newest first "
        "· select a row to open its trace"
    )
    if not result.items:
        st.info("No run matches.")
        return
    masks = data.masks()
    frame = pd.DataFrame(
        [
            {
                "started": r.created_at.replace(tzinfo=None),
                "workflow": r.workflow,
                "status": fmt.STATUS.get(r.status.value, ("", "", r.status.value))[2],
                "at node": r.current_node or "",
                "took": fmt.ms((r.updated_at - r.created_at).total_seconds() * 1000),
                "note": (masks.mask(r, r.id).error or "")[:120] if r.error else "",
                "run": r.id,
            }
            for r in result.items
        ]
    )
    picked = st.dataframe(
        frame,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="runs-table",
        column_config={"started": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
    )
    rows = getattr(getattr(picked, "selection", None), "rows", None) or []
    if rows:
        _open(str(frame.iloc[rows[0]]["run"]))
        st.rerun()
    if result.pages > 1:
        st.pagination(
            result.pages,
            default=result.page,
            key="runs-pager",
            on_change=lambda: st.session_state.update(
                {"runs-page": st.session_state["runs-pager"]}
            ),
        )


def trace(run_id: str) -> None:
    st.button(
        "All runs",
        icon=":material/arrow_back:",
        on_click=_open,
        args=(None,),
        type="tertiary",
        key="back",
    )
    run = store.find_run(run_id)
    if run is None:
        st.error(f"There is no run `{run_id}` in this store.")
        return
    # Everything shown comes through the run's mask (sensitive values as placeholders).
    mask = data.masks().of(run_id)
    run = mask.mask(run)
    steps = [mask.mask(s) for s in q.run_steps(store, run_id)]
    reviews = [mask.mask(r) for r in store.reviews_for_run(run_id)]
    decided = {d.review_id: mask.mask(d) for d in q.decisions_for_run(store, run_id)}
    if mask:
        st.caption(f":material/visibility_off: Sensitive values masked ({', '.join(mask.kinds)}).")

    st.title(f"{run.workflow} · run {fmt.short_id(run.id)}")
    st.markdown(
        f"{fmt.status_badge(run.status)} started {fmt.when(run.created_at)} · last change "
        f"{fmt.age(run.updated_at)} ago"
        + (f" · at **{run.current_node}**" if run.current_node else "")
    )
    if run.error:
        (st.error if run.status.value == "failed" else st.warning)(run.error)
    for review in reviews:
        decision = decided.get(review.id)
        text = (
            f"{fmt.action_badge(decision.action)} by **{decision.who}**"
            + (f" — “{decision.comment}”" if decision.comment else "")
            if decision
            else "waiting for a person"
        )
        cols = st.columns([5, 1.3], vertical_alignment="center")
        cols[0].markdown(
            f":material/gavel: Review at **{review.node}** "
            f"{fmt.verdict_badge(review.verdict)} · {text}"
        )
        cols[1].page_link(
            "pages/reviews.py", label="Open review", query_params={"review": review.id}
        )

    totals = st.columns(6)
    totals[0].metric("Steps", len(steps))
    totals[1].metric("Model", fmt.ms(sum(s.model_ms for s in steps)))
    totals[2].metric("Rules", fmt.ms(sum(s.rules_ms for s in steps)))
    totals[3].metric("Store", fmt.ms(sum(s.store_ms for s in steps)))
    totals[4].metric("Tokens", f"{sum(s.tokens_in + s.tokens_out for s in steps):,}")
    totals[5].metric("Cost", fmt.cost(sum(s.cost for s in steps)))
    with st.expander("Run input"):
        st.json(run.input if run.input is not None else {})

    if not steps:
        st.info("No step has been recorded yet.")
        return
    st.subheader("Timeline")
    st.altair_chart(_latency_chart(steps), width="stretch")
    selected = st.query_params.get("step")
    for s in steps:
        _step(s, steps, decided, open_=selected == str(s.seq))


def _latency_chart(steps: list[Step]) -> Any:
    rows = []
    for s in steps:
        label = f"#{s.seq} {s.node}" + (f" (try {s.attempt})" if s.attempt > 1 else "")
        for phase, value in (
            ("model", s.model_ms),
            ("rules", s.rules_ms),
            ("tool", s.tool_ms),
            ("store", s.store_ms),
        ):
            rows.append({"step": label, "seq": s.seq, "phase": phase, "ms": round(value, 1)})
    frame = pd.DataFrame(rows)
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("step:N", sort=alt.EncodingSortField(field="seq", op="min"), title=None),
            x=alt.X("sum(ms):Q", title="milliseconds"),
            color=alt.Color(
                "phase:N",
                scale=alt.Scale(
                    domain=["model", "rules", "tool", "store"],
                    range=["#748ffc", "#f59f00", "#20c997", "#adb5bd"],
                ),
                legend=alt.Legend(orient="bottom", title=None),
            ),
            tooltip=["step:N", "phase:N", "ms:Q"],
        )
        .properties(height=max(60, 30 * len(steps)))
    )


def _step(s: Step, steps: list[Step], decided: dict[str, Any], *, open_: bool) -> None:
    icon = {
        Verdict.PASS: ":material/check_circle:",
        Verdict.FAIL: ":material/cancel:",
        Verdict.REVIEW: ":material/person_search:",
        Verdict.DENY: ":material/block:",
    }.get(s.verdict or "", ":material/radio_button_unchecked:")
    label = (
        f"**#{s.seq} · {s.node}** · {s.kind}"
        + (f" · try {s.attempt}" if s.attempt > 1 else "")
        + f" · {fmt.VERDICT.get(s.verdict or '', ('', '', s.verdict or '—'))[2]}"
        + f" · {fmt.ms(s.model_ms + s.rules_ms + s.tool_ms + s.store_ms)}"
    )
    with st.expander(label, icon=icon, expanded=open_):
        st.markdown(
            " ".join(
                [
                    fmt.verdict_badge(s.verdict),
                    fmt.badge(s.model, "blue", "smart_toy") if s.model else "",
                    fmt.badge(f"model {fmt.ms(s.model_ms)}", "gray"),
                    fmt.badge(f"rules {fmt.ms(s.rules_ms)}", "gray"),
                    fmt.badge(f"tool {fmt.ms(s.tool_ms)}", "gray") if s.tool_ms else "",
                    fmt.badge(f"store {fmt.ms(s.store_ms)}", "gray"),
                    fmt.badge(f"{s.tokens_in:,} → {s.tokens_out:,} tokens", "gray")
                    if s.tokens_in or s.tokens_out
                    else "",
                    fmt.badge(fmt.cost(s.cost), "gray") if s.cost else "",
                ]
            )
            + (f"  \nChecked by {s.pack}" if s.packs else "")
            + f"  \n{fmt.when(s.created_at)}"
        )
        if s.error:
            st.error(s.error)
        tabs = st.tabs(
            [
                "Parsed output",
                "Prompt",
                "Raw model output",
                "Facts",
                "Check",
                "Reasks",
                "Decisions",
                "Input",
            ]
        )
        with tabs[0]:
            st.json(s.output if s.output is not None else {}, expanded=3)
        with tabs[1]:
            _prompt(s.prompt)
        with tabs[2]:
            st.code(
                s.raw_output or "(no model call in this step)", language="json", wrap_lines=True
            )
        with tabs[3]:
            st.code(s.facts or "(no facts: this step was not checked)", language="prolog")
        with tabs[4]:
            _check(s)
        with tabs[5]:
            tries = [
                t for t in steps if t.node == s.node and t.visit == s.visit and t.kind == s.kind
            ]
            if len(tries) <= 1:
                st.caption("No reask: the first answer was used.")
            for t in tries:
                st.markdown(f"**Try {t.attempt}** {fmt.verdict_badge(t.verdict)} — step #{t.seq}")
                for reason in read_reasons(
                    t.check.get("reasons") if isinstance(t.check, dict) else None
                ):
                    st.markdown(f"- {reason.text}")
        with tabs[6]:
            notes = [t for t in steps if t.kind == "decision" and t.node == s.node]
            if not notes:
                st.caption("No decision by a person at this node.")
            for t in notes:
                note = t.inputs or {}
                st.markdown(
                    f"{fmt.action_badge(note.get('action', '?'))} by **{note.get('who', '?')}** "
                    f"({fmt.when(t.created_at)})"
                    + (f" — “{note['comment']}”" if note.get("comment") else "")
                )
                if t.output is not None:
                    st.json(t.output, expanded=1)
        with tabs[7]:
            st.json(s.inputs if s.inputs is not None else {}, expanded=2)


def _prompt(prompt: Any) -> None:
    if not prompt:
        st.caption("No prompt: this step made no model call.")
        return
    messages = prompt if isinstance(prompt, list) else [prompt]
    for message in messages:
        if isinstance(message, dict) and "content" in message:
            with st.chat_message(
                "user"
                if message.get("role") == "user"
                else "assistant"
                if message.get("role") == "assistant"
                else "ai"
            ):
                st.caption(str(message.get("role", "")))
                st.text(str(message["content"]))
        else:
            st.code(json.dumps(message, indent=2, default=str), language="json")


def _check(s: Step) -> None:
    check = s.check if isinstance(s.check, dict) else None
    if not check:
        st.caption("Not checked by rules.")
        return
    st.markdown(f"Verdict {fmt.verdict_badge(check.get('verdict'))}")
    for reason in read_reasons(check.get("reasons")):
        st.markdown(f"- **{reason.rule or reason.kind}** — {reason.text}")
    with st.expander("Full check result (JSON)"):
        st.json(check, expanded=False)


run_param = st.query_params.get("run")
if run_param:
    trace(run_param)
else:
    listing()
