"""Decisions: a file's triage category, a bank match confirmed or dismissed.

Each decision names who made it and when (``app.settings.operator``: the CLI's operator, or
the web user the page acts for, see :func:`haechi.cases.acting.acting_as`). A new decision
supersedes the current one of its group and keeps it on record. Deciding what is already
decided (same value, same note) adds nothing: a double submit records one decision.
Decisions that matter to a court (every match decision; categories marked ``custody``)
are a signed ``review_decision`` custody event about the file, in the same transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from haechi.app import App
from haechi.domain import UsageError
from haechi.i18n import t_
from haechi.review.categories import Category, load_categories
from haechi.store.custody import Draft
from haechi.store.models import Blob
from haechi.store.tables.review import ReviewDecision
from haechi.store.vault import is_sha256

REVIEW_DECISION = "review_decision"  # custody event type
MATCH = "match"  # the group of bank-match decisions
MATCH_VALUES = ("confirmed", "dismissed")
MAX_NOTE = 2000
CHUNK = 500


@dataclass(frozen=True)
class Decision:
    id: int
    target: str
    group: str
    value: str
    blob_sha256: str | None
    decided_by: str
    decided_at: str
    decided_unix: int
    note: str | None
    custody_seq: int | None
    current: bool = True
    created: bool = True  # False: the same decision was already current (nothing added)


def _row(r: Any, created: bool = True) -> Decision:
    return Decision(
        r.id, r.target, r.grp, r.value, r.blob_sha256, r.decided_by, r.decided_at,
        r.decided_unix, r.note, r.custody_seq, bool(r.current), created,
    )  # fmt: skip


def file_sha(value: str) -> str:
    sha = value.strip().lower()
    if not is_sha256(sha):
        raise UsageError(
            t_("{value!r} is not a SHA-256 (64 hexadecimal digits).", value=value[:80])
        )
    return sha


def check_note(note: str | None) -> str | None:
    text = (note or "").strip()
    if len(text) > MAX_NOTE:
        raise UsageError(t_("A note is at most {max_note:,} characters.", max_note=MAX_NOTE))
    return text or None


def record(
    app: App,
    conn: Connection,
    *,
    target: str,
    group: str,
    value: str,
    blob_sha256: str | None,
    note: str | None,
    custody: bool,
    detail: dict[str, object] | None = None,
) -> Decision:
    """Write one decision in the caller's transaction (see the module docstring)."""
    current = conn.execute(
        select(ReviewDecision)
        .where(ReviewDecision.target == target, ReviewDecision.grp == group)
        .where(ReviewDecision.current.is_(True))
        .order_by(ReviewDecision.id.desc())
        .limit(1)
    ).first()
    if current is not None and current.value == value and current.note == note:
        return _row(current, created=False)
    conn.execute(
        update(ReviewDecision)
        .where(ReviewDecision.target == target, ReviewDecision.grp == group)
        .where(ReviewDecision.current.is_(True))
        .values(current=False)
    )
    now = datetime.now(UTC)
    seq = None
    if custody:
        data: dict[str, object] = {
            "target": target,
            "group": group,
            "decision": value,
            "previous": current.value if current is not None else None,
            **(detail or {}),
        }
        if note:  # notes may name people: the log keeps their hash
            data["note_sha256"] = hashlib.sha256(note.encode("utf-8")).hexdigest()
        seq = app.custody.append_many(conn, [Draft(REVIEW_DECISION, blob_sha256, data)])[0]
    made = Decision(
        0, target, group, value, blob_sha256, app.settings.operator[:128],
        now.isoformat(timespec="seconds").replace("+00:00", "Z"), int(now.timestamp()), note,
        seq,
    )  # fmt: skip
    new_id = conn.execute(
        insert(ReviewDecision)
        .values(
            target=target,
            grp=group,
            value=value,
            blob_sha256=blob_sha256,
            current=True,
            decided_by=made.decided_by,
            decided_at=made.decided_at,
            decided_unix=made.decided_unix,
            note=note,
            custody_seq=seq,
        )
        .returning(ReviewDecision.id)
    ).scalar_one()
    return replace(made, id=int(new_id))


def categorise(app: App, sha256: str, category: str, *, note: str | None = None) -> Decision:
    """Set a file's category (of the category's group)."""
    cat: Category = load_categories(app.settings.home).get(category)
    sha = file_sha(sha256)
    text = check_note(note)
    with app.db.begin() as conn:
        if conn.execute(select(Blob.sha256).where(Blob.sha256 == sha)).first() is None:
            raise UsageError(t_("No stored file has the SHA-256 {sha}.", sha=sha))
        return record(
            app, conn, target=f"file:{sha}", group=cat.group, value=cat.id, blob_sha256=sha,
            note=text, custody=cat.custody,
        )  # fmt: skip


def current(app: App, targets: Sequence[str]) -> dict[str, dict[str, Decision]]:
    """``{target: {group: decision}}`` of the current decisions of these targets."""
    out: dict[str, dict[str, Decision]] = {}
    wanted = sorted(set(targets))
    if not wanted:
        return out
    with app.db.connect() as conn:
        for start in range(0, len(wanted), CHUNK):
            rows = conn.execute(
                select(ReviewDecision)
                .where(ReviewDecision.target.in_(wanted[start : start + CHUNK]))
                .where(ReviewDecision.current.is_(True))
                .order_by(ReviewDecision.id)
            ).all()
            for r in rows:  # newest last: it wins if two ever raced
                out.setdefault(r.target, {})[r.grp] = _row(r)
    return out


def history(app: App, target: str) -> list[Decision]:
    """Every decision about a target, oldest first."""
    with app.db.connect() as conn:
        rows = conn.execute(
            select(ReviewDecision)
            .where(ReviewDecision.target == target)
            .order_by(ReviewDecision.id)
        ).all()
    return [_row(r) for r in rows]


def files_with(app: App, group: str, value: str, *, limit: int | None = None) -> list[str]:
    """The files whose current decision of ``group`` is ``value`` (oldest decision first)."""
    q = (
        select(ReviewDecision.blob_sha256)
        .where(ReviewDecision.grp == group, ReviewDecision.value == value)
        .where(ReviewDecision.current.is_(True), ReviewDecision.blob_sha256.is_not(None))
        .order_by(ReviewDecision.id)
    )
    if limit is not None:
        q = q.limit(limit)
    with app.db.connect() as conn:
        return list(dict.fromkeys(str(s) for s in conn.execute(q).scalars()))
