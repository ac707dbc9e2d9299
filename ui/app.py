"""nesyflow console: ``nesyflow console`` runs ``streamlit run ui/app.py``.

The entry page only sets up the frame — the store, the navigation — and runs the page
the person chose; each page is a thin layout over :mod:`nesyflow.store.queries` and ``console/``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from console import data  # noqa: E402

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

with st.sidebar:
    st.caption(f"Store · `{data.store_url()}`")

page.run()  # each page gates itself first (session.gate: sign-in, who is signed in)
