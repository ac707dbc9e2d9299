"""nesyflow console: ``nesyflow console`` runs ``streamlit run ui/app.py``.

The entry page only sets up the frame — the store, who is signed in (sign-in first when the store has accounts), the navigation — and runs the page
the person chose; each page is a thin layout over :mod:`nesyflow.store.queries` and ``console/``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from console import data, session  # noqa: E402

from nesyflow.auth import AuthError, proxy_config  # noqa: E402

st.set_page_config(
    page_title="nesyflow console", page_icon=":material/verified_user:", layout="wide"
)

pages = {
    "Work": [
        st.Page(HERE / "pages" / "inbox.py", title="Inbox", icon=":material/inbox:", default=True),
        st.Page(HERE / "pages" / "reviews.py", title="Reviews", icon=":material/gavel:"),
    ],
    "Inspect": [
        st.Page(HERE / "pages" / "runs.py", title="Runs", icon=":material/timeline:"),
        st.Page(HERE / "pages" / "rules.py", title="Rules", icon=":material/rule:"),
        st.Page(HERE / "pages" / "workflows.py", title="Workflows", icon=":material/account_tree:"),
    ],
}
page = st.navigation(pages)

try:
    data.store()
except Exception as exc:  # an unreadable store is a page of its own, not a traceback
    st.error(f"The store at `{data.store_url()}` cannot be opened: {exc}")
    st.stop()

try:
    with_accounts = session.accounts_exist()
    user = session.require_sign_in("app")
except AuthError as exc:  # a half-configured proxy is the operator's error, shown as such
    st.error(f"Sign-in is misconfigured: {exc.message}")
    st.stop()

with st.sidebar:
    name = session.reviewer()
    if name:
        roles = f" ({', '.join(user.roles)})" if user is not None else ""
        st.markdown(f":material/person: Signed in as **{name}**{roles}")
        if proxy_config() is None and st.button("Sign out", key="sign-out", type="tertiary"):
            session.sign_out()
            st.rerun()
    elif not with_accounts:
        st.caption(
            ":material/person_off: Single-user mode (no accounts) — you'll be asked your name "
            "before deciding."
        )
    st.caption(f"Store · `{data.store_url()}`")

if with_accounts and user is None:
    st.stop()  # the sign-in form (or the proxy's refusal) is the whole page (session.gate)

page.run()
