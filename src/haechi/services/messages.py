"""One message in full: its chat, sender, text, media, the versions later exports showed,
and its custody trail (the capture of the export it came from, the capture and analysis of
each of its files, and every access to them)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from haechi.app import App
from haechi.auth.errors import NotFound
from haechi.i18n import t_
from haechi.services import media as media_service
from haechi.services.custody import CustodyView, message_trail_in
from haechi.services.media import MediaItem

__all__ = ["CustodyView", "MessageDetail", "detail"]


@dataclass(frozen=True)
class MessageDetail:
    pk: int
    chat_id: int
    chat_title: str | None
    message_id: int
    kind: str
    date_unix: int | None
    date_raw: str | None
    edited_raw: str | None
    sender_name: str | None
    sender_raw: str | None
    sender_username: str | None
    forwarded_from: str | None
    saved_from: str | None
    reply_to_message_id: int | None
    via_bot: str | None
    text: str
    action: str | None
    raw: str
    raw_offset: int | None
    source_id: int
    source_label: str
    source_root_sha256: str | None
    versions: int
    media: list[MediaItem]
    custody: list[CustodyView]


def detail(app: App, message_pk: int, *, with_custody: bool) -> MessageDetail:
    """One message. ``with_custody``: read its custody trail too (only for roles that
    hold ``custody.read``; otherwise ``custody`` is empty and the log is not even read)."""
    with app.db.connect() as conn:  # one connection for the message, its files and trail
        r = conn.execute(
            text(
                "SELECT m.*, c.title AS chat_title, a.username AS sender_username, "
                "s.label AS source_label, s.root_sha256 AS source_root, "
                "(SELECT count(*) FROM message_versions v WHERE v.message_pk = m.id) AS versions "
                "FROM messages m JOIN chats c ON c.id = m.chat_id "
                "JOIN sources s ON s.id = m.source_id "
                "LEFT JOIN accounts a ON a.id = m.sender_account_id WHERE m.id = :pk"
            ),
            {"pk": message_pk},
        ).first()
        if r is None:
            raise NotFound(t_("There is no such message."))
        media = media_service.media_in(app, conn, [message_pk]).get(message_pk, [])
        # The same subjects as the auditors' custody page asks for (services.custody).
        custody = message_trail_in(conn, message_pk) if with_custody else []
    return MessageDetail(
        pk=r.id,
        chat_id=r.chat_id,
        chat_title=r.chat_title,
        message_id=r.message_id,
        kind=r.kind,
        date_unix=r.date_unix,
        date_raw=r.date_raw,
        edited_raw=r.edited_raw,
        sender_name=r.sender_name,
        sender_raw=r.sender_raw,
        sender_username=r.sender_username,
        forwarded_from=r.forwarded_from,
        saved_from=r.saved_from,
        reply_to_message_id=r.reply_to_message_id,
        via_bot=r.via_bot,
        text=r.text or "",
        action=r.action,
        raw=r.raw,
        raw_offset=r.raw_offset,
        source_id=r.source_id,
        source_label=r.source_label,
        source_root_sha256=r.source_root,
        versions=int(r.versions or 0),
        media=media,
        custody=custody,
    )
