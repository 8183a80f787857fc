"""Banks: create, list, describe, delete, add and remove items.

Every change is a custody event written in the same transaction: what a bank held when
it matched something is part of the evidence. An add records a SHA-256 over the sorted
``kind:value`` list it added, so the exact hash list can be proven later; a delete
records the same over what it removed. Adding items is followed by a *retro-hunt*: the
new hashes are matched against every file already stored (``haechi.match.matching``).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import delete, func, insert, select

from haechi.app import App
from haechi.domain import UsageError
from haechi.i18n import t_
from haechi.match import events
from haechi.match.formats.base import ParsedItem, ParsedSignal, StoredItem
from haechi.store.custody import Draft, utc_now
from haechi.store.tables.match import Bank, BankItem, BankSignal, MatchRow

NAME_RE = re.compile(r"^[\w][\w .:@()+-]{0,127}$", re.UNICODE)
CHUNK = 500


@dataclass(frozen=True)
class BankInfo:
    id: int
    name: str
    description: str | None
    origin: str | None
    notes: str | None
    labels: list[str]
    created_at: str
    created_by: str
    items: int = 0
    signals: dict[str, int] = field(default_factory=dict)
    matches: int = 0


@dataclass
class AddReport:
    bank: str
    items_added: int = 0
    signals_added: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0  # hashes the bank already held
    opaque_only: int = 0  # items kept only for their opaque attributes
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, why)
    withdrawn: int = 0
    new_signal_ids: list[int] = field(default_factory=list)
    new_item_ids: list[int] = field(default_factory=list)
    matches_found: int = 0
    custody_seq: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "bank": self.bank,
            "items_added": self.items_added,
            "signals_added": self.signals_added,
            "duplicates": self.duplicates,
            "opaque_only": self.opaque_only,
            "skipped": [{"line": line, "problem": why} for line, why in self.skipped],
            "withdrawn": self.withdrawn,
            "matches_found": self.matches_found,
            "custody_seq": self.custody_seq,
        }


def _labels(text: str | None) -> list[str]:
    return list(orjson.loads(text)) if text else []


def _dump(value: Any) -> str | None:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode() if value else None


def _info(row: Any, counts: dict[str, Any] | None = None) -> BankInfo:
    c = counts or {}
    return BankInfo(
        row.id, row.name, row.description, row.origin, row.notes, _labels(row.labels_json),
        row.created_at, row.created_by, c.get("items", 0), c.get("signals", {}),
        c.get("matches", 0),
    )  # fmt: skip


def create_bank(
    app: App,
    name: str,
    *,
    description: str | None = None,
    origin: str | None = None,
    notes: str | None = None,
    labels: Sequence[str] = (),
) -> BankInfo:
    name = name.strip()
    if not NAME_RE.match(name):
        raise UsageError(
            t_(
                "A bank name is 1-128 letters, digits, spaces or . : @ ( ) + "
                "- _ and starts with a letter or digit, not {name!r}.",
                name=name,
            )
        )
    now = utc_now()
    with app.db.begin() as conn:
        if conn.execute(select(Bank.id).where(Bank.name == name)).first():
            raise UsageError(t_("A bank called {name!r} exists already.", name=name))
        bank_id = conn.execute(
            insert(Bank)
            .values(
                name=name,
                description=description,
                origin=origin,
                notes=notes,
                labels_json=_dump(list(labels)),
                created_at=now,
                created_by=app.settings.operator,
            )
            .returning(Bank.id)
        ).scalar_one()
        app.custody.append(
            conn,
            events.BANK_CREATED,
            f"bank:{bank_id}",
            {"bank": name, "description": description, "origin": origin,
             "labels": list(labels)},
        )  # fmt: skip
        row = conn.execute(select(Bank).where(Bank.id == bank_id)).one()
    return _info(row)


def _counts(app: App, bank_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {
        b: {"items": 0, "signals": {}, "matches": 0} for b in bank_ids
    }
    if not bank_ids:
        return out
    with app.db.connect() as conn:
        for bank_id, n in conn.execute(
            select(BankItem.bank_id, func.count())
            .where(BankItem.bank_id.in_(bank_ids))
            .group_by(BankItem.bank_id)
        ):
            out[bank_id]["items"] = n
        for bank_id, kind, n in conn.execute(
            select(BankSignal.bank_id, BankSignal.kind, func.count())
            .where(BankSignal.bank_id.in_(bank_ids))
            .group_by(BankSignal.bank_id, BankSignal.kind)
        ):
            out[bank_id]["signals"][kind] = n
        for matched_bank, n in conn.execute(
            select(MatchRow.bank_id, func.count())
            .where(MatchRow.bank_id.in_(bank_ids))
            .group_by(MatchRow.bank_id)
        ):
            if matched_bank is not None:
                out[matched_bank]["matches"] = n
    return out


def ensure_bank(
    app: App,
    name: str,
    *,
    description: str | None = None,
    origin: str | None = None,
    labels: Sequence[str] = (),
) -> tuple[BankInfo, bool]:
    """The bank called ``name``, created now if there is none: ``(bank, created)``. What a
    form that may be sent twice calls (the second send finds the bank the first made)."""
    try:
        return create_bank(app, name, description=description, origin=origin, labels=labels), True
    except UsageError:
        with app.db.connect() as conn:
            if conn.execute(select(Bank.id).where(Bank.name == name.strip())).first() is None:
                raise  # not "exists already": a bad name
        return get_bank(app, name.strip()), False


def list_banks(app: App) -> list[BankInfo]:
    with app.db.connect() as conn:
        rows = conn.execute(select(Bank).order_by(Bank.name)).all()
    counts = _counts(app, [r.id for r in rows])
    return [_info(r, counts[r.id]) for r in rows]


def get_bank(app: App, name: str) -> BankInfo:
    with app.db.connect() as conn:
        row = conn.execute(select(Bank).where(Bank.name == name)).first()
    if row is None:
        known = ", ".join(b.name for b in list_banks(app)[:10]) or "none yet"
        raise UsageError(
            t_("There is no bank called {name!r} (banks: {known}).", name=name, known=known)
        )
    return _info(row, _counts(app, [row.id])[row.id])


def bank_items(
    app: App, name: str, *, limit: int | None = None, offset: int = 0
) -> list[StoredItem]:
    """Items of a bank with their hashes, oldest first."""
    bank = get_bank(app, name)
    with app.db.connect() as conn:
        q = select(BankItem).where(BankItem.bank_id == bank.id).order_by(BankItem.id)
        if limit is not None:
            q = q.limit(limit).offset(offset)
        items = conn.execute(q).all()
        signals: dict[int, list[tuple[str, str, dict[str, Any] | None]]] = {}
        ids = [i.id for i in items]
        for start in range(0, len(ids), CHUNK):
            part = ids[start : start + CHUNK]
            for item_id, kind, value, data in conn.execute(
                select(BankSignal.item_id, BankSignal.kind, BankSignal.value, BankSignal.data_json)
                .where(BankSignal.item_id.in_(part))
                .order_by(BankSignal.id)
            ):
                parsed = orjson.loads(data) if data else None
                signals.setdefault(item_id, []).append((kind, value, parsed))
    return [
        StoredItem(
            i.id,
            i.external_id,
            _labels(i.labels_json),
            orjson.loads(i.attributes_json) if i.attributes_json else {},
            i.notes,
            i.origin,
            i.added_at,
            signals.get(i.id, []),
        )
        for i in items
    ]


def _list_digest(pairs: Iterable[tuple[str, str]]) -> str:
    body = "\n".join(sorted(f"{k}:{v}" for k, v in pairs))
    return hashlib.sha256(body.encode()).hexdigest()


def add_items(
    app: App,
    name: str,
    items: Iterable[ParsedItem],
    *,
    source: dict[str, Any],
    labels: Sequence[str] = (),
    hunt: bool = True,
) -> AddReport:
    """Add items to a bank in one transaction, with one custody event; then match the
    new hashes against everything stored (unless ``hunt`` is False).

    ``items`` is consumed in chunks, so a list of millions never sits in memory; an
    exception raised while iterating (a bad line of an all-or-nothing import) rolls
    the whole add back.
    """
    bank = get_bank(app, name)
    with app.db.begin() as conn:
        report = add_items_in(app, conn, bank, items, source=source, labels=labels)
    if hunt and report.new_signal_ids:
        from haechi.match.matching import hunt_bank_signals

        report.matches_found = hunt_bank_signals(app, report.new_signal_ids)
    return report


def add_items_in(
    app: App,
    conn: Any,
    bank: BankInfo,
    items: Iterable[ParsedItem],
    *,
    source: dict[str, Any],
    labels: Sequence[str] = (),
) -> AddReport:
    """The write of :func:`add_items` inside the caller's transaction (``app.db.begin()``),
    with its custody event; the retro-hunt is the caller's, after the commit. What a
    partner exchange uses to add and withdraw a whole page in one transaction."""
    report = AddReport(bank.name)
    base_labels = list(dict.fromkeys([*bank.labels, *labels]))
    now, who = utc_now(), app.settings.operator
    added_pairs: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    chunk: list[ParsedItem] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= CHUNK * 10:
            added_pairs += _add_chunk(conn, bank, chunk, seen, base_labels, now, who, report)
            chunk = []
    added_pairs += _add_chunk(conn, bank, chunk, seen, base_labels, now, who, report)
    report.signals_added = dict(Counter(k for k, _ in added_pairs))
    if report.items_added:
        report.custody_seq = app.custody.append_many(
            conn,
            [
                Draft(
                    events.BANK_ITEMS_ADDED,
                    f"bank:{bank.id}",
                    {
                        "bank": bank.name,
                        "items": report.items_added,
                        "signals": report.signals_added,
                        "signals_sha256": _list_digest(added_pairs),
                        "duplicates": report.duplicates,
                        "source": source,
                    },
                )
            ],
        )[0]
    return report


def _add_chunk(
    conn: Any,
    bank: BankInfo,
    items: Sequence[ParsedItem],
    seen: set[tuple[str, str]],
    base_labels: list[str],
    now: str,
    who: str,
    report: AddReport,
) -> list[tuple[str, str]]:
    if not items:
        return []
    wanted = {(s.kind, s.value) for it in items for s in it.signals} - seen
    for kind in {k for k, _ in wanted}:
        values = sorted(v for k, v in wanted if k == kind)
        for start in range(0, len(values), CHUNK):
            seen.update(
                (kind, v)
                for (v,) in conn.execute(
                    select(BankSignal.value).where(
                        BankSignal.bank_id == bank.id,
                        BankSignal.kind == kind,
                        BankSignal.value.in_(values[start : start + CHUNK]),
                    )
                )
            )
    pending: list[tuple[dict[str, Any], list[ParsedSignal]]] = []
    for it in items:
        fresh = []
        for s in it.signals:
            if (s.kind, s.value) in seen:
                report.duplicates += 1
                continue
            seen.add((s.kind, s.value))
            fresh.append(s)
        if not fresh and (it.signals or not it.attributes):
            continue  # nothing new, or nothing at all
        if not fresh:
            report.opaque_only += 1
        row = {
            "bank_id": bank.id,
            "external_id": str(it.external_id)[:255] if it.external_id else None,
            "labels_json": _dump(list(dict.fromkeys([*base_labels, *it.labels]))),
            "origin": it.origin,
            "blob_sha256": it.blob_sha256,
            "attributes_json": _dump(it.attributes),
            "notes": it.notes,
            "added_at": now,
            "added_by": who,
        }
        pending.append((row, fresh))
    added: list[tuple[str, str]] = []
    for start in range(0, len(pending), CHUNK):
        part = pending[start : start + CHUNK]
        ids = (
            conn.execute(
                insert(BankItem).returning(BankItem.id, sort_by_parameter_order=True),
                [row for row, _ in part],
            )
            .scalars()
            .all()
        )
        signal_rows = [
            {
                "item_id": item_id,
                "bank_id": bank.id,
                "kind": s.kind,
                "value": s.value,
                "quality": s.quality,
                "data_json": _dump(s.data),
            }
            for item_id, (_, fresh) in zip(ids, part, strict=True)
            for s in fresh
        ]
        if signal_rows:
            report.new_signal_ids += (
                conn.execute(
                    insert(BankSignal).returning(BankSignal.id, sort_by_parameter_order=True),
                    signal_rows,
                )
                .scalars()
                .all()
            )
        report.items_added += len(ids)
        report.new_item_ids += ids
        added += [(r["kind"], r["value"]) for r in signal_rows]
    return added


def remove_items(app: App, name: str, item_ids: Sequence[int], *, reason: str = "") -> int:
    """Remove items (and their hashes) from a bank; matches they made stay, with the
    bank's name and the item's labels as they were."""
    bank = get_bank(app, name)
    with app.db.begin() as conn:
        removed = remove_items_in(app, conn, bank, item_ids, reason=reason)
    indexes_stale(app)
    return removed


def remove_items_in(
    app: App, conn: Any, bank: BankInfo, item_ids: Sequence[int], *, reason: str = ""
) -> int:
    """The write of :func:`remove_items` inside the caller's transaction, with its custody
    event; the caller marks the bank indexes stale (:func:`indexes_stale`) after the commit."""
    found = (
        conn.execute(
            select(BankItem.id).where(BankItem.bank_id == bank.id, BankItem.id.in_(list(item_ids)))
        )
        .scalars()
        .all()
    )
    if len(found) != len(set(item_ids)):
        missing = sorted(set(item_ids) - set(found))
        raise UsageError(
            t_("Bank {name!r} has no item {missing}.", name=bank.name, missing=missing[0])
        )
    # By the items' own signals (the item_id index): a bank_id condition made SQLite walk
    # every hash of the bank, seconds per call in a bank of a million.
    pairs = conn.execute(
        select(BankSignal.kind, BankSignal.value).where(BankSignal.item_id.in_(found))
    ).all()
    conn.execute(delete(BankSignal).where(BankSignal.item_id.in_(found)))
    conn.execute(delete(BankItem).where(BankItem.id.in_(found)))
    app.custody.append(
        conn,
        events.BANK_ITEMS_REMOVED,
        f"bank:{bank.id}",
        {"bank": bank.name, "items": sorted(found), "reason": reason,
         "signals_sha256": _list_digest((k, v) for k, v in pairs)},
    )  # fmt: skip
    return len(found)


def delete_bank(app: App, name: str, *, reason: str = "") -> BankInfo:
    """Delete a bank, its items and hashes (a victim withdrew consent, a list expired)."""
    bank = get_bank(app, name)
    with app.db.begin() as conn:
        pairs = conn.execute(
            select(BankSignal.kind, BankSignal.value).where(BankSignal.bank_id == bank.id)
        ).all()
        conn.execute(delete(BankSignal).where(BankSignal.bank_id == bank.id))
        conn.execute(delete(BankItem).where(BankItem.bank_id == bank.id))
        conn.execute(delete(Bank).where(Bank.id == bank.id))
        app.custody.append(
            conn,
            events.BANK_DELETED,
            f"bank:{bank.id}",
            {"bank": bank.name, "items": bank.items, "signals": bank.signals, "reason": reason,
             "signals_sha256": _list_digest((k, v) for k, v in pairs)},
        )  # fmt: skip
    indexes_stale(app)
    return bank


def indexes_stale(app: App) -> None:
    """Bank hashes were removed: the bank indexes rebuild on their next use."""
    from haechi.match.index import BANK_PDQ, BANK_REGION, BANK_VPDQ, IndexSet

    IndexSet(app).mark_stale(BANK_PDQ, BANK_VPDQ, BANK_REGION)
