"""Re-upload watch: once content is removed, watch for it coming back.

When a notice is marked *removed*, the files of its items are watched three ways:

* ``sha256`` / ``md5``: their exact hashes (always);
* ``bank``: their PDQ/vPDQ hashes, in a bank of the matching capability (``seams``), when
  it is installed;
* ``face``: the face templates (embeddings) of the faces the faces capability found in
  them, looked up in its face index within the calibrated threshold (``face_watch``), when
  it is installed. Faces analysed after the removal are caught up at the next scan.

Every later ingest (the ``haechi.ingest_hooks`` entry point, which runs after the analysis)
and ``haechi notice watch`` compare the stored files with the watches. A hit becomes a new
item of the case (``reupload_of`` the removed one), a ``reupload_hits`` row and a signed
``reupload_detected`` event; if it was posted after the removal, the notice goes to
*re-uploaded* with that time. A copy that was already up before the removal is a hit too
(kind ``copy``): it still has to be reported, but it is not a re-upload. A file is raised
once per case: the first watch that finds it adds its message to the case.

Exact hashes find byte-identical files only. A re-encoded copy (Telegram recompresses
photos sent as photos) needs a perceptual hash; a cropped, mirrored or re-composed one
may only be found by its face.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, insert, select

from haechi.app import App
from haechi.cases import events as ev
from haechi.cases import face_watch, seams
from haechi.cases.items import _add_media_row
from haechi.cases.rows import Row, get
from haechi.store.models import Blob, Chat, Media, Message, Source
from haechi.store.tables.cases import (
    CaseItem,
    Notice,
    NoticeItem,
    ReuploadHit,
    ReuploadWatch,
)

EXACT_METHODS = ("sha256", "md5")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hit:
    case_id: int
    notice_id: int | None
    watch_id: int
    method: str
    kind: str  # reupload / copy
    blob_sha256: str
    new_item_id: int
    chat_key: str | None
    message_id: int | None
    posted_unix: int | None
    distance: float | None = None  # face hits: the template's distance to the closest face


@dataclass
class ScanReport:
    watches: int = 0
    hits: list[Hit] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "watches": self.watches,
            "hits": len(self.hits),
            "reuploads": sum(1 for h in self.hits if h.kind == "reupload"),
        }


def _files_of(conn: Connection, item: Row) -> list[str]:
    shas = [item.blob_sha256] if item.blob_sha256 else []
    if item.message_pk is not None and item.kind == "message":
        shas += [
            sha
            for (sha,) in conn.execute(
                select(Media.blob_sha256).where(
                    Media.message_pk == item.message_pk,
                    Media.blob_sha256.is_not(None),
                    Media.role != "thumbnail",
                )
            )
        ]
    return list(dict.fromkeys(shas))


def register_removed(app: App, conn: Connection, notice_id: int) -> int:
    """Watch the files of a removed notice's items; returns how many watches were added."""
    notice = get(conn, Notice, notice_id)
    assert notice is not None
    items = conn.execute(
        select(CaseItem)
        .join(NoticeItem, NoticeItem.case_item_id == CaseItem.id)
        .where(NoticeItem.notice_id == notice_id)
    ).all()
    wanted: list[dict[str, Any]] = []
    for item in items:
        for sha in _files_of(conn, item):
            md5 = conn.execute(select(Blob.md5).where(Blob.sha256 == sha)).scalar()
            for method, value in (("sha256", sha), ("md5", md5)):
                if value:
                    wanted.append(
                        {
                            "case_id": notice.case_id,
                            "case_item_id": item.id,
                            "notice_id": notice_id,
                            "method": method,
                            "value": value,
                            "created_at": ev.now_iso(),
                            "active": True,
                        }
                    )
    if not wanted:
        return 0
    app.db.insert_ignore(conn, ReuploadWatch, wanted)
    # After the exact watches: the face templates are those of the files they hold.
    faces = face_watch.register_templates(app, conn, notice_id)
    ev.record(
        app,
        conn,
        notice.case_id,
        ev.WATCH_ADDED,
        {
            "notice_id": notice_id,
            "watches": [
                {"item_id": w["case_item_id"], "method": w["method"], "value": w["value"]}
                for w in wanted
            ],
        },
    )
    return len(wanted) + faces


