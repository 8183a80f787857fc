"""Where live capture stands, for ``haechi watch status``, the web page and the API: one
row per target (state, last message, lag, last error) and the service's pulse."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select

from haechi.app import App
from haechi.store.tables.live import LiveAccount, LiveService, LiveTarget

STALE_SECONDS = 120  # a pulse older than this: the service is not running


@dataclass(frozen=True)
class TargetStatus:
    id: int
    ref: str
    url: str
    state: str
    reason: str | None
    paused: bool
    join: bool
    title: str | None
    username: str | None
    chat_id: int | None
    backfill_done: bool
    last_message_id: int | None
    last_message_at: int | None
    last_capture_at: int | None
    lag_seconds: int | None  # newest message's age when it was stored
    messages: int
    versions: int
    files: int
    gone_messages: int
    errors: int
    last_error: str | None
    last_error_at: int | None
    wait_until: int | None
    added_at: int
    added_by: str


@dataclass(frozen=True)
class ServiceStatus:
    running: bool
    pid: int | None
    host: str | None
    started_at: int | None
    heartbeat_at: int | None
    stopped_at: int | None
    note: str | None
    account: str | None  # @username (id) of the logged-in account


@dataclass(frozen=True)
class WatchStatus:
    service: ServiceStatus
    targets: list[TargetStatus]

    def as_dict(self) -> dict[str, Any]:
        return {"service": asdict(self.service), "targets": [asdict(t) for t in self.targets]}


def _url(ref: str) -> str:
    if ref.startswith("@"):
        return f"https://t.me/{ref[1:]}"
    if ref.startswith("+"):
        return f"https://t.me/{ref}"
    return f"https://t.me/{ref}"


def watch_status(app: App) -> WatchStatus:
    now = int(time.time())
    with app.db.connect() as conn:
        svc = conn.execute(select(LiveService).where(LiveService.name == "watch")).first()
        account = conn.execute(
            select(LiveAccount.tg_id, LiveAccount.username)
            .where(LiveAccount.logged_out_at.is_(None))
            .order_by(LiveAccount.id.desc())
            .limit(1)
        ).first()
        rows = conn.execute(select(LiveTarget).order_by(LiveTarget.id)).all()
    running = bool(
        svc is not None and svc.stopped_at is None and now - svc.heartbeat_at <= STALE_SECONDS
    )
    service = ServiceStatus(
        running=running,
        pid=svc.pid if svc else None,
        host=svc.host if svc else None,
        started_at=svc.started_at if svc else None,
        heartbeat_at=svc.heartbeat_at if svc else None,
        stopped_at=svc.stopped_at if svc else None,
        note=svc.note if svc else None,
        account=(f"@{account[1]} ({account[0]})" if account[1] else str(account[0]))
        if account
        else None,
    )
    targets = [
        TargetStatus(
            id=r.id,
            ref=r.ref,
            url=_url(r.ref),
            state=r.state,
            reason=r.state_reason,
            paused=bool(r.paused),
            join=bool(r.join_allowed),
            title=r.title,
            username=r.username,
            chat_id=r.chat_id,
            backfill_done=bool(r.backfill_done),
            last_message_id=r.last_message_id,
            last_message_at=r.last_message_at,
            last_capture_at=r.last_capture_at,
            lag_seconds=(r.last_capture_at - r.last_message_at)
            if r.last_capture_at is not None and r.last_message_at is not None
            else None,
            messages=int(r.messages_captured),
            versions=int(r.versions_captured),
            files=int(r.files_captured),
            gone_messages=int(r.gone_messages),
            errors=int(r.errors),
            last_error=r.last_error,
            last_error_at=r.last_error_at,
            wait_until=r.wait_until,
            added_at=r.added_at,
            added_by=r.added_by,
        )
        for r in rows
    ]
    return WatchStatus(service, targets)
