"""What the exchange page and ``haechi exchange list`` show about past sync runs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from haechi.app import App
from haechi.store.tables.exchange import ExchangeSubscription, ExchangeSync


def recent_syncs(app: App, limit: int = 20) -> list[dict[str, Any]]:
    """The newest sync runs, with the subscription's name."""
    with app.db.connect() as conn:
        rows = conn.execute(
            select(ExchangeSync, ExchangeSubscription.name)
            .join(ExchangeSubscription, ExchangeSubscription.id == ExchangeSync.subscription_id)
            .order_by(ExchangeSync.id.desc())
            .limit(max(1, min(limit, 500)))
        ).all()
    return [
        {"subscription": r.name, "started_at": r.started_at, "finished_at": r.finished_at,
         "pages": r.pages, "added": r.added, "withdrawn": r.withdrawn, "matches": r.matches,
         "error": r.error}
        for r in rows
    ]  # fmt: skip
