"""Tables of live capture (``haechi watch``): the watching account, its targets and their
state, what vanished at the source, names seen over time, bot profiles, the service's pulse.

Design notes:
- Messages and files captured live are ordinary ``messages``/``media``/``blobs`` rows written
  by the ingest service; nothing here duplicates them. These tables hold what an export
  never has: where each target stands, and what disappeared.
- Nothing is ever deleted: a message or room that vanishes at the source gets a ``live_gone``
  row (and a signed custody event) beside the evidence, which stays.
- Times are epoch seconds (UTC) so that lag and age are subtractions on both back ends.
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

from haechi.store.models import Base


class LiveAccount(Base):
    """A Telegram user account haechi logged in as (the session is sealed on disk, never
    here): who captured what."""

    __tablename__ = "live_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tg_id: Mapped[int] = mapped_column(BigInteger)
    username: Mapped[str | None] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(Text)
    session_id: Mapped[str] = mapped_column(String(32), unique=True)  # random, per login
    logged_in_at: Mapped[int] = mapped_column(BigInteger)
    logged_in_by: Mapped[str] = mapped_column(String(128))
    logged_out_at: Mapped[int | None] = mapped_column(BigInteger)


class LiveTarget(Base):
    """A room, channel or bot chat under watch, and where its capture stands."""

    __tablename__ = "live_targets"
    __table_args__ = (Index("ix_live_targets_peer", "peer_kind", "tg_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(255), unique=True)  # @name, +invite, c/<id>
    ref_kind: Mapped[str] = mapped_column(String(16))  # username / invite / channel_id
    join_allowed: Mapped[bool] = mapped_column(Boolean, default=False)  # --join was given
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16))  # TargetState
    state_reason: Mapped[str | None] = mapped_column(Text)  # a sentence for people
    chat_id: Mapped[int | None] = mapped_column(ForeignKey("chats.id"), index=True)
    peer_kind: Mapped[str | None] = mapped_column(String(16))
    tg_id: Mapped[int | None] = mapped_column(BigInteger)
    access_hash: Mapped[int | None] = mapped_column(BigInteger)  # this account's, per peer
    username: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(Text)
    backfill_done: Mapped[bool] = mapped_column(Boolean, default=False)
    last_message_id: Mapped[int | None] = mapped_column(BigInteger)
    last_message_at: Mapped[int | None] = mapped_column(BigInteger)  # the message's own date
    last_capture_at: Mapped[int | None] = mapped_column(BigInteger)  # when it was stored
    messages_captured: Mapped[int] = mapped_column(BigInteger, default=0)
    versions_captured: Mapped[int] = mapped_column(BigInteger, default=0)
    files_captured: Mapped[int] = mapped_column(BigInteger, default=0)
    gone_messages: Mapped[int] = mapped_column(BigInteger, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[int | None] = mapped_column(BigInteger)
    wait_until: Mapped[int | None] = mapped_column(BigInteger)  # flood wait / back-off
    added_at: Mapped[int] = mapped_column(BigInteger)
    added_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[int] = mapped_column(BigInteger)


class LiveGone(Base):
    """Something that disappeared at the source, and when: a message (deleted), or a whole
    room (private, banned, deleted, name released). The evidence itself stays."""

    __tablename__ = "live_gone"
    __table_args__ = (Index("ix_live_gone_chat_message", "chat_id", "message_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_id: Mapped[int | None] = mapped_column(ForeignKey("live_targets.id"), index=True)
    chat_id: Mapped[int | None] = mapped_column(ForeignKey("chats.id"))
    message_id: Mapped[int | None] = mapped_column(BigInteger)  # None: the room itself
    message_pk: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    at: Mapped[int] = mapped_column(BigInteger, index=True)  # when haechi learnt it (UTC)
    reason: Mapped[str] = mapped_column(String(32))  # deleted / channel_private / ...
    detail_json: Mapped[str | None] = mapped_column(Text)
    custody_seq: Mapped[int | None] = mapped_column(BigInteger)


class LiveName(Base):
    """A (username, title) a peer was seen with, first and last time: rooms and bots rename
    to evade, and the old names are what victims and reports quote."""

    __tablename__ = "live_names"
    __table_args__ = (
        UniqueConstraint("peer_kind", "tg_id", "username", "title", name="uq_live_names"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    peer_kind: Mapped[str] = mapped_column(String(16))
    tg_id: Mapped[int] = mapped_column(BigInteger, index=True)
    username: Mapped[str] = mapped_column(String(64), default="")  # "" when it had none
    title: Mapped[str] = mapped_column(Text, default="")
    first_seen: Mapped[int] = mapped_column(BigInteger)
    last_seen: Mapped[int] = mapped_column(BigInteger)


class LiveBotProfile(Base):
    """A bot's profile as captured (about, description, commands, usernames); the full
    profile JSON is a file in the vault, captured with its own custody event."""

    __tablename__ = "live_bot_profiles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tg_id: Mapped[int] = mapped_column(BigInteger, index=True)
    username: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(Text)
    about: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    commands_json: Mapped[str | None] = mapped_column(Text)
    blob_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"))
    captured_at: Mapped[int] = mapped_column(BigInteger)
    case_ref: Mapped[str | None] = mapped_column(String(64))


class LiveService(Base):
    """The running ``haechi watch run`` (one per data directory): its pulse, for the status
    page to tell "following" from "the service stopped"."""

    __tablename__ = "live_service"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)  # "watch"
    pid: Mapped[int] = mapped_column(Integer)
    host: Mapped[str] = mapped_column(String(255))
    account_tg_id: Mapped[int | None] = mapped_column(BigInteger)
    version: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[int] = mapped_column(BigInteger)
    heartbeat_at: Mapped[int] = mapped_column(BigInteger)
    stopped_at: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)
