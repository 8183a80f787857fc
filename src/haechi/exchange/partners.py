"""Partners we publish to: each has a name, its own token and its scope.

A token is shown once when made (``hxp_`` and 43 random characters) and only its SHA-256
is kept, as for the web's API tokens: a copy of the database lets nobody fetch. A revoked
token is kept (as its hash) so a fetch with it is answered "revoked", not "unknown".
Every change is a custody event (``exchange_partner``) naming who made it; the event
holds the scope and the token's first characters, never the token.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import delete, insert, select, update

from haechi.app import App
from haechi.domain import UsageError
from haechi.exchange import events
from haechi.exchange.errors import Unauthorized
from haechi.exchange.scope import Scope, make_scope
from haechi.i18n import t_
from haechi.match.banks import get_bank
from haechi.store.custody import utc_now
from haechi.store.tables.exchange import ExchangePartner

TOKEN_PREFIX = "hxp_"  # noqa: S105 - not a secret: says "a haechi exchange partner token"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class PartnerInfo:
    id: int
    name: str
    description: str | None
    scope: Scope
    token_prefix: str | None
    token_created_at: str | None
    token_revoked_at: str | None
    created_at: str
    created_by: str
    last_fetch_at: str | None
    last_change: int | None

    @property
    def active(self) -> bool:
        return self.token_prefix is not None and self.token_revoked_at is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "description": self.description,
            "scope": orjson.loads(self.scope.to_json()), "scope_text": self.scope.describe(),
            "token_prefix": self.token_prefix, "token_created_at": self.token_created_at,
            "token_revoked_at": self.token_revoked_at, "active": self.active,
            "created_at": self.created_at, "created_by": self.created_by,
            "last_fetch_at": self.last_fetch_at, "last_change": self.last_change,
        }  # fmt: skip


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_name(name: str, what: str = t_("partner")) -> str:
    name = name.strip()
    if not NAME_RE.match(name):
        raise UsageError(
            t_(
                "A {what} name is 1-64 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit, not {name!r}.",
                what=what,
                name=name[:80],
            )
        )
    return name


def _info(row: Any) -> PartnerInfo:
    return PartnerInfo(
        row.id, row.name, row.description, Scope.from_json(row.scope_json), row.token_prefix,
        row.token_created_at, row.token_revoked_at, row.created_at, row.created_by,
        row.last_fetch_at, row.last_change,
    )  # fmt: skip


def _scope(app: App, banks: Sequence[str], labels: Sequence[str], kinds: Sequence[str]) -> Scope:
    resolved = [(b.id, b.name) for b in (get_bank(app, name) for name in banks)]
    return make_scope(resolved, labels, kinds)


def _event(app: App, conn: Any, name: str, data: dict[str, Any]) -> None:
    app.custody.append(conn, events.PARTNER, f"partner:{name}", {"partner": name, **data})


def _new_token() -> tuple[str, dict[str, Any]]:
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return secret, {
        "token_hash": _digest(secret),
        "token_prefix": secret[:10],
        "token_created_at": utc_now(),
        "token_revoked_at": None,
    }


def add_partner(
    app: App,
    name: str,
    *,
    banks: Sequence[str],
    labels: Sequence[str] = (),
    kinds: Sequence[str] = (),
    description: str | None = None,
) -> tuple[str, PartnerInfo]:
    """A new partner and its token (returned once, never stored)."""
    name = check_name(name)
    scope = _scope(app, banks, labels, kinds)
    secret, token = _new_token()
    with app.db.begin() as conn:
        if conn.execute(select(ExchangePartner.id).where(ExchangePartner.name == name)).first():
            raise UsageError(t_("A partner called {name!r} exists already.", name=name))
        conn.execute(
            insert(ExchangePartner).values(
                name=name, description=(description or "").strip()[:500] or None,
                scope_json=scope.to_json(), scope_digest=scope.digest(), created_at=utc_now(),
                created_by=app.settings.operator, **token,
            )
        )  # fmt: skip
        _event(app, conn, name, {"action": "added", "scope": orjson.loads(scope.to_json()),
                                 "token_prefix": token["token_prefix"]})  # fmt: skip
    return secret, get_partner(app, name)


def list_partners(app: App) -> list[PartnerInfo]:
    with app.db.connect() as conn:
        rows = conn.execute(select(ExchangePartner).order_by(ExchangePartner.name)).all()
    return [_info(r) for r in rows]


def get_partner(app: App, name: str) -> PartnerInfo:
    with app.db.connect() as conn:
        row = conn.execute(select(ExchangePartner).where(ExchangePartner.name == name)).first()
    if row is None:
        known = ", ".join(p.name for p in list_partners(app)[:10]) or "none yet"
        raise UsageError(
            t_("There is no partner called {name!r} (partners: {known}).", name=name, known=known)
        )
    return _info(row)


def set_scope(
    app: App,
    name: str,
    *,
    banks: Sequence[str],
    labels: Sequence[str] = (),
    kinds: Sequence[str] = (),
) -> PartnerInfo:
    """A new scope; the partner's next fetch starts over (see :mod:`haechi.exchange.scope`)."""
    partner = get_partner(app, name)
    scope = _scope(app, banks, labels, kinds)
    with app.db.begin() as conn:
        conn.execute(
            update(ExchangePartner)
            .where(ExchangePartner.id == partner.id)
            .values(scope_json=scope.to_json(), scope_digest=scope.digest())
        )
        _event(app, conn, partner.name, {"action": "scope", "scope": orjson.loads(scope.to_json()),
                                         "was": orjson.loads(partner.scope.to_json())})  # fmt: skip
    return get_partner(app, name)


