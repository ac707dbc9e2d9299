"""What the store's history says about a review or a pack: precedents (the index is built on first
use, once per process and store, never on the first screen — it loads the embedding model), the
production identity of a pack, and the what-if and proposal reports shown on the Rules page."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

__all__ = ["precedent_index", "show_impact"]


@st.cache_resource(show_spinner=False)
def _index(url: str) -> Any:
    from console import data
    from nesyflow.insight import PrecedentIndex

    return PrecedentIndex(data.store())


def precedent_index(url: str) -> Any:
    """The store's precedent index (built once; each query takes in decisions made since)."""
    return _index(url)


def show_impact(report: dict[str, Any]) -> None:
    """An :class:`~nesyflow.insight.ImpactReport` (its JSON): counts, changes with examples."""
    cols = st.columns(4)
    cols[0].metric("Steps re-checked", f"{report['steps']:,}", border=True)
    cols[1].metric("Would change", f"{report['changed']:,}", border=True)
    cols[2].metric("Runs affected", f"{report['runs_affected']:,}", border=True)
    cols[3].metric("Steps/s", f"{report['steps_per_second']:,.0f}", border=True)
    if report["skipped"]:
        st.caption(f"{report['skipped']:,} steps were stored before steps kept their input.")
    for title, changes in (("Verdicts", report["transitions"]), ("Decisions", report["decisions"])):
        if not changes:
            continue
        st.markdown(f"**{title}**")
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "change": kind,
                        "steps": change["count"],
                        "examples": "; ".join(
                            f"run {e['run'][:13]} step {e['step'][:13]}: "
                            f"{','.join(e['rules_before']) or '—'} → "
                            f"{','.join(e['rules_after']) or '—'}"
                            for e in change["examples"]
                        ),
                    }
                    for kind, change in changes.items()
                ]
            ),
            hide_index=True,
        )
    for label, key in (
        ("Start firing", "rules_started"),
        ("Stop firing", "rules_stopped"),
        ("Fire on other instances", "rules_changed_instances"),
    ):
        if report.get(key):
            st.caption(f"{label}: " + ", ".join(f"`{r}` ×{n}" for r, n in report[key].items()))
