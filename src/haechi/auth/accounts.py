"""Local accounts: add, list, disable, reset passwords, and log in with lock-out and
rate limiting.

Policy (docs/web.md): after ``LOCK_AFTER`` failed logins in a row an account is locked for
``LOCK_SECONDS``; an address with ``IP_LIMIT`` failures within ``IP_WINDOW`` seconds is
refused for the rest of the window, whatever account it tries. The refusal never says
whether the user name exists.

Separation of duties (issue 17): nobody changes their own role or resets their own
password here (one's own password is changed on one's account page, knowing the old one);
a role that can reveal originals or search victims' faces is given only through the
command line with a recorded reason, or by a second administrator approving a request
(:mod:`haechi.auth.grants`); an administrator's password reset never sets a password: it
issues a one-time code the user redeems to choose one. Sessions and API tokens end when
the password, the role or the account's state changes, and enabling an account does not
bring its tokens back.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from haechi.app import App
from haechi.auth import audit
from haechi.auth.db import now, write
from haechi.auth.errors import LoginRefused, NotFound, RateLimited, SecondAdminNeeded
from haechi.auth.passwords import check_policy, hash_password, needs_rehash, verify_password
from haechi.auth.roles import Perm, Role, can, parse_role
from haechi.auth.types import Actor, UserInfo
from haechi.domain import UsageError
from haechi.i18n import t_
from haechi.store.tables.web import ApiToken, LoginFailure, WebSession, WebUser

LOCK_AFTER = 5
LOCK_SECONDS = 15 * 60
IP_LIMIT = 20
IP_WINDOW = 10 * 60
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
REFUSED = t_("Wrong user name or password, or the account is disabled or locked.")
RESET_HOURS = 72
# Stored as the password hash while a reset code is outstanding: never an argon2 hash, so
# no password verifies against it.
UNUSABLE = "!reset"


def normalise_username(username: str) -> str:
    name = username.strip().lower()
    if not _USERNAME.fullmatch(name):
        raise UsageError(
            t_(
                "A user name has 2–64 characters: lower-case letters, "
                "digits, dot, dash, underscore."
            )
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
        must_change_password=bool(row.must_change_password),
        unit=row.unit,
        all_units=bool(row.all_units),
    )


def privileged(role: str | Role) -> bool:
    """A role that sees material or victims' faces: given only with a second pair of eyes."""
    return can(role, Perm.MEDIA_REVEAL) or can(role, Perm.FACE_SEARCH)


def _check_grant(actor: Actor, role: Role, reason: str | None, what: str) -> None:
    """The rule for giving ``role``: the command line with a reason, or a grant request."""
    if not privileged(role):
        return
    if actor.via != "cli":
        raise SecondAdminNeeded(
            t_(
                "{what} as {value} lets the account see originals or "
                "victims' faces: a second administrator must approve it "
                "(request it on this page), or an administrator gives it "
                "with `haechi user` and a --reason.",
                what=what,
                value=role.value,
            )
        )
    if not (reason or "").strip():
        raise UsageError(
            t_(
                "{what} as {value} lets the account see originals or "
                "victims' faces: give --reason (it is kept in the audit "
                "trail).",
                what=what,
                value=role.value,
            )
        )


def _not_self(actor: Actor, username: str, what: str) -> None:
    if actor.username == username:
        raise UsageError(t_("Nobody can {what} their own account here.", what=what))


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
    reason: str | None = None,
    pending_approval: bool = False,
    unit: str | None = None,
    all_units: bool = False,
) -> UserInfo:
    """A new account. ``pending_approval``: an administrator in the web application asks
    for a privileged role; the account is created disabled until a second administrator
    approves the grant request filed with it (:func:`haechi.auth.grants.request_role`).
    ``unit``: the unit the person works in; ``all_units``: they see every unit's cases
    (:mod:`haechi.auth.units`)."""
    from haechi.auth.units import check_all_units, normalise_unit

    name = normalise_username(username)
    parsed = parse_role(role)
    unit = normalise_unit(unit)
    check_policy(password, name, display_name)
    if not pending_approval:
        _check_grant(actor, parsed, reason, t_("Creating {name}", name=name))
    if all_units:
        check_all_units(reason, t_("Creating {name}", name=name))
    t = now()
    with write(app) as conn:
        if _row(conn, name) is not None:
            raise UsageError(t_("The user {name} already exists.", name=name))
        conn.execute(
            insert(WebUser).values(
                username=name,
                display_name=(display_name or "").strip()[:200] or None,
                role=parsed.value,
                password_hash=hash_password(password),
                disabled=pending_approval,
                failed_logins=0,
                created_at=t,
                password_changed_at=t,
                unit=unit,
                all_units=all_units,
            )
        )
        detail: dict[str, Any] = {"added": parsed.value}
        if unit is not None or all_units:
            detail.update(unit=unit, all_units=all_units)
        if reason:
            detail["reason"] = reason.strip()[:500]
        if pending_approval:
            detail["pending_approval"] = True
        audit.record_in(app, conn, actor, audit.USER_CHANGE, f"user:{name}", detail)
        return _info(_row(conn, name))


