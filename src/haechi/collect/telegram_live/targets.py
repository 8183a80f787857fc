"""Targets under watch: what an investigator may type, and the service that adds, pauses
and resumes them (the CLI, the web page and the API all call these functions).

A target is named the way people pass rooms around: ``@name``, ``t.me/name``,
``https://t.me/s/name``, an invite ``t.me/+hash`` / ``t.me/joinchat/hash``, or a private
channel's ``t.me/c/<id>`` (reachable only once this account has seen it). Joining a room is
never implied: only a target added with ``join`` may make this account join.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import func, insert, select, update

from haechi.app import App
from haechi.collect.telegram_live import events as ev
from haechi.collect.telegram_live.settings import parse_live_settings
from haechi.domain import UsageError
from haechi.i18n import t_
from haechi.store.custody import Draft
from haechi.store.tables.live import LiveTarget

_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")
_INVITE = re.compile(r"[A-Za-z0-9_-]{8,64}")
_HOSTS = {"t.me", "telegram.me", "www.t.me", "telegram.dog"}
MAX_REF = 300


class TargetState:
    PENDING = "pending"  # added, not reached yet
    BACKFILL = "backfill"  # reading history oldest -> newest
    FOLLOWING = "following"  # up to date, capturing new messages as they come
    WAITING = "waiting"  # flood control or network back-off; resumes by itself
    GONE = "gone"  # vanished at the source (recorded); evidence kept
    NEEDS_PERSON = "needs_person"  # an investigator must act (new invite, --join)
    PAUSED = "paused"


@dataclass(frozen=True)
class TargetRef:
    ref: str  # normalised: "@name", "+hash", "c/123"
    kind: str  # username / invite / channel_id
    value: str  # the name, the hash, the id

    @property
    def url(self) -> str:
        if self.kind == "username":
            return f"https://t.me/{self.value}"
        if self.kind == "invite":
            return f"https://t.me/+{self.value}"
        return f"https://t.me/c/{self.value}"


def parse_target(text: str) -> TargetRef:
    """A target as typed; refuses anything that is not a Telegram room reference."""
    value = text.strip()
    if not value or len(value) > MAX_REF or any(c.isspace() or ord(c) < 32 for c in value):
        raise UsageError(
            t_(
                "{text!r} is not a Telegram room: give @name, t.me/name or an invite.",
                text=text[:80],
            )
        )
    if value.startswith("@"):
        return _username(value[1:], text)
    if value.startswith("+"):
        return _invite(value[1:], text)
    if "://" not in value and value.split("/", 1)[0].lower() in _HOSTS:
        value = "https://" + value
    if "://" in value:
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or (parts.hostname or "").lower() not in _HOSTS:
            raise UsageError(t_("{text!r} is not a t.me link.", text=text[:80]))
        segments = [s for s in parts.path.split("/") if s]
        if segments and segments[0] == "s":  # the web preview t.me/s/name
            segments = segments[1:]
        if not segments:
            raise UsageError(t_("{text!r} names no room.", text=text[:80]))
        head = segments[0]
        if head.startswith("+"):
            return _invite(head[1:], text)
        if head == "joinchat" and len(segments) > 1:
            return _invite(segments[1], text)
        if head == "c" and len(segments) > 1 and segments[1].isdigit():
            return TargetRef(f"c/{int(segments[1])}", "channel_id", str(int(segments[1])))
        return _username(head, text)
    return _username(value, text)


def _username(name: str, text: str) -> TargetRef:
    if not _USERNAME.fullmatch(name):
        raise UsageError(
            t_(
                "{text!r} is not a valid Telegram username (5-32 letters, digits, _).",
                text=text[:80],
            )
        )
    return TargetRef(f"@{name.lower()}", "username", name)


def _invite(code: str, text: str) -> TargetRef:
    if not _INVITE.fullmatch(code):
        raise UsageError(t_("{text!r} is not a valid Telegram invite link.", text=text[:80]))
    return TargetRef(f"+{code}", "invite", code)


def now() -> int:
    return int(time.time())


def add_target(
    app: App, text: str, *, join: bool = False, actor: str | None = None
) -> tuple[int, bool]:
    """Add a target (or return the one already there). Returns (id, created). A signed
    ``live_target_added`` event names who asked for it, and whether joining is allowed."""
    ref = parse_target(text)
    settings = parse_live_settings(app.settings.live)
    who = actor or app.settings.operator
    with app.db.begin() as conn:
        found = conn.execute(
            select(LiveTarget.id, LiveTarget.join_allowed).where(LiveTarget.ref == ref.ref)
        ).first()
        if found is not None:
            if join and not found[1]:  # joining allowed now, explicitly: recorded as such
                conn.execute(
                    update(LiveTarget)
                    .where(LiveTarget.id == found[0])
                    .values(
                        join_allowed=True,
                        state=TargetState.PENDING,
                        state_reason=None,
                        updated_at=now(),
                    )
                )
                app.custody.append_many(
                    conn,
                    [
                        Draft(
                            ev.TARGET_ADDED,
                            f"live_target:{found[0]}",
                            {
                                "target_id": found[0],
                                "ref": ref.ref,
                                "url": ref.url,
                                "join": True,
                                "join_allowed_now": True,
                                "added_by": who,
                            },
                        )
                    ],
                )
            return int(found[0]), False
        count = conn.execute(select(func.count()).select_from(LiveTarget)).scalar_one()
        if count >= settings.max_targets:
            raise UsageError(
                t_(
                    "This data directory already watches {count} targets, the "
                    "limit set by live.max_targets; raise it in haechi.toml or "
                    "pause and remove one.",
                    count=count,
                )
            )
        stamp = now()
        target_id = conn.execute(
            insert(LiveTarget)
            .values(
                ref=ref.ref,
                ref_kind=ref.kind,
                join_allowed=join,
                paused=False,
                state=TargetState.PENDING,
                added_at=stamp,
                added_by=who,
                updated_at=stamp,
                messages_captured=0,
                versions_captured=0,
                files_captured=0,
                gone_messages=0,
                errors=0,
                backfill_done=False,
            )
            .returning(LiveTarget.id)
        ).scalar_one()
        app.custody.append_many(
            conn,
            [
                Draft(
                    ev.TARGET_ADDED,
                    f"live_target:{target_id}",
                    {
                        "target_id": target_id,
                        "ref": ref.ref,
                        "url": ref.url,
                        "join": join,
                        "added_by": who,
                    },
                )
            ],
        )
    return int(target_id), True


def set_paused(app: App, target: int | str, paused: bool, *, actor: str | None = None) -> None:
    """Pause (stop reading; nothing stored is touched) or resume a target."""
    who = actor or app.settings.operator
    with app.db.begin() as conn:
        row = _find(conn, target)
        conn.execute(
            update(LiveTarget)
            .where(LiveTarget.id == row.id)
            .values(
                paused=paused,
                state=TargetState.PAUSED if paused else TargetState.PENDING,
                state_reason=None,
                updated_at=now(),
            )
        )
        app.custody.append_many(
            conn,
            [
                Draft(
                    ev.TARGET_PAUSED if paused else ev.TARGET_RESUMED,
                    f"live_target:{row.id}",
                    {"target_id": row.id, "ref": row.ref, "by": who},
                )
            ],
        )


def _find(conn: object, target: int | str) -> LiveTarget:
    from sqlalchemy import Connection

    assert isinstance(conn, Connection)
    if isinstance(target, int) or str(target).isdigit():
        stmt = select(LiveTarget).where(LiveTarget.id == int(target))
    else:
        stmt = select(LiveTarget).where(LiveTarget.ref == parse_target(str(target)).ref)
    row = conn.execute(stmt).first()
    if row is None:
        raise UsageError(
            t_("No watched target {target!r}: `haechi watch status` lists them.", target=target)
        )
    return row  # type: ignore[return-value]
