"""SQLAlchemy 2 table definitions (the schema Alembic migrates).

Design notes:
- Telegram ids are BigInteger and kept as given, with the peer kind beside them; the raw
  string from the source is kept too, so nothing is "normalised away".
- Times are UTC epoch seconds (BigInteger) next to the source's own string. Integers sort
  and compare identically on SQLite and PostgreSQL and cost nothing to bind in bulk.
- ``messages.raw`` is the message's JSON text exactly as it stands in the source file, with
  ``raw_offset`` its byte offset: the captured ``result.json`` (hashed in the vault) proves
  every message byte for byte. A text no column can hold (a NUL byte or invalid UTF-8 in the
  JSON itself) is kept in :mod:`haechi.store.textsafe`'s reversible escaped form;
  ``textsafe.raw_bytes(raw)`` gives the file's bytes back in every case.
- JSON columns are TEXT holding JSON: portable, and the evidence is a text artefact anyway.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Source(Base):
    """One thing we collected from: an export folder, a live channel, a bot."""

    __tablename__ = "sources"
    __table_args__ = (UniqueConstraint("kind", "root_sha256", name="uq_sources_kind_root"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    uri: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(Text)
    layout: Mapped[str | None] = mapped_column(String(32))
    root_sha256: Mapped[str | None] = mapped_column(String(64))
    collector: Mapped[str] = mapped_column(String(64))
    collector_version: Mapped[str] = mapped_column(String(32))
    operator: Mapped[str] = mapped_column(String(128))
    host: Mapped[str] = mapped_column(String(255))
    assume_timezone: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # started / finished / failed
    started_at: Mapped[str] = mapped_column(String(40))  # ISO 8601 UTC
    finished_at: Mapped[str | None] = mapped_column(String(40))
    stats_json: Mapped[str | None] = mapped_column(Text)
    sections_json: Mapped[str | None] = mapped_column(Text)


class Blob(Base):
    """A file in the vault, identified by the SHA-256 of its plaintext."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    md5: Mapped[str] = mapped_column(String(32), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    encrypted: Mapped[bool] = mapped_column(Boolean, default=False)
    stored_at: Mapped[str] = mapped_column(String(40))
    # Sniffed from the content by the analysis runner (never from the name): MediaKind.
    kind: Mapped[str | None] = mapped_column(String(16), index=True)
    mime: Mapped[str | None] = mapped_column(String(64))


class SourceFile(Base):
    """A file captured from a source at a given path (the capture record)."""

    __tablename__ = "source_files"
    __table_args__ = (UniqueConstraint("source_id", "path", name="uq_source_files_source_path"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="RESTRICT"))
    path: Mapped[str] = mapped_column(Text)  # inside the source, as the source names it
    role: Mapped[str] = mapped_column(String(32))  # export_json / media / unreferenced
    status: Mapped[str] = mapped_column(String(16))  # MediaStatus value
    blob_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"), index=True)
    size: Mapped[int | None] = mapped_column(BigInteger)
    captured_at: Mapped[str] = mapped_column(String(40))


class Chat(Base):
    __tablename__ = "chats"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    peer_kind: Mapped[str] = mapped_column(String(16))
    tg_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    tg_id_raw: Mapped[str | None] = mapped_column(String(64))
    dialog_type: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str | None] = mapped_column(Text)
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    first_source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    extra_json: Mapped[str | None] = mapped_column(Text)


