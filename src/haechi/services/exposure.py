"""The exposure counter: how much material each person was shown today, and when to
suggest a break.

Safe previews count as *previews*, originals as *reveals*. A break prompt appears when,
since the last break (or the start of the day), a person has seen ``previews`` previews,
revealed ``reveals`` originals or worked ``minutes`` minutes. Taking a break is recorded
(and audited) and resets the "since break" counts; nothing is ever blocked.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from haechi.app import App
from haechi.auth.db import write
from haechi.store.tables.web import Exposure


@dataclass(frozen=True)
class Thresholds:
    previews: int = 150
    reveals: int = 15
    minutes: int = 50


@dataclass(frozen=True)
class Status:
    previews: int
    reveals: int
    previews_since_break: int
    reveals_since_break: int
    minutes_since_break: int
    breaks: int
    prompt: bool
    reason: str | None  # previews / reveals / minutes


def _day(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d")


def add_in(
    app: App, conn: Connection, user_id: int, *, previews: int = 0, reveals: int = 0
) -> None:
    if previews <= 0 and reveals <= 0:
        return
    t = int(time.time())
    ins = (sqlite.insert if app.db.is_sqlite else postgresql.insert)(Exposure).values(
        user_id=user_id,
        day=_day(t),
        previews=previews,
        reveals=reveals,
        previews_since_break=previews,
        reveals_since_break=reveals,
        started_at=t,
        breaks=0,
    )
    e = Exposure.__table__.c
    conn.execute(
        ins.on_conflict_do_update(
            index_elements=[e.user_id, e.day],
            set_={
                "previews": e.previews + previews,
                "reveals": e.reveals + reveals,
                "previews_since_break": e.previews_since_break + previews,
                "reveals_since_break": e.reveals_since_break + reveals,
            },
        )
    )


def add(app: App, user_id: int, *, previews: int = 0, reveals: int = 0) -> None:
    if previews > 0 or reveals > 0:
        with write(app) as conn:
            add_in(app, conn, user_id, previews=previews, reveals=reveals)


def take_break(app: App, user_id: int) -> None:
    t = int(time.time())
    e = Exposure.__table__.c
    with write(app) as conn:
        done = conn.execute(
            update(Exposure)
            .where(e.user_id == user_id, e.day == _day(t))
            .values(
                previews_since_break=0,
                reveals_since_break=0,
                last_break_at=t,
                breaks=e.breaks + 1,
            )
        ).rowcount
        if not done:
            conn.execute(
                (sqlite.insert if app.db.is_sqlite else postgresql.insert)(Exposure).values(
                    user_id=user_id,
                    day=_day(t),
                    previews=0,
                    reveals=0,
                    previews_since_break=0,
                    reveals_since_break=0,
                    started_at=t,
                    last_break_at=t,
                    breaks=1,
                )
            )


def status(app: App, user_id: int, limits: Thresholds | None = None) -> Status:
    limits = limits or Thresholds()
    t = int(time.time())
    e = Exposure.__table__.c
    with app.db.connect() as conn:
        row: Any = conn.execute(
            select(Exposure.__table__).where(e.user_id == user_id, e.day == _day(t))
        ).first()
    if row is None:
        return Status(0, 0, 0, 0, 0, 0, False, None)
    since = row.last_break_at or row.started_at
    minutes = max(0, (t - since) // 60)
    reason = None
    if row.reveals_since_break >= limits.reveals:
        reason = "reveals"
    elif row.previews_since_break >= limits.previews:
        reason = "previews"
    elif minutes >= limits.minutes and (row.previews_since_break or row.reveals_since_break):
        reason = "minutes"
    return Status(
        previews=row.previews,
        reveals=row.reveals,
        previews_since_break=row.previews_since_break,
        reveals_since_break=row.reveals_since_break,
        minutes_since_break=int(minutes),
        breaks=row.breaks,
        prompt=reason is not None,
        reason=reason,
    )
