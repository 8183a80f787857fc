"""Applying what a partner sent to the subscription's bank: one transaction per page.

A page (or a python-threatexchange delta) becomes a :class:`Batch` of additions and
withdrawals by the partner's keys. :func:`apply` writes all of it, the subscription's new
position and one ``exchange_import`` custody event in a single transaction — a failure
anywhere leaves nothing of the page behind — and returns the new bank hashes, which the
caller matches against the store after the commit (``hunt_bank_signals``: each match is a
custody event).

Bank items are written through the banks' own service (``add_items_in`` /
``remove_items_in``), so the bank's custody events say what was added and removed. A
local item carries the partner's key as its external id and its provenance in its
attributes (``exchange``: partner, key, change, the partner's time, our fetch time, the
page's SHA-256).

A bank holds each hash once; when two of a partner's items share a hash, the second keeps
it as a *shadow* (``exchange_import_shadows``), and if the first is withdrawn, the hash
is added again for the second — a withdrawal never takes away a hash the partner still
publishes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, delete, insert, select, update

from haechi.app import App
from haechi.domain import UsageError
from haechi.exchange import events
from haechi.exchange.errors import PageRefused
from haechi.exchange.subscriptions import SubscriptionInfo
from haechi.i18n import t_
from haechi.match.banks import BankInfo, add_items_in, get_bank, indexes_stale, remove_items_in
from haechi.match.formats.base import ParsedItem, ParsedSignal
from haechi.store.custody import utc_now
from haechi.store.tables.exchange import ExchangeImport, ExchangeImportShadow, ExchangeSubscription
from haechi.store.tables.match import Bank, BankItem, BankSignal

CHUNK = 500


@dataclass(frozen=True)
class Incoming:
    key: str  # the partner's key of the item
    signals: tuple[ParsedSignal, ...]
    labels: tuple[str, ...] = ()
    remote_added_at: str | None = None
    change: int | None = None

    def pairs(self) -> frozenset[tuple[str, str]]:
        return frozenset((s.kind, s.value) for s in self.signals)


@dataclass
class Batch:
    ops: list[tuple[str, Incoming | str]]  # ("add", Incoming) / ("remove", key), in order
    source: dict[str, Any]  # what the custody events cite (page digest, range, counts)
    expect: dict[str, Any]  # the subscription's state the batch was fetched from
    state: dict[str, Any]  # its state after the batch (cursor, position, checkpoint, ...)


@dataclass
class Applied:
    added: int = 0  # partner items imported (new or changed)
    withdrawn: int = 0  # partner items withdrawn
    unchanged: int = 0  # sent again as they were
    shadowed: int = 0  # hashes another item of the partner holds
    new_signal_ids: list[int] = field(default_factory=list)
    custody_seq: int | None = None


def _plan(ops: Sequence[tuple[str, Incoming | str]]) -> dict[str, Incoming | None]:
    """The last word on each key: an item (added or changed) or None (withdrawn)."""
    final: dict[str, Incoming | None] = {}
    for op, what in ops:
        if op == "add" and isinstance(what, Incoming):
            final[what.key] = what
        elif op == "remove" and isinstance(what, str):
            final[what] = None
    return final


def _rows(conn: Connection, sub_id: int, keys: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for start in range(0, len(keys), CHUNK):
        for row in conn.execute(
            select(ExchangeImport).where(
                ExchangeImport.subscription_id == sub_id,
                ExchangeImport.remote_key.in_(keys[start : start + CHUNK]),
            )
        ):
            out[row.remote_key] = row
    return out


def _local(conn: Connection, bank_id: int, keys: Sequence[str]) -> dict[str, list[Any]]:
    """Local items (id, their hashes) by the partner key they hold."""
    out: dict[str, list[Any]] = {}
    for start in range(0, len(keys), CHUNK):
        for row in conn.execute(
            select(BankItem.id, BankItem.external_id, BankSignal.kind, BankSignal.value,
                   BankSignal.quality, BankSignal.data_json)
            .join(BankSignal, BankSignal.item_id == BankItem.id)
            .where(BankItem.bank_id == bank_id,
                   BankItem.external_id.in_(keys[start : start + CHUNK]))
        ):  # fmt: skip
            out.setdefault(row.external_id, []).append(row)
    return out


def _held(conn: Connection, bank_id: int, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    wanted: dict[str, list[str]] = {}
    for kind, value in pairs:
        wanted.setdefault(kind, []).append(value)
    held: set[tuple[str, str]] = set()
    for kind, values in wanted.items():
        values = sorted(set(values))
        for start in range(0, len(values), CHUNK):
            held.update(
                (kind, v)
                for (v,) in conn.execute(
                    select(BankSignal.value).where(
                        BankSignal.bank_id == bank_id, BankSignal.kind == kind,
                        BankSignal.value.in_(values[start : start + CHUNK]),
                    )
                )
            )  # fmt: skip
    return held


def _signal_json(s: ParsedSignal) -> str:
    return orjson.dumps([s.kind, s.value, s.quality, s.data]).decode()


def _from_json(text: str) -> ParsedSignal:
    kind, value, quality, data = orjson.loads(text)
    return ParsedSignal(kind, value, quality, data)


def apply(app: App, sub: SubscriptionInfo, batch: Batch, *, epoch: int) -> Applied:
    """Write ``batch`` in one transaction (see the module doc)."""
    result = Applied()
    with app.db.begin() as conn:
        _check_position(conn, sub, batch.expect)
        bank = _bank(conn, app, sub)
        final = _plan(batch.ops)
        rows = _rows(conn, sub.id, list(final))
        live = {k: r for k, r in rows.items() if r.withdrawn_at is None}
        local = _local(conn, bank.id, list(live))
        shadowed = _shadows(conn, [r.id for r in live.values()])
        now = utc_now()
        gone: list[str] = []  # live keys withdrawn or changed
        adds: list[Incoming] = []
        touched: list[str] = []  # sent again unchanged
        for key, item in final.items():
            row = live.get(key)
            if item is None:
                if row is not None:
                    gone.append(key)
                    result.withdrawn += 1
                continue
            if row is not None:
                have = {(r.kind, r.value) for r in local.get(key, [])} | shadowed.get(row.id, set())
                if have == item.pairs():
                    touched.append(key)
                    continue
                gone.append(key)
            adds.append(item)
        rehome = _withdraw(app, conn, sub, bank, [live[k] for k in gone], local,
                           {i.key for i in adds})  # fmt: skip
        result.new_signal_ids = _add(app, conn, sub, bank, adds, rehome, rows, batch, epoch,
                                     now, result)  # fmt: skip
        _touch(conn, sub.id, touched, epoch)
        result.unchanged = len(touched)
        result.added = len(adds)
        conn.execute(
            update(ExchangeSubscription)
            .where(ExchangeSubscription.id == sub.id)
            .values(**batch.state, last_ok_at=now, last_error=None)
        )
        result.custody_seq = app.custody.append(conn, events.IMPORT, f"subscription:{sub.name}", {
            "subscription": sub.name, "kind": sub.kind, "bank": bank.name, **batch.source,
            "imported": result.added, "withdrawn": result.withdrawn,
            "unchanged": result.unchanged, "shadowed": result.shadowed,
        })  # fmt: skip
    if gone:
        indexes_stale(app)
    return result


def _shadows(conn: Connection, import_ids: Sequence[int]) -> dict[int, set[tuple[str, str]]]:
    out: dict[int, set[tuple[str, str]]] = {}
    for start in range(0, len(import_ids), CHUNK):
        for import_id, kind, value in conn.execute(
            select(ExchangeImportShadow.import_id, ExchangeImportShadow.kind,
                   ExchangeImportShadow.value)
            .where(ExchangeImportShadow.import_id.in_(import_ids[start : start + CHUNK]))
        ):  # fmt: skip
            out.setdefault(import_id, set()).add((kind, value))
    return out


def _check_position(conn: Connection, sub: SubscriptionInfo, expect: dict[str, Any]) -> None:
    """Refuse the page if another sync moved the subscription on meanwhile."""
    row = conn.execute(
        select(ExchangeSubscription).where(ExchangeSubscription.id == sub.id)
    ).first()
    if row is None:
        raise UsageError(
            t_("Subscription {name!r} was removed while it was syncing.", name=sub.name)
        )
    for column, value in expect.items():
        if getattr(row, column) != value:
            raise PageRefused(
                t_(
                    "Subscription {name!r} moved on while this page was fetched "
                    "(another sync ran); nothing of this page was imported, and "
                    "the next sync continues.",
                    name=sub.name,
                )
            )


def _bank(conn: Connection, app: App, sub: SubscriptionInfo) -> BankInfo:
    name = conn.execute(select(Bank.name).where(Bank.id == sub.bank_id)).scalar()
    if name is None:
        raise UsageError(
            t_(
                "The bank of subscription {name!r} ({bank_name!r}) was "
                "deleted; remove the subscription and add it again to start "
                "over.",
                name=sub.name,
                bank_name=sub.bank_name,
            )
        )
    return get_bank(app, name)


def _withdraw(
    app: App,
    conn: Connection,
    sub: SubscriptionInfo,
    bank: BankInfo,
    rows: list[Any],
    local: dict[str, list[Any]],
    readded: set[str],
) -> list[tuple[str, ParsedSignal]]:
    """Mark ``rows`` withdrawn and remove their local items; return the hashes other live
    items of the partner hold as shadows (to be added again for them)."""
    if not rows:
        return []
    ids = [r.id for r in rows]
    now = utc_now()
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        conn.execute(delete(ExchangeImportShadow).where(ExchangeImportShadow.import_id.in_(part)))
        conn.execute(
            update(ExchangeImport).where(ExchangeImport.id.in_(part)).values(withdrawn_at=now)
        )
    mine = [r for row in rows for r in local.get(row.remote_key, [])]
    rehome = _shadow_owners(conn, sub.id, {(r.kind, r.value) for r in mine}, readded)
    items = sorted({r.id for r in mine})
    for start in range(0, len(items), CHUNK * 10):
        remove_items_in(app, conn, bank, items[start : start + CHUNK * 10],
                        reason=f"withdrawn by partner {sub.name}")  # fmt: skip
    return rehome


def _shadow_owners(
    conn: Connection, sub_id: int, pairs: set[tuple[str, str]], readded: set[str]
) -> list[tuple[str, ParsedSignal]]:
    """(key, hash) for each removed hash another live item of the partner still holds."""
    out: list[tuple[str, ParsedSignal]] = []
    any_shadow = conn.execute(
        select(ExchangeImportShadow.id).where(ExchangeImportShadow.subscription_id == sub_id)
    ).first()
    if any_shadow is None:  # the usual case: no partner item shares a hash with another
        return out
    for kind, value in sorted(pairs):
        for shadow_id, key, text in conn.execute(
            select(ExchangeImportShadow.id, ExchangeImport.remote_key,
                   ExchangeImportShadow.signal_json)
            .join(ExchangeImport, ExchangeImport.id == ExchangeImportShadow.import_id)
            .where(ExchangeImportShadow.subscription_id == sub_id,
                   ExchangeImportShadow.kind == kind, ExchangeImportShadow.value == value,
                   ExchangeImport.withdrawn_at.is_(None))
            .order_by(ExchangeImportShadow.id)
        ).all():  # fmt: skip
            if key in readded:
                continue  # changed in this batch: its own add takes care of it
            out.append((key, _from_json(text)))
            conn.execute(delete(ExchangeImportShadow).where(ExchangeImportShadow.id == shadow_id))
            break  # the others keep it as a shadow of the new holder
    return out


def _add(
    app: App,
    conn: Connection,
    sub: SubscriptionInfo,
    bank: BankInfo,
    adds: list[Incoming],
    rehome: list[tuple[str, ParsedSignal]],
    rows: dict[str, Any],
    batch: Batch,
    epoch: int,
    now: str,
    result: Applied,
) -> list[int]:
    held = _held(conn, bank.id, [p for item in adds for p in item.pairs()]
                 + [(s.kind, s.value) for _, s in rehome])  # fmt: skip
    items: list[ParsedItem] = []
    shadows: list[tuple[str, ParsedSignal]] = []
    provenance = {"partner": sub.name, "fetched_at": now,
                  "page_sha256": batch.source.get("payload_sha256")}  # fmt: skip
    labels_of_key = {k: orjson.loads(r.labels_json or "[]") for k, r in rows.items()}
    for number, item in enumerate(adds, 1):
        fresh = []
        for s in item.signals:
            if (s.kind, s.value) in held:
                shadows.append((item.key, s))
            else:
                held.add((s.kind, s.value))
                fresh.append(s)
        if fresh:
            items.append(_parsed(number, item.key, fresh, list(item.labels), sub.name, {
                **provenance, "key": item.key, "change": item.change,
                "remote_added_at": item.remote_added_at,
            }))  # fmt: skip
    for key, s in rehome:
        if (s.kind, s.value) in held:
            continue
        held.add((s.kind, s.value))
        items.append(_parsed(0, key, [s], labels_of_key.get(key, []), sub.name,
                             {**provenance, "key": key, "rehomed": True}))  # fmt: skip
    report = add_items_in(app, conn, bank, items, source={"how": "exchange", **batch.source})
    _upsert(conn, sub.id, adds, rows, epoch, now)
    if shadows:
        ids = {r.remote_key: r.id for r in _rows(conn, sub.id, list({k for k, _ in shadows}))
               .values()}  # fmt: skip
        conn.execute(insert(ExchangeImportShadow), [
            {"import_id": ids[k], "subscription_id": sub.id, "kind": s.kind, "value": s.value,
             "signal_json": _signal_json(s)} for k, s in shadows
        ])  # fmt: skip
    result.shadowed = len(shadows)
    return report.new_signal_ids


def _parsed(
    where: int, key: str, signals: list[ParsedSignal], labels: list[str], partner: str,
    provenance: dict[str, Any],
) -> ParsedItem:  # fmt: skip
    return ParsedItem(
        where, signals, external_id=key, labels=labels, attributes={"exchange": provenance},
        origin=f"exchange:{partner}",
    )  # fmt: skip


def _upsert(
    conn: Connection, sub_id: int, adds: list[Incoming], rows: dict[str, Any], epoch: int, now: str
) -> None:
    new = [i for i in adds if i.key not in rows]
    for start in range(0, len(new), CHUNK * 10):
        conn.execute(insert(ExchangeImport), [
            {"subscription_id": sub_id, "remote_key": i.key, "labels_json": _labels(i.labels),
             "remote_added_at": i.remote_added_at, "change_id": i.change, "fetched_at": now,
             "withdrawn_at": None, "epoch": epoch}
            for i in new[start : start + CHUNK * 10]
        ])  # fmt: skip
    for item in (i for i in adds if i.key in rows):
        conn.execute(
            update(ExchangeImport)
            .where(ExchangeImport.id == rows[item.key].id)
            .values(labels_json=_labels(item.labels), remote_added_at=item.remote_added_at,
                    change_id=item.change, fetched_at=now, withdrawn_at=None, epoch=epoch)
        )  # fmt: skip


def _labels(labels: Sequence[str]) -> str | None:
    return orjson.dumps(list(labels)).decode() if labels else None


def _touch(conn: Connection, sub_id: int, keys: list[str], epoch: int) -> None:
    for start in range(0, len(keys), CHUNK):
        conn.execute(
            update(ExchangeImport)
            .where(ExchangeImport.subscription_id == sub_id,
                   ExchangeImport.remote_key.in_(keys[start : start + CHUNK]))
            .values(epoch=epoch)
        )  # fmt: skip


def stale_keys(app: App, sub: SubscriptionInfo, epoch: int, limit: int = 5000) -> list[str]:
    """Live items a restart (``reset``, a stale checkpoint) did not send again."""
    with app.db.connect() as conn:
        return list(
            conn.execute(
                select(ExchangeImport.remote_key)
                .where(ExchangeImport.subscription_id == sub.id,
                       ExchangeImport.withdrawn_at.is_(None), ExchangeImport.epoch < epoch)
                .order_by(ExchangeImport.id)
                .limit(limit)
            ).scalars()
        )  # fmt: skip
