"""The review page's provenance panel: the request and receipt with each extracted value
highlighted where it was read, and the candidates it was chosen from (ambiguous fields in red).

The page calls :func:`show` with the review's run; the logic is in
:mod:`nesyflow.extract.render` (tested without a browser)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from nesyflow.extract.render import find_readings, highlight, provenance_rows

__all__ = ["show"]


def show(store: Any, run: Any) -> None:
    """Render the provenance of the run's extracted values, if a step recorded any."""
    if run is None:
        return
    readings = find_readings(s.output for s in store.steps(run.id))
    if not readings:
        return
    texts = {k: v for k, v in (run.input or {}).items() if isinstance(v, str)}
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
