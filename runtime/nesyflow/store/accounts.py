"""Accounts in the store: users and their roles, CLI token hashes, and the sign-in log.

Only hashes are kept: the password's argon2id hash and the SHA-256 of a CLI token (hashing and
checking them is :mod:`nesyflow.auth`'s job; this module stores what it is given). Every sign-in
attempt is a row in ``sign_ins``, so the rate limit holds across processes and restarts and the
failures stay readable afterwards.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from nesyflow.roles import parse_role
from nesyflow.store import tables as t
from nesyflow.store.base import Conflict, NotFound, StoreError
from nesyflow.store.records import User
from nesyflow.store.sql import SqlStore, now

__all__ = ["Accounts", "SignIn"]

MAX_NAME = 200  # users.name


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)  # SQLite keeps no zone


def _user(row: Any) -> User:
    return User(
        name=row.name,
        roles=tuple(row.roles or ()),
        groups=tuple(row.groups or ()),
        has_password=row.password_hash is not None,
        created_at=_utc(row.created_at),
    )


class SignIn(BaseModel):
    """One logged sign-in attempt."""

    model_config = ConfigDict(frozen=True)

    name: str
    at: dt.datetime
    ok: bool
    method: str
    detail: str = ""


class Accounts:
    """The accounts of one store. Cheap to make; every call is its own transaction."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    # -- users ------------------------------------------------------------------------------
    def any(self) -> bool:
        """Whether the store has accounts at all (none: single-user mode, see nesyflow.auth)."""
        with self.store.read() as conn:
            return conn.execute(select(t.users.c.name).limit(1)).first() is not None

    def add(
        self,
        name: str,
        roles: Sequence[str],
        password_hash: str | None,
        groups: Sequence[str] = (),
    ) -> User:
        clean = check_name(name)
        if not roles:
            raise StoreError(f"account {clean!r}: give at least one role")
        values = {
            "name": clean,
            "roles": sorted({parse_role(r).value for r in roles}),
            "password_hash": password_hash,
            "groups": sorted({g.strip() for g in groups if g.strip()}),
            "created_at": now(),
        }
        try:
            with self.store.write() as conn:
                taken = conn.execute(
                    select(t.users.c.name).where(func.lower(t.users.c.name) == clean.lower())
                ).first()
                if taken is not None:
                    raise Conflict(f"an account named {taken.name!r} already exists")
                conn.execute(insert(t.users).values(**values))
        except IntegrityError:
            raise Conflict(f"an account named {clean!r} already exists") from None
        return User(
            name=clean,
            roles=tuple(values["roles"]),
            groups=tuple(values["groups"]),
            has_password=password_hash is not None,
            created_at=values["created_at"],
        )

    def get(self, name: str) -> User | None:
        with self.store.read() as conn:
            row = conn.execute(select(t.users).where(t.users.c.name == name.strip())).first()
        return None if row is None else _user(row)

    def require(self, name: str) -> User:
        user = self.get(name)
        if user is None:
            raise NotFound(f"no account named {name!r} (nesyflow users list)")
        return user

    def list(self) -> list[User]:
        with self.store.read() as conn:
            rows = conn.execute(select(t.users).order_by(t.users.c.name)).all()
        return [_user(r) for r in rows]

    def password_hash(self, name: str) -> str | None:
        with self.store.read() as conn:
            return conn.execute(
                select(t.users.c.password_hash).where(t.users.c.name == name.strip())
            ).scalar()

    def set_password_hash(self, name: str, password_hash: str) -> None:
        with self.store.write() as conn:
            done = conn.execute(
                update(t.users).where(t.users.c.name == name).values(password_hash=password_hash)
            )
        if done.rowcount != 1:
            raise NotFound(f"no account named {name!r}")

    # -- CLI tokens -------------------------------------------------------------------------
    def set_token(self, name: str, token_hash: str) -> None:
        """Keep ``token_hash`` as the account's one token (an earlier token stops working)."""
        self.require(name)
        with self.store.write() as conn:
            conn.execute(delete(t.user_tokens).where(t.user_tokens.c.name == name))
            conn.execute(
                insert(t.user_tokens).values(name=name, token_hash=token_hash, created_at=now())
            )

    def by_token(self, token_hash: str) -> User | None:
        with self.store.read() as conn:
            row = conn.execute(
                select(t.users)
                .join(t.user_tokens, t.user_tokens.c.name == t.users.c.name)
                .where(t.user_tokens.c.token_hash == token_hash)
            ).first()
        return None if row is None else _user(row)

    # -- the sign-in log --------------------------------------------------------------------
    def log_sign_in(
        self, name: str, *, ok: bool, method: str, detail: str = "", at: dt.datetime | None = None
    ) -> None:
        with self.store.write() as conn:
            conn.execute(
                insert(t.sign_ins).values(
                    name=name[:MAX_NAME], at=at or now(), ok=int(ok), method=method, detail=detail
                )
            )

    def failures_since(self, name: str, since: dt.datetime) -> list[dt.datetime]:
        """When ``name``'s failed sign-ins since ``since`` happened, oldest first."""
        with self.store.read() as conn:
            rows = conn.execute(
                select(t.sign_ins.c.at)
                .where(
                    t.sign_ins.c.name == name[:MAX_NAME],
                    t.sign_ins.c.ok == 0,
                    t.sign_ins.c.at >= since,
                )
                .order_by(t.sign_ins.c.at)
            ).all()
        return [_utc(r.at) for r in rows]

    def sign_ins(self, name: str | None = None, limit: int = 100) -> list[SignIn]:
        query = select(t.sign_ins).order_by(t.sign_ins.c.id.desc()).limit(limit)
        if name is not None:
            query = query.where(t.sign_ins.c.name == name)
        with self.store.read() as conn:
            rows = conn.execute(query).all()
        return [
            SignIn(
                name=r.name,
                at=_utc(r.at),
                ok=bool(r.ok),
                method=r.method,
                detail=r.detail or "",
            )
            for r in rows
        ]


def check_name(name: str) -> str:
    """An account name as kept: stripped, non-empty, at most 200 characters, printable."""
    clean = (name or "").strip()
    if not clean:
        raise StoreError("an account needs a name")
    if len(clean) > MAX_NAME:
        raise StoreError(f"an account name has at most {MAX_NAME} characters")
    if not clean.isprintable():
        raise StoreError(f"account name {clean!r} holds a control character")
    return clean
