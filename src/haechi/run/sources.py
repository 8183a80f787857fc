"""What was collected from where, and whether each capture is complete.

A source refused part-way (damaged or over-large JSON, a kill, a full disk) keeps what it
committed: those messages and files are evidence with their custody events. It stays in
state ``failed`` with the reason and the byte offset it stopped at (from its signed
``ingest_failed`` event, repeated in ``sources.stats_json``), and ``haechi sources`` shows
it as incomplete, so a corrected export ingested later never hides it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from haechi.app import App
from haechi.store.models import ChatSighting, Message, Source, SourceFile


@dataclass(frozen=True)
class SourceView:
    id: int
    kind: str
    label: str
    uri: str
    status: str  # started (running, or killed) / finished / failed
    started_at: str
    finished_at: str | None
    operator: str
    messages: int  # messages first stored from this source
    files: int  # files captured from it
    failure_reason: str | None = None
    failure_offset: int | None = None  # byte offset in the source where it stopped

    @property
    def complete(self) -> bool:
        return self.status == "finished"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "complete": self.complete}


def _failure(stats_json: str | None) -> tuple[str | None, int | None]:
    try:
        failed = (json.loads(stats_json) if stats_json else {}).get("failed") or {}
    except (ValueError, AttributeError):
        return None, None
    offset = failed.get("byte_offset")
    return failed.get("reason"), offset if isinstance(offset, int) else None


def list_sources(app: App) -> list[SourceView]:
    """Every source, oldest first, with its counts and, if it stopped, why and where."""
    with app.db.connect() as conn:
        messages = dict(
            conn.execute(select(Message.source_id, func.count()).group_by(Message.source_id)).all()
        )
        files = dict(
            conn.execute(
                select(SourceFile.source_id, func.count()).group_by(SourceFile.source_id)
            ).all()
        )
        rows = conn.execute(select(Source.__table__).order_by(Source.id)).all()
    out = []
    for s in rows:
        reason, offset = _failure(s.stats_json) if s.status == "failed" else (None, None)
        out.append(
            SourceView(
                id=s.id,
                kind=s.kind,
                label=s.label,
                uri=s.uri,
                status=s.status,
                started_at=s.started_at,
                finished_at=s.finished_at,
                operator=s.operator,
                messages=int(messages.get(s.id, 0)),
                files=int(files.get(s.id, 0)),
                failure_reason=reason,
                failure_offset=offset,
            )
        )
    return out


def incomplete_overlapping(conn: Connection, source_id: int) -> list[tuple[int, str, int | None]]:
    """(id, reason, byte offset) of the *other* sources refused part-way that showed a
    chat ``source_id`` showed too."""
    chats = select(ChatSighting.chat_id).where(ChatSighting.source_id == source_id)
    rows = conn.execute(
        select(Source.id, Source.stats_json)
        .where(
            Source.status == "failed",
            Source.id != source_id,
            Source.id.in_(select(ChatSighting.source_id).where(ChatSighting.chat_id.in_(chats))),
        )
        .order_by(Source.id)
    ).all()
    out = []
    for sid, stats in rows:
        reason, offset = _failure(stats)
        out.append((int(sid), reason or "reason not recorded", offset))
    return out