def get_user(app: App, user_id: int) -> UserInfo | None:
    with app.db.connect() as conn:
        row = conn.execute(select(_USERS).where(_USERS.c.id == user_id)).first()
    return _info(row) if row else None


def find_user(app: App, username: str) -> UserInfo:
    with app.db.connect() as conn:
        row = _row(conn, username.strip().lower())
    if row is None:
        raise NotFound(t_("There is no user {lower!r}.", lower=username.strip().lower()))
    return _info(row)


def list_users(app: App) -> list[UserInfo]:
    with app.db.connect() as conn:
        return [_info(r) for r in conn.execute(select(_USERS).order_by(_USERS.c.username))]


def _change(app: App, username: str, actor: Actor, what: dict[str, Any], **values: Any) -> UserInfo:
    user = find_user(app, username)
    with write(app) as conn:
        _change_in(app, conn, user, actor, what, **values)
    return find_user(app, user.username)


def _change_in(
    app: App, conn: Connection, user: UserInfo, actor: Actor, what: dict[str, Any], **values: Any
) -> None:
    conn.execute(update(WebUser).where(WebUser.id == user.id).values(**values))
    if values.get("disabled") or "password_hash" in values or "role" in values:
        # Disabling, a new password or a new role ends every session and API token at
        # once; enabling the account again later does not bring them back.
        conn.execute(update(WebSession).where(WebSession.user_id == user.id).values(revoked=True))
        conn.execute(update(ApiToken).where(ApiToken.user_id == user.id).values(revoked=True))
    audit.record_in(app, conn, actor, audit.USER_CHANGE, f"user:{user.username}", what)


def set_disabled(app: App, username: str, disabled: bool, *, actor: Actor) -> UserInfo:
    if disabled:
        _not_self(actor, find_user(app, username).username, t_("disable"))
    return _change(app, username, actor, {"disabled": disabled}, disabled=disabled)


def set_role(
    app: App, username: str, role: str, *, actor: Actor, reason: str | None = None
) -> UserInfo:
    user = find_user(app, username)
    parsed = parse_role(role)
    _not_self(actor, user.username, t_("change the role of"))
    if parsed.value == user.role:
        return user
    _check_grant(actor, parsed, reason, t_("Changing {name}'s role", name=user.username))
    what: dict[str, Any] = {"role": parsed.value, "was": user.role}
    if reason:
        what["reason"] = reason.strip()[:500]
    return _change(app, user.username, actor, what, role=parsed.value)


def apply_grant(
    app: App, conn: Connection, username: str, role: str, *, actor: Actor, detail: dict[str, Any]
) -> None:
    """A second administrator approved a grant request (:mod:`haechi.auth.grants`): give
    the role, and enable an account created pending that approval."""
    user = _info(_row(conn, username))
    values: dict[str, Any] = {"role": parse_role(role).value}
    if detail.get("new_account"):
        values["disabled"] = False
    _change_in(
        app, conn, user, actor, {"role": values["role"], "was": user.role, **detail}, **values
    )


