"""Jobs in the database: submit, read, claim, report progress, finish, fail, reap.

Every transition is a conditional UPDATE (``WHERE state = ... AND runner = ...``), so two
runners (several server workers, several hosts) never run one job twice, and a run that was
given up on (its heartbeat stopped) cannot finish it afterwards.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from haechi.app import App
from haechi.auth.db import write
from haechi.auth.roles import can
from haechi.auth.types import Actor
from haechi.i18n import t_
from haechi.jobs.kinds import kind_of
from haechi.jobs.model import JobError, JobInfo, JobState
from haechi.store.tables.jobs import Job

MAX_PARAMS = 16_000  # characters of JSON parameters
MAX_NOTE = 200
# A running job whose heartbeat is older than this is taken to be dead (its process was
# killed, or the server stopped): the runner marks it failed with a sentence.
STALE_SECONDS = 90
INTERRUPTED = (
    "The job stopped because the server or its process stopped while it ran; start it again."
)


def now() -> int:
    return int(time.time())


def runner_name() -> str:
    """This process, as runners name themselves in ``jobs.runner``."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}"


def submit(
    app: App,
    kind: str,
    params: dict[str, Any],
    actor: Actor,
    *,
    idem_key: str | None = None,
) -> int:
    """Queue a job; returns its id. The same ``idem_key`` from the same person returns the
    job it first queued (a double submit queues nothing twice). Raises :class:`JobError`
    (or the kind's own ``UsageError``) with a sentence for what cannot be run."""
    spec = kind_of(kind)
    if actor.role is not None and not can(actor.role, spec.perm):
        raise JobError(t_("Your role may not run {kind} jobs.", kind=kind))
    if idem_key is not None and not 8 <= len(idem_key) <= 64:
        raise JobError(t_("The form's key is malformed: reload the page."))
    if idem_key is not None and (found := find_by_key(app, actor.user_id, idem_key)) is not None:
        return found
    cleaned, subject = spec.check(app, dict(params))
    text = json.dumps(cleaned, ensure_ascii=False, sort_keys=True)
    if len(text) > MAX_PARAMS:
        raise JobError(t_("The job's parameters are too long."))
    row = {
        "kind": kind,
        "params_json": text,
        "subject": subject[:64] if subject else None,
        "state": JobState.QUEUED.value,
        "progress": 0.0,
        "user_id": actor.user_id,
        "username": actor.username[:64],
        "actor_json": json.dumps(asdict(actor)),
        "idem_key": idem_key,
        "created_at": now(),
        "result_encrypted": False,
    }
    try:
        with write(app) as conn:
            job_id = int(conn.execute(insert(Job).values(**row).returning(Job.id)).scalar_one())
    except IntegrityError:
        # The same key submitted at the same moment: the other request queued it.
        found = find_by_key(app, actor.user_id, idem_key or "")
        if found is None:
            raise
        return found
    from haechi.jobs.runner import wake

    wake()
    return job_id


def find_by_key(app: App, user_id: int | None, key: str) -> int | None:
    """The job this person queued with this form key, if any."""
    stmt = select(Job.id).where(Job.idem_key == key)
    stmt = stmt.where(Job.user_id.is_(None) if user_id is None else Job.user_id == user_id)
    with app.db.connect() as conn:
        found = conn.execute(stmt).scalar()
    return int(found) if found is not None else None


def _info(row: Any) -> JobInfo:
    return JobInfo(
        id=row.id,
        kind=row.kind,
        params=json.loads(row.params_json),
        subject=row.subject,
        state=row.state,
        progress=float(row.progress or 0.0),
        note=row.note,
        user_id=row.user_id,
        username=row.username,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        heartbeat_at=row.heartbeat_at,
        result_name=row.result_name,
        result_sha256=row.result_sha256,
        result_size=row.result_size,
        result=json.loads(row.result_json) if row.result_json else {},
        expires_at=row.expires_at,
        error=row.error,
        has_file=row.result_file is not None,
    )


def get(app: App, job_id: int) -> JobInfo:
    with app.db.connect() as conn:
        row = conn.execute(select(Job).where(Job.id == job_id)).first()
    if row is None:
        raise JobError(t_("There is no job {job_id}.", job_id=job_id))
    return _info(row)


def actor_of(app: App, job_id: int) -> Actor:
    with app.db.connect() as conn:
        raw = conn.execute(select(Job.actor_json).where(Job.id == job_id)).scalar()
    if raw is None:
        raise JobError(t_("There is no job {job_id}.", job_id=job_id))
    return Actor(**json.loads(raw))


def result_file(app: App, job_id: int) -> tuple[str | None, bool]:
    """The stored name of a job's result under ``HOME/jobs`` and whether it is sealed."""
    with app.db.connect() as conn:
        row = conn.execute(
            select(Job.result_file, Job.result_encrypted).where(Job.id == job_id)
        ).first()
    if row is None:
        raise JobError(t_("There is no job {job_id}.", job_id=job_id))
    return row[0], bool(row[1])


