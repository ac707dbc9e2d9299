"""An identity from a trusted reverse proxy (SSO in front of the console).

The operator names the header the proxy sets (``NESYFLOW_AUTH_PROXY_HEADER=X-Forwarded-User``)
and says the console is reachable only through that proxy (``NESYFLOW_AUTH_PROXY_TRUSTED=1``);
a header named without the trust flag is a configuration error, never silently trusted (anyone
who can reach the console could send the header). The named person must have an account: the
proxy says who they are, the store says what they may decide.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

from nesyflow.auth.errors import AuthError
from nesyflow.store.accounts import Accounts
from nesyflow.store.records import User

__all__ = ["ProxyConfig", "proxy_config", "proxy_user"]

log = logging.getLogger("nesyflow.auth")

_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class ProxyConfig:
    header: str


def proxy_config() -> ProxyConfig | None:
    """The operator's proxy configuration, None when there is none; AuthError when half-set."""
    header = os.environ.get("NESYFLOW_AUTH_PROXY_HEADER", "").strip()
    trusted = os.environ.get("NESYFLOW_AUTH_PROXY_TRUSTED", "").strip().lower()
    if not header:
        if trusted in _TRUE:
            raise AuthError(
                "NESYFLOW_AUTH_PROXY_TRUSTED is set but NESYFLOW_AUTH_PROXY_HEADER names no header"
            )
        return None
    if trusted not in _TRUE:
        raise AuthError(
            f"NESYFLOW_AUTH_PROXY_HEADER={header!r} is set but the proxy is not declared trusted: "
            "set NESYFLOW_AUTH_PROXY_TRUSTED=1 only when the console is reachable through that "
            "proxy alone"
        )
    return ProxyConfig(header=header)


def proxy_user(accounts: Accounts, config: ProxyConfig, headers: Mapping[str, str]) -> User:
    """The account the proxy's header names; AuthError when the header is missing or names no
    account (logged)."""
    wanted = config.header.lower()
    value = next((v for k, v in headers.items() if k.lower() == wanted), None)
    name = (value or "").strip()
    if not name:
        raise AuthError(f"the request carries no {config.header} header (is the proxy in front?)")
    user = accounts.get(name)
    if user is None:
        accounts.log_sign_in(name, ok=False, method="proxy", detail="no such account")
        log.warning("proxy named %r, who has no account", name)
        raise AuthError(f"{name!r} (from {config.header}) has no account here; ask an admin")
    return user
