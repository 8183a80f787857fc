"""Reading a case whole: items with their links and hashes, victims, suspects, notes.

What notices, reports, packages, the CLI and the web app all read. Victims come back
redacted (label, age band, minor flag, consents; no name or contact) unless the caller
asks to reveal them; revealing is the caller's decision to log (see ``report``).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, select

from haechi.app import App
from haechi.cases.links import TME_HOSTS, chat_url, message_url, parse_tme
from haechi.cases.model import (
    CaseDetail,
    ConsentView,
    ItemView,
    NoteView,
    SuspectView,
    VictimView,
    age_band,
)
from haechi.cases.service import case_row, summaries
from haechi.store.models import Account, Blob, Chat, Media, Message
from haechi.store.tables.cases import (
    CaseConsent,
    CaseItem,
    CaseNote,
    CaseSubject,
    CaseSuspect,
    SuspectIdentifier,
)


def case_detail(app: App, case: int | str, *, reveal_victims: bool = False) -> CaseDetail:
    with app.db.connect() as conn:
        row = case_row(conn, case)
        detail = CaseDetail(
            summary=summaries(conn, [row])[0],
            case_summary_text=row.summary,
            created_by=row.created_by,
            closed_at=row.closed_at,
        )
        detail.items = item_views(conn, row.id)
        detail.victims = victim_views(conn, row.id, reveal=reveal_victims)
        detail.suspects = suspect_views(conn, row.id)
        detail.notes = note_views(conn, row.id)
    return detail


def note_views(conn: Connection, case_id: int) -> list[NoteView]:
    """A case's notes, oldest first, with who wrote each and when."""
    rows = conn.execute(select(CaseNote).where(CaseNote.case_id == case_id).order_by(CaseNote.id))
    return [NoteView(n.id, n.author, n.created_at, n.text) for n in rows.all()]


def _chat_links(conn: Connection, case_id: int) -> dict[int, str]:
    """Usernames the investigator stated for chats of this case (chat items with a URL)."""
    names: dict[int, str] = {}
    for chat_id, url in conn.execute(
        select(CaseItem.chat_id, CaseItem.url).where(
            CaseItem.case_id == case_id, CaseItem.kind == "chat", CaseItem.url.is_not(None)
        )
    ):
        if not url or urlsplit(url).hostname not in TME_HOSTS:
            continue
        link = parse_tme(url)
        if link.username and chat_id is not None:
            names[chat_id] = link.username
    return names


