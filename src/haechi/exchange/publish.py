"""Serving a partner one signed page of the change feed.

Every fetch is on the audit trail (``exchange_fetch``; refusals ``exchange_refused`` with
the sentence the partner received), and every page that carries at least one item is an
``export``: an audit entry backed by a signed custody ``export`` event in the same
transaction, citing the payload's SHA-256, the change range and the counts. Empty polls
are audit entries only — a partner polling every 15 minutes must not grow the custody
log by a hundred events a day while nothing leaves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, select, update

from haechi.app import App
from haechi.auth import audit
from haechi.auth.db import write
from haechi.auth.types import Actor
from haechi.exchange.envelope import payload_digest, seal
from haechi.exchange.errors import ExchangeError
from haechi.exchange.feed import catch_up, labels_of
from haechi.exchange.page import MAX_ITEMS, PAGE, audience, make_cursor, read_cursor, wire_signal
from haechi.exchange.partners import PartnerInfo, authenticate
from haechi.exchange.scope import Scope, narrow
from haechi.i18n import t_
from haechi.store.custody import utc_now
from haechi.store.tables.exchange import ExchangeFeed, ExchangePartner
from haechi.store.tables.match import BankItem, BankSignal

FETCH = "exchange_fetch"  # audit actions
REFUSED = "exchange_refused"
DEFAULT_LIMIT = 1000
BYTE_BUDGET = 8 * 1024 * 1024  # stop filling a page here (vPDQ strings can be long)
SCAN = 20_000  # feed rows read per page at most (others' banks are skipped, not sent)
CHUNK = 500


@dataclass(frozen=True)
class Served:
    body: bytes  # the signed envelope
    partner: str
    items: int
    start: int
    end: int
    more: bool


def _actor(name: str, ip: str | None) -> Actor:
    return Actor(None, f"partner:{name}"[:64], None, via="exchange", ip=ip)


def refuse(app: App, exc: ExchangeError, *, token: str, ip: str | None, who: str = "?") -> None:
    """Put a refused fetch on the audit trail (the sentence, the token's first characters)."""
    detail = {"why": str(exc), "status": exc.status, "token_prefix": token[:10]}
    audit.record(app, _actor(who, ip), REFUSED, f"partner:{who}", detail)


def serve_page(
    app: App,
    token: str,
    *,
    after: str | None = None,
    limit: int | None = None,
    kinds: Sequence[str] = (),
    labels: Sequence[str] = (),
    ip: str | None = None,
) -> Served:
    """One page after ``after`` for the partner holding ``token`` (refusals are logged)."""
    partner: PartnerInfo | None = None
    try:
        partner = authenticate(app, token)
        scope = narrow(partner.scope, kinds, labels)
        position, tag = read_cursor(after)
        if limit is not None and not 1 <= limit <= MAX_ITEMS:
            raise ExchangeError(
                t_(
                    "Ask for 1 to {max_items} items a page, not {limit}.",
                    max_items=MAX_ITEMS,
                    limit=limit,
                )
            )
    except ExchangeError as exc:
        refuse(app, exc, token=token, ip=ip, who=partner.name if partner else "?")
        raise
    reset = tag is not None and tag != scope.digest()[:12]
    if reset:
        position = 0
    more = not catch_up(app).done
    with app.db.connect() as conn:
        items, end, full = _items(conn, scope, position, limit or DEFAULT_LIMIT)
    payload = {
        "format": PAGE, "publisher": app.signer.key_id, "audience": audience(token),
        "partner": partner.name, "issued_at": utc_now(), "after": after or "",
        "next": make_cursor(end, scope.digest()), "from": position, "to": end,
        "reset": reset, "more": more or full, "items": items,
    }  # fmt: skip
    body = seal(app.signer, payload)
    _record(app, partner, payload, body, ip)
    return Served(body, partner.name, len(items), position, end, bool(payload["more"]))


def _items(
    conn: Connection, scope: Scope, position: int, limit: int
) -> tuple[list[dict[str, Any]], int, bool]:
    """Items after ``position`` in ``scope``: (items, last change consumed, more to read)."""
    scan = min(SCAN, 2 * limit)  # rows beyond what a page holds are read again next time
    rows = conn.execute(
        select(ExchangeFeed)
        .where(ExchangeFeed.id > position, ExchangeFeed.bank_id.in_(scope.bank_ids))
        .order_by(ExchangeFeed.id)
        .limit(scan)
    ).all()
    signals = _signals(conn, [r for r in rows if r.op == "add"], scope)
    items: list[dict[str, Any]] = []
    end, size = position, 0
    for row in rows:
        if len(items) >= limit or size >= BYTE_BUDGET:
            return items, end, True
        end = row.id
        labels = labels_of(row.labels_json)
        if not scope.admits(labels):
            continue
        if row.op == "remove":
            item: dict[str, Any] = {"change": row.id, "op": "remove", "item": row.ref}
        else:
            hashes = signals.get(row.id)
            if not hashes:  # withdrawn since (its removal follows), or no hash in scope
                continue
            item = {"change": row.id, "op": "add", "item": row.id, "labels": labels,
                    "added_at": row.item_added_at, "signals": hashes}  # fmt: skip
        size += len(orjson.dumps(item))
        items.append(item)
    return items, end, len(rows) == scan


def _signals(conn: Connection, adds: list[Any], scope: Scope) -> dict[int, list[dict[str, Any]]]:
    """The hashes of the items still in their bank (same id, same time of addition)."""
    by_item = {(r.item_id, r.item_added_at): r.id for r in adds}
    out: dict[int, list[dict[str, Any]]] = {}
    ids = sorted({r.item_id for r in adds})
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        # By the signals' item index; the kind is filtered here: with it in the WHERE clause
        # SQLite walked the (kind, value) index over every bank hash (14 s a chunk at 1M).
        for item_id, added_at, kind, value, quality, data in conn.execute(
            select(BankSignal.item_id, BankItem.added_at, BankSignal.kind, BankSignal.value,
                   BankSignal.quality, BankSignal.data_json)
            .join(BankItem, BankItem.id == BankSignal.item_id)
            .where(BankSignal.item_id.in_(part))
            .order_by(BankSignal.id)
        ):  # fmt: skip
            change = by_item.get((item_id, added_at))
            if change is not None and kind in scope.kinds:
                parsed = orjson.loads(data) if data else None
                out.setdefault(change, []).append(wire_signal(kind, value, quality, parsed))
    return out


def _record(
    app: App, partner: PartnerInfo, payload: dict[str, Any], body: bytes, ip: str | None
) -> None:
    items = payload["items"]
    adds = sum(1 for i in items if i["op"] == "add")
    detail = {
        "partner": partner.name, "from": payload["from"], "to": payload["to"], "adds": adds,
        "removes": len(items) - adds, "reset": payload["reset"], "more": payload["more"],
        "payload_sha256": payload_digest(body),
        "scope_sha256": partner.scope.digest(),
    }  # fmt: skip
    action = audit.EXPORT if items else FETCH
    with write(app, chain=bool(items)) as conn:
        audit.record_in(app, conn, _actor(partner.name, ip), action, f"partner:{partner.name}",
                        detail)  # fmt: skip
        conn.execute(
            update(ExchangePartner)
            .where(ExchangePartner.id == partner.id)
            .values(last_fetch_at=utc_now(), last_change=payload["to"])
        )
