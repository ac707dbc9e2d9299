"""Accounts' passwords, CLI tokens, the sign-in rate limit and log, the trusted proxy, sessions —
on a real SQLite store."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from nesyflow.auth import (
    AuthError,
    RateLimited,
    Session,
    SignInPolicy,
    hash_password,
    new_token,
    proxy_config,
    proxy_user,
    sign_in,
    user_for_token,
)
from nesyflow.store import open_store
from nesyflow.store import tables as t
from nesyflow.store.accounts import Accounts
from nesyflow.store.base import Conflict

PASSWORD = "correct horse battery"


@pytest.fixture
def accounts(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    accts = Accounts(store)
    accts.add("Ana", ["admin"], hash_password(PASSWORD))
    accts.add("Ben", ["reviewer"], hash_password("ben's long secret"))
    return accts


def test_the_password_is_kept_as_an_argon2id_hash_only(accounts):
    with accounts.store.read() as conn:
        stored = conn.execute(
            select(t.users.c.password_hash).where(t.users.c.name == "Ana")
        ).scalar()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert sign_in(accounts, "Ana", PASSWORD).roles == ("admin",)


def test_a_short_password_and_a_second_account_of_the_same_name_are_refused(accounts):
    with pytest.raises(ValueError, match="at least 8"):
        hash_password("short")
    with pytest.raises(Conflict, match="already exists"):
        accounts.add("ana", ["reviewer"], None)  # names differ by case only: one person


def test_a_wrong_password_and_an_unknown_name_fail_alike_and_are_logged(accounts):
    with pytest.raises(AuthError) as wrong:
        sign_in(accounts, "Ana", "not the password")
    with pytest.raises(AuthError) as unknown:
        sign_in(accounts, "Nobody", "whatever at all")
    assert (
        wrong.value.message
        == unknown.value.message
        == ("sign-in failed: unknown name or wrong password")
    )
    log = accounts.sign_ins()
    assert [(s.name, s.ok) for s in log[:2]] == [("Nobody", False), ("Ana", False)]


def test_failures_are_rate_limited_per_name_until_the_window_passes(accounts):
    policy = SignInPolicy(max_failures=3, window=dt.timedelta(minutes=15))
    start = dt.datetime.now(dt.UTC)
    for i in range(3):
        with pytest.raises(AuthError):
            sign_in(accounts, "Ana", "guess", policy=policy, at=start + dt.timedelta(seconds=i))
    # the right password no longer helps: the name is locked, and the attempt is a failure too
    with pytest.raises(RateLimited, match="too many failed sign-ins for 'Ana'"):
        sign_in(accounts, "Ana", PASSWORD, policy=policy, at=start + dt.timedelta(seconds=10))
    assert accounts.sign_ins("Ana")[0].detail == "rate limited"
    # another name is not locked by Ana's failures
    assert sign_in(accounts, "Ben", "ben's long secret", policy=policy).name == "Ben"
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=16)
    assert sign_in(accounts, "Ana", PASSWORD, policy=policy, at=later).name == "Ana"


def test_the_rate_limit_is_read_from_the_environment_and_a_bad_value_is_an_error(monkeypatch):
    monkeypatch.setenv("NESYFLOW_SIGNIN_MAX_FAILURES", "2")
    monkeypatch.setenv("NESYFLOW_SIGNIN_WINDOW_MINUTES", "1.5")
    assert SignInPolicy.from_env() == SignInPolicy(2, dt.timedelta(minutes=1.5))
    monkeypatch.setenv("NESYFLOW_SIGNIN_MAX_FAILURES", "zero")
    with pytest.raises(AuthError, match="NESYFLOW_SIGNIN_MAX_FAILURES"):
        SignInPolicy.from_env()


def test_a_token_is_kept_hashed_names_its_account_and_a_new_one_replaces_it(accounts):
    first, digest = new_token()
    accounts.set_token("Ben", digest)
    with accounts.store.read() as conn:
        kept = conn.execute(select(t.user_tokens.c.token_hash)).scalars().all()
    assert kept == [digest] and first not in kept
    assert user_for_token(accounts, first).name == "Ben"
    second, digest2 = new_token()
    accounts.set_token("Ben", digest2)
    with pytest.raises(AuthError, match="not valid"):
        user_for_token(accounts, first)
    assert user_for_token(accounts, second).name == "Ben"
    with pytest.raises(AuthError):
        user_for_token(accounts, "")
    assert accounts.sign_ins()[0].method == "token"


def test_a_proxy_header_without_the_trust_flag_is_refused(monkeypatch):
    monkeypatch.delenv("NESYFLOW_AUTH_PROXY_TRUSTED", raising=False)
    monkeypatch.setenv("NESYFLOW_AUTH_PROXY_HEADER", "X-Forwarded-User")
    with pytest.raises(AuthError, match="not declared trusted"):
        proxy_config()
    monkeypatch.delenv("NESYFLOW_AUTH_PROXY_HEADER")
    monkeypatch.setenv("NESYFLOW_AUTH_PROXY_TRUSTED", "1")
    with pytest.raises(AuthError, match="names no header"):
        proxy_config()
    monkeypatch.delenv("NESYFLOW_AUTH_PROXY_TRUSTED")
    assert proxy_config() is None


def test_the_proxy_names_an_account_or_nobody(monkeypatch, accounts):
    monkeypatch.setenv("NESYFLOW_AUTH_PROXY_HEADER", "X-Forwarded-User")
    monkeypatch.setenv("NESYFLOW_AUTH_PROXY_TRUSTED", "true")
    config = proxy_config()
    assert proxy_user(accounts, config, {"x-forwarded-user": "Ben"}).roles == ("reviewer",)
    with pytest.raises(AuthError, match="no X-Forwarded-User header"):
        proxy_user(accounts, config, {})
    with pytest.raises(AuthError, match="has no account"):
        proxy_user(accounts, config, {"X-Forwarded-User": "Mallory"})
    assert accounts.sign_ins()[0].name == "Mallory"


def test_a_session_expires_when_idle_and_after_its_total_time(monkeypatch):
    monkeypatch.setenv("NESYFLOW_SESSION_IDLE_MINUTES", "30")
    monkeypatch.setenv("NESYFLOW_SESSION_MAX_MINUTES", "120")
    t0 = dt.datetime(2026, 1, 1, 9, tzinfo=dt.UTC)
    session = Session.start("Ana", "password", t0)
    assert not session.expired(t0 + dt.timedelta(minutes=29))
    assert session.expired(t0 + dt.timedelta(minutes=31))
    busy = session
    for minutes in range(20, 121, 20):
        busy = busy.seen(t0 + dt.timedelta(minutes=minutes))
    assert not busy.expired(t0 + dt.timedelta(minutes=120))
    assert busy.expired(t0 + dt.timedelta(minutes=121))
    monkeypatch.setenv("NESYFLOW_SESSION_IDLE_MINUTES", "-1")
    with pytest.raises(AuthError, match="NESYFLOW_SESSION_IDLE_MINUTES"):
        session.expired(t0)
