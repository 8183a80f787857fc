"""Browser sessions and API tokens.

The cookie holds 32 random bytes; the database keeps only their SHA-256, so a copy of the
database opens no session. Each session has its own CSRF token. Sessions end after
``idle`` seconds without a request or ``absolute`` seconds after login, on logout, and
when the account is disabled, its role changes or its password is reset.

``last_seen_at`` is written at most once a minute per session: a page view must not cost
a database write.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from haechi.app import App
from haechi.auth import audit
from haechi.auth.db import now, write
from haechi.auth.errors import NotFound
from haechi.auth.types import Actor, UserInfo
from haechi.domain import UsageError
from haechi.i18n import t_
from haechi.store.tables.web import ApiToken, WebSession, WebUser

TOUCH_EVERY = 60
TOKEN_PREFIX = "hch_"  # noqa: S105 - not a secret


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class SessionInfo:
    id_hash: str
    user: UserInfo
    csrf_token: str
    expires_at: int


@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str
    prefix: str
    created_at: int
    expires_at: int | None
    last_used_at: int | None
    revoked: bool


def create_session(
    app: App, user: UserInfo, *, ip: str | None, user_agent: str | None, absolute: int
) -> tuple[str, SessionInfo]:
    """Returns the cookie value (shown once) and the session."""
    secret = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    t = now()
    with write(app) as conn:
        conn.execute(
            insert(WebSession).values(
                id_hash=_digest(secret),
                user_id=user.id,
                csrf_token=csrf,
                created_at=t,
                last_seen_at=t,
                expires_at=t + absolute,
                revoked=False,
                ip=(ip or "")[:64] or None,
                user_agent=(user_agent or "")[:255] or None,
            )
        )
    return secret, SessionInfo(_digest(secret), user, csrf, t + absolute)


def _user_from(row: object) -> UserInfo:
    from haechi.auth.accounts import _info

    return _info(row)


def lookup_session(app: App, secret: str, *, idle: int) -> SessionInfo | None:
    if not secret or len(secret) > 128:
        return None
    id_hash = _digest(secret)
    s, u = WebSession.__table__, WebUser.__table__
    t = now()
    with app.db.connect() as conn:
        row = conn.execute(
            select(s.c.csrf_token, s.c.expires_at, s.c.last_seen_at, s.c.revoked, u)
            .join(u, u.c.id == s.c.user_id)
            .where(s.c.id_hash == id_hash)
        ).first()
    if row is None or row.revoked or row.disabled:
        return None
    if row.expires_at <= t or row.last_seen_at + idle <= t:
        return None
    if t - row.last_seen_at >= TOUCH_EVERY:
        with write(app) as conn:
            conn.execute(
                update(WebSession).where(WebSession.id_hash == id_hash).values(last_seen_at=t)
            )
    return SessionInfo(id_hash, _user_from(row), row.csrf_token, row.expires_at)


def end_session(app: App, id_hash: str) -> None:
    with write(app) as conn:
        conn.execute(update(WebSession).where(WebSession.id_hash == id_hash).values(revoked=True))


# -- API tokens ---------------------------------------------------------------------------


def create_token(
    app: App, user: UserInfo, name: str, *, days: int | None, actor: Actor
) -> tuple[str, TokenInfo]:
    """Returns the secret (shown once, never stored) and the token's record."""
    label = name.strip()[:128]
    if not label:
        raise UsageError(t_("Give the token a name that says what script uses it."))
    if days is not None and not 1 <= days <= 3650:
        raise UsageError(t_("A token lasts between 1 and 3650 days."))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    t = now()
    with write(app) as conn:
        result = conn.execute(
            insert(ApiToken).values(
                user_id=user.id,
                name=label,
                token_hash=_digest(secret),
                prefix=secret[:12],
                created_at=t,
                expires_at=t + days * 86400 if days else None,
                revoked=False,
            )
        )
        token_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        audit.record_in(
            app, conn, actor, audit.TOKEN_CHANGE, f"token:{token_id}", {"created": label}
        )
    return secret, TokenInfo(
        token_id, label, secret[:12], t, t + days * 86400 if days else None, None, False
    )


def tokens_of(app: App, user_id: int) -> list[TokenInfo]:
    t = ApiToken.__table__
    with app.db.connect() as conn:
        rows = conn.execute(select(t).where(t.c.user_id == user_id).order_by(t.c.id)).all()
    return [
        TokenInfo(
            r.id, r.name, r.prefix, r.created_at, r.expires_at, r.last_used_at, bool(r.revoked)
        )
        for r in rows
    ]


def revoke_token(app: App, user_id: int, token_id: int, *, actor: Actor) -> None:
    with write(app) as conn:
        done = conn.execute(
            update(ApiToken)
            .where(ApiToken.id == token_id, ApiToken.user_id == user_id)
            .values(revoked=True)
        ).rowcount
        if not done:
            raise NotFound(t_("There is no such token."))
        audit.record_in(
            app, conn, actor, audit.TOKEN_CHANGE, f"token:{token_id}", {"revoked": True}
        )


def lookup_token(app: App, secret: str) -> UserInfo | None:
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 128:
        return None
    tk, u = ApiToken.__table__, WebUser.__table__
    t = now()
    with app.db.connect() as conn:
        row = conn.execute(
            select(tk.c.id.label("token_id"), tk.c.expires_at, tk.c.last_used_at, tk.c.revoked, u)
            .join(u, u.c.id == tk.c.user_id)
            .where(tk.c.token_hash == _digest(secret))
        ).first()
    if row is None or row.revoked or row.disabled:
        return None
    if row.expires_at is not None and row.expires_at <= t:
        return None
    if row.last_used_at is None or t - row.last_used_at >= TOUCH_EVERY:
        with write(app) as conn:
            conn.execute(update(ApiToken).where(ApiToken.id == row.token_id).values(last_used_at=t))
    return _user_from(row)
