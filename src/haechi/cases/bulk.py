"""Adding a selection to a case in one request: what the web pages' collect bar, their API
and ``haechi case add-items`` send (a page of messages, every result of a search, a few
files and a chat). One transaction, rows read and written in batches, one custody append
holding a ``case_item_added`` event per new item — the same events ``items.add_message``
and ``items.add_file`` write one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select

from haechi.app import App
from haechi.cases import events as ev
from haechi.cases.external import check_match
from haechi.cases.items import AddedItem, _add
from haechi.cases.model import CaseError, ItemKind
from haechi.cases.rows import Row
from haechi.cases.service import case_row
from haechi.i18n import t_
from haechi.store.custody import Draft
from haechi.store.models import Blob, Chat, Media, Message
from haechi.store.tables.cases import CaseItem

MAX_TARGETS = 10_000  # targets one request may add (a page of search results, a selection)


@dataclass(frozen=True)
class BulkAdd:
    """What adding a selection did: the items it touched, how many are new."""

    case_ref: str
    items: list[AddedItem]

    @property
    def added(self) -> int:
        return sum(1 for i in self.items if i.created)

    @property
    def existing(self) -> int:
        return len(self.items) - self.added


def add_targets(app: App, case: int | str, targets: list[str]) -> BulkAdd:
    """Add a selection in one transaction (all or nothing), each target written
    ``message:<pk>`` (with its files), ``media:<id>`` (one file as one message carried it),
    ``file:<sha256>`` (every place the file was), ``chat:<id>`` or ``match:<number>``.
    What the case already holds is returned, not added again, so sending the same
    selection twice adds nothing the first time did not.

    Rows are read, written and logged in batches (a thousand targets are a few dozen
    statements and one custody append, not seven statements each); each new item still
    gets its own ``case_item_added`` event, as one added by ``add_message`` does."""
    wanted = list(dict.fromkeys(t.strip() for t in targets if t.strip()))
    if not wanted:
        raise CaseError(t_("Choose at least one message, file, chat or match to add."))
    if len(wanted) > MAX_TARGETS:
        raise CaseError(
            t_(
                "At most {max_targets:,} items are added to a case at once.",
                max_targets=MAX_TARGETS,
            )
        )
    with app.db.begin() as conn:
        row = case_row(conn, case)
        planned = _plan(conn, wanted)
        out = _write_planned(app, conn, row.id, planned)
        for target in wanted:  # matches name another capability's rows: one at a time
            if target.partition(":")[0] == "match":
                out += _add_match(app, conn, row.id, target)
    # Two targets may reach one item (a message and its file): count it once.
    return BulkAdd(row.ref, list({i.id: i for i in reversed(out)}.values())[::-1])


@dataclass(frozen=True)
class _Planned:
    kind: ItemKind
    ref: str
    message: Row | None = None
    media: Row | None = None
    chat_id: int | None = None
    blob: str | None = None


def _rows_by(conn: Connection, model: Any, column: Any, keys: list[Any]) -> dict[Any, list[Row]]:
    """``{key: [rows]}`` for ``column IN keys``, read in chunks, each list in id order."""
    found: dict[Any, list[Row]] = {}
    for start in range(0, len(keys), 500):
        part = keys[start : start + 500]
        order = model.id if hasattr(model, "id") else column
        for r in conn.execute(select(model).where(column.in_(part)).order_by(order)):
            found.setdefault(getattr(r, column.key), []).append(r)
    return found


def _plan(conn: Connection, wanted: list[str]) -> list[_Planned]:
    """The items the targets ask for, in order, or one sentence naming what is not stored."""
    by_kind: dict[str, list[str]] = {}
    for target in wanted:
        kind, _, ref = target.partition(":")
        if kind == "match":
            continue
        ok = (kind == "file" and len(ref) == 64) or (
            kind in ("message", "media", "chat") and ref.isdigit() and len(ref) <= 18
        )
        if not ok:
            raise CaseError(
                t_(
                    "{target!r} names nothing to add: write message:<number>, "
                    "media:<number>, file:<sha256>, chat:<number> or "
                    "match:<number>.",
                    target=target[:80],
                )
            )
        by_kind.setdefault(kind, []).append(ref.lower() if kind == "file" else ref)
    messages = _rows_by(conn, Message, Message.id, [int(r) for r in by_kind.get("message", [])])
    media_by_id = _rows_by(conn, Media, Media.id, [int(r) for r in by_kind.get("media", [])])
    media_by_blob = _rows_by(conn, Media, Media.blob_sha256, by_kind.get("file", []))
    chats = _rows_by(conn, Chat, Chat.id, [int(r) for r in by_kind.get("chat", [])])
    files_of = _rows_by(conn, Media, Media.message_pk, list(messages))
    carried = {m.message_pk for rows in (*media_by_id.values(), *media_by_blob.values())
               for m in rows}  # fmt: skip
    carriers = _rows_by(conn, Message, Message.id, sorted(carried - set(messages)))
    carriers.update(messages)
    blobs = set(_rows_by(conn, Blob, Blob.sha256, by_kind.get("file", [])))
    plan: list[_Planned] = []

    def media_item(m: Row) -> _Planned:
        msg = carriers[m.message_pk][0]
        return _Planned(ItemKind.MEDIA, f"media:{m.id}", msg, m, msg.chat_id, m.blob_sha256)

    for target in wanted:
        kind, _, ref = target.partition(":")
        if kind == "message":
            if int(ref) not in messages:
                raise CaseError(t_("There is no stored message with database id {ref}.", ref=ref))
            msg = messages[int(ref)][0]
            plan.append(_Planned(ItemKind.MESSAGE, f"message:{msg.id}", msg, None, msg.chat_id))
            plan += [
                media_item(m) for m in files_of.get(msg.id, [])
                if m.blob_sha256 is not None and m.role != "thumbnail"
            ]  # fmt: skip
        elif kind == "media":
            found = media_by_id.get(int(ref))
            if not found or found[0].blob_sha256 is None:
                raise CaseError(t_("There is no stored file for media row {ref}.", ref=ref))
            plan.append(media_item(found[0]))
        elif kind == "file":
            sha = ref.lower()
            if sha not in blobs:
                raise CaseError(t_("No stored file has the SHA-256 {sha}.", sha=sha[:64]))
            rows = media_by_blob.get(sha, [])
            plan += [media_item(m) for m in rows] or [
                _Planned(ItemKind.MEDIA, f"blob:{sha}", blob=sha)
            ]
        elif kind == "chat":
            if int(ref) not in chats:
                raise CaseError(t_("There is no stored chat with database id {ref}.", ref=ref))
            plan.append(_Planned(ItemKind.CHAT, f"chat:{ref}", chat_id=int(ref)))
    return plan


def _write_planned(
    app: App, conn: Connection, case_id: int, plan: list[_Planned]
) -> list[AddedItem]:
    """Insert what the case does not hold yet and log each new item (one custody append)."""
    unique = list({p.ref: p for p in reversed(plan)}.values())[::-1]
    refs = [p.ref for p in unique]
    existing: dict[str, int] = {}
    for start in range(0, len(refs), 500):
        existing.update(
            conn.execute(
                select(CaseItem.ref, CaseItem.id).where(
                    CaseItem.case_id == case_id, CaseItem.ref.in_(refs[start : start + 500])
                )
            ).all()
        )
    new = [p for p in unique if p.ref not in existing]
    ids: dict[str, int] = {}
    if new:
        at, who = ev.now_iso(), app.settings.operator
        rows = [
            {"case_id": case_id, "kind": p.kind.value, "ref": p.ref,
             "message_pk": p.message.id if p.message is not None else None,
             "media_pk": p.media.id if p.media is not None else None, "chat_id": p.chat_id,
             "blob_sha256": p.blob, "url": None, "external_ref": None, "detail_json": None,
             "reupload_of": None, "added_at": at, "added_by": who}
            for p in new
        ]  # fmt: skip
        result = conn.execute(
            insert(CaseItem).returning(CaseItem.ref, CaseItem.id, sort_by_parameter_order=True),
            rows,
        )
        ids = {ref: int(item_id) for ref, item_id in result.all()}
        keys = dict(
            conn.execute(
                select(Chat.id, Chat.key).where(
                    Chat.id.in_(sorted({p.chat_id for p in new if p.chat_id is not None}))
                )
            ).all()
        )
        drafts = [
            Draft(ev.CASE_ITEM_ADDED, ev.case_subject(case_id), {
                "case_id": case_id, "item_id": ids[p.ref], "kind": p.kind.value,
                "ref": p.ref, "chat": keys.get(p.chat_id) if p.chat_id else None,
                "message_id": p.message.message_id if p.message is not None else None,
                "blob_sha256": p.blob, "url": None, "external_ref": None, "reupload_of": None,
            })
            for p in new
        ]  # fmt: skip
        app.custody.append_many(conn, drafts)
    return [
        AddedItem(existing[p.ref], False) if p.ref in existing else AddedItem(ids[p.ref], True)
        for p in plan
    ]


def _add_match(app: App, conn: Connection, case_id: int, target: str) -> list[AddedItem]:
    ref_text, blob, snapshot = check_match(conn, target.partition(":")[2], None)
    return [
        _add(app, conn, case_id, ItemKind.MATCH, f"match:{ref_text}", blob=blob,
             external_ref=ref_text, detail={"match": snapshot})
    ]  # fmt: skip


@dataclass(frozen=True)
class CaseChoice:
    ref: str
    title: str


def case_choices(app: App, limit: int = 200) -> list[CaseChoice]:
    """The cases a selection can go to: those not closed and of a unit the person sees,
    newest first (reference and title only: every page with a collect bar asks, so it
    counts nothing; another unit's titles are not shown, as adding to its cases is refused).
    The same list a face search's candidates extend a case from."""
    from haechi.cases.for_subject import open_cases

    return [CaseChoice(ref, title) for ref, title in open_cases(app, limit)]
