"""A notice as shown (:class:`NoticeView`) and the reads that make one: a notice, the
notices a caller sees (of a case, a status, a recipient) and a notice's status history.
Drafting is ``service``, status changes ``status``; both hand back a view from here."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select

from haechi.app import App
from haechi.cases import visibility
from haechi.cases.model import CaseError
from haechi.cases.rows import Row, get
from haechi.cases.service import case_row
from haechi.i18n import t_
from haechi.store.tables.cases import Case, Notice, NoticeItem, NoticeTransition


@dataclass(frozen=True)
class NoticeView:
    id: int
    case_id: int
    case_ref: str
    recipient: str
    language: str
    to_address: str | None
    subject: str
    body: str
    body_sha256: str
    status: str
    created_at: str
    sent_unix: int | None
    acknowledged_unix: int | None
    decided_unix: int | None
    decision: str | None
    removed_unix: int | None
    reuploaded_unix: int | None
    external_ref: str | None
    urls: tuple[str, ...]
    item_ids: tuple[int, ...]
    concerns_minor: bool
    notifier: dict[str, str | None] | None

    @property
    def hours_to_removal(self) -> float | None:
        if self.sent_unix is None or self.removed_unix is None:
            return None
        return (self.removed_unix - self.sent_unix) / 3600


def _view(
    conn: Connection,
    n: Row,
    ref: str | None = None,
    links: Sequence[tuple[int, str]] | None = None,
) -> NoticeView:
    """The notice as shown; ``ref`` and ``links`` when the caller read them for many."""
    if ref is None:
        ref = conn.execute(select(Case.ref).where(Case.id == n.case_id)).scalar_one()
    if links is None:
        links = links_of(conn, [n.id]).get(n.id, [])
    return NoticeView(
        id=n.id,
        case_id=n.case_id,
        case_ref=ref,
        recipient=n.recipient,
        language=n.language,
        to_address=n.to_address,
        subject=n.subject_line,
        body=n.body,
        body_sha256=n.body_sha256,
        status=n.status,
        created_at=n.created_at,
        sent_unix=n.sent_unix,
        acknowledged_unix=n.acknowledged_unix,
        decided_unix=n.decided_unix,
        decision=n.decision,
        removed_unix=n.removed_unix,
        reuploaded_unix=n.reuploaded_unix,
        external_ref=n.external_ref,
        urls=tuple(dict.fromkeys(u for _, u in links)),
        item_ids=tuple(i for i, _ in links),
        concerns_minor=bool(n.concerns_minor),
        notifier=json.loads(n.notifier_json) if n.notifier_json else None,
    )


def notice_row(conn: Connection, notice_id: int) -> Row:
    """The notice, if its case is one the caller sees (cases.visibility)."""
    row = get(conn, Notice, notice_id)
    if row is None or not visibility.case_visible(conn, row.case_id):
        raise CaseError(t_("There is no notice {notice_id}.", notice_id=notice_id))
    return row


def get_notice(app: App, notice_id: int) -> NoticeView:
    with app.db.connect() as conn:
        return _view(conn, notice_row(conn, notice_id))


def list_notices(
    app: App,
    *,
    case: int | str | None = None,
    status: str | None = None,
    recipient: str | None = None,
) -> list[NoticeView]:
    with app.db.connect() as conn:
        stmt = visibility.limit_to_cases(conn, select(Notice).order_by(Notice.id), Notice.case_id)
        if case is not None:
            stmt = stmt.where(Notice.case_id == case_row(conn, case).id)
        if status:
            stmt = stmt.where(Notice.status == status)
        if recipient:
            stmt = stmt.where(Notice.recipient == recipient)
        rows = conn.execute(stmt).all()
        if not rows:
            return []
        # One query each for the cases' references and the notices' items, not two per
        # notice: the case page lists every notice of the case.
        refs = dict(
            conn.execute(
                select(Case.id, Case.ref).where(Case.id.in_({n.case_id for n in rows}))
            ).all()
        )
        links = links_of(conn, [n.id for n in rows])
        return [_view(conn, n, refs[n.case_id], links.get(n.id, [])) for n in rows]


def links_of(conn: Connection, notice_ids: Sequence[int]) -> dict[int, list[tuple[int, str]]]:
    """``{notice id: [(case item id, url)]}`` in the order they were written."""
    out: dict[int, list[tuple[int, str]]] = {}
    for start in range(0, len(notice_ids), 500):
        part = notice_ids[start : start + 500]
        for notice_id, item_id, url in conn.execute(
            select(NoticeItem.notice_id, NoticeItem.case_item_id, NoticeItem.url)
            .where(NoticeItem.notice_id.in_(part))
            .order_by(NoticeItem.id)
        ):
            out.setdefault(notice_id, []).append((item_id, url))
    return out


def transitions(app: App, notice_id: int) -> list[tuple[str, str, str | None]]:
    with app.db.connect() as conn:
        notice_row(conn, notice_id)
        return [
            (s, at, note)
            for s, at, note in conn.execute(
                select(NoticeTransition.status, NoticeTransition.at, NoticeTransition.note)
                .where(NoticeTransition.notice_id == notice_id)
                .order_by(NoticeTransition.id)
            )
        ]
