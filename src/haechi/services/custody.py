"""The custody log as people read it: the trail of one message (the capture of the export
it came from, the capture and analysis of each of its files, every access to them, and what
was recorded about its chat: a room or this message gone at the source) and the log
itself, newest first, for auditors.

Only the events are read here, never a message's text or a file: auditors hold
``custody.read`` and not ``archive.read``, and the custody page must not become a way
round that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy import Connection, select, text

from haechi.app import App
from haechi.auth.errors import NotFound
from haechi.auth.types import Actor
from haechi.i18n import t_
from haechi.services.common import bound
from haechi.store.tables.web import AuditEntry

MAX_EVENTS = 200
MAX_SUBJECTS = 100  # a message with more files shows the trail of its first hundred
PAGE = 100
# A message's trail skips its chat's events about other messages (a busy room's deletions);
# at most this many rows are read past them for one page.
MAX_SCANNED = 10_000


@dataclass(frozen=True)
class CustodyView:
    seq: int
    at: str
    event_type: str
    subject: str | None
    actor: str
    summary: dict[str, Any]
    hash: str


def _event(row: Any, body: dict[str, Any] | None = None) -> CustodyView:
    """What a page shows comes from the signed body alone: the plain columns (``at``,
    ``event_type``, ``subject``) only select rows, and ``haechi verify`` names any column
    that disagrees with its body, so an edited column can hide a row from a filter until
    the next verify but can never make a page show an altered time, type or subject."""
    body = json.loads(row.body) if body is None else body
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


Keep = Callable[[dict[str, Any]], bool]


def trail_in(conn: Connection, subjects: list[str], keep: Keep | None = None) -> list[CustodyView]:
    """Events about any of ``subjects`` (file hashes, ``source:N``) that ``keep`` keeps,
    oldest first."""
    subjects = _distinct(subjects)
    if not subjects:
        return []
    marks, params = bound(subjects)
    cond = f"WHERE subject IN ({marks}) "
    return _events(conn, cond, {**params, "limit": MAX_EVENTS}, "", keep)[0]


def message_trail_in(conn: Connection, message_pk: int) -> list[CustodyView]:
    """A message's trail, oldest first: :func:`message_subjects_in`, with its chat's events
    about other messages left out."""
    scope = _scope(conn, message_pk)
    return trail_in(conn, scope.subjects, scope.concerns)


def _events(
    conn: Connection, cond: str, params: dict[str, Any], order: str, keep: Keep | None = None
) -> tuple[list[CustodyView], int | None]:
    """Events that meet ``cond`` (our own SQL with bound parameters) and ``keep`` (read from
    the signed body), by sequence number (``order``: "" oldest first, "DESC" newest first),
    at most ``params["limit"]``; and, when :data:`MAX_SCANNED` rows were read before that
    many were kept, the sequence number to read on from."""
    limit = int(params["limit"])
    out: list[CustodyView] = []
    cursor, scanned = None, 0
    while True:
        more = ""
        if cursor is not None:  # keyset: on past what was read (cond ends in a space)
            more = f"{'AND' if cond else 'WHERE'} seq {'<' if order else '>'} :cursor "
        rows = conn.execute(
            text(
                "SELECT seq, body FROM custody_events "  # noqa: S608 - placeholders and our own names only
                f"{cond}{more}ORDER BY seq {order} LIMIT :limit"
            ),
            {**params, "cursor": cursor},
        ).all()
        for row in rows:
            body = json.loads(row.body)
            if keep is None or keep(body):
                out.append(_event(row, body))
                if len(out) == limit:
                    return out, None
        scanned += len(rows)
        if keep is None or len(rows) < limit:
            return out, None
        cursor = int(rows[-1].seq)
        if scanned >= MAX_SCANNED:
            return out, cursor


@dataclass(frozen=True)
class _Scope:
    """What a message's trail is about, and how to tell its chat's events about it."""

    pk: int
    message_id: int
    chat: str
    subjects: list[str]

    def concerns(self, body: dict[str, Any]) -> bool:
        """Every event about the message's source or files, and the chat's events about
        the whole chat (a room gone) or naming this message (deleted at the source)."""
        if body.get("subject") != self.chat:
            return True
        data = body.get("data") or {}
        pks, ids = data.get("message_pks"), data.get("message_ids")
        if not isinstance(pks, list) and not isinstance(ids, list):
            return True
        return (isinstance(pks, list) and self.pk in pks) or (
            isinstance(ids, list) and self.message_id in ids
        )


def _scope(conn: Connection, message_pk: int) -> _Scope:
    row = conn.execute(
        text(
            "SELECT m.source_id, m.chat_id, m.message_id, s.root_sha256 FROM messages m "
            "JOIN sources s ON s.id = m.source_id WHERE m.id = :pk"
        ),
        {"pk": message_pk},
    ).first()
    if row is None:
        raise NotFound(t_("There is no such message."))
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
    # The chat first, so that a message with more than MAX_SUBJECTS files keeps it.
    chat = f"chat:{row.chat_id}"  # the subject of live capture's live_gone events
    return _Scope(message_pk, int(row.message_id), chat, [chat, *subjects, *map(str, files)])


def message_subjects_in(conn: Connection, message_pk: int) -> list[str]:
    """What a message's custody trail is about: its chat (``chat:<id>``: a room or
    messages gone at the source), its source (and the export's root hash) and the files it
    carried. Reads ids and hashes only, never the text."""
    return _scope(conn, message_pk).subjects


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
    keep: Keep | None = None
    with app.db.connect() as conn:
        if message_pk is not None:
            scope = _scope(conn, message_pk)
            marks, subjects = bound(_distinct(scope.subjects))
            params.update(subjects)
            where.append(f"subject IN ({marks})")
            keep = scope.concerns
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
        found, resume = _events(conn, cond, params, "DESC", keep)
    events = found[:limit]
    if len(found) > limit and events:
        return LogPage(events, events[-1].seq)
    return LogPage(events, resume)


# -- the log and its key, for an offline check (haechi custody export / public-key) -----------
@dataclass(frozen=True)
class LogExport:
    """What an export of the whole custody log wrote, as its own ``export`` event records it."""

    data: dict[str, Any]  # what, file, path, sha256, bytes, events, head_seq, head_hash
    custody_seq: int | None  # the export's own event (the next export holds it)


def export_log(app: App, out: IO[bytes], actor: Actor, *, file: str, path: str | None) -> LogExport:
    """Write the whole custody log as JSON Lines to ``out`` (binary: the digest is of the
    exact bytes written), then record the export on the audit trail under ``actor``'s name
    with its signed ``export`` custody event: the file's SHA-256, its size, its name and
    where it went (``path``: a file on the server, or None for a download), and the last
    event it holds, so the next export shows this one. The command line and the custody
    page both call this."""
    from haechi.auth import audit
    from haechi.store.custody import export_line, iter_db_events

    count, last, digest, size = 0, None, hashlib.sha256(), 0
    with app.db.connect() as conn:
        for ev in iter_db_events(conn):
            line = (export_line(ev) + "\n").encode("utf-8")
            out.write(line)
            digest.update(line)
            size += len(line)
            count, last = count + 1, ev
    out.flush()
    data: dict[str, Any] = {
        "what": "custody_log",
        "file": file,
        "path": path,
        "sha256": digest.hexdigest(),
        "bytes": size,
        "events": count,
        "head_seq": _seq(last.body) if last else None,
        "head_hash": last.hash if last else None,
    }
    entry = audit.record(app, actor, audit.EXPORT, f"file:{data['sha256']}", data)
    with app.db.connect() as conn:
        seq = conn.execute(select(AuditEntry.custody_seq).where(AuditEntry.id == entry)).scalar()
    return LogExport(data, None if seq is None else int(seq))


def _seq(body: str) -> object:
    """The sequence number in an event body; None if the body is damaged (the log is still
    exported whole: `haechi verify --log` names the damage)."""
    try:
        return json.loads(body).get("seq")
    except (ValueError, AttributeError):
        return None


def public_key_pem(app: App) -> bytes:
    """The custody signing public key (PEM), which checks the log and every package."""
    from haechi.store.keys import public_pem

    return public_pem(app.signer.public)
