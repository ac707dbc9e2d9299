"""Who a person is: accounts' passwords and CLI tokens, sign-in with a rate limit, console
sessions that expire, and an identity taken from a trusted reverse proxy.

Modes (documented in the README's deployment section):

* **accounts** — the store has users (``nesyflow users add``): the console asks for a name and
  password, the CLI decides as the user of its token (``NESYFLOW_TOKEN`` / ``--token``), and a
  decision is held to the review's role and to separation of duties.
* **trusted proxy** — the operator sets ``NESYFLOW_AUTH_PROXY_HEADER`` (e.g. ``X-Forwarded-User``)
  *and* ``NESYFLOW_AUTH_PROXY_TRUSTED=1``: the console takes the name from that header (the proxy
  authenticated the person); the name must still be an account, whose roles apply.
* **single-user** — the store has no users: one person at one machine; the name is typed (console)
  or ``--who`` / ``$USER`` (CLI), roles are not enforced (nobody holds one), and nobody still
  decides a run whose input names them as its submitter. The first ``nesyflow users add`` (an
  admin) ends this mode for good; from then on adding accounts needs an admin's token.
"""

from nesyflow.auth.errors import AuthError, RateLimited
from nesyflow.auth.passwords import hash_password, verify_password
from nesyflow.auth.proxy import ProxyConfig, proxy_config, proxy_user
from nesyflow.auth.sessions import Session, session_limits
from nesyflow.auth.signin import SignInPolicy, sign_in, user_for_token
from nesyflow.auth.tokens import new_token, token_hash

__all__ = [
    "AuthError",
    "ProxyConfig",
    "RateLimited",
    "Session",
    "SignInPolicy",
    "hash_password",
    "new_token",
    "proxy_config",
    "proxy_user",
    "session_limits",
    "sign_in",
    "token_hash",
    "user_for_token",
    "verify_password",
]
