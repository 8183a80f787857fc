"""Local accounts: add, list, disable, reset passwords, and log in with lock-out and
rate limiting.

Policy (docs/web.md): after ``LOCK_AFTER`` failed logins in a row an account is locked for
``LOCK_SECONDS``; an address with ``IP_LIMIT`` failures within ``IP_WINDOW`` seconds is
refused for the rest of the window, whatever account it tries. The refusal never says
whether the user name exists.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from haechi.app import App
from haechi.auth import audit
from haechi.auth.db import now, write
from haechi.auth.errors import LoginRefused, NotFound, RateLimited
from haechi.auth.passwords import check_policy, hash_password, needs_rehash, verify_password
from haechi.auth.roles import parse_role
from haechi.auth.types import Actor, UserInfo
from haechi.domain import UsageError
from haechi.store.tables.web import LoginFailure, WebSession, WebUser

LOCK_AFTER = 5
LOCK_SECONDS = 15 * 60
IP_LIMIT = 20
IP_WINDOW = 10 * 60
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
REFUSED = "Wrong user name or password, or the account is disabled or locked."


def normalise_username(username: str) -> str:
    name = username.strip().lower()
    if not _USERNAME.fullmatch(name):
        raise UsageError(
            "A user name has 2–64 characters: lower-case letters, digits, dot, dash, underscore."
        )
    return name


def _info(row: Any) -> UserInfo:
    return UserInfo(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=row.role,
        disabled=bool(row.disabled),
        locked_until=row.locked_until,
        failed_logins=row.failed_logins,
        created_at=row.created_at,
        last_login_at=row.last_login_at,
    )


_USERS = WebUser.__table__


def _row(conn: Connection, username: str) -> Any:
    return conn.execute(select(_USERS).where(_USERS.c.username == username)).first()


def add_user(
    app: App,
    username: str,
    password: str,
    role: str,
    *,
    display_name: str | None = None,
    actor: Actor,
) -> UserInfo:
    name = normalise_username(username)
    parsed = parse_role(role)
    check_policy(password, name)
    t = now()
    with write(app) as conn:
        if _row(conn, name) is not None:
            raise UsageError(f"The user {name} already exists.")
        conn.execute(
            insert(WebUser).values(
                username=name,
                display_name=(display_name or "").strip()[:200] or None,
                role=parsed.value,
                password_hash=hash_password(password),
                disabled=False,
                failed_logins=0,
                created_at=t,
                password_changed_at=t,
            )
        )
        audit.record_in(
            app, conn, actor, audit.USER_CHANGE, f"user:{name}", {"added": parsed.value}
        )
        return _info(_row(conn, name))


def get_user(app: App, user_id: int) -> UserInfo | None:
    with app.db.connect() as conn:
        row = conn.execute(select(_USERS).where(_USERS.c.id == user_id)).first()
    return _info(row) if row else None


def find_user(app: App, username: str) -> UserInfo:
    with app.db.connect() as conn:
        row = _row(conn, username.strip().lower())
    if row is None:
        raise NotFound(f"There is no user {username.strip().lower()!r}.")
    return _info(row)


def list_users(app: App) -> list[UserInfo]:
    with app.db.connect() as conn:
        return [_info(r) for r in conn.execute(select(_USERS).order_by(_USERS.c.username))]


def _change(app: App, username: str, actor: Actor, what: dict[str, Any], **values: Any) -> UserInfo:
    user = find_user(app, username)
    with write(app) as conn:
        conn.execute(update(WebUser).where(WebUser.id == user.id).values(**values))
        if values.get("disabled") or "password_hash" in values:
            # Disabling or a new password ends every session and token use at once.
            conn.execute(
                update(WebSession).where(WebSession.user_id == user.id).values(revoked=True)
            )
        audit.record_in(app, conn, actor, audit.USER_CHANGE, f"user:{user.username}", what)
    return find_user(app, user.username)


def set_disabled(app: App, username: str, disabled: bool, *, actor: Actor) -> UserInfo:
    return _change(app, username, actor, {"disabled": disabled}, disabled=disabled)


def set_role(app: App, username: str, role: str, *, actor: Actor) -> UserInfo:
    parsed = parse_role(role).value
    user = _change(app, username, actor, {"role": parsed}, role=parsed)
    with write(app) as conn:  # a new role must not keep the old role's open sessions
        conn.execute(update(WebSession).where(WebSession.user_id == user.id).values(revoked=True))
    return user


def reset_password(app: App, username: str, password: str, *, actor: Actor) -> UserInfo:
    user = find_user(app, username)
    check_policy(password, user.username)
    return _change(
        app,
        username,
        actor,
        {"password_reset": True},
        password_hash=hash_password(password),
        password_changed_at=now(),
        failed_logins=0,
        locked_until=None,
    )


def unlock(app: App, username: str, *, actor: Actor) -> UserInfo:
    return _change(app, username, actor, {"unlocked": True}, failed_logins=0, locked_until=None)


def _ip_failures(conn: Connection, ip: str, since: int) -> tuple[int, int | None]:
    row = conn.execute(
        select(func.count(), func.min(LoginFailure.at)).where(
            LoginFailure.ip == ip, LoginFailure.at >= since
        )
    ).one()
    return int(row[0]), row[1]


def authenticate(app: App, username: str, password: str, *, ip: str, via: str = "web") -> UserInfo:
    """The user, or :class:`LoginRefused` / :class:`RateLimited`; every outcome is audited."""
    t = now()
    name = username.strip().lower()[:64]
    with app.db.connect() as conn:
        count, first = _ip_failures(conn, ip, t - IP_WINDOW)
        row = _row(conn, name)
    anonymous = Actor(None, name or "?", None, via=via, ip=ip)
    if count >= IP_LIMIT:
        retry = max(1, (first or t) + IP_WINDOW - t)
        audit.record(app, anonymous, audit.LOGIN_FAILED, f"user:{name}", {"reason": "rate"})
        raise RateLimited(
            "Too many failed logins from this address: wait a few minutes and try again.", retry
        )
    ok = verify_password(row.password_hash if row else None, password)
    locked = row is not None and row.locked_until is not None and row.locked_until > t
    if row is None or not ok or row.disabled or locked:
        _failed(app, row, name, ip, t, via, ok=ok, locked=locked)
        raise LoginRefused(REFUSED)
    values: dict[str, Any] = {"failed_logins": 0, "locked_until": None, "last_login_at": t}
    if needs_rehash(row.password_hash):
        values["password_hash"] = hash_password(password)
    with write(app) as conn:
        conn.execute(update(WebUser).where(WebUser.id == row.id).values(**values))
        actor = Actor(row.id, row.username, row.role, via=via, ip=ip)
        audit.record_in(app, conn, actor, audit.LOGIN, f"user:{row.username}")
    user = get_user(app, row.id)
    assert user is not None
    return user


def _failed(
    app: App, row: Any, name: str, ip: str, t: int, via: str, *, ok: bool, locked: bool
) -> None:
    reason = (
        "unknown"
        if row is None
        else "disabled"
        if row.disabled
        else "locked"
        if locked
        else "password"
    )
    with write(app) as conn:
        conn.execute(insert(LoginFailure).values(at=t, username=name, ip=ip[:64]))
        # Old failures only matter for the window; keep the table small.
        conn.execute(delete(LoginFailure).where(LoginFailure.at < t - 24 * 3600))
        actor = Actor(row.id if row else None, name or "?", row.role if row else None, via, ip)
        audit.record_in(app, conn, actor, audit.LOGIN_FAILED, f"user:{name}", {"reason": reason})
        if row is None or reason != "password":
            return
        failures = row.failed_logins + 1
        values: dict[str, Any] = {"failed_logins": failures}
        if failures >= LOCK_AFTER:
            values["locked_until"] = t + LOCK_SECONDS
            audit.record_in(
                app, conn, actor, audit.LOCKOUT, f"user:{name}", {"seconds": LOCK_SECONDS}
            )
        conn.execute(update(WebUser).where(WebUser.id == row.id).values(**values))