def after_removal(app: App, notice_id: int) -> list[str]:
    """After a removal is committed: hand the files to the matching capability's banks for
    near-duplicate (PDQ/vPDQ) watching, when it is installed. Returns warnings; a failure
    there never undoes the removal or the exact watch."""
    with app.db.connect() as conn:
        notice = get(conn, Notice, notice_id)
        items = conn.execute(
            select(CaseItem)
            .join(NoticeItem, NoticeItem.case_item_id == CaseItem.id)
            .where(NoticeItem.notice_id == notice_id)
        ).all()
        files = {item.id: _files_of(conn, item) for item in items}
    shas = sorted({sha for group in files.values() for sha in group})
    if notice is None or not shas:
        return []
    try:
        bank = seams.watch_in_bank(app, notice.case_id, notice_id, shas)
    except Exception as exc:  # the optional capability failing must not lose the removal
        log.warning("re-upload watch: the matching capability refused the files: %s", exc)
        return [f"near-duplicate watch not set: {exc}"]
    if bank is None:
        return []
    rows = [
        {
            "case_id": notice.case_id,
            "case_item_id": item_id,
            "notice_id": notice_id,
            "method": "bank",
            "value": bank,
            "created_at": ev.now_iso(),
            "active": True,
        }
        for item_id, group in files.items()
        if group
    ]
    with app.db.begin() as conn:
        app.db.insert_ignore(conn, ReuploadWatch, rows)
        ev.record(
            app,
            conn,
            notice.case_id,
            ev.WATCH_ADDED,
            {"notice_id": notice_id, "bank": bank, "files": shas, "method": "bank"},
        )
    return []


def _shas_for(conn: Connection, watch: Row, found: dict[int, dict[str, float | None]]) -> list[str]:
    if watch.method == "sha256":
        return [watch.value]
    if watch.method == "md5":
        return list(conn.execute(select(Blob.sha256).where(Blob.md5 == watch.value)).scalars())
    return sorted(found.get(watch.id, {}))


def _candidates(conn: Connection, watch: Row, shas: list[str]) -> list[Row]:
    if not shas:
        return []
    case_messages = select(CaseItem.message_pk).where(
        CaseItem.case_id == watch.case_id, CaseItem.message_pk.is_not(None)
    )
    already = select(ReuploadHit.media_pk).where(ReuploadHit.watch_id == watch.id)
    return list(
        conn.execute(
            select(Media)
            .where(
                Media.blob_sha256.in_(shas),
                Media.role != "thumbnail",
                Media.message_pk.not_in(case_messages),
                Media.id.not_in(already),
            )
            .order_by(Media.id)
        ).all()
    )


def _seen_unix(conn: Connection, media: Row) -> int | None:
    posted = conn.execute(select(Message.date_unix).where(Message.id == media.message_pk)).scalar()
    if posted is not None:
        return int(posted)
    started = conn.execute(select(Source.started_at).where(Source.id == media.source_id)).scalar()
    return ev.parse_when(started)[1] if started else None


def scan(app: App) -> ScanReport:
    """Compare stored files with every active watch; idempotent (a hit is raised once)."""
    from haechi.cases.notices.status import apply_status

    report = ScanReport()
    # Read what the optional capabilities matched before the write transaction opens:
    # {watch id: {file: distance or None}}.
    found: dict[int, dict[str, float | None]] = {
        wid: dict.fromkeys(shas) for wid, shas in _bank_matches(app).items()
    }
    try:
        face_watch.catch_up_templates(app)
        found.update(face_watch.face_matches(app))
    except Exception as exc:  # the optional capability failing must not stop the others
        log.warning("re-upload watch: the faces capability could not be used: %s", exc)
    with app.db.begin() as conn:
        # In id order: exact watches first, so a byte-identical copy is raised as such.
        watches = conn.execute(
            select(ReuploadWatch).where(ReuploadWatch.active.is_(True)).order_by(ReuploadWatch.id)
        ).all()
        report.watches = len(watches)
        pending: list[tuple[Row, Row, float | None]] = []
        claimed: set[tuple[int, int]] = set()  # (case, message): one watch raises a message
        for watch in watches:
            scores = found.get(watch.id, {})
            fresh = [
                media
                for media in _candidates(conn, watch, _shas_for(conn, watch, found))
                if (watch.case_id, media.message_pk) not in claimed
            ]
            claimed.update((watch.case_id, media.message_pk) for media in fresh)
            pending += [(watch, media, scores.get(media.blob_sha256)) for media in fresh]
        # Oldest first: the notice goes to *re-uploaded* at the first re-upload, whichever
        # watch (hash, bank or face) found it.
        pending.sort(key=lambda p: (_seen_unix(conn, p[1]) or math.inf, p[0].id, p[1].id))
        for watch, media, distance in pending:
            report.hits.append(_raise_hit(app, conn, watch, media, apply_status, distance))
    return report


