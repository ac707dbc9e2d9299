"""Reviews: the queue (filter, page, open) and one review (why it is here, input beside output, the
rule and facts behind each finding) with the decision: approve, edit (re-checked live) or reject."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import streamlit as st
from console import data, decisions, fmt, forms, history, packs, provenance, session

from nesyflow.govern import RunMask
from nesyflow.logic import Explanation, Reason
from nesyflow.store import NotFound, ReviewRecord
from nesyflow.store import queries as q

session.gate()  # with accounts, nothing shows before sign-in
store = data.store()
PAGE_SIZE = 25
AGES = {
    "any age": None,
    "> 1 hour": dt.timedelta(hours=1),
    "> 1 day": dt.timedelta(days=1),
    "> 7 days": dt.timedelta(days=7),
}


def _open(review_id: str | None) -> None:
    if review_id:
        st.query_params["review"] = review_id
    else:
        st.query_params.pop("review", None)


def _reset_page() -> None:
    st.session_state["queue-page"] = 1


# -- the queue ------------------------------------------------------------------------------------
def queue() -> None:
    st.title("Reviews")
    cols = st.columns([2, 2, 2, 2, 3])
    everything = "All"
    workflow = cols[0].selectbox(
        "Workflow", [everything, *q.workflow_names(store)], key="f-workflow", on_change=_reset_page
    )
    pack = cols[1].selectbox(
        "Pack", [everything, *q.pack_labels(store)], key="f-pack", on_change=_reset_page
    )
    rule = cols[2].selectbox(
        "Rule", [everything, *q.rule_names(store)], key="f-rule", on_change=_reset_page
    )
    age = cols[3].selectbox("Waiting", list(AGES), key="f-age", on_change=_reset_page)
    search = cols[4].text_input(
        "Search",
        key="f-search",
        placeholder="id, node or words in the reasons",
        on_change=_reset_page,
    )
    filters: dict[str, Any] = {
        "workflow": None if workflow == everything else workflow,
        "pack": None if pack == everything else pack,
        "rule": None if rule == everything else rule,
        "older_than": AGES[age],
        "search": search.strip() or None,
    }
    page_number = int(st.session_state.get("queue-page", 1))
    result = q.review_queue(store, page=page_number, page_size=PAGE_SIZE, **filters)
    if result.total and page_number > result.pages:
        page_number = result.pages
        result = q.review_queue(store, page=page_number, page_size=PAGE_SIZE, **filters)
    first = (result.page - 1) * result.page_size + 1
    st.caption(
        f"**{result.total:,}** open review{'s' if result.total != 1 else ''}"
        + (
            f" · showing {first:,}–{first + len(result.items) - 1:,}, oldest first"
            if result.items
            else ""
        )
    )
    if not result.items:
        st.info("No open review matches." if any(filters.values()) else "The queue is empty.")
        return
    masks = data.masks()
    for review in result.items:
        _queue_row(masks.mask(review))
    if result.pages > 1:
        st.pagination(
            result.pages,
            default=result.page,
            key="queue-pager",
            on_change=lambda: st.session_state.update(
                {"queue-page": st.session_state["queue-pager"]}
            ),
        )


def _queue_row(review: ReviewRecord) -> None:
    with st.container(border=True):
        a, b, c, d = st.columns([1.2, 5, 2.4, 1], vertical_alignment="center")
        a.markdown(f"**{fmt.age(review.created_at)}**  \n{fmt.verdict_badge(review.verdict)}")
        first = next((r for r in review.reasons if r.message), None)
        more = len(review.reasons) - 1
        b.markdown(
            f"**{review.workflow}** · {review.node}  \n"
            + (first.message if first else review.question or "A person must decide.")
            + (f" *(+{more} more)*" if more > 0 else "")
        )
        rules = sorted(set(review.rules))
        c.markdown(" ".join(fmt.badge(r, "gray") for r in rules[:3]) or " ")
        d.button(
            "Open",
            key=f"open-{review.id}",
            on_click=_open,
            args=(review.id,),
            icon=":material/open_in_new:",
        )


# -- one review ----------------------------------------------------------------------------------
def detail(review_id: str) -> None:
    st.button(
        "Queue",
        icon=":material/arrow_back:",
        on_click=_open,
        args=(None,),
        type="tertiary",
        key="back",
    )
    try:
        review = store.get_review(review_id)
    except NotFound:
        st.error(f"There is no review `{review_id}` in this store.")
        return
    run = store.find_run(review.run_id)
    step = store.get_step(review.step_id) if review.step_id else None
    # What is shown comes through the run's mask; the decision works on the stored review, and
    # an edit made over placeholders gets the values back (RunMask.redactor.restore).
    mask = data.masks().of(review.run_id)
    stored = review
    review = mask.mask(review)
    step = mask.mask(step) if step is not None else None
    if mask:
        st.caption(f":material/visibility_off: Sensitive values masked ({', '.join(mask.kinds)}).")

    st.title(f"{review.workflow} · {review.node}")
    identities = [
        f"{p.get('name')}@{p.get('version')} `#{str(p.get('hash', ''))[:12]}`" for p in review.packs
    ]
    st.markdown(
        " ".join(
            [
                fmt.verdict_badge(review.verdict),
                fmt.status_badge(review.status),
                fmt.badge(f"waiting {fmt.age(review.created_at)}", "gray", "schedule")
                if review.status.value == "open"
                else fmt.badge(f"decided {fmt.when(review.decided_at)}", "gray", "gavel"),
            ]
        )
        + "  \n"
        + (f"Rules: {', '.join(identities)} · " if identities else "")
        + f"opened {fmt.when(review.created_at)} · review `{fmt.short_id(review.id)}`"
    )
    st.page_link(
        "pages/runs.py",
        label=f"Run {fmt.short_id(review.run_id)} — full trace",
        icon=":material/timeline:",
        query_params={"run": review.run_id},
    )

    outcome = st.session_state.get(f"outcome:{review.id}")
    if outcome is not None and outcome.ok:
        _show_outcome(outcome, data.masks().of(review.run_id))
    elif review.status.value == "decided":
        decision = store.decision_for(review.id)
        if decision is not None:
            decision = mask.mask(decision)
            st.info(
                f"Decided: **{decision.action.value}** by **{decision.who}** on "
                f"{fmt.when(decision.at)}"
                + (f" — “{decision.comment}”" if decision.comment else ""),
                icon=":material/gavel:",
            )

    if review.question:
        st.markdown(f"> {review.question}")
    _reasons(review)
    is_open = review.status.value == "open"
    provenance.show(
        store,
        run,
        mask,
        # what the edit form holds now (a pick's value included), else the value as held; shown
        mask.data(st.session_state.get(f"edit-data:{stored.id}", stored.output)),
        on_pick=(lambda field, value: _pick(stored, field, value)) if is_open else None,
        key=f"pick-{stored.id}",
    )

    st.subheader("Input and output")
    left, right = st.columns(2, gap="medium")
    with left:
        st.markdown("**What the step was given**")
        given = step.inputs if step is not None and step.inputs is not None else None
        if given is None and run is not None:
            given = mask.data(run.input)
        st.json(given if given is not None else {}, expanded=2)
    with right:
        st.markdown("**What it produced** (held for your decision)")
        st.json(review.output if review.output is not None else {}, expanded=3)

    _precedents(review)

    if is_open:
        _decide(stored, mask)


def _precedents(review: ReviewRecord) -> None:
    """Past decided reviews of the same rules (facts) and alike input (text). The index loads the
    embedding model once per process, so it is asked for, not built on every first view."""
    st.subheader("Similar past decisions")
    if not st.session_state.get("precedents-on"):
        st.caption(
            "The most similar decided reviews of the same rules: shared findings, close values, "
            "alike input (the first search loads the text model, a few seconds)."
        )
        if st.button("Find similar past decisions", icon=":material/history:", key="precedents"):
            st.session_state["precedents-on"] = True
            st.rerun()
        return
    with st.spinner("Searching past decisions…"):
        found = history.precedent_index(data.store_url()).for_review(review.id, k=3)
    if not found:
        st.caption("No decided review of the same packs yet.")
        return
    for p in found:
        with st.container(border=True):
            a, b = st.columns([1.2, 5], vertical_alignment="center")
            colour = {"approve": "green", "edit": "blue", "reject": "red"}.get(p.action, "gray")
            a.markdown(f"{fmt.badge(p.action, colour)}  \n**{p.score:.2f}** similar")
            b.markdown(
                f"**{p.who or '?'}** on {fmt.when(p.decided_at)}"
                + (f" — “{p.comment}”" if p.comment else "")
                + "  \n"
                + " ".join(fmt.badge(r, "gray") for r in p.shared_rules)
                + f" · facts {p.facts:.2f} · text {p.text:.2f} · review `{fmt.short_id(p.review_id)}`"
            )
            b.page_link(
                "pages/reviews.py",
                label="Open it",
                icon=":material/open_in_new:",
                query_params={"review": p.review_id},
            )


def _reasons(review: ReviewRecord) -> None:
    findings = [r for r in review.reasons if r.is_finding]
    others = [r for r in review.reasons if not r.is_finding]
    st.subheader(f"Why it is here ({len(review.reasons)})")
    if not review.reasons:
        st.caption("No rule fired: the workflow asks a person at this step.")
    paths = {p.get("name"): p for p in review.packs}
    for reason in findings:
        with st.container(border=True):
            head = [
                fmt.severity_badge(reason.severity),
                fmt.badge(reason.kind, "gray"),
                f"`{reason.rule}`",
            ]
            st.markdown(" ".join(head))
            detail = f" — about `{reason.detail}`" if reason.detail else ""
            st.markdown(f"#### {reason.message}{detail}")
            for explanation in reason.explanation or (None,):
                _explanation(reason, explanation, paths)
    for reason in others:
        st.warning(reason.text, icon=":material/help:")


def _explanation(reason: Reason, explained: Explanation | None, paths: dict) -> None:
    explanation = explained.model_dump() if explained is not None else {}
    source = explanation.get("rule") or {}
    label = reason.pack
    name = label.split("@")[0]
    identity = paths.get(name, {})
    left, right = st.columns([3, 2], gap="medium")
    with left:
        if source:
            lines = None
            folder = identity.get("path")
            if folder:
                pack, _ = packs.load(folder)
                if pack is not None and pack.identity.hash == identity.get("hash"):
                    lines = packs.file_lines(pack, source["file"])
            title = f"{label} · {source.get('file')}:{source.get('line')}"
            if lines:
                st.html(
                    packs.source_html(
                        lines, source["line"], source.get("end_line", source["line"]), title=title
                    )
                )
            else:
                text = str(source.get("text", "")).splitlines() or [""]
                st.html(
                    packs.source_html(text, 1, len(text), context=0, title=title + " (as recorded)")
                )
        else:
            st.caption("No rule source recorded.")
    with right:
        facts = explanation.get("input_facts") or []
        st.markdown("**Input facts behind it**")
        st.code("\n".join(facts) if facts else "(none)", language="prolog")
        derived = explanation.get("derived_facts") or []
        if derived:
            st.caption("Derived on the way: " + ", ".join(f"`{d}`" for d in derived[:6]))
        bindings = explanation.get("bindings") or {}
        if bindings:
            st.caption("Bindings: " + ", ".join(f"`{k} = {v}`" for k, v in bindings.items()))


# -- deciding --------------------------------------------------------------------------------------
def _decide(review: ReviewRecord, mask: RunMask) -> None:
    st.subheader("Your decision")
    who = session.ask_reviewer("review")
    if not who:
        return
    overriding = review.verdict in decisions.OVERRIDDEN
    n = len(review.rules)
    action_key = f"action-{review.id}"
    from nesyflow.insight.repair import REPAIRABLE  # the search loads only when a review is open

    if review.verdict in REPAIRABLE:
        _repair(review, who, mask)
    action = st.segmented_control(
        "Action",
        ["Approve", "Edit", "Reject"],
        # a candidate picked above has already chosen "Edit" through the session state
        default=None
        if action_key in st.session_state
        else ("Approve" if review.output is not None else "Edit"),
        key=action_key,
        required=True,
    )
    outcome = st.session_state.get(f"outcome:{review.id}")
    if outcome is not None and not outcome.ok:
        st.error(f"Not recorded: {mask.text(outcome.message)}", icon=":material/block:")
        for reason in outcome.reasons:
            if reason.message != outcome.message:  # a refusal of one reason says it once
                st.markdown(f"- {mask.text(reason.text)}")
    if action == "Approve":
        label = "Comment"
        if overriding:
            label += (
                f" — required: approving overrides {n or 'the'} rule finding{'s' if n != 1 else ''}"
            )
        comment = st.text_area(
            label, key=f"comment-approve-{review.id}", placeholder="Why is this all right?"
        )
        if st.button("Approve", type="primary", icon=":material/check:", key="approve-btn"):
            _submit(review, "approve", who, comment, None, None)
    elif action == "Edit":
        _edit(review, who, mask)
    else:
        comment = st.text_area(
            "Comment",
            key=f"comment-reject-{review.id}",
            placeholder="Why is this rejected? (recorded with the run)",
        )
        if st.button("Reject", type="primary", icon=":material/close:", key="reject-btn"):
            _submit(review, "reject", who, comment, None, None)


def _pick(review: ReviewRecord, field: str, value: Any) -> None:
    """One click on a candidate: the edit form starts again from what it showed, with ``value``
    in ``field``'s place (fresh widget keys, so the form shows the pick), and "Edit" chosen. Only
    the value is filled in: the edit is re-checked live and needs a comment like any other."""
    from nesyflow.extract.render import with_value

    base = st.session_state.get(f"edit-data:{review.id}", review.output)
    try:
        base = with_value(base, field, value)
    except KeyError:  # the form's data lost the field (edited as JSON): start from the held value
        base = with_value(review.output, field, value)
    st.session_state[f"edit-base:{review.id}"] = base
    st.session_state[f"edit-data:{review.id}"] = base
    st.session_state[f"edit-gen:{review.id}"] = st.session_state.get(f"edit-gen:{review.id}", 0) + 1
    st.session_state[f"edit-picked:{review.id}"] = (field, value)
    st.session_state[f"action-{review.id}"] = "Edit"


def _repair(review: ReviewRecord, who: str, mask: RunMask) -> None:
    """The smallest change the rules allow, as a diff: accept it (an edit, checked as such, with
    your comment) or adjust it (the edit form, pre-filled)."""
    key = f"repair:{review.id}"
    with st.container(border=True):
        st.markdown("**Suggested repair** — the smallest change the rules allow")
        found = st.session_state.get(key)
        if found is None:
            if st.button("Search a repair", key="repair-btn", icon=":material/build:"):
                subject = decisions.subject_for(store, review, data.load_workflow_file)
                with st.spinner("The rules search the smallest change…"):
                    st.session_state[key] = decisions.repair(store, review, subject)
                st.rerun()
            return
        if not found.found:
            st.warning(
                f"No repair offered: {mask.text(found.reason)}", icon=":material/search_off:"
            )
            return
        for line in found.lines:
            change = line.change
            source = f" *(from {change.why})*" if change.why else ""
            st.markdown(f"- `{change.field}`: {mask.text(line.text())}{mask.text(source)}")
        st.caption(
            f"Re-checked as an edit: {found.verdict.value if found.verdict else '?'} · cost "
            f"{found.cost} of {found.options} candidate changes"
            + (f" · {found.ties} other repair(s) as small" if found.ties else "")
            + f" · {found.seconds:.2f} s"
        )
        for reason in found.remaining:
            st.markdown(f"- still for a person: {mask.text(reason.text)}")
        comment = st.text_area(
            "Comment — required to accept",
            key=f"comment-repair-{review.id}",
            placeholder=mask.text(found.comment()),
        )
        a, b = st.columns(2)
        if a.button("Accept repair", type="primary", icon=":material/check:", key="repair-accept"):
            subject = decisions.subject_for(store, review, data.load_workflow_file)
            _submit(review, "edit", who, comment, found.value, subject.workflow)
        b.button(
            "Adjust",
            key="repair-adjust",
            icon=":material/edit:",
            on_click=_adjust,
            args=(review, found.value),
        )


def _adjust(review: ReviewRecord, value: Any) -> None:
    """Open the edit form pre-filled with the repair (fresh widget keys, so the form shows it)."""
    st.session_state[f"edit-base:{review.id}"] = value
    st.session_state[f"edit-data:{review.id}"] = value
    st.session_state[f"edit-gen:{review.id}"] = st.session_state.get(f"edit-gen:{review.id}", 0) + 1
    st.session_state.pop(f"edit-picked:{review.id}", None)
    st.session_state[f"action-{review.id}"] = "Edit"


def _edit(review: ReviewRecord, who: str, mask: RunMask) -> None:
    subject = decisions.subject_for(store, review, data.load_workflow_file)
    if subject.note:
        st.caption(f"Schema and rules from the review's packs ({subject.note}).")
    as_json = subject.schema is None or st.toggle("Edit as JSON", key=f"json-{review.id}")
    generation = st.session_state.get(f"edit-gen:{review.id}", 0)
    key = f"edit-{review.id}" + (f"~{generation}" if generation else "")
    base = st.session_state.get(f"edit-base:{review.id}", review.output)
    picked = st.session_state.get(f"edit-picked:{review.id}")
    if picked is not None:
        st.info(
            f"`{picked[0]}` set to **{picked[1]}**, a candidate read in the text. Check the "
            "re-check below and say why in the comment before saving.",
            icon=":material/ads_click:",
        )
    if as_json:
        raw = st.text_area(
            "Output (JSON)",
            value=json.dumps(mask.data(base), indent=2, ensure_ascii=False),
            height=300,
            key=f"{key}-json",
        )
        try:
            edited = json.loads(raw)
        except ValueError as exc:
            st.error(f"Not JSON: {exc}")
            return
    else:
        with st.container(border=True):
            edited = forms.model_form(subject.schema, mask.data(base), key)
    edited = mask.redactor.restore(edited)  # a placeholder left as it was keeps its value
    st.session_state[f"edit-data:{review.id}"] = edited
    result = decisions.preview(store, review, subject, edited)
    with st.container(border=True):
        st.markdown(
            f"**Re-checked live:** {fmt.verdict_badge(result.verdict) if result.verdict != 'invalid' else fmt.badge('does not fit the schema', 'red', 'error')}"
        )
        for problem in result.problems:
            st.markdown(f"- {mask.text(str(problem))}")
        for reason in result.reasons:
            st.markdown(f"- {mask.text(reason.text)}")
        if result.verdict == "pass":
            st.caption("The edited output breaks no rule.")
        elif result.verdict == "review":
            st.caption("Still flagged for a person — saving records your approval of it.")
    comment = st.text_area(
        "Comment", key=f"comment-edit-{review.id}", placeholder="What did you change, and why?"
    )
    if st.button("Save edit", type="primary", icon=":material/save:", key="edit-btn"):
        _submit(review, "edit", who, comment, edited, subject.workflow)


def _submit(
    review: ReviewRecord, action: str, who: str, comment: str | None, output: Any, workflow: Any
) -> None:
    """Decide with the values on screen now (not those of the previous run), then redraw."""
    if session.reviewer() != who:  # the session expired (or changed hands) since the form drew
        st.session_state[f"outcome:{review.id}"] = decisions.Outcome(
            ok=False, message="your session has ended: sign in again to decide", action=action
        )
        st.rerun()
    with st.spinner("Recording the decision and continuing the run…"):
        outcome = decisions.apply(store, review, action, who, comment, output, workflow)
    st.session_state[f"outcome:{review.id}"] = outcome
    st.rerun()


def _show_outcome(outcome: decisions.Outcome, mask: RunMask) -> None:
    with st.container(border=True):
        st.success(mask.text(outcome.message), icon=":material/task_alt:")
        if outcome.run_error and outcome.run_status not in ("rejected",):
            st.caption(f"Run note: {mask.text(outcome.run_error)}")
        if outcome.new_steps:
            st.markdown("**What happened next**")
            for s in outcome.new_steps:
                st.markdown(
                    f"`#{s.seq}` **{s.node}** · {s.kind} {fmt.verdict_badge(s.verdict)}"
                    + (f" — {mask.text(s.error)}" if s.error else "")
                )
        a, b = st.columns(2)
        if outcome.next_review:
            a.button(
                "Open the run's next review",
                key="next-review",
                on_click=_open,
                args=(outcome.next_review,),
                icon=":material/arrow_forward:",
            )
        upcoming = q.review_queue(store, page_size=1)
        if upcoming.items:
            b.button(
                "Next review in the queue",
                key="next-in-queue",
                on_click=_open,
                args=(upcoming.items[0].id,),
                icon=":material/skip_next:",
                type="primary",
            )
        else:
            b.button("Back to the queue", key="to-queue", on_click=_open, args=(None,))


review_param = st.query_params.get("review")
if review_param:
    detail(review_param)
else:
    queue()
