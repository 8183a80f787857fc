"""The audit trail: every reveal of an original, every search, every face search, every
export, and account events (logins, lock-outs, changes to users).

Reveals and exports touch evidence, so they also append a signed custody event (``access``
or ``export``) in the same transaction; the audit row keeps its sequence number. Auditors
read the trail through :func:`entries`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select

from haechi.app import App
from haechi.auth import audit_chain
from haechi.auth.db import write
from haechi.auth.types import Actor
from haechi.store.custody import CustodyContext, CustodyLog, Draft
from haechi.store.tables.web import AuditEntry

if TYPE_CHECKING:
    from haechi.subjects.model import SearchResult

# Custody event type of a person looking at an original (foundation's list names it).
ACCESS = "access"

REVEAL = "reveal"
SEARCH = "search"
FACE_SEARCH = "face_search"
EXPORT = "export"
LOGIN = "login"
LOGIN_FAILED = "login_failed"
LOCKOUT = "lockout"
LOGOUT = "logout"
USER_CHANGE = "user_change"
TOKEN_CHANGE = "token_change"  # noqa: S105 - not a secret
BREAK = "break"
# Actions whose audit rows are backed by a custody event.
CUSTODY_ACTIONS = {REVEAL: ACCESS, EXPORT: "export"}
ACTIONS = (
    REVEAL,
    SEARCH,
    FACE_SEARCH,
    EXPORT,
    LOGIN,
    LOGIN_FAILED,
    LOCKOUT,
    LOGOUT,
    USER_CHANGE,
    TOKEN_CHANGE,
    BREAK,
)
MAX_DETAIL = 4000  # characters of JSON detail kept per entry


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: int
    at_iso: str
    username: str
    role: str | None
    action: str
    subject: str | None
    detail: dict[str, Any]
    ip: str | None
    via: str
    custody_seq: int | None
    seq: int | None = None  # place in the signed chain (None: written before it existed)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _detail_json(detail: dict[str, Any] | None) -> str | None:
    if not detail:
        return None
    text = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
    if len(text) > MAX_DETAIL:
        text = json.dumps({"truncated": text[:MAX_DETAIL]}, ensure_ascii=False)
    return text


def record_in(
    app: App,
    conn: Connection,
    actor: Actor,
    action: str,
    subject: str | None = None,
    detail: dict[str, Any] | None = None,
) -> int:
    """Write one entry inside the caller's transaction (with its custody event when the
    action touches evidence; the caller must then hold ``app.db.begin()``). The entry is
    the next link of the signed audit chain (:mod:`haechi.auth.audit_chain`)."""
    audit_chain.lock(conn)
    last, prev = audit_chain.head(conn)
    seq = last + 1
    custody_seq = None
    event_type = CUSTODY_ACTIONS.get(action)
    if event_type is not None:
        log = CustodyLog(
            app.signer, CustodyContext(actor=actor.custody_name, host=app.settings.host)
        )
        data = {
            "action": action,
            "via": actor.via,
            "role": actor.role,
            **(detail or {}),
            "audit_seq": seq,
        }
        custody_seq = log.append_many(conn, [Draft(event_type, subject, data)])[0]
    t = time.time()
    fields = {
        "at_unix": int(t),
        "at": _iso(t),
        "user_id": actor.user_id,
        "username": actor.username[:64],
        "role": actor.role,
        "action": action,
        "subject": (subject or None) and subject[:255],
        "detail": _detail_json(detail),
        "ip": (actor.ip or None) and actor.ip[:64],
        "via": actor.via,
        "custody_seq": custody_seq,
    }
    sealed = audit_chain.seal(app.signer, seq, prev, fields, audit_chain.custody_head(conn))
    result = conn.execute(
        insert(AuditEntry).values(
            at=fields["at_unix"],
            at_iso=fields["at"],
            user_id=fields["user_id"],
            username=fields["username"],
            role=fields["role"],
            action=action,
            subject=fields["subject"],
            detail_json=fields["detail"],
            ip=fields["ip"],
            via=actor.via,
            custody_seq=custody_seq,
            seq=sealed.seq,
            body=sealed.body,
            prev_hash=sealed.prev_hash,
            hash=sealed.hash,
            signature=sealed.signature,
            key_id=sealed.key_id,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def record(
    app: App,
    actor: Actor,
    action: str,
    subject: str | None = None,
    detail: dict[str, Any] | None = None,
) -> int:
    with write(app, chain=action in CUSTODY_ACTIONS) as conn:
        return record_in(app, conn, actor, action, subject, detail)


def record_face_search(
    app: App,
    actor: Actor,
    target: str,
    *,
    reason: str,
    exhaustive: bool,
    result: SearchResult | None,
    refused: str | None = None,
    **extra: Any,
) -> int:
    """One face search on the trail, whichever surface ran it (web page, shell), refused
    ones included; the search itself is in the face-search log and its custody event."""
    detail: dict[str, Any] = {**extra, "reason": reason.strip()[:200], "exhaustive": exhaustive}
    if result is not None:
        detail.update(images=len(result.hits), faces_custody_seq=result.custody_seq)
    else:
        detail["refused"] = refused
    return record(app, actor, FACE_SEARCH, target, detail)


def entries(
    app: App,
    *,
    action: str | None = None,
    username: str | None = None,
    subject: str | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[AuditRecord]:
    """Newest first, keyset-paged by ``before_id``."""
    t = AuditEntry.__table__
    q = select(t).order_by(t.c.id.desc()).limit(max(1, min(limit, 500)))
    if action:
        q = q.where(AuditEntry.action == action)
    if username:
        q = q.where(AuditEntry.username == username)
    if subject:
        q = q.where(AuditEntry.subject == subject)
    if before_id:
        q = q.where(AuditEntry.id < before_id)
    with app.db.connect() as conn:
        rows = conn.execute(q).all()
    return [_to_record(r) for r in rows]


def _to_record(row: Any) -> AuditRecord:
    """What an auditor reads comes from the signed body; the plain columns only select
    rows (``haechi verify`` names any column that disagrees with its body). Entries
    written before the trail was chained have no body and are shown from their columns."""
    values = dict(row._mapping)
    if row.body:
        try:
            body = json.loads(row.body)
            values.update({column: body[name] for column, name in audit_chain.COLUMNS})
        except (ValueError, KeyError, TypeError):
            pass  # unreadable: shown from the columns; verify names it
    return AuditRecord(
        id=values["id"],
        at=values["at"],
        at_iso=values["at_iso"],
        username=values["username"],
        role=values["role"],
        action=values["action"],
        subject=values["subject"],
        detail=json.loads(values["detail_json"]) if values["detail_json"] else {},
        ip=values["ip"],
        via=values["via"],
        custody_seq=values["custody_seq"],
        seq=values.get("seq"),
    )
