"""Evidence in a case: messages, files, chats, links, matches and graph findings.

An item points at what the foundation stored (a message, a file as one message carried it,
a chat) and adds nothing to the evidence itself. Adding the same thing twice returns the
existing item. Items are never deleted, only withdrawn with a reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from haechi.app import App
from haechi.cases import events as ev
from haechi.cases.external import check_finding, check_match
from haechi.cases.links import check_url, parse_tme
from haechi.cases.model import CaseError, ItemKind
from haechi.cases.rows import Row, get
from haechi.cases.service import case_row
from haechi.i18n import t_
from haechi.store.models import Blob, Chat, Media, Message
from haechi.store.tables.cases import CaseItem

MAX_DETAIL = 64_000


@dataclass(frozen=True)
class AddedItem:
    id: int
    created: bool


def resolve_chat(conn: Connection, ref: str) -> Row:
    """A chat by key (``channel:2087654321``), ``@username``, Telegram id or database id."""
    text = ref.strip()
    stmt = select(Chat)
    if ":" in text:
        stmt = stmt.where(Chat.key == text)
    elif text.startswith("@"):
        stmt = stmt.where(Chat.username == text[1:])
    elif text.lstrip("-").isdigit():
        found = conn.execute(select(Chat).where(Chat.tg_id == abs(int(text)))).first()
        if found is None and text.isdigit():
            found = conn.execute(select(Chat).where(Chat.id == int(text))).first()
        if found is None:
            raise CaseError(t_("No stored chat has the id {text}.", text=text))
        return found
    else:
        stmt = stmt.where(Chat.title == text)
    rows = conn.execute(stmt.limit(2)).all()
    if not rows:
        raise CaseError(
            t_("No stored chat matches {text!r} (give its key, @username or id).", text=text)
        )
    if len(rows) > 1:
        raise CaseError(t_("Several chats match {text!r}: give the chat's key instead.", text=text))
    return rows[0]


def resolve_message(
    conn: Connection,
    *,
    message_pk: int | None = None,
    chat: str | None = None,
    message_id: int | None = None,
    url: str | None = None,
    case_id: int | None = None,
) -> Row:
    if message_pk is not None:
        msg = get(conn, Message, message_pk)
        if msg is None:
            raise CaseError(
                t_(
                    "There is no stored message with database id {message_pk}.",
                    message_pk=message_pk,
                )
            )
        return msg
    if url is not None and chat is None:
        link = parse_tme(check_url(url))
        if not link.is_message:
            raise CaseError(t_("{url!r} links a chat, not a message.", url=url))
        if link.username:
            chat = _stated_chat(conn, case_id, link.username) or "@" + link.username
        elif link.channel_id:
            chat = str(link.channel_id)
        message_id = link.message_id
    if chat is None or message_id is None:
        raise CaseError(t_("Name the message: its chat and message id, or its t.me link."))
    row = resolve_chat(conn, chat)
    found = conn.execute(
        select(Message).where(Message.chat_id == row.id, Message.message_id == message_id)
    ).first()
    if found is None:
        raise CaseError(
            t_("Chat {key} has no stored message {message_id}.", key=row.key, message_id=message_id)
        )
    return found


def _stated_chat(conn: Connection, case_id: int | None, username: str) -> str | None:
    """The chat this case's investigator said has the public name ``username``."""
    if case_id is None:
        return None
    for chat_id, url in conn.execute(
        select(CaseItem.chat_id, CaseItem.url).where(
            CaseItem.case_id == case_id, CaseItem.kind == "chat", CaseItem.url.is_not(None)
        )
    ):
        if url and chat_id is not None and parse_tme(url).username == username:
            return conn.execute(select(Chat.key).where(Chat.id == chat_id)).scalar()
    return None


def _detail(detail: dict[str, Any] | None) -> str | None:
    if not detail:
        return None
    text = json.dumps(detail, ensure_ascii=False, sort_keys=True)
    if len(text) > MAX_DETAIL:
        raise CaseError(
            t_(
                "The item's details are longer than {max_detail:,} characters.",
                max_detail=MAX_DETAIL,
            )
        )
    return text