def new_token(app: App, name: str) -> tuple[str, PartnerInfo]:
    """A fresh token; the old one stops working at once."""
    partner = get_partner(app, name)
    secret, token = _new_token()
    with app.db.begin() as conn:
        conn.execute(
            update(ExchangePartner).where(ExchangePartner.id == partner.id).values(**token)
        )
        _event(app, conn, partner.name, {"action": "token", "token_prefix": token["token_prefix"],
                                         "replaced": partner.token_prefix})  # fmt: skip
    return secret, get_partner(app, name)


def revoke_token(app: App, name: str, *, reason: str = "") -> PartnerInfo:
    partner = get_partner(app, name)
    if not partner.active:
        raise UsageError(t_("Partner {name!r} has no working token to revoke.", name=name))
    with app.db.begin() as conn:
        conn.execute(
            update(ExchangePartner)
            .where(ExchangePartner.id == partner.id)
            .values(token_revoked_at=utc_now())
        )
        _event(app, conn, partner.name, {"action": "revoked", "token_prefix": partner.token_prefix,
                                         "reason": reason[:500]})  # fmt: skip
    return get_partner(app, name)


def remove_partner(app: App, name: str, *, reason: str = "") -> PartnerInfo:
    partner = get_partner(app, name)
    with app.db.begin() as conn:
        conn.execute(delete(ExchangePartner).where(ExchangePartner.id == partner.id))
        _event(app, conn, partner.name, {"action": "removed", "reason": reason[:500]})
    return partner


def authenticate(app: App, token: str) -> PartnerInfo:
    """The partner holding ``token``, or :class:`Unauthorized` saying why not."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 128:
        raise Unauthorized(t_("This is not a partner token: send the hxp_ token you were given."))
    digest = _digest(token)
    with app.db.connect() as conn:
        row = conn.execute(
            select(ExchangePartner).where(ExchangePartner.token_hash == digest)
        ).first()
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        raise Unauthorized(t_("The token is wrong or was replaced: ask the publisher for yours."))
    if row.token_revoked_at is not None:
        raise Unauthorized(
            t_(
                "This token was revoked on {day}.",
                day=row.token_revoked_at[:10],
            )
        )
    return _info(row)
