"""Custody events of the cases capability.

Every change to a case is one signed event with subject ``case:<id>``, written in the same
transaction as the change. Sensitive values (victims' names and contacts, note texts) are
never written into an event: the event holds a *commitment* instead, the SHA-256 of the
canonical record plus a random nonce kept beside the row. Whoever holds the row can prove
it is the one the log recorded; nobody can recover a name from an exported log, not even by
trying candidate names (the nonce is 128 random bits).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from haechi.app import App
from haechi.i18n import t_
from haechi.store.custody import Draft, canonical

CASE_CREATED = "case_created"
CASE_UPDATED = "case_updated"  # status, assignment, tags, title
CASE_ITEM_ADDED = "case_item_added"
CASE_ITEM_WITHDRAWN = "case_item_withdrawn"
CASE_SUBJECT_ADDED = "case_subject_added"
CASE_SUBJECT_UPDATED = "case_subject_updated"
CONSENT_RECORDED = "consent_recorded"
CONSENT_WITHDRAWN = "consent_withdrawn"
SUSPECT_ADDED = "suspect_added"
SUSPECT_UPDATED = "suspect_updated"
CASE_NOTE_ADDED = "case_note_added"
NOTICE_DRAFTED = "notice_drafted"
NOTICE_STATUS = "notice_status"
WATCH_ADDED = "reupload_watch_added"
REUPLOAD_DETECTED = "reupload_detected"
EXPORT = "export"  # the foundation's type: packages, reports, notices written to files
ACCESS = "access"  # victim identifiers revealed in an export

CASE_EVENT_TYPES = (
    CASE_CREATED,
    CASE_UPDATED,
    CASE_ITEM_ADDED,
    CASE_ITEM_WITHDRAWN,
    CASE_SUBJECT_ADDED,
    CASE_SUBJECT_UPDATED,
    CONSENT_RECORDED,
    CONSENT_WITHDRAWN,
    SUSPECT_ADDED,
    SUSPECT_UPDATED,
    CASE_NOTE_ADDED,
    NOTICE_DRAFTED,
    NOTICE_STATUS,
    WATCH_ADDED,
    REUPLOAD_DETECTED,
    EXPORT,
    ACCESS,
)


def case_subject(case_id: int) -> str:
    return f"case:{case_id}"


def new_nonce() -> str:
    return secrets.token_hex(16)


def commitment(record: dict[str, Any], nonce: str) -> str:
    """SHA-256 over the canonical record and its nonce (see the module docstring)."""
    return hashlib.sha256(canonical({"nonce": nonce, "record": record})).hexdigest()


def record(app: App, conn: Connection, case_id: int, event_type: str, data: dict[str, Any]) -> int:
    """Append one case event inside the caller's transaction; returns its sequence number."""
    return app.custody.append_many(
        conn, [Draft(event_type, case_subject(case_id), {"case_id": case_id, **data})]
    )[0]


def export_drafts(
    case_id: int, data: dict[str, Any], *, revealed: list[str] | None = None
) -> list[Draft]:
    """The events of an export: ``access`` first when victims are named (``revealed``:
    their labels), then ``export`` with ``data`` (kind, hashes, name)."""
    subject = case_subject(case_id)
    drafts = []
    if revealed:
        what = f"victim identifiers revealed in an export ({data.get('kind', 'file')})"
        drafts.append(
            Draft(ACCESS, subject, {"case_id": case_id, "what": what, "victims": revealed})
        )
    drafts.append(Draft(EXPORT, subject, {"case_id": case_id, **data}))
    return drafts


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def iso_of(unix: int) -> str:
    return datetime.fromtimestamp(unix, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_when(value: str | None) -> tuple[str, int]:
    """An ISO 8601 time from a person (``2024-09-03T10:00+09:00``, ``2024-09-03``) as UTC.

    A time without a zone is refused: "10:00" in Seoul and in Paris are 8 hours apart and a
    time-to-removal measured across them would be wrong without anyone noticing.
    """
    from haechi.cases.model import CaseError

    if value is None:
        moment = datetime.now(UTC).replace(microsecond=0)
    else:
        text = value.strip().replace("Z", "+00:00")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise CaseError(
                t_(
                    "{value!r} is not a time: write it as ISO 8601, e.g. 2024-09-03T10:00+09:00.",
                    value=value,
                )
            ) from None
        if moment.tzinfo is None:
            if len(text) == 10:  # a bare date: midnight UTC of that day
                moment = moment.replace(tzinfo=UTC)
            else:
                raise CaseError(
                    t_(
                        "The time {value!r} has no time zone: add one, e.g. +09:00 for KST or Z.",
                        value=value,
                    )
                )
        moment = moment.astimezone(UTC)
    iso = moment.isoformat(timespec="seconds").replace("+00:00", "Z")
    return iso, int(moment.timestamp())
