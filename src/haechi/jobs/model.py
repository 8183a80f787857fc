"""Background jobs: what a job is, what a kind of job declares, what a run sees.

Plain dataclasses, no database (``store`` reads and writes the rows).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from haechi.app import App
from haechi.auth.roles import Perm
from haechi.auth.types import Actor
from haechi.domain import UsageError


class JobError(UsageError):
    """A job that cannot be submitted or read as asked (one sentence says why)."""


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


FINISHED = (JobState.DONE, JobState.FAILED)


@dataclass(frozen=True)
class JobInfo:
    id: int
    kind: str
    params: dict[str, Any]
    subject: str | None
    state: str
    progress: float  # 0..1
    note: str | None
    user_id: int | None
    username: str
    created_at: int
    started_at: int | None
    finished_at: int | None
    heartbeat_at: int | None
    result_name: str | None
    result_sha256: str | None
    result_size: int | None
    result: dict[str, Any]
    expires_at: int | None
    error: str | None
    has_file: bool

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    @property
    def percent(self) -> int:
        return 100 if self.state == JobState.DONE else round(self.progress * 100)


@dataclass(frozen=True)
class JobOutput:
    """What a run hands back: a file to offer for download (written in the run's folder)
    and a small summary shown on the job's page."""

    path: Path | None = None
    name: str | None = None  # the download's file name (default: the file's own)
    summary: dict[str, Any] = field(default_factory=dict)


Progress = Callable[[float, str | None], None]


@dataclass(frozen=True)
class JobContext:
    app: App  # acting as the person who asked (custody events carry their name)
    actor: Actor
    job_id: int
    params: dict[str, Any]
    folder: Path  # private (0700) folder for the result; removed when the job fails
    progress: Progress  # progress(fraction 0..1, what it is doing now); cheap to call often


@dataclass(frozen=True)
class JobKind:
    """A kind of job. ``check`` validates the parameters at submission (raise a
    ``UsageError`` with a sentence) and returns them cleaned plus the subject the job
    concerns (``case:12``); ``run`` does the work in the job's own process."""

    name: str
    perm: Perm  # who may submit it and download its result
    title_key: str  # catalogue key of its name in the pages
    check: Callable[[App, dict[str, Any]], tuple[dict[str, Any], str | None]]
    run: Callable[[JobContext], JobOutput]
    time_limit: float = 2 * 3600.0  # seconds before the runner stops it
    # A short job someone waits for on its page (an enrolment): one may run beside the
    # others even when the runner is full, so it never waits behind an hour-long package.
    quick: bool = False
