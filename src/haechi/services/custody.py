"""The custody log as people read it: the trail of one message (the capture of the export
it came from, the capture and analysis of each of its files, every access to them) and the
log itself, newest first, for auditors.

Only the events are read here, never a message's text or a file: auditors hold
``custody.read`` and not ``archive.read``, and the custody page must not become a way
round that.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from haechi.app import App
from haechi.auth.errors import NotFound
from haechi.services.common import bound

MAX_EVENTS = 200
MAX_SUBJECTS = 100  # a message with more files shows the trail of its first hundred
PAGE = 100


@dataclass(frozen=True)
class CustodyView:
    seq: int
    at: str
    event_type: str
    subject: str | None
    actor: str
    summary: dict[str, Any]
    hash: str


def _event(row: Any) -> CustodyView:
    """What a page shows comes from the signed body alone: the plain columns (``at``,
    ``event_type``, ``subject``) only select rows, and ``haechi verify`` names any column
    that disagrees with its body, so an edited column can hide a row from a filter until
    the next verify but can never make a page show an altered time, type or subject."""
    body = json.loads(row.body)
    data = body.get("data") or {}
    summary = {k: v for k, v in data.items() if isinstance(v, str | int | float | bool)}
    return CustodyView(
        seq=int(body.get("seq", row.seq)),
        at=str(body.get("at", "")),
        event_type=str(body.get("type", "")),
        subject=body.get("subject"),
        actor=str(body.get("actor", "")),
        summary=dict(list(summary.items())[:10]),
        hash=hashlib.sha256(row.body.encode()).hexdigest(),
    )


def _distinct(subjects: list[str]) -> list[str]:
    return [s for s in dict.fromkeys(subjects) if s][:MAX_SUBJECTS]


def trail_in(conn: Connection, subjects: list[str]) -> list[CustodyView]:
    """Events about any of ``subjects`` (file hashes, ``source:N``), oldest first."""
    subjects = _distinct(subjects)
    if not subjects:
        return []
    marks, params = bound(subjects)
    return _events(conn, f"WHERE subject IN ({marks}) ", {**params, "limit": MAX_EVENTS}, "")


def _events(conn: Connection, cond: str, params: dict[str, Any], order: str) -> list[CustodyView]:
    """Events that meet ``cond`` (our own SQL with bound parameters), by sequence number
    (``order``: "" oldest first, "DESC" newest first), at most ``params["limit"]``."""
    rows = conn.execute(
        text(
            "SELECT seq, body FROM custody_events "  # noqa: S608 - placeholders and our own names only
            f"{cond}ORDER BY seq {order} LIMIT :limit"
        ),
        params,
    ).all()
    return [_event(r) for r in rows]


def message_subjects_in(conn: Connection, message_pk: int) -> list[str]:
    """What a message's custody trail is about: its source (and the export's root hash)
    and the files it carried. Reads ids and hashes only, never the text."""
    row = conn.execute(
        text(
            "SELECT m.source_id, s.root_sha256 FROM messages m "
            "JOIN sources s ON s.id = m.source_id WHERE m.id = :pk"
        ),
        {"pk": message_pk},
    ).first()
    if row is None:
        raise NotFound("There is no such message.")
    subjects = [f"source:{row.source_id}"]
    if row.root_sha256:
        subjects.append(row.root_sha256)
    files = conn.execute(
        text(
            "SELECT blob_sha256 FROM media WHERE message_pk = :pk "
            "AND blob_sha256 IS NOT NULL ORDER BY id"
        ),
        {"pk": message_pk},
    ).scalars()
    return subjects + [str(s) for s in files]


@dataclass(frozen=True)
class LogPage:
    events: list[CustodyView]
    older: int | None  # seq to page back from


def log(
    app: App,
    *,
    subject: str | None = None,
    event_type: str | None = None,
    message_pk: int | None = None,
    before: int | None = None,
    limit: int = PAGE,
) -> LogPage:
    """The custody log, newest first, keyset-paged by sequence number. ``message_pk``
    selects a message's trail (as on its detail page), ``subject`` one subject exactly;
    both use the subject index."""
    limit = max(1, min(limit, MAX_EVENTS))
    params: dict[str, Any] = {"limit": limit + 1}
    where = []
    with app.db.connect() as conn:
        if message_pk is not None:
            marks, subjects = bound(_distinct(message_subjects_in(conn, message_pk)))
            params.update(subjects)
            where.append(f"subject IN ({marks})")
        if subject:
            where.append("subject = :subject")
            params["subject"] = subject.strip()[:255]
        if event_type:
            where.append("event_type = :etype")
            params["etype"] = event_type.strip()[:32]
        if before is not None:
            where.append("seq < :before")
            params["before"] = before
        cond = f"WHERE {' AND '.join(where)} " if where else ""
        found = _events(conn, cond, params, "DESC")
    events = found[:limit]
    return LogPage(events, events[-1].seq if len(found) > limit and events else None)
