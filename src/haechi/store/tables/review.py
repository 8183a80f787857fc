"""Tables of the review capability: what people decided about what triage and matching
raised (a file's category, a bank match confirmed or dismissed) and the tags they put on
files, messages and chats.

Design notes:
- A decision is never overwritten: a new one is a new row and the one it replaces loses
  its ``current`` mark, so "who said what, when" stays readable without the custody log.
  The custody event of a decision (``review_decision``) names the file it concerns, so it
  appears in that file's (and its messages') custody trail.
- Targets are strings (``file:<sha256>``, ``match:<id>``, ``message:<pk>``, ``chat:<id>``),
  as case items reference other capabilities' rows: review works whether or not the
  matching capability is installed, and its branch depends on the foundation only.
- Times are ISO 8601 UTC strings with the epoch seconds beside them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from haechi.store.models import Base, SignalRow


class ReviewDecision(Base):
    """One decision: a category of a group (``content``, ``victim``, ...) for a file, or a
    bank match confirmed or dismissed (group ``match``)."""

    __tablename__ = "review_decisions"
    __table_args__ = (
        Index("ix_review_decisions_target", "target", "grp", "current"),
        Index("ix_review_decisions_value", "grp", "value", "current"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target: Mapped[str] = mapped_column(String(96))  # file:<sha256> / match:<id>
    grp: Mapped[str] = mapped_column(String(32))  # category group, or "match"
    value: Mapped[str] = mapped_column(String(48))  # category id, confirmed / dismissed
    blob_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"), index=True)
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    decided_by: Mapped[str] = mapped_column(String(128))
    decided_at: Mapped[str] = mapped_column(String(40))
    decided_unix: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)
    custody_seq: Mapped[int | None] = mapped_column(BigInteger)


class ReviewTag(Base):
    """A word a reviewer put on a file, message or chat (a working aid, not evidence)."""

    __tablename__ = "review_tags"
    __table_args__ = (
        UniqueConstraint("target", "tag", name="uq_review_tags_target_tag"),
        Index("ix_review_tags_tag", "tag"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target: Mapped[str] = mapped_column(String(96))  # file:<sha256> / message:<pk> / chat:<id>
    tag: Mapped[str] = mapped_column(String(64))
    added_by: Mapped[str] = mapped_column(String(128))
    added_at: Mapped[str] = mapped_column(String(40))


# The triage queue pages through nudity scores, highest first (keyset on score and file):
# an index of the foundation's signals table, created by this capability's migration.
Index("ix_signals_kind_score", SignalRow.kind, SignalRow.score, SignalRow.blob_sha256)
