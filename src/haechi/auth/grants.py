"""Two administrators for what gives access to material: grant requests.

In the web application an administrator cannot give an account a role that reveals
originals or searches victims' faces, create such an account, or reset the password of
one, alone: the change is filed as a request with a reason, and a *second* administrator
(not the requester, not the account concerned) approves or refuses it. Each step is in the
signed audit trail. The command line can make the same changes with a recorded reason
(``haechi user ... --reason``): whoever runs it holds the data directory and its keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update

from haechi.app import App
from haechi.auth import accounts, audit
from haechi.auth.db import now, write
from haechi.auth.errors import NotFound
from haechi.auth.roles import Role, parse_role
from haechi.auth.types import Actor
from haechi.domain import UsageError
from haechi.i18n import t_
from haechi.store.tables.web import GrantRequest

ROLE = "role"
RESET = "reset"
PENDING = "pending"
MAX_PENDING = 100  # requests shown on the page; more would be an attack on attention


@dataclass(frozen=True)
class Grant:
    id: int
    kind: str
    username: str
    role: str | None
    reason: str
    requested_by: str
    requested_at: int
    state: str
    decided_by: str | None
    decided_at: int | None


@dataclass(frozen=True)
class Decision:
    grant: Grant
    reset_code: str | None = None  # for an approved reset: shown once to the approver


def _grant(row: Any) -> Grant:
    return Grant(
        id=row.id,
        kind=row.kind,
        username=row.username,
        role=row.role,
        reason=row.reason,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        state=row.state,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
    )


def _reason(reason: str) -> str:
    text = " ".join(reason.split())
    if len(text) < 5:
        raise UsageError(
            t_("Say why (at least a few words): the reason is kept in the audit trail.")
        )
    return text[:500]


def _file(app: App, actor: Actor, kind: str, username: str, role: str | None, reason: str) -> Grant:
    text = _reason(reason)
    user = accounts.find_user(app, username)
    if user.username == actor.username:
        raise UsageError(t_("Nobody can ask for a change to their own account."))
    t = now()
    with write(app) as conn:
        duplicate = conn.execute(
            select(GrantRequest.id).where(
                GrantRequest.username == user.username,
                GrantRequest.kind == kind,
                GrantRequest.state == PENDING,
            )
        ).first()
        if duplicate is not None:
            raise UsageError(
                t_(
                    "A request for {username} is already waiting for approval.",
                    username=user.username,
                )
            )
        gid = conn.execute(
            insert(GrantRequest).values(
                kind=kind,
                username=user.username,
                role=role,
                reason=text,
                requested_by=actor.username,
                requested_at=t,
                state=PENDING,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        audit.record_in(
            app, conn, actor, audit.USER_CHANGE, f"user:{user.username}",
            {"grant_requested": kind, "grant": gid, "role": role, "reason": text},
        )  # fmt: skip
    return get(app, int(gid))


def request_role(
    app: App, username: str, role: str, reason: str, *, actor: Actor, new_account: bool = False
) -> Grant:
    """Ask a second administrator to give ``role`` (a privileged one) to ``username``."""
    parsed = parse_role(role)
    if not accounts.privileged(parsed):
        raise UsageError(
            t_(
                "The role {value} needs no second administrator: set it directly.",
                value=parsed.value,
            )
        )
    kind = ROLE + ("+new" if new_account else "")
    return _file(app, actor, kind, username, parsed.value, reason)


def request_reset(app: App, username: str, reason: str, *, actor: Actor) -> Grant:
    """Ask a second administrator to reset a privileged account's password."""
    return _file(app, actor, RESET, username, None, reason)


def get(app: App, grant_id: int) -> Grant:
    with app.db.connect() as conn:
        row = conn.execute(
            select(GrantRequest.__table__).where(GrantRequest.id == grant_id)
        ).first()
    if row is None:
        raise NotFound(t_("There is no such request."))
    return _grant(row)


def pending(app: App) -> list[Grant]:
    t = GrantRequest.__table__
    with app.db.connect() as conn:
        rows = conn.execute(
            select(t).where(t.c.state == PENDING).order_by(t.c.id).limit(MAX_PENDING)
        ).all()
    return [_grant(r) for r in rows]


def decide(app: App, grant_id: int, approve: bool, *, actor: Actor) -> Decision:
    """Approve (apply) or refuse a pending request. The decider is neither the requester
    nor the account concerned; a request is decided once (a second click changes nothing)."""
    grant = get(app, grant_id)
    if grant.state != PENDING:
        raise UsageError(
            t_(
                "This request was already {state} by {decided_by}.",
                state=grant.state,
                decided_by=grant.decided_by,
            )
        )
    if actor.username in (grant.requested_by, grant.username):
        raise UsageError(
            t_(
                "A second administrator must decide: not the one who asked, "
                "nor the account's owner."
            )
        )
    state = "approved" if approve else "refused"
    detail = {"grant": grant.id, "requested_by": grant.requested_by, "reason": grant.reason}
    code = None
    with write(app) as conn:
        changed = conn.execute(
            update(GrantRequest)
            .where(GrantRequest.id == grant.id, GrantRequest.state == PENDING)
            .values(state=state, decided_by=actor.username, decided_at=now())
        ).rowcount
        if changed != 1:  # decided meanwhile by someone else
            raise UsageError(t_("This request was decided meanwhile."))
        if approve and grant.kind.startswith(ROLE):
            accounts.apply_grant(
                app, conn, grant.username, grant.role or Role.AUDITOR.value, actor=actor,
                detail={**detail, "new_account": grant.kind.endswith("+new")},
            )  # fmt: skip
        elif approve:
            user = accounts.find_user(app, grant.username)
            code = accounts.reset_in(app, conn, user, actor, detail=detail)
        else:
            audit.record_in(
                app, conn, actor, audit.USER_CHANGE, f"user:{grant.username}",
                {"grant_refused": grant.kind, **detail},
            )  # fmt: skip
    return Decision(get(app, grant.id), code)
