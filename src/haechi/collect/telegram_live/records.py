"""What live capture writes besides messages: targets' state, "gone at T" records, the
names peers were seen with, the service's pulse. Every change a court may ask about
(gone, renamed, joined) is a signed custody event in the transaction that records it.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from haechi import __version__
from haechi.app import App
from haechi.collect.telegram_live import events as ev
from haechi.collect.telegram_live.segment import CaptureContext
from haechi.collect.telegram_live.targets import TargetState
from haechi.store.custody import Draft
from haechi.store.models import Chat, Message
from haechi.store.tables.live import LiveGone, LiveName, LiveService, LiveTarget
from haechi.store.textsafe import dumps, searchable

_CHUNK = 900


def now() -> int:
    return int(time.time())


def set_state(
    app: App,
    target_id: int,
    state: str,
    reason: str | None = None,
    *,
    error: bool = False,
    wait_until: int | None = None,
    **values: Any,
) -> None:
    """A target's state and the sentence that explains it (also counted as an error)."""
    stamp = now()
    vals: dict[str, Any] = {
        "state": state,
        "state_reason": reason,
        "updated_at": stamp,
        "wait_until": wait_until,
        **values,
    }
    if error:
        vals.update(errors=LiveTarget.errors + 1, last_error=reason, last_error_at=stamp)
    with app.db.begin() as conn:
        conn.execute(update(LiveTarget).where(LiveTarget.id == target_id).values(**vals))


@dataclass(frozen=True)
class Resolved:
    peer_kind: str
    tg_id: int
    access_hash: int | None
    username: str | None
    title: str | None


def save_resolved(app: App, ctx: CaptureContext, target_id: int, r: Resolved) -> str | None:
    """Store what a target resolved to; a changed public name or title is a signed
    ``live_renamed`` event. Returns the old username when it changed."""
    stamp = now()
    with app.db.begin() as conn:
        row = conn.execute(
            select(LiveTarget.ref, LiveTarget.username, LiveTarget.title, LiveTarget.tg_id).where(
                LiveTarget.id == target_id
            )
        ).first()
        if row is None:
            return None
        old_user, old_title = row[1], row[2]
        changed = row[3] is not None and (
            (old_user or None) != (r.username or None) or (old_title or None) != (r.title or None)
        )
        conn.execute(
            update(LiveTarget)
            .where(LiveTarget.id == target_id)
            .values(
                peer_kind=r.peer_kind,
                tg_id=r.tg_id,
                access_hash=r.access_hash,
                username=r.username,
                title=searchable(r.title),
                updated_at=stamp,
            )
        )
        note_name(conn, r.peer_kind, r.tg_id, r.username, r.title, stamp)
        if changed:
            app.custody.append_many(
                conn,
                [
                    Draft(
                        ev.RENAMED,
                        f"live_target:{target_id}",
                        {
                            "target_id": target_id,
                            "ref": row[0],
                            "peer": f"{r.peer_kind}:{r.tg_id}",
                            "username_before": old_user,
                            "username_after": r.username,
                            "title_before": old_title,
                            "title_after": searchable(r.title),
                            **ctx.describe(),
                        },
                    )
                ],
            )
        return old_user if changed and old_user != r.username else None


def note_name(
    conn: Connection, kind: str, tg_id: int, username: str | None, title: str | None, at: int
) -> None:
    """Record that a peer was seen with this name and title (first and last time)."""
    user, name = (username or "")[:64], searchable(title or "") or ""
    found = conn.execute(
        select(LiveName.id).where(
            LiveName.peer_kind == kind,
            LiveName.tg_id == tg_id,
            LiveName.username == user,
            LiveName.title == name,
        )
    ).first()
    if found is None:
        conn.execute(
            insert(LiveName).values(
                peer_kind=kind, tg_id=tg_id, username=user, title=name, first_seen=at, last_seen=at
            )
        )
    else:
        conn.execute(update(LiveName).where(LiveName.id == found[0]).values(last_seen=at))


def name_history(app: App, kind: str, tg_id: int) -> list[dict[str, Any]]:
    with app.db.connect() as conn:
        return [
            {"username": u or None, "title": t or None, "first_seen": a, "last_seen": b}
            for u, t, a, b in conn.execute(
                select(LiveName.username, LiveName.title, LiveName.first_seen, LiveName.last_seen)
                .where(LiveName.peer_kind == kind, LiveName.tg_id == tg_id)
                .order_by(LiveName.first_seen, LiveName.id)
            )
        ]