def _bank_matches(app: App) -> dict[int, list[str]]:
    """Per bank watch: the stored files the matching capability matched to its item's files
    (read before the write transaction opens)."""
    out: dict[int, list[str]] = {}
    with app.db.connect() as conn:
        watches = conn.execute(
            select(ReuploadWatch).where(
                ReuploadWatch.active.is_(True), ReuploadWatch.method == "bank"
            )
        ).all()
        originals = {w.id: _files_of(conn, get(conn, CaseItem, w.case_item_id)) for w in watches}
    for watch in watches:
        try:
            matched = seams.bank_matches(app, watch.value, originals[watch.id])
        except Exception as exc:  # the optional capability changed or broke: exact watch goes on
            log.warning("re-upload watch: cannot read the matching capability's hits: %s", exc)
            matched = []
        out[watch.id] = sorted({sha for sha, _kind, _distance in matched})
    return out


def _raise_hit(
    app: App,
    conn: Connection,
    watch: Row,
    media: Row,
    apply_status: Any,
    distance: float | None = None,
) -> Hit:
    notice = get(conn, Notice, watch.notice_id) if watch.notice_id else None
    seen = _seen_unix(conn, media)
    removed = notice.removed_unix if notice is not None else None
    kind = "reupload" if removed is not None and seen is not None and seen >= removed else "copy"
    added = _add_media_row(app, conn, watch.case_id, media, reupload_of=watch.case_item_id)
    conn.execute(
        insert(ReuploadHit).values(
            watch_id=watch.id,
            case_id=watch.case_id,
            media_pk=media.id,
            blob_sha256=media.blob_sha256,
            new_case_item_id=added.id,
            kind=kind,
            # exact: 1.0; face: the distance (lower is closer); bank: see match_hits
            score=1.0 if watch.method in EXACT_METHODS else distance,
            detected_at=ev.now_iso(),
        )
    )
    msg = get(conn, Message, media.message_pk)
    chat_key = (
        conn.execute(select(Chat.key).where(Chat.id == msg.chat_id)).scalar() if msg else None
    )
    data: dict[str, Any] = {
        "watch_id": watch.id,
        "notice_id": watch.notice_id,
        "method": watch.method,
        "kind": kind,
        "blob_sha256": media.blob_sha256,
        "new_item_id": added.id,
        "reupload_of": watch.case_item_id,
        "chat": chat_key,
        "message_id": msg.message_id if msg else None,
    }
    if watch.method == face_watch.METHOD:  # a digest of the template, never the face
        data |= {"template_sha256": watch.value, "distance": distance}
    ev.record(app, conn, watch.case_id, ev.REUPLOAD_DETECTED, data)
    if kind == "reupload" and notice is not None and notice.status == "removed" and seen:
        apply_status(
            app, conn, notice, "reuploaded", ev.iso_of(seen), seen, note=f"item {added.id}"
        )
    return Hit(
        case_id=watch.case_id,
        notice_id=watch.notice_id,
        watch_id=watch.id,
        method=watch.method,
        kind=kind,
        blob_sha256=media.blob_sha256,
        new_item_id=added.id,
        chat_key=chat_key,
        message_id=msg.message_id if msg else None,
        posted_unix=seen,
        distance=distance,
    )


def hits(app: App, case_id: int | None = None) -> list[Row]:
    with app.db.connect() as conn:
        stmt = select(ReuploadHit).order_by(ReuploadHit.id)
        if case_id is not None:
            stmt = stmt.where(ReuploadHit.case_id == case_id)
        return list(conn.execute(stmt).all())


def after_ingest(app: App, report: Any) -> dict[str, Any]:
    """``haechi.ingest_hooks`` entry point: scan after every ingest."""
    return scan(app).as_dict()
