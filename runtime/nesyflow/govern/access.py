"""Who may see a sensitive value: the one decision every view asks.

Until accounts and roles exist, everyone sees sensitive values masked; an admin may ask to unmask
(``Viewer(roles={"admin"}, unmask=True)``: the CLI's ``--unmask``, a console admin's toggle). When
roles arrive, this function is where a role is allowed one kind (``bank``) and not another.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ADMIN", "Viewer", "may_see"]

ADMIN = "admin"


@dataclass(frozen=True)
class Viewer:
    """Who looks: a name, roles, and whether they asked to see sensitive values unmasked."""

    name: str = ""
    roles: frozenset[str] = field(default_factory=frozenset)
    unmask: bool = False


def may_see(viewer: Viewer | None, kind: str) -> bool:
    """Whether ``viewer`` sees values of sensitive ``kind`` as they are (else a placeholder).

    Nobody by default; an admin who explicitly asked to unmask sees every kind."""
    del kind  # every kind is treated alike until roles name kinds
    return viewer is not None and viewer.unmask and ADMIN in viewer.roles