def record_gone(
    app: App,
    ctx: CaptureContext,
    *,
    target_id: int | None,
    chat_key: str | None,
    message_ids: list[int] | None,
    reason: str,
    detected_by: str,
    detail: dict[str, Any] | None = None,
) -> int | None:
    """Record that messages (``message_ids``) or, with None, a whole room vanished at the
    source, now. Idempotent: what is already recorded as gone is not recorded again.
    Returns the custody sequence number, or None when there was nothing new."""
    stamp = now()
    with app.db.begin() as conn:
        chat_id = (
            conn.execute(select(Chat.id).where(Chat.key == chat_key)).scalar() if chat_key else None
        )
        pks: dict[int, int] = {}
        if message_ids is None:
            if target_id is not None:
                state = conn.execute(
                    select(LiveTarget.state).where(LiveTarget.id == target_id)
                ).scalar()
                if state == TargetState.GONE:
                    return None
            fresh: list[int | None] = [None]
        else:
            wanted = sorted(set(message_ids))
            done: set[int] = set()
            if chat_id is not None:
                for i in range(0, len(wanted), _CHUNK):
                    part = wanted[i : i + _CHUNK]
                    done.update(
                        int(m or 0)
                        for m in conn.execute(
                            select(LiveGone.message_id).where(
                                LiveGone.chat_id == chat_id, LiveGone.message_id.in_(part)
                            )
                        ).scalars()
                    )
                    for pk, mid in conn.execute(
                        select(Message.id, Message.message_id).where(
                            Message.chat_id == chat_id, Message.message_id.in_(part)
                        )
                    ):
                        pks[int(mid)] = int(pk)
            fresh = [m for m in wanted if m not in done]
            if not fresh:
                return None
        data = {
            "target_id": target_id,
            "chat": chat_key,
            "message_ids": [m for m in fresh if m is not None][:1000] or None,
            "message_pks": [pks[m] for m in fresh if m is not None and m in pks][:1000] or None,
            "not_stored": [m for m in fresh if m is not None and m not in pks][:1000] or None,
            "room": message_ids is None,
            "reason": reason,
            "detected_by": detected_by,
            "gone_at": stamp,
            **ctx.describe(),
            **(detail or {}),
        }
        subject = f"chat:{chat_id}" if chat_id is not None else f"live_target:{target_id}"
        seq = app.custody.append_many(conn, [Draft(ev.GONE, subject, data)])[0]
        conn.execute(
            insert(LiveGone),
            [
                {
                    "target_id": target_id,
                    "chat_id": chat_id,
                    "message_id": m,
                    "message_pk": pks.get(m) if m is not None else None,
                    "at": stamp,
                    "reason": reason[:32],
                    "detail_json": dumps({"detected_by": detected_by, **(detail or {})}),
                    "custody_seq": seq,
                }
                for m in fresh
            ],
        )
        if target_id is not None:
            values: dict[str, Any] = {"updated_at": stamp}
            if message_ids is not None:
                values["gone_messages"] = LiveTarget.gone_messages + len(fresh)
            conn.execute(update(LiveTarget).where(LiveTarget.id == target_id).values(**values))
        return seq


def record_back(app: App, ctx: CaptureContext, target_id: int, ref: str) -> None:
    """A room recorded as gone answers again (unbanned, made public again)."""
    with app.db.begin() as conn:
        app.custody.append_many(
            conn,
            [
                Draft(
                    ev.BACK,
                    f"live_target:{target_id}",
                    {"target_id": target_id, "ref": ref, "at": now(), **ctx.describe()},
                )
            ],
        )


def record_joined(app: App, ctx: CaptureContext, target_id: int, ref: str, peer: str) -> None:
    with app.db.begin() as conn:
        app.custody.append_many(
            conn,
            [
                Draft(
                    ev.JOINED,
                    f"live_target:{target_id}",
                    {"target_id": target_id, "ref": ref, "peer": peer, **ctx.describe()},
                )
            ],
        )


def close_interrupted(app: App) -> int:
    """Segments a killed service left half-stored (their source opened, their messages not
    written): recorded as failed, with the reason. Their messages are read again from
    Telegram, so nothing is missing; the record says why this source holds none. Only one
    service runs per data directory, so at its start any open segment is such a one."""
    from haechi.store import custody
    from haechi.store.models import Source

    with app.db.begin() as conn:
        open_ids = (
            conn.execute(
                select(Source.id).where(
                    Source.kind == "telegram_live",
                    Source.layout == "live_segment",
                    Source.status == "started",
                )
            )
            .scalars()
            .all()
        )
        for source_id in open_ids:
            app.custody.append_many(
                conn,
                [
                    Draft(
                        custody.INGEST_FAILED,
                        f"source:{source_id}",
                        {
                            "source_id": source_id,
                            "reason": "interrupted: the watch service stopped before this "
                            "segment's messages were stored; they were read again from Telegram",
                        },
                    )
                ],
            )
            conn.execute(update(Source).where(Source.id == source_id).values(status="failed"))
    return len(open_ids)


def heartbeat(
    app: App,
    ctx: CaptureContext | None,
    *,
    started: int,
    stopped: bool = False,
    note: str | None = None,
) -> None:
    stamp = now()
    values = {
        "pid": os.getpid(),
        "host": app.settings.host[:255],
        "account_tg_id": ctx.account_id if ctx else None,
        "version": __version__,
        "started_at": started,
        "heartbeat_at": stamp,
        "stopped_at": stamp if stopped else None,
        "note": note,
    }
    with app.db.begin() as conn:
        found = conn.execute(select(LiveService.name).where(LiveService.name == "watch")).first()
        if found is None:
            conn.execute(insert(LiveService).values(name="watch", **values))
        else:
            conn.execute(update(LiveService).where(LiveService.name == "watch").values(**values))
