"""Time to removal: per recipient, how many notices were sent and removed, and how long
removal took (measured from *sent* to *removed*), for ``haechi notice times`` and the
statistics."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from sqlalchemy import select

from haechi.app import App
from haechi.cases import visibility
from haechi.store.tables.cases import Notice


@dataclass(frozen=True)
class RecipientTiming:
    recipient: str
    notices: int
    sent: int
    removed: int
    median_hours: float | None
    min_hours: float | None
    max_hours: float | None


def removal_times(
    app: App, *, since_unix: int | None = None, until_unix: int | None = None
) -> list[RecipientTiming]:
    """Per recipient: how many notices, how many removed, and the median time sent→removed."""
    with app.db.connect() as conn:
        stmt = select(Notice.recipient, Notice.sent_unix, Notice.removed_unix)
        stmt = visibility.limit_to_cases(conn, stmt, Notice.case_id)
        if since_unix is not None:
            stmt = stmt.where(Notice.sent_unix >= since_unix)
        if until_unix is not None:
            stmt = stmt.where(Notice.sent_unix < until_unix)
        rows = conn.execute(stmt).all()
    grouped: dict[str, list[tuple[int | None, int | None]]] = {}
    for recipient, sent, removed in rows:
        grouped.setdefault(recipient, []).append((sent, removed))
    out = []
    for recipient in sorted(grouped):
        pairs = grouped[recipient]
        hours = [(r - s) / 3600 for s, r in pairs if s is not None and r is not None]
        out.append(
            RecipientTiming(
                recipient=recipient,
                notices=len(pairs),
                sent=sum(1 for s, _ in pairs if s is not None),
                removed=len(hours),
                median_hours=round(statistics.median(hours), 2) if hours else None,
                min_hours=round(min(hours), 2) if hours else None,
                max_hours=round(max(hours), 2) if hours else None,
            )
        )
    return out
