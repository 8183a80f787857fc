"""Subscriptions: the partners we fetch from, and the local bank each one fills.

A subscription is either another haechi (its address, our token there, its public key)
or a python-threatexchange collaboration (file, sample, NCMEC, StopNCII, ThreatExchange:
its config as JSON, checked against the API's own config class). Each fills a bank of its
own (``exchange: NAME`` unless named), written by the sync only.

Secrets stay out of the database: the token (or threatexchange credentials) and the
partner's public key are files in ``HOME/keys/exchange/`` (folder 0700, files 0600), like
the custody signing key. Every change is a custody event (``exchange_subscription``).
"""

from __future__ import annotations

import ipaddress
import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, delete, insert, select, update

from haechi.app import App
from haechi.domain import UsageError
from haechi.exchange import events
from haechi.exchange.envelope import load_public_key
from haechi.exchange.partners import TOKEN_PREFIX, check_name
from haechi.i18n import t_
from haechi.match.banks import BankInfo, create_bank
from haechi.store.custody import utc_now
from haechi.store.keys import key_id, public_pem
from haechi.store.tables.exchange import ExchangeSubscription

HAECHI, THREATEXCHANGE = "haechi", "threatexchange"


@dataclass(frozen=True)
class SubscriptionInfo:
    id: int
    name: str
    kind: str
    url: str | None
    public_key_id: str | None
    tx_api: str | None
    tx_config: dict[str, Any] | None
    bank_id: int | None
    bank_name: str
    cursor: str | None
    position: int
    checkpoint_json: str | None
    resync: bool
    epoch: int
    enabled: bool
    created_at: str
    created_by: str
    last_sync_at: str | None
    last_ok_at: str | None
    last_error: str | None

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out.pop("checkpoint_json")
        return out


def _info(row: Any) -> SubscriptionInfo:
    return SubscriptionInfo(
        row.id, row.name, row.kind, row.url, row.public_key_id, row.tx_api,
        orjson.loads(row.tx_config_json) if row.tx_config_json else None, row.bank_id,
        row.bank_name, row.cursor, int(row.position or 0), row.checkpoint_json,
        bool(row.resync), int(row.epoch or 0), bool(row.enabled), row.created_at,
        row.created_by, row.last_sync_at, row.last_ok_at, row.last_error,
    )  # fmt: skip


def secrets_dir(app: App) -> Path:
    folder = app.settings.keys_dir / "exchange"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _secret_path(app: App, sub_id: int, suffix: str) -> Path:
    return secrets_dir(app) / f"sub-{sub_id}.{suffix}"


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


def check_url(url: str, *, allow_http: bool = False) -> str:
    """An https address, or http on a loopback address (or with ``allow_http``)."""
    url = url.strip()
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise UsageError(t_("{url!r} is not an http(s) address of a haechi server.", url=url[:200]))
    if parsed.scheme == "http" and not allow_http and not _loopback(parsed.hostname):
        raise UsageError(
            t_(
                "Refusing plain HTTP to {hostname}: hashes and the token "
                "would travel unencrypted. Use https, or --allow-http inside "
                "a trusted network.",
                hostname=parsed.hostname,
            )
        )
    return url.rstrip("/")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_token(token: str) -> str:
    token = token.strip()
    if not token.startswith(TOKEN_PREFIX) or not 20 <= len(token) <= 128 or not token.isascii():
        raise UsageError(t_("The token is not a haechi partner token (it starts with hxp_)."))
    return token


def _bank(app: App, name: str, bank: str | None, origin: str) -> BankInfo:
    wanted = bank or f"exchange: {name}"
    try:
        return create_bank(app, wanted, origin=origin,
                           description=f"filled by the exchange subscription {name!r}")  # fmt: skip
    except UsageError as exc:
        raise UsageError(
            t_("{exc} A subscription fills a bank of its own: give --bank a new name.", exc=exc)
        ) from None


def _insert(app: App, conn: Connection, values: dict[str, Any]) -> int:
    if conn.execute(
        select(ExchangeSubscription.id).where(ExchangeSubscription.name == values["name"])
    ).first():
        raise UsageError(t_("A subscription called {name!r} exists already.", name=values["name"]))
    return int(
        conn.execute(
            insert(ExchangeSubscription)
            .values(position=0, resync=False, epoch=0, enabled=True, created_at=utc_now(),
                    created_by=app.settings.operator, **values)
            .returning(ExchangeSubscription.id)
        ).scalar_one()
    )  # fmt: skip


def add_haechi(
    app: App,
    name: str,
    *,
    url: str,
    token: str,
    public_key_pem: bytes,
    bank: str | None = None,
    allow_http: bool = False,
) -> SubscriptionInfo:
    """Subscribe to another haechi's feed (its address, our token there, its public key)."""
    name = check_name(name, t_("subscription"))
    url = check_url(url, allow_http=allow_http)
    token = check_token(token)
    public = load_public_key(public_key_pem)
    kid = key_id(public)
    info = _bank(app, name, bank, f"partner {name} (haechi at {url}), key {kid}")
    with app.db.begin() as conn:
        sub_id = _insert(app, conn, {"name": name, "kind": HAECHI, "url": url,
                                     "public_key_id": kid, "bank_id": info.id,
                                     "bank_name": info.name})  # fmt: skip
        _write_private(_secret_path(app, sub_id, "token"), token.encode())
        _write_private(_secret_path(app, sub_id, "pem"), public_pem(public))
        app.custody.append(conn, events.SUBSCRIPTION, f"subscription:{name}", {
            "action": "added", "subscription": name, "kind": HAECHI, "url": url,
            "public_key_id": kid, "bank": info.name, "token_prefix": token[:10],
        })  # fmt: skip
    return get_subscription(app, name)


