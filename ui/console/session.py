"""Who is working: the reviewer's name, asked once per browser session and never blank."""

from __future__ import annotations

import streamlit as st

__all__ = ["ask_reviewer", "reviewer"]

_KEY = "reviewer"


def reviewer() -> str | None:
    name = st.session_state.get(_KEY)
    return name if isinstance(name, str) and name.strip() else None


def ask_reviewer(key: str) -> str | None:
    """The reviewer's name; asks for it (a small form) when this session has none yet."""
    name = reviewer()
    if name:
        return name
    with st.form(f"who-{key}", border=True):
        st.markdown("**Who is reviewing?** Your name is recorded with every decision you make.")
        typed = st.text_input("Your name", key=f"who-input-{key}", placeholder="e.g. Ana López")
        if st.form_submit_button("Start reviewing", type="primary"):
            if typed and typed.strip():
                st.session_state[_KEY] = typed.strip()
                st.rerun()
            st.error("Please enter your name: decisions are never recorded without one.")
    return None