def jobs(
    app: App,
    *,
    subject: str | None = None,
    user_id: int | None = None,
    kinds: Sequence[str] | None = None,
    limit: int = 50,
) -> list[JobInfo]:
    """Newest first."""
    stmt = select(Job).order_by(Job.id.desc()).limit(max(1, min(limit, 500)))
    if subject is not None:
        stmt = stmt.where(Job.subject == subject)
    if kinds is not None:
        stmt = stmt.where(Job.kind.in_(list(kinds)))
    if user_id is not None:
        stmt = stmt.where(Job.user_id == user_id)
    with app.db.connect() as conn:
        return [_info(r) for r in conn.execute(stmt).all()]


# -- the runner's side -------------------------------------------------------------------
def queued_ids(app: App, limit: int = 10) -> list[int]:
    with app.db.connect() as conn:
        return list(
            conn.execute(
                select(Job.id)
                .where(Job.state == JobState.QUEUED.value)
                .order_by(Job.id)
                .limit(limit)
            ).scalars()
        )


def claim(app: App, job_id: int, runner: str) -> bool:
    """Take a queued job for ``runner``; False when another runner took it first."""
    t = now()
    with write(app) as conn:
        done = conn.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == JobState.QUEUED.value)
            .values(
                state=JobState.RUNNING.value,
                runner=runner[:128],
                started_at=t,
                heartbeat_at=t,
                note=None,
            )
        ).rowcount
    return bool(done)


def beat(app: App, job_id: int, runner: str) -> bool:
    """Keep a running job alive; False when it is no longer this runner's."""
    with write(app) as conn:
        done = conn.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == JobState.RUNNING.value, Job.runner == runner)
            .values(heartbeat_at=now())
        ).rowcount
    return bool(done)


def set_progress(app: App, job_id: int, runner: str, fraction: float, note: str | None) -> bool:
    fraction = min(1.0, max(0.0, float(fraction)))
    with write(app) as conn:
        done = conn.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == JobState.RUNNING.value, Job.runner == runner)
            .values(progress=fraction, note=(note or None) and note[:MAX_NOTE], heartbeat_at=now())
        ).rowcount
    return bool(done)


def finish(
    app: App,
    job_id: int,
    runner: str,
    *,
    summary: dict[str, Any],
    file: tuple[str, str, str, int, bool] | None = None,
    expires_at: int | None = None,
) -> bool:
    """Mark done. ``file`` = (stored name, download name, SHA-256, size, sealed)."""
    values: dict[str, Any] = {
        "state": JobState.DONE.value,
        "progress": 1.0,
        "note": None,
        "finished_at": now(),
        "result_json": json.dumps(summary, ensure_ascii=False, sort_keys=True, default=str),
    }
    if file is not None:
        stored, name, sha, size, sealed = file
        values.update(
            result_file=stored,
            result_name=name[:255],
            result_sha256=sha,
            result_size=size,
            result_encrypted=sealed,
            expires_at=expires_at,
        )
    with write(app) as conn:
        done = conn.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == JobState.RUNNING.value, Job.runner == runner)
            .values(**values)
        ).rowcount
    return bool(done)


def fail(app: App, job_id: int, sentence: str, *, runner: str | None = None) -> bool:
    """Mark a queued or running job failed with one sentence (``runner``: only if it is
    still that runner's)."""
    stmt = update(Job).where(
        Job.id == job_id, Job.state.in_([JobState.QUEUED.value, JobState.RUNNING.value])
    )
    if runner is not None:
        stmt = stmt.where(Job.runner == runner)
    with write(app) as conn:
        done = conn.execute(
            stmt.values(
                state=JobState.FAILED.value, finished_at=now(), error=one_sentence(sentence)
            )
        ).rowcount
    return bool(done)


def one_sentence(text: str) -> str:
    """The first line of ``text``, bounded, ending with a full stop."""
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else "The job failed."
    line = line[:300].rstrip()
    return line if line.endswith((".", "!", "?", "。")) else line + "."


def stale(app: App, *, older_than: int = STALE_SECONDS) -> list[tuple[int, str | None]]:
    """Running jobs whose heartbeat stopped: (id, runner)."""
    with app.db.connect() as conn:
        return [
            (int(i), r)
            for i, r in conn.execute(
                select(Job.id, Job.runner).where(
                    Job.state == JobState.RUNNING.value,
                    Job.heartbeat_at < now() - older_than,
                )
            ).all()
        ]


def running_on(app: App, host_prefix: str) -> list[tuple[int, str]]:
    """Running jobs claimed by runners on this host (``host:``): (id, runner)."""
    with app.db.connect() as conn:
        return [
            (int(i), str(r))
            for i, r in conn.execute(
                select(Job.id, Job.runner).where(
                    Job.state == JobState.RUNNING.value, Job.runner.like(f"{host_prefix}%")
                )
            ).all()
        ]


def expired(app: App) -> list[tuple[int, str]]:
    """Finished jobs whose result file's time is up: (id, stored name)."""
    with app.db.connect() as conn:
        return [
            (int(i), str(f))
            for i, f in conn.execute(
                select(Job.id, Job.result_file).where(
                    Job.result_file.is_not(None), Job.expires_at < now()
                )
            ).all()
        ]


def forget_file(app: App, job_id: int) -> None:
    with write(app) as conn:
        conn.execute(update(Job).where(Job.id == job_id).values(result_file=None))
