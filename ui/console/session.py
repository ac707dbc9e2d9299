"""Who is working: the signed-in account (password or trusted proxy), or a typed name when the
store has no accounts (single-user mode, :mod:`nesyflow.auth`).

``signed_in()`` is the account (its ``.name`` and ``.roles``) for anything that depends on who is
looking — None when nobody is signed in, or in single-user mode where nobody holds a role.
``reviewer()`` is the name decisions are recorded under. A session expires after a time idle and a
time in all (``NESYFLOW_SESSION_IDLE_MINUTES``, ``NESYFLOW_SESSION_MAX_MINUTES``); reloading the
page starts a new session. :func:`viewer` is who looks, which decides what sensitive values
the pages show (``nesyflow.govern``).
"""

from __future__ import annotations

import streamlit as st

from nesyflow.auth import AuthError, RateLimited, Session, proxy_config, proxy_user, sign_in
from nesyflow.govern import ADMIN, Viewer
from nesyflow.store.accounts import Accounts
from nesyflow.store.records import User

__all__ = [
    "accounts_exist",
    "ask_reviewer",
    "gate",
    "require_sign_in",
    "reviewer",
    "sign_out",
    "signed_in",
    "viewer",
]

_KEY = "nesyflow-session"
_USER = "nesyflow-user"
_EXPIRED = "nesyflow-session-expired"


def _accounts() -> Accounts:
    from console import data

    return Accounts(data.store())


def accounts_exist() -> bool:
    return _accounts().any()


def _current() -> Session | None:
    session = st.session_state.get(_KEY)
    if not isinstance(session, Session):
        return None
    if session.expired():
        sign_out()
        st.session_state[_EXPIRED] = True
        return None
    st.session_state[_KEY] = session.seen()
    return session


def _start(name: str, method: str, user: User | None) -> None:
    st.session_state[_KEY] = Session.start(name, method)
    st.session_state[_USER] = user
    st.session_state.pop(_EXPIRED, None)


def sign_out() -> None:
    for key in (_KEY, _USER):
        st.session_state.pop(key, None)


def _from_proxy() -> Session | None:
    """The proxy's person, when the operator configured a trusted proxy (logged once a session)."""
    config = proxy_config()
    if config is None:
        return None
    accounts = _accounts()
    user = proxy_user(accounts, config, dict(st.context.headers))
    session = st.session_state.get(_KEY)
    if not isinstance(session, Session) or session.name != user.name or session.expired():
        accounts.log_sign_in(user.name, ok=True, method="proxy")
        _start(user.name, "proxy", user)
    return _current()


def signed_in() -> User | None:
    """The account working in this session (None: nobody, or single-user mode)."""
    if proxy_config() is not None:
        try:
            _from_proxy()
        except AuthError:
            return None
    if _current() is None:
        return None
    user = st.session_state.get(_USER)
    if not isinstance(user, User):
        return None
    fresh = _accounts().get(user.name)  # roles as they are now, and gone if the account is
    if fresh is None:
        sign_out()
    return fresh


def reviewer() -> str | None:
    """The name decisions are recorded under: the signed-in account's, or the typed name."""
    if accounts_exist():
        user = signed_in()
        return user.name if user is not None else None
    session = _current()
    return session.name if session is not None else None


def _password_form(key: str) -> None:
    if st.session_state.get(_EXPIRED):
        st.info("Your session expired. Please sign in again.", icon=":material/timer_off:")
    with st.form(f"sign-in-{key}", border=True):
        st.markdown("**Sign in** — every decision is recorded under your account.")
        name = st.text_input("Name", key=f"sign-in-name-{key}")
        password = st.text_input("Password", type="password", key=f"sign-in-password-{key}")
        if st.form_submit_button("Sign in", type="primary"):
            try:
                user = sign_in(_accounts(), name, password)
            except RateLimited as exc:
                st.error(str(exc.message), icon=":material/lock_clock:")
            except AuthError as exc:
                st.error(str(exc.message), icon=":material/block:")
            else:
                _start(user.name, "password", user)
                st.rerun()


def require_sign_in(key: str = "app") -> User | None:
    """With accounts: the signed-in account, else the sign-in form (or the proxy's refusal) and
    None. Without accounts: None (single-user mode asks a name only before deciding)."""
    if not accounts_exist():
        return None
    if proxy_config() is not None:
        try:
            _from_proxy()
        except AuthError as exc:
            st.error(f"Not signed in: {exc.message}", icon=":material/block:")
            return None
        return signed_in()
    user = signed_in()
    if user is None:
        _password_form(key)
    return user


def viewer() -> Viewer | None:
    """Who looks at the pages: the signed-in account, unmasking only when an admin turned the
    sidebar's "Show sensitive values" on (``nesyflow.govern.may_see`` decides per kind)."""
    user = signed_in()
    if user is None:
        return None
    roles = frozenset(user.roles)
    unmask = ADMIN in roles and bool(
        st.sidebar.toggle("Show sensitive values", key="unmask", value=False)
    )
    return Viewer(name=user.name, roles=roles, unmask=unmask)


def gate() -> None:
    """The first call of every page: with accounts, the sign-in form and a stop until someone is
    signed in; then who is working, in the sidebar. In each page rather than in ``app.py``
    because Streamlit runs a page's own file when its address is opened directly (the ``pages/``
    folder), without the entry script."""
    try:
        with_accounts = accounts_exist()
        user = require_sign_in("app")
    except AuthError as exc:  # a half-configured proxy is the operator's error, shown as such
        st.error(f"Sign-in is misconfigured: {exc.message}")
        st.stop()
    with st.sidebar:
        name = reviewer()
        if name:
            roles = f" ({', '.join(user.roles)})" if user is not None else ""
            st.markdown(f":material/person: Signed in as **{name}**{roles}")
            if proxy_config() is None and st.button("Sign out", key="sign-out", type="tertiary"):
                sign_out()
                st.rerun()
        elif not with_accounts:
            st.caption(
                ":material/person_off: Single-user mode (no accounts) — you'll be asked your "
                "name before deciding."
            )
    if with_accounts and user is None:
        st.stop()  # the sign-in form (or the proxy's refusal) is the whole page


def ask_reviewer(key: str) -> str | None:
    """The reviewer's name; asks for it when this session has none yet (sign-in with accounts,
    a typed name in single-user mode)."""
    if accounts_exist():
        user = require_sign_in(key)
        return user.name if user is not None else None
    name = reviewer()
    if name:
        return name
    with st.form(f"who-{key}", border=True):
        st.markdown("**Who is reviewing?** Your name is recorded with every decision you make.")
        typed = st.text_input("Your name", key=f"who-input-{key}", placeholder="e.g. Ana López")
        if st.form_submit_button("Start reviewing", type="primary"):
            if typed and typed.strip():
                _start(typed.strip(), "single-user", None)
                st.rerun()
            st.error("Please enter your name: decisions are never recorded without one.")
    return None