def reset_password(
    app: App,
    username: str,
    password: str | None = None,
    *,
    actor: Actor,
    reason: str | None = None,
) -> tuple[UserInfo, str | None]:
    """End the account's password, sessions and tokens. From the command line with
    ``password``: that password, to be changed at the next login. Otherwise a one-time
    code (returned once, valid for ``RESET_HOURS``) with which the user chooses a new
    password at /login/reset; nobody else ever sets or learns it. Resetting a privileged
    account in the web application needs a second administrator (a grant request)."""
    user = find_user(app, username)
    _not_self(actor, user.username, t_("reset the password of"))
    if privileged(user.role):
        _check_grant(
            actor, Role(user.role), reason, t_("Resetting {name}'s password", name=user.username)
        )
    with write(app) as conn:
        code = reset_in(app, conn, user, actor, password=password, reason=reason)
    return find_user(app, user.username), code


def reset_in(
    app: App,
    conn: Connection,
    user: UserInfo,
    actor: Actor,
    *,
    password: str | None = None,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> str | None:
    what: dict[str, Any] = {"password_reset": "temporary" if password else "code", **(detail or {})}
    if reason:
        what["reason"] = reason.strip()[:500]
    t = now()
    values: dict[str, Any] = {"failed_logins": 0, "locked_until": None, "password_changed_at": t}
    code = None
    if password is not None:
        check_policy(password, user.username, user.display_name)
        values.update(password_hash=hash_password(password), must_change_password=True)
        values.update(reset_code_hash=None, reset_expires_at=None)
    else:
        code = secrets.token_urlsafe(18)
        values.update(
            password_hash=UNUSABLE,
            must_change_password=True,
            reset_code_hash=hashlib.sha256(code.encode()).hexdigest(),
            reset_expires_at=t + RESET_HOURS * 3600,
        )
    _change_in(app, conn, user, actor, what, **values)
    return code


def redeem_reset(app: App, username: str, code: str, new_password: str, *, ip: str) -> UserInfo:
    """The user sets a new password with the one-time code an administrator gave them."""
    name = username.strip().lower()[:64]
    t = now()
    with app.db.connect() as conn:
        row = _row(conn, name)
    digest = hashlib.sha256(code.strip().encode()).hexdigest()
    ok = (
        row is not None
        and row.reset_code_hash is not None
        and hmac.compare_digest(row.reset_code_hash, digest)
        and (row.reset_expires_at or 0) > t
        and not row.disabled
    )
    anonymous = Actor(row.id if row else None, name or "?", row.role if row else None, "web", ip)
    if not ok:
        audit.record(app, anonymous, audit.LOGIN_FAILED, f"user:{name}", {"reason": "reset_code"})
        raise LoginRefused(
            t_("The code is wrong, used or expired: ask an administrator for a new one.")
        )
    check_policy(new_password, row.username, row.display_name)
    with write(app) as conn:
        conn.execute(
            update(WebUser)
            .where(WebUser.id == row.id)
            .values(
                password_hash=hash_password(new_password),
                password_changed_at=t,
                must_change_password=False,
                reset_code_hash=None,
                reset_expires_at=None,
            )
        )
        audit.record_in(
            app,
            conn,
            anonymous,
            audit.USER_CHANGE,
            f"user:{row.username}",
            {"reset_redeemed": True},
        )
    return find_user(app, row.username)


def change_own_password(app: App, user_id: int, old: str, new: str, *, actor: Actor) -> UserInfo:
    """One's own password, knowing the current one (or the temporary one a reset gave)."""
    with app.db.connect() as conn:
        row = conn.execute(select(_USERS).where(_USERS.c.id == user_id)).first()
    if row is None or not verify_password(row.password_hash, old):
        raise UsageError(t_("The current password is wrong."))
    if hmac.compare_digest(old, new):
        raise UsageError(t_("Choose a password other than the current one."))
    check_policy(new, row.username, row.display_name)
    with write(app) as conn:
        conn.execute(
            update(WebUser)
            .where(WebUser.id == row.id)
            .values(
                password_hash=hash_password(new),
                password_changed_at=now(),
                must_change_password=False,
            )
        )
        audit.record_in(
            app, conn, actor, audit.USER_CHANGE, f"user:{row.username}", {"password_changed": True}
        )
    return find_user(app, row.username)


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
            t_("Too many failed logins from this address: wait a few minutes and try again."), retry
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