def _add(
    app: App,
    conn: Connection,
    case_id: int,
    kind: ItemKind,
    ref: str,
    *,
    message: Row | None = None,
    media: Row | None = None,
    chat_id: int | None = None,
    blob: str | None = None,
    url: str | None = None,
    external_ref: str | None = None,
    detail: dict[str, Any] | None = None,
    reupload_of: int | None = None,
) -> AddedItem:
    existing = conn.execute(
        select(CaseItem.id).where(CaseItem.case_id == case_id, CaseItem.ref == ref)
    ).first()
    if existing is not None:
        return AddedItem(int(existing[0]), False)
    if message is not None:
        chat_id = message.chat_id
    item_id = conn.execute(
        insert(CaseItem)
        .values(
            case_id=case_id,
            kind=kind.value,
            ref=ref,
            message_pk=message.id if message is not None else None,
            media_pk=media.id if media is not None else None,
            chat_id=chat_id,
            blob_sha256=blob,
            url=url,
            external_ref=external_ref,
            detail_json=_detail(detail),
            reupload_of=reupload_of,
            added_at=ev.now_iso(),
            added_by=app.settings.operator,
        )
        .returning(CaseItem.id)
    ).scalar_one()
    chat_key = (
        conn.execute(select(Chat.key).where(Chat.id == chat_id)).scalar() if chat_id else None
    )
    ev.record(
        app,
        conn,
        case_id,
        ev.CASE_ITEM_ADDED,
        {
            "item_id": item_id,
            "kind": kind.value,
            "ref": ref,
            "chat": chat_key,
            "message_id": message.message_id if message is not None else None,
            "blob_sha256": blob,
            "url": url,
            "external_ref": external_ref,
            "reupload_of": reupload_of,
        },
    )
    return AddedItem(item_id, True)


def add_message(
    app: App,
    case: int | str,
    *,
    message_pk: int | None = None,
    chat: str | None = None,
    message_id: int | None = None,
    url: str | None = None,
    with_files: bool = True,
) -> list[AddedItem]:
    """Add a message (and, by default, each file it carries as its own item)."""
    with app.db.begin() as conn:
        case_id = case_row(conn, case).id
        msg = resolve_message(
            conn, message_pk=message_pk, chat=chat, message_id=message_id, url=url, case_id=case_id
        )
        stated = check_url(url) if url else None
        added = [
            _add(app, conn, case_id, ItemKind.MESSAGE, f"message:{msg.id}", message=msg, url=stated)
        ]
        if with_files:
            for media in _media_of(conn, msg.id):
                added.append(_add_media_row(app, conn, case_id, media, msg))
    return added


def _media_of(conn: Connection, message_pk: int) -> list[Row]:
    return list(
        conn.execute(
            select(Media)
            .where(Media.message_pk == message_pk, Media.blob_sha256.is_not(None))
            .where(Media.role != "thumbnail")
            .order_by(Media.id)
        ).all()
    )


def _add_media_row(
    app: App,
    conn: Connection,
    case_id: int,
    media: Row,
    msg: Row | None = None,
    reupload_of: int | None = None,
) -> AddedItem:
    msg = msg or get(conn, Message, media.message_pk)
    return _add(
        app,
        conn,
        case_id,
        ItemKind.MEDIA,
        f"media:{media.id}",
        message=msg,
        media=media,
        blob=media.blob_sha256,
        reupload_of=reupload_of,
    )


def add_file(app: App, case: int | str, sha256: str) -> list[AddedItem]:
    """Add a stored file: one item for every message that carried it (every place it was)."""
    sha = sha256.strip().lower()
    with app.db.begin() as conn:
        case_id = case_row(conn, case).id
        if get(conn, Blob, sha) is None:
            raise CaseError(t_("No stored file has the SHA-256 {sha}.", sha=sha))
        rows = list(
            conn.execute(select(Media).where(Media.blob_sha256 == sha).order_by(Media.id)).all()
        )
        if not rows:  # captured but carried by no message (e.g. an unreferenced file)
            return [_add(app, conn, case_id, ItemKind.MEDIA, f"blob:{sha}", blob=sha)]
        return [_add_media_row(app, conn, case_id, m) for m in rows]


def add_chat_files(app: App, case: int | str, chat: str) -> list[AddedItem]:
    """Add every stored file the chat's messages carry, in one transaction (a whole room's
    worth of evidence at once)."""
    with app.db.begin() as conn:
        case_id = case_row(conn, case).id
        row = resolve_chat(conn, chat)
        media = conn.execute(
            select(Media)
            .join(Message, Message.id == Media.message_pk)
            .where(
                Message.chat_id == row.id,
                Media.blob_sha256.is_not(None),
                Media.role != "thumbnail",
            )
            .order_by(Media.id)
        ).all()
        return [_add_media_row(app, conn, case_id, m) for m in media]


