"""Media: what the pages show instead of the evidence, and the logged act of revealing it.

* A **preview** is the newest ``safe_preview`` artefact of a file (greyscale, flagged
  regions pixelated, made by the nudity analyzer). When there is none, the page shows a
  neutral placeholder: an original is never used as a preview.
* A file **matched to a bank** is shown as the match (bank, label), not as a picture: its
  safe preview is not served either, and it is not offered for reveal.
* **Revealing** an original is an explicit act per file: it writes an audit entry and a
  signed ``access`` custody event in one transaction and counts towards the viewer's
  exposure. Only then may the original be streamed (the web layer checks a grant).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from sqlalchemy import text

from haechi.app import App
from haechi.auth import audit
from haechi.auth.db import write
from haechi.auth.errors import NotFound
from haechi.auth.types import Actor
from haechi.i18n import t_
from haechi.services import exposure, integrations
from haechi.services.common import bound, chunks, derived_store
from haechi.store.vault import is_sha256

PREVIEW = "safe_preview"
# Originals a browser may show inline; anything else is offered as a download only.
INLINE_MIME = {
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/avif",
    "video/mp4",
    "video/webm",
    "audio/ogg",
    "audio/mpeg",
    "audio/mp4",
    "audio/wav",
}


@dataclass(frozen=True)
class Match:
    bank: str
    label: str | None
    distance: float | None = None


@dataclass(frozen=True)
class SignalView:
    kind: str
    value: str | None
    score: float | None


@dataclass(frozen=True)
class MediaItem:
    id: int
    message_pk: int
    role: str
    status: str
    sha256: str | None
    kind: str | None  # sniffed MediaKind, else the export's media type
    mime: str | None
    file_name: str | None
    size: int | None
    width: int | None
    height: int | None
    duration: int | None
    has_preview: bool
    matches: list[Match] = field(default_factory=list)
    signals: list[SignalView] = field(default_factory=list)

    @property
    def matched(self) -> bool:
        return bool(self.matches)

    @property
    def playable(self) -> bool:
        return (self.kind or "") in ("video", "audio", "animation")


_MEDIA_COLS = (
    "d.id, d.message_pk, d.role, d.status, d.blob_sha256, d.media_type, d.mime_type, "
    "d.file_name, d.width, d.height, d.duration_seconds, b.kind, b.mime AS blob_mime, b.size"
)


def _previews(conn: Any, shas: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for part in chunks(list(shas)):
        marks, params = bound(part)
        rows = conn.execute(
            text(
                f"SELECT DISTINCT blob_sha256 FROM artifacts WHERE name = '{PREVIEW}' "  # noqa: S608 - placeholders and our own names only
                f"AND blob_sha256 IN ({marks})"
            ),
            params,
        )
        found.update(r[0] for r in rows)
    return found


def _signals(conn: Any, shas: Sequence[str]) -> dict[str, list[SignalView]]:
    out: dict[str, list[SignalView]] = {}
    for part in chunks(list(shas)):
        marks, params = bound(part)
        rows = conn.execute(
            text(
                "SELECT blob_sha256, kind, value, score FROM signals "  # noqa: S608 - placeholders and our own names only
                f"WHERE blob_sha256 IN ({marks}) AND kind NOT IN ('pdq', 'md5', 'vpdq', "
                "'face_template', 'nudity_region') ORDER BY blob_sha256, kind, id"
            ),
            params,
        )
        for sha, kind, value, score in rows:
            lst = out.setdefault(sha, [])
            if len(lst) < 12:
                lst.append(SignalView(kind, value, score))
    return out


def _items(app: App, conn: Any, rows: Sequence[Any], with_signals: bool) -> list[MediaItem]:
    shas = sorted({r.blob_sha256 for r in rows if r.blob_sha256})
    previews = _previews(conn, shas)
    matches = integrations.bank_matches(app, shas)
    signals = _signals(conn, shas) if with_signals else {}
    return [
        MediaItem(
            id=r.id,
            message_pk=r.message_pk,
            role=r.role,
            status=r.status,
            sha256=r.blob_sha256,
            kind=r.kind or r.media_type,
            mime=r.blob_mime or r.mime_type,
            file_name=r.file_name,
            size=r.size,
            width=r.width,
            height=r.height,
            duration=r.duration_seconds,
            has_preview=r.blob_sha256 in previews,
            matches=[Match(*m) for m in matches.get(r.blob_sha256 or "", [])],
            signals=signals.get(r.blob_sha256 or "", []),
        )
        for r in rows
    ]


def media_in(app: App, conn: Any, message_pks: Sequence[int]) -> dict[int, list[MediaItem]]:
    """The files of these messages, on the caller's connection."""
    out: dict[int, list[MediaItem]] = {}
    for part in chunks(list(message_pks)):
        marks, params = bound(part, "m")
        rows = conn.execute(
            text(
                f"SELECT {_MEDIA_COLS} FROM media d LEFT JOIN blobs b "  # noqa: S608 - placeholders and our own names only
                f"ON b.sha256 = d.blob_sha256 WHERE d.message_pk IN ({marks}) ORDER BY d.id"
            ),
            params,
        ).all()
        for item in _items(app, conn, rows, with_signals=False):
            out.setdefault(item.message_pk, []).append(item)
    return out


