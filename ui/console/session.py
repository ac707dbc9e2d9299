"""Who is working: the reviewer's name, asked once per browser session and never blank; and who
is looking (:func:`viewer`), which decides what sensitive values the pages show."""

from __future__ import annotations

import streamlit as st

from nesyflow.govern import ADMIN, Viewer

__all__ = ["ask_reviewer", "reviewer", "signed_in", "viewer"]

_KEY = "reviewer"


def reviewer() -> str | None:
    name = st.session_state.get(_KEY)
    return name if isinstance(name, str) and name.strip() else None


def signed_in() -> Viewer | None:
    """The signed-in user with their roles; ``None`` until accounts exist (the auth work fills
    this in from the session)."""
    return None


def viewer() -> Viewer | None:
    """Who looks at the pages: the signed-in user, unmasking only when an admin turned the
    sidebar's "Show sensitive values" on (``nesyflow.govern.may_see`` decides per kind)."""
    user = signed_in()
    if user is None or ADMIN not in user.roles:
        return user
    unmask = bool(st.sidebar.toggle("Show sensitive values", key="unmask", value=False))
    return Viewer(name=user.name, roles=user.roles, unmask=unmask)


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
