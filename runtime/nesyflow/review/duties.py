"""Who may decide a review: an account holding the role it needs, never its run's submitter.

Checked by :func:`nesyflow.review.decide` before anything is recorded, so every path (the CLI,
the console, the Python API) is held to it. ``who`` is a name the caller authenticated (the CLI
by token, the console by sign-in or the trusted proxy); with no accounts in the store (single-user
mode) roles are not enforced, and separation of duties still is, by name.
"""

from __future__ import annotations

from nesyflow.logic.result import Reason
from nesyflow.roles import Role, covers
from nesyflow.store import ReviewRecord, SqlStore, Store, StoreError
from nesyflow.store.accounts import Accounts

__all__ = ["refusal", "same_person"]


def same_person(a: str, b: str) -> bool:
    """Names compared as people write them: case and runs of spaces do not matter."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def refusal(
    store: Store, review: ReviewRecord, who: str, *, assignment: bool = True
) -> Reason | None:
    """Why ``who`` may not decide ``review`` (None: they may). With accounts, a review given to
    a person or a group is theirs (and any admin's) to decide; ``assignment=False`` leaves that
    out (asking whether someone *could* take it over)."""
    if not isinstance(store, SqlStore):
        raise StoreError(f"{type(store).__name__} keeps no accounts: who may decide is unknown")
    run = store.get_run(review.run_id)
    for submitter in run.submitted_by:
        if same_person(submitter, who):
            return Reason(
                kind="own_submission",
                message=(
                    f"{who} submitted run {run.id}: nobody decides a review of their own "
                    "submission (separation of duties)"
                ),
            )
    accounts = Accounts(store)
    if accounts.any():
        user = accounts.get(who)
        if user is None:
            return Reason(
                kind="not_allowed",
                message=f"{who!r} has no account in this store; only account holders decide",
            )
        if not covers(user.roles, review.required_role):
            return Reason(
                kind="not_allowed",
                message=(
                    f"review {review.id} needs the role {review.required_role!r}; "
                    f"{user.name} holds {', '.join(user.roles) or 'none'}"
                ),
            )
        if assignment and Role.ADMIN.value not in user.roles:
            if review.assigned_to and not same_person(review.assigned_to, user.name):
                return Reason(
                    kind="not_assigned",
                    message=f"review {review.id} is assigned to {review.assigned_to}",
                )
            if (
                not review.assigned_to
                and review.assigned_group
                and review.assigned_group not in user.groups
            ):
                return Reason(
                    kind="not_assigned",
                    message=(
                        f"review {review.id} is for the group {review.assigned_group!r}; "
                        f"{user.name} is not in it"
                    ),
                )
    return None