def add_chat(app: App, case: int | str, chat: str, *, url: str | None = None) -> AddedItem:
    """Add a chat; ``url`` (its public t.me link, if the investigator knows it) also gives
    the chat's messages in this case their public links."""
    stated = check_url(url) if url else None
    if stated is not None:
        link = parse_tme(stated)
        if link.is_message:
            raise CaseError(
                t_("{url!r} links a message; give the chat's own link (t.me/name).", url=url)
            )
    with app.db.begin() as conn:
        case_id = case_row(conn, case).id
        row = resolve_chat(conn, chat)
        return _add(app, conn, case_id, ItemKind.CHAT, f"chat:{row.id}", chat_id=row.id, url=stated)


def add_link(app: App, case: int | str, url: str, *, note: str | None = None) -> AddedItem:
    """A link reported to us but not captured (yet): notices can still name it."""
    stated = check_url(url)
    with app.db.begin() as conn:
        case_id = case_row(conn, case).id
        detail = {"note": note} if note else None
        return _add(app, conn, case_id, ItemKind.LINK, f"link:{stated}", url=stated, detail=detail)


def add_external(
    app: App,
    case: int | str,
    kind: ItemKind,
    external_ref: str,
    *,
    blob_sha256: str | None = None,
    message_pk: int | None = None,
    chat: str | None = None,
    url: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AddedItem:
    """A match (a ``match_hits`` row of the matching capability) or a graph finding (a node
    of the network map, or typed free text ``note:...``), by its own id; an id that names
    nothing is refused (see :mod:`haechi.cases.external`)."""
    if kind not in (ItemKind.MATCH, ItemKind.FINDING):
        raise CaseError(t_("Only matches and findings are added by an external id."))
    ref_text = external_ref.strip()
    if not ref_text or len(ref_text) > 128:
        raise CaseError(t_("A match or finding id must be 1 to 128 characters."))
    stated = check_url(url) if url else None
    blob_sha256 = blob_sha256.strip().lower() if blob_sha256 else None
    with app.db.begin() as conn:
        case_id = case_row(conn, case).id
        msg = get(conn, Message, message_pk) if message_pk is not None else None
        if message_pk is not None and msg is None:
            raise CaseError(
                t_(
                    "There is no stored message with database id {message_pk}.",
                    message_pk=message_pk,
                )
            )
        chat_id = resolve_chat(conn, chat).id if chat else None
        if blob_sha256 is not None and get(conn, Blob, blob_sha256) is None:
            raise CaseError(
                t_("No stored file has the SHA-256 {blob_sha256}.", blob_sha256=blob_sha256)
            )
        if kind is ItemKind.MATCH:
            ref_text, blob_sha256, snapshot = check_match(conn, ref_text, blob_sha256)
            detail = {**(detail or {}), "match": snapshot}
        else:
            ref_text = check_finding(conn, ref_text)
        return _add(
            app,
            conn,
            case_id,
            kind,
            f"{kind.value}:{ref_text}",
            message=msg,
            chat_id=chat_id,
            blob=blob_sha256,
            url=stated,
            external_ref=ref_text,
            detail=detail,
        )


def withdraw_item(app: App, case: int | str, item_id: int, reason: str) -> None:
    reason = reason.strip()
    if not reason:
        raise CaseError(t_("Say why the item is withdrawn (it stays on record)."))
    with app.db.begin() as conn:
        case_id = case_row(conn, case).id
        item = get(conn, CaseItem, item_id)
        if item is None or item.case_id != case_id:
            raise CaseError(t_("Case {case} has no item {item_id}.", case=case, item_id=item_id))
        if item.withdrawn_at is not None:
            return
        conn.execute(
            update(CaseItem)
            .where(CaseItem.id == item_id)
            .values(withdrawn_at=ev.now_iso(), withdrawn_reason=reason)
        )
        ev.record(
            app,
            conn,
            case_id,
            ev.CASE_ITEM_WITHDRAWN,
            {"item_id": item_id, "reason_sha256": ev.commitment({"reason": reason}, item.ref)},
        )