def add_threatexchange(
    app: App,
    name: str,
    *,
    config: dict[str, Any],
    credentials: str | None = None,
    bank: str | None = None,
) -> SubscriptionInfo:
    """Subscribe to a python-threatexchange collaboration (its config, checked)."""
    from haechi.exchange.txsource import check_config

    name = check_name(name, t_("subscription"))
    api, clean = check_config(config, credentials)
    info = _bank(app, name, bank, f"partner {name} (python-threatexchange {api})")
    with app.db.begin() as conn:
        sub_id = _insert(app, conn, {"name": name, "kind": THREATEXCHANGE, "tx_api": api,
                                     "tx_config_json": orjson.dumps(clean).decode(),
                                     "bank_id": info.id, "bank_name": info.name})  # fmt: skip
        if credentials:
            _write_private(_secret_path(app, sub_id, "credentials"), credentials.encode())
        app.custody.append(conn, events.SUBSCRIPTION, f"subscription:{name}", {
            "action": "added", "subscription": name, "kind": THREATEXCHANGE, "api": api,
            "config": clean, "bank": info.name, "credentials": bool(credentials),
        })  # fmt: skip
    return get_subscription(app, name)


def list_subscriptions(app: App) -> list[SubscriptionInfo]:
    with app.db.connect() as conn:
        rows = conn.execute(select(ExchangeSubscription).order_by(ExchangeSubscription.name)).all()
    return [_info(r) for r in rows]


def get_subscription(app: App, name: str) -> SubscriptionInfo:
    with app.db.connect() as conn:
        row = conn.execute(
            select(ExchangeSubscription).where(ExchangeSubscription.name == name)
        ).first()
    if row is None:
        known = ", ".join(s.name for s in list_subscriptions(app)[:10]) or "none yet"
        raise UsageError(
            t_(
                "There is no subscription called {name!r} (subscriptions: {known}).",
                name=name,
                known=known,
            )
        )
    return _info(row)


def set_enabled(app: App, name: str, enabled: bool) -> SubscriptionInfo:
    sub = get_subscription(app, name)
    with app.db.begin() as conn:
        conn.execute(
            update(ExchangeSubscription)
            .where(ExchangeSubscription.id == sub.id)
            .values(enabled=enabled)
        )
        app.custody.append(conn, events.SUBSCRIPTION, f"subscription:{name}",
                           {"action": "enabled" if enabled else "disabled",
                            "subscription": name})  # fmt: skip
    return get_subscription(app, name)


def set_token(app: App, name: str, token: str) -> SubscriptionInfo:
    """Replace our token at a haechi partner (they issued a new one)."""
    sub = get_subscription(app, name)
    if sub.kind != HAECHI:
        raise UsageError(t_("Subscription {name!r} is not to a haechi server.", name=name))
    token = check_token(token)
    with app.db.begin() as conn:
        _write_private(_secret_path(app, sub.id, "token"), token.encode())
        app.custody.append(conn, events.SUBSCRIPTION, f"subscription:{name}",
                           {"action": "token", "subscription": name,
                            "token_prefix": token[:10]})  # fmt: skip
    return sub


def set_url(app: App, name: str, url: str, *, allow_http: bool = False) -> SubscriptionInfo:
    """A haechi partner moved to another address (same key, same feed)."""
    sub = get_subscription(app, name)
    if sub.kind != HAECHI:
        raise UsageError(t_("Subscription {name!r} is not to a haechi server.", name=name))
    url = check_url(url, allow_http=allow_http)
    with app.db.begin() as conn:
        conn.execute(
            update(ExchangeSubscription).where(ExchangeSubscription.id == sub.id).values(url=url)
        )
        app.custody.append(conn, events.SUBSCRIPTION, f"subscription:{name}",
                           {"action": "url", "subscription": name, "url": url,
                            "was": sub.url})  # fmt: skip
    return get_subscription(app, name)


def remove_subscription(app: App, name: str, *, reason: str = "") -> SubscriptionInfo:
    """Stop fetching; the bank and what it imported stay (delete the bank to drop them)."""
    sub = get_subscription(app, name)
    with app.db.begin() as conn:
        conn.execute(delete(ExchangeSubscription).where(ExchangeSubscription.id == sub.id))
        app.custody.append(conn, events.SUBSCRIPTION, f"subscription:{name}",
                           {"action": "removed", "subscription": name, "bank": sub.bank_name,
                            "reason": reason[:500]})  # fmt: skip
    for suffix in ("token", "pem", "credentials"):
        _secret_path(app, sub.id, suffix).unlink(missing_ok=True)
    return sub


def token_of(app: App, sub: SubscriptionInfo) -> str:
    path = _secret_path(app, sub.id, "token")
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise UsageError(
            t_("The token of subscription {name!r} is missing ({path}).", name=sub.name, path=path)
        ) from None


def public_key_of(app: App, sub: SubscriptionInfo) -> Ed25519PublicKey:
    path = _secret_path(app, sub.id, "pem")
    try:
        return load_public_key(path.read_bytes(), t_("The stored key of {name!r}", name=sub.name))
    except FileNotFoundError:
        raise UsageError(
            t_("The partner key of {name!r} is missing ({path}).", name=sub.name, path=path)
        ) from None


def credentials_of(app: App, sub: SubscriptionInfo) -> str | None:
    path = _secret_path(app, sub.id, "credentials")
    return path.read_text(encoding="utf-8").strip() if path.exists() else None