def item_views(
    conn: Connection,
    case_id: int,
    *,
    ids: list[int] | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[ItemView]:
    """The case's items in order (``ids``: only those; ``limit``/``offset``: one page)."""
    stmt = (
        select(
            CaseItem,
            Message.message_id.label("m_message_id"),
            Message.date_unix.label("m_date"),
            Message.sender_account_id.label("m_sender"),
            Message.sender_name.label("m_sender_name"),
            Message.text.label("m_text"),
            Chat.title.label("c_title"),
            Chat.tg_id.label("c_tg_id"),
            Chat.peer_kind.label("c_kind"),
            Chat.username.label("c_username"),
            Blob.md5.label("b_md5"),
            Blob.size.label("b_size"),
            Blob.mime.label("b_mime"),
            Media.mime_type.label("d_mime"),
            Media.file_name.label("d_name"),
            Media.export_path.label("d_path"),
        )
        .outerjoin(Message, Message.id == CaseItem.message_pk)
        .outerjoin(Chat, Chat.id == CaseItem.chat_id)
        .outerjoin(Blob, Blob.sha256 == CaseItem.blob_sha256)
        .outerjoin(Media, Media.id == CaseItem.media_pk)
        .where(CaseItem.case_id == case_id)
        .order_by(CaseItem.id)
    )
    if ids is not None:
        stmt = stmt.where(CaseItem.id.in_(ids))
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    rows = conn.execute(stmt).all()
    stated = _chat_links(conn, case_id)
    senders = _sender_keys(conn, [r.m_sender for r in rows])
    views = []
    for r in rows:
        username = r.c_username or stated.get(r.chat_id or -1)
        url = r.url
        if url is None and r.message_pk is not None and r.chat_id is not None:
            url = message_url(username, r.c_kind, r.c_tg_id, r.m_message_id)
        if url is None and r.kind == "chat":
            url = chat_url(username)
        sender = None
        if r.message_pk is not None:
            sender = senders.get(r.m_sender or -1) or r.m_sender_name
        detail: dict[str, Any] = json.loads(r.detail_json) if r.detail_json else {}
        views.append(
            ItemView(
                id=r.id,
                kind=r.kind,
                ref=r.ref,
                url=url,
                chat_id=r.chat_id,
                chat_title=r.c_title,
                chat_tg_id=r.c_tg_id,
                chat_peer_kind=r.c_kind,
                message_id=r.m_message_id,
                message_pk=r.message_pk,
                date_unix=r.m_date,
                sender=sender,
                text=r.m_text,
                blob_sha256=r.blob_sha256,
                blob_md5=r.b_md5,
                blob_size=r.b_size,
                blob_mime=r.b_mime or r.d_mime,
                file_name=r.d_name or r.d_path,
                external_ref=r.external_ref,
                detail=detail,
                added_at=r.added_at,
                withdrawn=r.withdrawn_at is not None,
                reupload_of=r.reupload_of,
            )
        )
    return views


def _sender_keys(conn: Connection, ids: list[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return {
        pk: key
        for pk, key in conn.execute(select(Account.id, Account.key).where(Account.id.in_(wanted)))
    }


def victim_views(conn: Connection, case_id: int, *, reveal: bool = False) -> list[VictimView]:
    subjects = list(
        conn.execute(
            select(CaseSubject).where(CaseSubject.case_id == case_id).order_by(CaseSubject.id)
        ).all()
    )
    consents: dict[int, list[ConsentView]] = {}
    if subjects:
        for c in conn.execute(
            select(CaseConsent)
            .where(CaseConsent.subject_id.in_([s.id for s in subjects]))
            .order_by(CaseConsent.id)
        ).all():
            consents.setdefault(c.subject_id, []).append(
                ConsentView(
                    c.id,
                    c.scope,
                    c.given_by,
                    c.method,
                    c.granted_at,
                    c.withdrawn_at,
                    c.document_sha256,
                )
            )
    return [
        VictimView(
            id=s.id,
            label=s.label,
            display_name=s.display_name if reveal else None,
            contact=s.contact if reveal else None,
            identifiers=tuple(json.loads(s.identifiers_json or "[]")) if reveal else (),
            age=s.age,
            age_band=age_band(s.age, s.age_band).value,
            is_minor=bool(s.is_minor),
            faces_subject_ref=s.faces_subject_ref,
            consents=tuple(consents.get(s.id, [])),
        )
        for s in subjects
    ]


def victim_secrets(conn: Connection, case_id: int) -> list[tuple[str, str]]:
    """Every identifying string recorded for the case's victims, with the victim's label
    (what redaction replaces, and with what)."""
    values: list[tuple[str, str]] = []
    for label, name, contact, idents in conn.execute(
        select(
            CaseSubject.label,
            CaseSubject.display_name,
            CaseSubject.contact,
            CaseSubject.identifiers_json,
        ).where(CaseSubject.case_id == case_id)
    ):
        found = [v for v in (name, contact) if v]
        found += [str(i.get("value")) for i in json.loads(idents or "[]") if i.get("value")]
        values += [(label, v) for v in found]
    return values


def suspect_views(conn: Connection, case_id: int) -> list[SuspectView]:
    suspects = list(
        conn.execute(
            select(CaseSuspect).where(CaseSuspect.case_id == case_id).order_by(CaseSuspect.id)
        ).all()
    )
    idents: dict[int, list[tuple[str, str]]] = {}
    if suspects:
        for sid, kind, value in conn.execute(
            select(SuspectIdentifier.suspect_id, SuspectIdentifier.kind, SuspectIdentifier.value)
            .where(SuspectIdentifier.suspect_id.in_([s.id for s in suspects]))
            .order_by(SuspectIdentifier.id)
        ):
            idents.setdefault(sid, []).append((kind, value))
    return [
        SuspectView(
            id=s.id,
            label=s.label,
            account_id=s.account_id,
            age=s.age,
            age_band=age_band(s.age, s.age_band).value,
            status=s.status,
            apprehended_at=s.apprehended_at,
            detained_at=s.detained_at,
            identifiers=tuple(idents.get(s.id, [])),
            note=s.note,
        )
        for s in suspects
    ]
