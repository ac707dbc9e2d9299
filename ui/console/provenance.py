"""The review page's provenance panel: the request and receipt with each extracted value
highlighted where it was read, and the candidates it was chosen from (ambiguous fields in red).
While the review is open, each field read from several candidates offers them as one-click picks:
a pick starts an edit with that candidate in the field's place, which is then re-checked and needs
a comment like any edit (the page's edit form does both).

The page calls :func:`show` with the review's run; the logic is in
:mod:`nesyflow.extract.render` (tested without a browser)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from nesyflow.extract.render import find_readings, highlight, picks, provenance_rows

__all__ = ["show"]


def show(
    store: Any,
    run: Any,
    mask: Any,
    output: Any = None,
    on_pick: Callable[[str, Any], None] | None = None,
    key: str = "pick",
) -> None:
    """Render the provenance of the run's extracted values, if a step recorded any, on the texts
    as ``mask`` (the run's :class:`nesyflow.govern.RunMask`) lets the viewer see them (``run`` is
    the stored run; its spans are moved onto the masked texts); with ``on_pick``, a button per
    other candidate of each field of ``output`` (the held value, as shown) that calls
    ``on_pick(field, candidate)`` (a masked candidate is its placeholder; the edit restores it)."""
    if run is None:
        return
    readings = find_readings(s.output for s in store.steps(run.id))
    if not readings:
        return
    texts = {k: v for k, v in (run.input or {}).items() if isinstance(v, str)}
    texts, readings = mask.provenance(texts, readings)
    rows = provenance_rows(readings, texts)
    st.subheader("Where each value was read")
    for source in sorted({r.source for r in rows if r.source in texts}):
        spans = [
            (r.start, r.end, r.field.rsplit(".", 1)[-1], r.ambiguous)
            for r in rows
            if r.source == source and r.start is not None and r.end is not None
        ]
        st.markdown(f"**{source}**")
        st.markdown(
            f'<div style="font-family:monospace;white-space:normal">{highlight(texts[source], spans)}</div>',
            unsafe_allow_html=True,
        )
    st.dataframe(
        [
            {
                "field": r.field,
                "value": r.value,
                "from": r.origin,
                "where": r.where,
                "why": r.detail,
                "candidates": ", ".join(r.candidates),
                "ambiguous": r.ambiguous,
            }
            for r in rows
        ],
        hide_index=True,
        use_container_width=True,
    )
    if on_pick is None:
        return
    choices = picks(readings, output)
    if not choices:
        return
    st.markdown("**Use another candidate** (starts an edit; it is re-checked before it is saved)")
    for pick in choices:
        cols = st.columns([2, *([1] * len(pick.options))], vertical_alignment="center")
        cols[0].markdown(f"`{pick.field}` = **{pick.current}**")
        for i, option in enumerate(pick.options):
            cols[i + 1].button(
                str(option),
                key=f"{key}-{pick.field}-{i}",
                on_click=on_pick,
                args=(pick.field, option),
                disabled=option == pick.current,
                help=f"Edit {pick.field} to {option}",
            )
