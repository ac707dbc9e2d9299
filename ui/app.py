"""nesyflow console: ``nesyflow console`` runs ``streamlit run ui/app.py``.

The entry page only sets up the frame — the store, the reviewer, the navigation — and runs the page
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

with st.sidebar:
    name = session.reviewer()
    if name:
        st.markdown(f":material/person: Reviewing as **{name}**")
        if st.button("Not you? Change name", key="who-change", type="tertiary"):
            del st.session_state["reviewer"]
            st.rerun()
    else:
        st.caption(
            ":material/person_off: Not signed in — you'll be asked your name before deciding."
        )
    st.caption(f"Store · `{data.store_url()}`")

try:
    data.store()
except Exception as exc:  # an unreadable store is a page of its own, not a traceback
    st.error(f"The store at `{data.store_url()}` cannot be opened: {exc}")
    st.stop()

page.run()
