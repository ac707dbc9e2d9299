"""The roles a person can hold, and which role covers which.

One vocabulary for packs (a rule's ``role``), workflows (a node's ``review: {role: …}``), accounts
(``nesyflow users add NAME --role …``) and the decision check. Roles are ranked: a role covers the
ones below it (an approver may decide what a reviewer may; an admin what an approver may), so naming
the *least* role a decision needs is enough.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

__all__ = ["ROLE_NAMES", "Role", "covers", "highest", "parse_role"]


class Role(StrEnum):
    REVIEWER = "reviewer"
    APPROVER = "approver"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Role.REVIEWER: 1, Role.APPROVER: 2, Role.ADMIN: 3}
ROLE_NAMES = tuple(r.value for r in Role)


def parse_role(text: str) -> Role:
    """``text`` as a :class:`Role`; a ``ValueError`` naming the roles when it is none of them."""
    try:
        return Role(str(text).strip().lower())
    except ValueError:
        raise ValueError(f"unknown role {text!r}; one of {', '.join(ROLE_NAMES)}") from None


def covers(held: Iterable[Role | str], required: Role | str | None) -> bool:
    """Whether any of the ``held`` roles is at least ``required`` (nothing required: True)."""
    if required is None:
        return True
    need = parse_role(required).rank
    return any(parse_role(r).rank >= need for r in held)


def highest(roles: Iterable[Role | str | None]) -> Role | None:
    """The most demanding of ``roles`` (None when none is named)."""
    named = [parse_role(r) for r in roles if r]
    return max(named, key=lambda r: r.rank) if named else None
