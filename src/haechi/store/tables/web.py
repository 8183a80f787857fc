"""Tables of the web application: accounts, sessions, API tokens, the audit trail, exposure,
cached chat statistics and the PostgreSQL full-text documents.

Secrets are never stored: passwords as argon2 hashes, session ids and API tokens as their
SHA-256 (a stolen database does not let anyone log in). Times are UTC epoch seconds.

The SQLite full-text index is an FTS5 virtual table, which SQLAlchemy cannot describe; it
lives in its own file (``HOME/indexes/search.sqlite``) attached to each connection under the
schema name ``search`` (see ``haechi.services.search_index``), so it is not part of this
metadata and never appears in the schema comparison. On PostgreSQL the same index is the
``message_search`` table below (a ``tsvector`` column with a GIN index); on SQLite that table
exists too but stays empty.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from haechi.store.models import Base

# tsvector on PostgreSQL; plain text elsewhere (unused there: SQLite has FTS5).
TSV = Text().with_variant(postgresql.TSVECTOR(), "postgresql")


class WebUser(Base):
    __tablename__ = "web_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)
    password_changed_at: Mapped[int] = mapped_column(BigInteger)
    last_login_at: Mapped[int | None] = mapped_column(BigInteger)
    # Set by a password someone else chose (``haechi user reset-password``): every page
    # asks for a new one until the user has set it.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # An administrator's reset: the SHA-256 of a one-time code the user redeems to set a
    # new password (the administrator never learns or sets the password), and its expiry.
    reset_code_hash: Mapped[str | None] = mapped_column(String(64))
    reset_expires_at: Mapped[int | None] = mapped_column(BigInteger)
    # The unit the person works in (NULL: the default, unnamed unit) and whether they may
    # see every unit's cases (migration 0018_units; haechi.cases.visibility).
    unit: Mapped[str | None] = mapped_column(String(64), index=True)
    all_units: Mapped[bool] = mapped_column(Boolean, default=False)


class GrantRequest(Base):
    """A change only a second administrator may make: giving an account a role that can
    reveal originals or search victims' faces, or resetting the password of such an
    account. The requester can never approve their own request."""

    __tablename__ = "web_grant_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # role / reset
    username: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[int | None] = mapped_column(BigInteger)


class WebSession(Base):
    """A browser session; ``id_hash`` is the SHA-256 of the cookie value."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("web_users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)
    last_seen_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))


class ApiToken(Base):
    """A bearer token for scripts; ``token_hash`` is the SHA-256 of the secret."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("web_users.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int | None] = mapped_column(BigInteger)
    last_used_at: Mapped[int | None] = mapped_column(BigInteger)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class LoginFailure(Base):
    """One failed login, for rate limiting by address and lock-out by account."""

    __tablename__ = "web_login_failures"
    __table_args__ = (Index("ix_web_login_failures_ip_at", "ip", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[int] = mapped_column(BigInteger, index=True)
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))


class AuditEntry(Base):
    """Who did what to which evidence: reveals, searches, face searches, exports, logins.

    The trail is a chain of its own, like the custody log: ``body`` is the canonical JSON
    that was hashed (``hash``) and signed, holding ``seq``, the previous entry's hash and
    every column below, which only serve indexes and filters (``haechi verify`` checks
    each against the body; pages show the body). Reveals and exports also append a signed
    ``access``/``export`` custody event naming this entry's ``seq``, whose sequence number
    is kept here: each log vouches for the other.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_action_at", "action", "at"),
        Index("ix_audit_log_user_at", "user_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[int] = mapped_column(BigInteger, index=True)
    at_iso: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("web_users.id"))
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str | None] = mapped_column(String(255), index=True)
    detail_json: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(64))
    via: Mapped[str] = mapped_column(String(16))  # web / api / cli
    custody_seq: Mapped[int | None] = mapped_column(BigInteger)
    # The chain (NULL on entries written before it existed, migration 0011).
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True, index=True)
    body: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
    signature: Mapped[str | None] = mapped_column(String(128))
    key_id: Mapped[str | None] = mapped_column(String(32))


class Exposure(Base):
    """Per user and UTC day: how much material they were shown, for break prompts."""

    __tablename__ = "web_exposure"

    user_id: Mapped[int] = mapped_column(ForeignKey("web_users.id"), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD (UTC)
    previews: Mapped[int] = mapped_column(Integer, default=0)
    reveals: Mapped[int] = mapped_column(Integer, default=0)
    previews_since_break: Mapped[int] = mapped_column(Integer, default=0)
    reveals_since_break: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[int] = mapped_column(BigInteger)
    last_break_at: Mapped[int | None] = mapped_column(BigInteger)
    breaks: Mapped[int] = mapped_column(Integer, default=0)


class ChatStats(Base):
    """Counts per chat, refreshed after each ingest (a GROUP BY over millions of messages
    on every page view would be too slow)."""

    __tablename__ = "web_chat_stats"

    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id"), primary_key=True)
    messages: Mapped[int] = mapped_column(BigInteger, default=0)
    media: Mapped[int] = mapped_column(BigInteger, default=0)
    first_unix: Mapped[int | None] = mapped_column(BigInteger)
    last_unix: Mapped[int | None] = mapped_column(BigInteger)
    senders: Mapped[int] = mapped_column(Integer, default=0)


class MessageSearch(Base):
    """PostgreSQL full-text document of one message (``haechi.services.search_terms``):
    its words, Korean bigrams and facets, and ``doc``, the date-ordered document id that
    makes "newest first" an index walk (migration 0018_units)."""

    __tablename__ = "message_search"
    __table_args__ = (
        Index("ix_message_search_tsv", "tsv", postgresql_using="gin"),
        Index("ix_message_search_doc", "doc"),
    )

    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), primary_key=True)
    doc: Mapped[int] = mapped_column(BigInteger)
    tsv: Mapped[Any] = mapped_column(TSV)


class SearchState(Base):
    """How far the full-text index has got (the highest message id indexed)."""

    __tablename__ = "web_search_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_message_pk: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[int] = mapped_column(BigInteger)