class ChatSighting(Base):
    """Which source showed which chat, under which title, where in the source."""

    __tablename__ = "chat_sightings"
    __table_args__ = (
        UniqueConstraint("chat_id", "source_id", "location", name="uq_chat_sightings"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id"))
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    location: Mapped[str] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(Text)


class Account(Base):
    """A user, bot or chat seen as a sender, actor, inline bot or mention."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)  # user:123 / username:gif
    peer_kind: Mapped[str] = mapped_column(String(16))
    tg_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    display_name: Mapped[str | None] = mapped_column(Text)  # latest seen


class AccountName(Base):
    """Every display name an account was seen with (people rename to evade)."""

    __tablename__ = "account_names"
    __table_args__ = (UniqueConstraint("account_id", "name", name="uq_account_names"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    name: Mapped[str] = mapped_column(Text)
    first_source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("chat_id", "message_id", name="uq_messages_chat_msg"),
        Index("ix_messages_chat_date", "chat_id", "date_unix"),
        # A room's forward sources (the network map's node page) read only its forwarded
        # messages, from the index alone (migration 0020_forward_index).
        Index(
            "ix_messages_chat_forward",
            "chat_id",
            "forwarded_from",
            sqlite_where=text("forwarded_from IS NOT NULL"),
            postgresql_where=text("forwarded_from IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id"))
    message_id: Mapped[int] = mapped_column(BigInteger)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    kind: Mapped[str] = mapped_column(String(16))
    date_unix: Mapped[int | None] = mapped_column(BigInteger)
    date_raw: Mapped[str | None] = mapped_column(String(40))
    edited_unix: Mapped[int | None] = mapped_column(BigInteger)
    edited_raw: Mapped[str | None] = mapped_column(String(40))
    sender_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    sender_raw: Mapped[str | None] = mapped_column(String(64))
    sender_name: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    forwarded_from: Mapped[str | None] = mapped_column(Text)
    saved_from: Mapped[str | None] = mapped_column(Text)
    reply_to_message_id: Mapped[int | None] = mapped_column(BigInteger)
    reply_to_peer: Mapped[str | None] = mapped_column(String(64))
    via_bot: Mapped[str | None] = mapped_column(String(64))
    via_bot_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    text: Mapped[str] = mapped_column(Text, default="")
    entities_json: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str | None] = mapped_column(String(64))
    media_type: Mapped[str | None] = mapped_column(String(32))
    raw: Mapped[str] = mapped_column(Text)
    raw_offset: Mapped[int | None] = mapped_column(BigInteger)
    repaired_escapes: Mapped[int] = mapped_column(Integer, default=0)
    unknown_keys: Mapped[str | None] = mapped_column(Text)


class MessageVersion(Base):
    """A different raw text for a message already stored (a later export after an edit)."""

    __tablename__ = "message_versions"
    __table_args__ = (UniqueConstraint("message_pk", "raw_sha256", name="uq_message_versions"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"))
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    raw: Mapped[str] = mapped_column(Text)
    raw_sha256: Mapped[str] = mapped_column(String(64))
    raw_offset: Mapped[int | None] = mapped_column(BigInteger)


class Media(Base):
    """A file a message refers to, whether or not we have its bytes, as one source saw it.

    Keyed by source too: a later export of the same chat may carry a file that an earlier
    one only had as a placeholder, and both observations are evidence.
    """

    __tablename__ = "media"
    __table_args__ = (
        UniqueConstraint("message_pk", "role", "source_id", name="uq_media_message_role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"))
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    role: Mapped[str] = mapped_column(String(32))
    export_path: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    blob_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"), index=True)
    media_type: Mapped[str | None] = mapped_column(String(32))
    mime_type: Mapped[str | None] = mapped_column(String(128))
    file_name: Mapped[str | None] = mapped_column(Text)
    declared_size: Mapped[int | None] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)


class CustodyEvent(Base):
    """One link of the hash-chained, signed custody log. Rows are only ever inserted."""

    __tablename__ = "custody_events"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))
    event_type: Mapped[str] = mapped_column(String(32), index=True)
    subject: Mapped[str | None] = mapped_column(String(255), index=True)
    body: Mapped[str] = mapped_column(Text)  # the canonical JSON that was hashed and signed
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    signature: Mapped[str | None] = mapped_column(String(128))
    key_id: Mapped[str | None] = mapped_column(String(32))


class Analysis(Base):
    """One analyzer (at one version) run over one stored file. Rows are inserted; a row
    that recorded an error, a time-out or a crash takes the new outcome when
    ``haechi analyze --retry-errors`` runs the analyzer again (both outcomes stay in the
    custody log, the later event naming the earlier status in ``retry_of``).

    ``result_sha256`` is the SHA-256 of the canonical JSON of the signals, also written in
    the analysis custody event, so a stored result that was changed afterwards shows.
    """

    __tablename__ = "analyses"
    __table_args__ = (
        UniqueConstraint("blob_sha256", "analyzer", "version", name="uq_analyses_blob_analyzer"),
        Index("ix_analyses_analyzer_version", "analyzer", "version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    blob_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    analyzer: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # ok / error / timeout / crashed
    error: Mapped[str | None] = mapped_column(Text)
    warnings_json: Mapped[str | None] = mapped_column(Text)
    seconds: Mapped[float | None] = mapped_column(Float)
    settings_json: Mapped[str | None] = mapped_column(Text)
    result_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[str] = mapped_column(String(40))


class SignalRow(Base):
    """A finding of an analysis, searchable by ``(kind, value)``."""

    __tablename__ = "signals"
    __table_args__ = (Index("ix_signals_kind_value", "kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id"), index=True)
    blob_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str | None] = mapped_column(String(255))
    score: Mapped[float | None] = mapped_column(Float)
    data_json: Mapped[str | None] = mapped_column(Text)


class ArtifactRow(Base):
    """A derived file (safe preview, heat map) in the derived store, never evidence."""

    __tablename__ = "artifacts"
    __table_args__ = (Index("ix_artifacts_blob_name", "blob_sha256", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id"), index=True)
    blob_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    name: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    mime: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)


# Last, so that they find Base: the tables of later capabilities (hashing, faces, triage,
# text, cases, web) join the same metadata.
import haechi.store.tables  # noqa: E402, F401
