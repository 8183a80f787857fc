"""Tables of text intelligence: which message was scanned at which lexicon/extractor version,
what was found (term, span, strength), the identifiers in it, and each room's risk score.

Rows are derived from the messages and can always be rebuilt; the message text itself
(the evidence) is never changed. ``version`` is ``<lexicon version+digest>/<extractor>``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from haechi.store.models import Base


class TextScan(Base):
    """One message scanned at one version (what makes the text analysis incremental)."""

    __tablename__ = "text_scans"
    __table_args__ = (
        UniqueConstraint("message_pk", "version", name="uq_text_scans_message_version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"))
    version: Mapped[str] = mapped_column(String(48))
    findings: Mapped[int] = mapped_column(Integer, default=0)
    entities: Mapped[int] = mapped_column(Integer, default=0)
    news_like: Mapped[bool] = mapped_column(Boolean, default=False)


class TextFinding(Base):
    """A lexicon term, context word or victim-identifying pattern found in a message."""

    __tablename__ = "text_findings"
    __table_args__ = (
        Index("ix_text_findings_chat_version", "chat_id", "version"),
        Index("ix_text_findings_term", "term_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id"))
    version: Mapped[str] = mapped_column(String(48))
    kind: Mapped[str] = mapped_column(String(16))  # term / context / pattern
    term_id: Mapped[str] = mapped_column(String(96))
    category: Mapped[str] = mapped_column(String(48))
    strength: Mapped[str | None] = mapped_column(String(16))
    points: Mapped[float] = mapped_column(Float)
    lang: Mapped[str | None] = mapped_column(String(8))
    span_start: Mapped[int] = mapped_column(Integer)  # in the message text (code points)
    span_end: Mapped[int] = mapped_column(Integer)
    matched: Mapped[str] = mapped_column(Text)
    news_like: Mapped[bool] = mapped_column(Boolean, default=False)


class TextEntity(Base):
    """An identifier in a message, normalised (``value``) and validated."""

    __tablename__ = "text_entities"
    __table_args__ = (
        Index("ix_text_entities_kind_value", "kind", "value"),
        Index("ix_text_entities_chat_version", "chat_id", "version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id"))
    version: Mapped[str] = mapped_column(String(48))
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(255))
    raw: Mapped[str] = mapped_column(Text)
    span_start: Mapped[int | None] = mapped_column(Integer)
    span_end: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16))
    valid: Mapped[bool] = mapped_column(Boolean, default=True)
    detail_json: Mapped[str | None] = mapped_column(Text)
    date_unix: Mapped[int | None] = mapped_column(BigInteger)  # the message's, for spread


class RoomScore(Base):
    """A room's risk score at one version, with the explanation that produced it."""

    __tablename__ = "room_scores"
    __table_args__ = (UniqueConstraint("chat_id", "version", name="uq_room_scores_chat_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id"))
    version: Mapped[str] = mapped_column(String(48))
    score: Mapped[float] = mapped_column(Float)
    level: Mapped[str] = mapped_column(String(16))
    points: Mapped[float] = mapped_column(Float)
    messages: Mapped[int] = mapped_column(Integer)
    flagged_messages: Mapped[int] = mapped_column(Integer)
    news_like_messages: Mapped[int] = mapped_column(Integer)
    discounted: Mapped[bool] = mapped_column(Boolean, default=False)
    explanation_json: Mapped[str] = mapped_column(Text)
    computed_at: Mapped[str] = mapped_column(String(40))
