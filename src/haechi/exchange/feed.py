"""The change feed partners page through, derived from the banks.

The banks are the truth; the feed is what partners have been told about them. A catch-up
compares the two and appends what changed: an ``add`` for every bank item the feed does
not hold yet, a ``remove`` for every item it holds that is gone (a bank item removed, a
bank deleted — a victim withdrew consent, a list expired). Nothing in the banks' code
has to remember to tell the exchange: whatever path changed a bank, the next catch-up sees
it.

Why this is exact and cheap:
- Every bank change writes a custody event in its transaction, so "the custody head has
  not moved", or moved by other events only (a page served, a match), means "nothing
  changed" (one or two indexed reads per fetch).
- Writers are serialised (SQLite's single writer, PostgreSQL's advisory lock taken by
  ``app.db.begin()``), and so are catch-ups (they write): change ids are committed in
  the order they are numbered, so a partner that has read up to change N has seen every
  change up to N.
- New items are those above the highest item id the feed holds (ids grow; SQLite may
  reuse the id of a deleted last row, so removals are caught up first and an item is
  known by its id *and* its time of addition).
- Removals are looked for (one anti-join) only when the custody log shows a removal or a
  deletion since the last catch-up, or when the counts of live items disagree.

A catch-up adds at most ``max_items`` items per call (one transaction), so the first fetch
after a million-item import answers quickly and the rest follows page by page.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from sqlalchemy import Connection, and_, delete, func, insert, literal, select

from haechi.app import App
from haechi.match import events as match_events
from haechi.store.custody import utc_now
from haechi.store.models import CustodyEvent
from haechi.store.tables.exchange import ExchangeFeed, ExchangeLive, ExchangeState
from haechi.store.tables.match import BankItem

REMOVALS = (match_events.BANK_ITEMS_REMOVED, match_events.BANK_DELETED)
BANK_CHANGES = (match_events.BANK_ITEMS_ADDED, *REMOVALS)
SEEN = "custody_seq"  # the custody head the last complete catch-up had read
CHUNK = 500
MAX_ITEMS = 50_000


@dataclass
class CatchUp:
    added: int = 0
    removed: int = 0
    done: bool = True


def _state(conn: Connection, key: str) -> int:
    value = conn.execute(select(ExchangeState.value).where(ExchangeState.key == key)).scalar()
    return int(value or 0)


def _set_state(conn: Connection, key: str, value: int) -> None:
    conn.execute(delete(ExchangeState).where(ExchangeState.key == key))
    conn.execute(insert(ExchangeState).values(key=key, value=value))


def catch_up(app: App, *, max_items: int = MAX_ITEMS) -> CatchUp:
    """Bring the feed up to the banks (see the module doc); idempotent."""
    report = CatchUp()
    with app.db.connect() as conn:
        head = conn.execute(select(func.max(CustodyEvent.seq))).scalar() or 0
        if head == _state(conn, SEEN):
            return report  # the fast path of every fetch: nothing happened
    with app.db.begin() as conn:
        head = conn.execute(select(func.max(CustodyEvent.seq))).scalar() or 0
        seen = _state(conn, SEEN)
        if head == seen:
            return report
        now = utc_now()
        banks_changed = conn.execute(
            select(CustodyEvent.seq)
            .where(CustodyEvent.seq > seen, CustodyEvent.event_type.in_(BANK_CHANGES))
            .limit(1)
        ).first()
        if banks_changed is None and seen:  # other events only (a page served, a match, ...)
            _set_state(conn, SEEN, head)
            return report
        removal = conn.execute(
            select(CustodyEvent.seq)
            .where(CustodyEvent.seq > seen, CustodyEvent.event_type.in_(REMOVALS))
            .limit(1)
        ).first()
        if removal is not None:
            report.removed += _withdraw_gone(conn, now)
        report.added = _add_new(conn, now, max_items)
        report.done = report.added < max_items
        if report.done:
            live = conn.execute(select(func.count()).select_from(ExchangeLive)).scalar_one()
            items = conn.execute(select(func.count()).select_from(BankItem)).scalar_one()
            if live != items:  # a removal no event announced: look for it
                report.removed += _withdraw_gone(conn, now)
            _set_state(conn, SEEN, head)
    return report


def catch_up_all(app: App) -> CatchUp:
    """Catch up completely (the CLI's ``haechi exchange feed``, before a big first sync)."""
    total = CatchUp()
    while True:
        step = catch_up(app)
        total.added += step.added
        total.removed += step.removed
        if step.done:
            return total


def _add_new(conn: Connection, now: str, limit: int) -> int:
    c = conn
    above = c.execute(select(func.max(ExchangeLive.item_id))).scalar() or 0
    rows = c.execute(
        select(BankItem.id, BankItem.bank_id, BankItem.labels_json, BankItem.added_at)
        .where(BankItem.id > above)
        .order_by(BankItem.id)
        .limit(limit)
    ).all()
    for start in range(0, len(rows), CHUNK * 10):
        part = rows[start : start + CHUNK * 10]
        ids = (
            c.execute(
                insert(ExchangeFeed).returning(ExchangeFeed.id, sort_by_parameter_order=True),
                [
                    {
                        "op": "add",
                        "item_id": r.id,
                        "bank_id": r.bank_id,
                        "ref": None,
                        "labels_json": r.labels_json,
                        "item_added_at": r.added_at,
                        "at": now,
                    }
                    for r in part
                ],
            )
            .scalars()
            .all()
        )
        c.execute(
            insert(ExchangeLive),
            [
                {"item_id": r.id, "bank_id": r.bank_id, "added_at": r.added_at, "add_change": f}
                for r, f in zip(part, ids, strict=True)
            ],
        )
    return len(rows)


def _withdraw_gone(conn: Connection, now: str) -> int:
    """Feed ``remove`` rows for live items no longer in a bank (or replaced under their id)."""
    c = conn
    still = select(BankItem.id).where(
        and_(BankItem.id == ExchangeLive.item_id, BankItem.added_at == ExchangeLive.added_at)
    )
    gone = c.execute(
        select(ExchangeLive.item_id, ExchangeLive.add_change)
        .where(~still.exists())
        .order_by(ExchangeLive.add_change)
    ).all()
    for start in range(0, len(gone), CHUNK):
        part = gone[start : start + CHUNK]
        adds = [a for _, a in part]
        c.execute(
            insert(ExchangeFeed).from_select(
                ["op", "item_id", "bank_id", "ref", "labels_json", "item_added_at", "at"],
                select(
                    literal("remove"), ExchangeFeed.item_id, ExchangeFeed.bank_id, ExchangeFeed.id,
                    ExchangeFeed.labels_json, ExchangeFeed.item_added_at, literal(now),
                )
                .where(ExchangeFeed.id.in_(adds))
                .order_by(ExchangeFeed.id),
            )
        )  # fmt: skip
        c.execute(delete(ExchangeLive).where(ExchangeLive.add_change.in_(adds)))
    return len(gone)


def labels_of(text: str | None) -> list[str]:
    return list(orjson.loads(text)) if text else []


def feed_stats(app: App) -> dict[str, int]:
    with app.db.connect() as conn:
        last = conn.execute(select(func.max(ExchangeFeed.id))).scalar() or 0
        live = conn.execute(select(func.count()).select_from(ExchangeLive)).scalar_one()
        removed = conn.execute(
            select(func.count()).select_from(ExchangeFeed).where(ExchangeFeed.op == "remove")
        ).scalar_one()
    return {"last_change": last, "live_items": live, "withdrawals": removed}
