"""A notice's status, tracked until the content is gone.

Status moves forward only: drafted → sent → acknowledged → decided → removed →
re-uploaded (acknowledged and decided may be skipped: Telegram's automated address often
just removes). Each change carries the time it happened, which may be earlier than when it
is recorded, and may not be earlier than the step before it. Every change is a row of
``notice_transitions`` and a custody event, in one transaction.
"""

from __future__ import annotations

from sqlalchemy import Connection, insert, update

from haechi.app import App
from haechi.cases import events as ev
from haechi.cases.model import CaseError
from haechi.cases.notices.views import NoticeView, get_notice, notice_row
from haechi.cases.rows import Row
from haechi.i18n import t_
from haechi.store.tables.cases import Notice, NoticeTransition

STATUSES = ("drafted", "sent", "acknowledged", "decided", "removed", "reuploaded")
DECISIONS = ("removed", "rejected", "partial", "geo_blocked")
_TIME_COLUMN = {
    "sent": "sent_unix",
    "acknowledged": "acknowledged_unix",
    "decided": "decided_unix",
    "removed": "removed_unix",
    "reuploaded": "reuploaded_unix",
}


def mark(
    app: App,
    notice_id: int,
    status: str,
    *,
    at: str | None = None,
    note: str | None = None,
    decision: str | None = None,
    external_ref: str | None = None,
) -> NoticeView:
    """Record that a notice was sent, acknowledged, decided, acted on, or re-uploaded."""
    if status not in STATUSES[1:]:
        raise CaseError(
            t_(
                "A notice can be marked {statuses}, not {status!r}.",
                statuses=", ".join(STATUSES[1:]),
                status=status,
            )
        )
    if decision is not None and decision not in DECISIONS:
        raise CaseError(
            t_(
                "A decision is one of {decisions}, not {decision!r}.",
                decisions=", ".join(DECISIONS),
                decision=decision,
            )
        )
    when, unix = ev.parse_when(at)
    with app.db.begin() as conn:
        row = notice_row(conn, notice_id)
        apply_status(
            app,
            conn,
            row,
            status,
            when,
            unix,
            note=note,
            decision=decision,
            external_ref=external_ref,
        )
    if status == "removed":
        from haechi.cases.watch import after_removal

        after_removal(app, notice_id)  # near-duplicates, once the removal is committed
    return get_notice(app, notice_id)


def apply_status(
    app: App,
    conn: Connection,
    row: Row,
    status: str,
    when: str,
    unix: int,
    *,
    note: str | None = None,
    decision: str | None = None,
    external_ref: str | None = None,
) -> None:
    """The status change itself, inside the caller's transaction (also used by the watch)."""
    _check_order(row, status, unix)
    values: dict[str, object] = {"status": status, _TIME_COLUMN[status]: unix}
    if status == "decided":
        values["decision"] = decision or "removed"
    if status == "removed" and row.decision is None:
        values["decision"] = "removed"
    if external_ref:
        values["external_ref"] = external_ref
    conn.execute(update(Notice).where(Notice.id == row.id).values(**values))
    record_transition(conn, app, row.id, status, when, unix, note)
    ev.record(
        app,
        conn,
        row.case_id,
        ev.NOTICE_STATUS,
        {
            "notice_id": row.id,
            "from": row.status,
            "to": status,
            "at": when,
            "decision": values.get("decision"),
            "external_ref": external_ref,
        },
    )
    if status == "removed":
        from haechi.cases.watch import register_removed

        register_removed(app, conn, row.id)


def _check_order(row: Row, status: str, unix: int) -> None:
    current = STATUSES.index(row.status)
    wanted = STATUSES.index(status)
    if status == "reuploaded" and row.status != "removed":
        raise CaseError(
            t_(
                "Notice {id} is {status}: content is re-uploaded only after a removal.",
                id=row.id,
                status=row.status,
            )
        )
    if wanted <= current:
        raise CaseError(
            t_(
                "Notice {id} is already {status}; it cannot go back to {status2}.",
                id=row.id,
                status=row.status,
                status2=status,
            )
        )
    if status != "sent" and row.sent_unix is None:
        raise CaseError(t_("Notice {id} was never marked sent: mark it sent first.", id=row.id))
    earlier = [
        (name, getattr(row, col))
        for name, col in _TIME_COLUMN.items()
        if STATUSES.index(name) < wanted and getattr(row, col) is not None
    ]
    for name, value in earlier:
        if unix < value:
            raise CaseError(
                t_(
                    "Notice {id} cannot be {status} before it was {name}.",
                    id=row.id,
                    status=status,
                    name=name,
                )
            )


def record_transition(
    conn: Connection, app: App, notice_id: int, status: str, at: str, unix: int, note: str | None
) -> None:
    """The status history's row: what it became, when that happened, who recorded it when."""
    conn.execute(
        insert(NoticeTransition).values(
            notice_id=notice_id,
            status=status,
            at=at,
            at_unix=unix,
            recorded_at=ev.now_iso(),
            recorded_by=app.settings.operator,
            note=note,
        )
    )