@dataclass(frozen=True)
class GridPage:
    items: list[MediaItem]
    next_cursor: int | None


def grid(
    app: App,
    *,
    chat_id: int | None = None,
    kind: str | None = None,
    signal: str | None = None,
    before: int | None = None,
    limit: int = 60,
) -> GridPage:
    """Stored files newest first (by media row), with their signals; keyset by id."""
    limit = max(1, min(limit, 200))
    params: dict[str, Any] = {"limit": limit + 1}
    where = "d.blob_sha256 IS NOT NULL"
    join = ""
    if chat_id is not None:
        join = " JOIN messages m ON m.id = d.message_pk"
        where += " AND m.chat_id = :chat"
        params["chat"] = chat_id
    if kind:
        where += " AND b.kind = :kind"
        params["kind"] = kind[:16]
    if signal:
        where += (
            " AND EXISTS (SELECT 1 FROM signals g WHERE g.blob_sha256 = d.blob_sha256 "
            "AND g.kind = :sig)"
        )
        params["sig"] = signal[:32]
    if before is not None:
        where += " AND d.id < :before"
        params["before"] = before
    sql = (
        f"SELECT {_MEDIA_COLS} FROM media d LEFT JOIN blobs b ON b.sha256 = d.blob_sha256"  # noqa: S608 - placeholders and our own names only
        f"{join} WHERE {where} ORDER BY d.id DESC LIMIT :limit"
    )
    with app.db.connect() as conn:
        rows = conn.execute(text(sql), params).all()
        items = _items(app, conn, rows[:limit], with_signals=True)
    nxt = items[-1].id if len(rows) > limit and items else None
    return GridPage(items, nxt)


def file_info(app: App, sha256: str) -> MediaItem:
    """The first media row that refers to ``sha256`` (for reveal and detail pages)."""
    if not is_sha256(sha256):
        raise NotFound(t_("There is no such file."))
    with app.db.connect() as conn:
        rows = conn.execute(
            text(
                f"SELECT {_MEDIA_COLS} FROM media d JOIN blobs b ON b.sha256 = d.blob_sha256 "  # noqa: S608 - placeholders and our own names only
                "WHERE d.blob_sha256 = :sha ORDER BY d.id LIMIT 1"
            ),
            {"sha": sha256},
        ).all()
        if not rows:
            raise NotFound(t_("There is no such file."))
        return _items(app, conn, rows, with_signals=True)[0]


@dataclass(frozen=True)
class Preview:
    """What ``/media/<sha>/preview`` may show: the safe preview, or why there is none."""

    data: bytes | None
    mime: str | None
    matched: bool = False  # matched to a bank: shown as the match, never as a picture


def preview(app: App, sha256: str) -> Preview:
    """The newest safe preview of a file, unless the file matched a bank (then nothing
    pictorial at all) or has none (the caller shows a placeholder)."""
    if not is_sha256(sha256):
        return Preview(None, None)
    if integrations.bank_matches(app, [sha256]):
        return Preview(None, None, matched=True)
    with app.db.connect() as conn:
        row = conn.execute(
            text(
                "SELECT sha256, mime FROM artifacts WHERE blob_sha256 = :sha AND name = :name "
                "ORDER BY id DESC LIMIT 1"
            ),
            {"sha": sha256, "name": PREVIEW},
        ).first()
    if row is None:
        return Preview(None, None)
    store = derived_store(app)
    if not store.exists(row.sha256):
        return Preview(None, None)
    return Preview(store.read_bytes(row.sha256), row.mime)


def reveal(app: App, actor: Actor, sha256: str, *, reason: str | None = None) -> MediaItem:
    """Record the reveal of one original (audit + custody + exposure) and return its info.

    Refused for files matched to a bank: those are reviewed as matches, never as pictures.
    """
    item = file_info(app, sha256)
    if item.matched:
        raise NotFound(t_("This file matched a bank and is shown as a match only."))
    detail: dict[str, Any] = {
        "sha256": sha256,
        "message_pk": item.message_pk,
        "kind": item.kind,
    }
    if reason:
        detail["reason"] = reason.strip()[:500]
    with write(app, chain=True) as conn:
        audit.record_in(app, conn, actor, audit.REVEAL, sha256, detail)
        if actor.user_id is not None:
            exposure.add_in(app, conn, actor.user_id, reveals=1)
    return item


def open_original(app: App, sha256: str) -> tuple[BinaryIO, MediaItem]:
    """The plaintext stream of an original. Callers must have recorded a reveal first."""
    item = file_info(app, sha256)
    if not app.vault.exists(sha256):
        raise NotFound(t_("The file is not in the vault."))
    return app.vault.open(sha256), item
