"""Tables of background jobs and of form submissions done once (migration ``0014_jobs``,
branch ``jobs``).

A job's state lives here, not in the memory of the process that runs it: a page reload,
another server worker or a restarted server reads the same row. Times are epoch seconds
(UTC); the runner compares them with its own clock to find jobs whose process died.

``web_submissions`` makes a form's second submit a no-op: a form carries a random key, the
first request that presents it claims the row, a later one finds it and is shown the first
one's result. No foreign keys into the web branch's ``users`` (its own branch).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from haechi.store.models import Base


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("user_id", "idem_key", name="uq_jobs_idem"),
        Index("ix_jobs_state_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    params_json: Mapped[str] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(String(64), index=True)  # e.g. "case:12"
    state: Mapped[str] = mapped_column(String(16))  # queued / running / done / failed
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # 0..1
    note: Mapped[str | None] = mapped_column(String(200))  # what it is doing now
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    username: Mapped[str] = mapped_column(String(64))
    actor_json: Mapped[str] = mapped_column(Text)  # who asked (for the audit trail)
    idem_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)
    started_at: Mapped[int | None] = mapped_column(BigInteger)
    finished_at: Mapped[int | None] = mapped_column(BigInteger)
    heartbeat_at: Mapped[int | None] = mapped_column(BigInteger)
    runner: Mapped[str | None] = mapped_column(String(128))  # host:pid:nonce
    result_name: Mapped[str | None] = mapped_column(String(255))  # the download's file name
    result_file: Mapped[str | None] = mapped_column(String(255))  # under HOME/jobs/
    result_sha256: Mapped[str | None] = mapped_column(String(64))  # of the plaintext
    result_size: Mapped[int | None] = mapped_column(BigInteger)
    result_encrypted: Mapped[bool] = mapped_column(Boolean, default=False)
    result_json: Mapped[str | None] = mapped_column(Text)  # a summary (counts, ids)
    expires_at: Mapped[int | None] = mapped_column(BigInteger)  # the result file's end
    error: Mapped[str | None] = mapped_column(Text)  # one sentence


class Submission(Base):
    __tablename__ = "web_submissions"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_web_submissions"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    result: Mapped[str | None] = mapped_column(String(255))  # where the first one led
    created_at: Mapped[int] = mapped_column(BigInteger)
