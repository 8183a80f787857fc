"""What a case's page shows beside ``case_detail``: the re-upload watch's hits with where
each copy appeared, and the notices with what they did not include."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from haechi.app import App
from haechi.cases.detail import item_views, note_views, suspect_views, victim_views
from haechi.cases.model import CaseDetail, ItemView
from haechi.cases.service import case_row, summaries
from haechi.store.models import Chat, Media, Message
from haechi.store.tables.cases import CaseItem, NoticeItem, ReuploadHit, ReuploadWatch

ITEMS_PAGE = 50


@dataclass(frozen=True)
class CasePage:
    detail: CaseDetail  # its ``items`` are this page's; victims redacted
    items_total: int  # every item, withdrawn ones too
    offset: int


def case_page(app: App, case: int | str, *, offset: int = 0, limit: int = ITEMS_PAGE) -> CasePage:
    """A case for its page: summary, victims (redacted), notes and one page of items (a case
    may hold thousands; ``case_detail`` reads them all, which exports need and a page
    does not)."""
    offset = max(0, offset)
    with app.db.connect() as conn:
        row = case_row(conn, case)
        detail = CaseDetail(
            summary=summaries(conn, [row])[0],
            case_summary_text=row.summary,
            created_by=row.created_by,
            closed_at=row.closed_at,
        )
        detail.items = item_views(conn, row.id, limit=limit, offset=offset)
        detail.victims = victim_views(conn, row.id, reveal=False)
        detail.suspects = suspect_views(conn, row.id)
        detail.notes = note_views(conn, row.id)
        total = conn.execute(
            select(func.count()).select_from(CaseItem).where(CaseItem.case_id == row.id)
        ).scalar_one()
    return CasePage(detail, int(total), offset)


def left_out(app: App, case_id: int, notice_id: int, limit: int = 200) -> list[ItemView]:
    """Active items of the case that a notice does not name (re-uploads found later
    aside): what could not be reported to that recipient, or came after it."""
    with app.db.connect() as conn:
        named = select(NoticeItem.case_item_id).where(NoticeItem.notice_id == notice_id)
        ids = list(
            conn.execute(
                select(CaseItem.id)
                .where(
                    CaseItem.case_id == case_id,
                    CaseItem.withdrawn_at.is_(None),
                    CaseItem.reupload_of.is_(None),
                    CaseItem.id.not_in(named),
                )
                .order_by(CaseItem.id)
                .limit(limit)
            ).scalars()
        )
        return item_views(conn, case_id, ids=ids) if ids else []


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
