"""What a case's page shows beside ``case_detail``: the re-upload watch's hits with where
each copy appeared, and the notices with what they did not include."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from haechi.app import App
from haechi.store.models import Chat, Media, Message
from haechi.store.tables.cases import ReuploadHit, ReuploadWatch


@dataclass(frozen=True)
class HitView:
    id: int
    method: str  # sha256 / md5 / bank / face
    kind: str  # reupload (after the removal) / copy (already up before it)
    score: float | None  # face: the distance; exact: 1.0
    detected_at: str
    blob_sha256: str
    new_item_id: int | None
    notice_id: int | None
    chat_id: int | None
    chat_title: str | None
    message_pk: int | None
    message_id: int | None
    posted_unix: int | None


def reupload_hits(app: App, case_id: int, limit: int = 500) -> list[HitView]:
    """The case's re-upload hits, newest first."""
    with app.db.connect() as conn:
        rows = conn.execute(
            select(
                ReuploadHit.id,
                ReuploadWatch.method,
                ReuploadHit.kind,
                ReuploadHit.score,
                ReuploadHit.detected_at,
                ReuploadHit.blob_sha256,
                ReuploadHit.new_case_item_id,
                ReuploadWatch.notice_id,
                Chat.id,
                Chat.title,
                Message.id,
                Message.message_id,
                Message.date_unix,
            )
            .join(ReuploadWatch, ReuploadWatch.id == ReuploadHit.watch_id)
            .join(Media, Media.id == ReuploadHit.media_pk)
            .outerjoin(Message, Message.id == Media.message_pk)
            .outerjoin(Chat, Chat.id == Message.chat_id)
            .where(ReuploadHit.case_id == case_id)
            .order_by(ReuploadHit.id.desc())
            .limit(limit)
        ).all()
    return [HitView(*tuple(r)) for r in rows]
