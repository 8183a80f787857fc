"""Form submissions done once: a form carries a random key; the first request with it
claims the key and does the work, a second (a double click, a resent form after a
reload) finds the key and is led to what the first one produced.

The key is claimed before the work starts, in its own transaction, so two requests at the
same moment cannot both do it. If the work fails, the key is released: the person can
correct the form and send it again. Keys are per person (another person's key means
nothing) and forgotten after ``KEEP_DAYS``.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from haechi.app import App
from haechi.auth.db import write
from haechi.i18n import t_
from haechi.jobs.model import JobError
from haechi.store.tables.jobs import Submission

KEEP_DAYS = 30
_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_key() -> str:
    return secrets.token_urlsafe(18)


def check_key(key: str | None) -> str:
    if not key or not _KEY.fullmatch(key):
        raise JobError(
            t_("This form is out of date or incomplete: reload the page and send it again.")
        )
    return key


@dataclass(frozen=True)
class Claim:
    fresh: bool  # this request does the work
    result: str | None  # what an earlier request with the key produced (None: still working)


def claim(app: App, user_id: int, key: str, action: str) -> Claim:
    key = check_key(key)
    try:
        with write(app) as conn:
            conn.execute(
                insert(Submission).values(
                    user_id=user_id, key=key, action=action[:64], created_at=int(time.time())
                )
            )
        return Claim(True, None)
    except IntegrityError:
        with app.db.connect() as conn:
            result = conn.execute(
                select(Submission.result).where(
                    Submission.user_id == user_id, Submission.key == key
                )
            ).scalar()
        return Claim(False, result)


def done(app: App, user_id: int, key: str, result: str) -> None:
    with write(app) as conn:
        done_in(conn, user_id, key, result)


def done_in(conn: Connection, user_id: int, key: str, result: str) -> None:
    """``done`` inside the caller's transaction (with the action's audit entry, say)."""
    conn.execute(
        update(Submission)
        .where(Submission.user_id == user_id, Submission.key == key)
        .values(result=result[:255])
    )


def release(app: App, user_id: int, key: str) -> None:
    with write(app) as conn:
        conn.execute(delete(Submission).where(Submission.user_id == user_id, Submission.key == key))


def forget_old(app: App, days: int = KEEP_DAYS) -> int:
    with write(app) as conn:
        return int(
            conn.execute(
                delete(Submission).where(Submission.created_at < int(time.time()) - days * 86400)
            ).rowcount
            or 0
        )
