"""Tables of the exchange capability: hashes shared with partner agencies and platforms.

Publishing (we are the source):
- ``exchange_partners``: who may fetch, with the SHA-256 of their own token and their
  scope (banks, labels, hash kinds).
- ``exchange_feed``: the change feed partners page through — one row per bank item that
  appeared (``add``) or disappeared (``remove``) here, numbered by a change id that only
  grows (AUTOINCREMENT on SQLite: a number is never reused). It is derived from the banks
  (``haechi.exchange.feed``), never written by hand, and keeps ids, labels and times
  only; the hashes are read from the bank when a page is served (an item withdrawn
  since is not sent at all, only its withdrawal). No bank name, external id, origin,
  notes or attributes ever leave: they can name a victim or a case.
- ``exchange_live``: the bank items the feed has announced and not withdrawn; what the
  next catch-up compares the banks against.
- ``exchange_state``: small counters of the catch-up (the custody sequence it has read).

Subscribing (a partner is the source):
- ``exchange_subscriptions``: where we fetch from (another haechi, or a
  python-threatexchange collaboration), into which local bank, and how far we are (the
  partner's opaque cursor, or the threatexchange checkpoint as JSON).
- ``exchange_imports``: every item a partner sent, with its key at the partner (also the
  external id of the local bank items holding its hashes), their times and ours, its
  labels, and when it was withdrawn.
- ``exchange_import_shadows``: hashes of an imported item that another imported item of
  the same subscription holds already (a bank keeps each hash once); a withdrawal gives
  them to the item that still needs them.
- ``exchange_syncs``: one row per sync run (pages, added, withdrawn, matches, error).

Times are ISO 8601 UTC strings, as in the matching capability's tables.
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
from haechi.store.tables.match import BankItem


class ExchangePartner(Base):
    __tablename__ = "exchange_partners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_prefix: Mapped[str | None] = mapped_column(String(16))
    token_created_at: Mapped[str | None] = mapped_column(String(40))
    token_revoked_at: Mapped[str | None] = mapped_column(String(40))
    scope_json: Mapped[str] = mapped_column(Text)
    scope_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(128))
    last_fetch_at: Mapped[str | None] = mapped_column(String(40))
    last_change: Mapped[int | None] = mapped_column(BigInteger)  # how far they have read


class ExchangeFeed(Base):
    __tablename__ = "exchange_feed"
    __table_args__ = (
        Index("ix_exchange_feed_bank_id_id", "bank_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the change id
    op: Mapped[str] = mapped_column(String(8))  # add / remove
    item_id: Mapped[int] = mapped_column(Integer)  # the bank item (gone after a remove)
    bank_id: Mapped[int] = mapped_column(Integer)
    ref: Mapped[int | None] = mapped_column(Integer)  # remove: the change id of its add
    labels_json: Mapped[str | None] = mapped_column(Text)
    item_added_at: Mapped[str] = mapped_column(String(40))
    at: Mapped[str] = mapped_column(String(40))


class ExchangeLive(Base):
    __tablename__ = "exchange_live"

    item_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    bank_id: Mapped[int] = mapped_column(Integer, index=True)
    added_at: Mapped[str] = mapped_column(String(40))
    add_change: Mapped[int] = mapped_column(Integer)


class ExchangeState(Base):
    __tablename__ = "exchange_state"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class ExchangeSubscription(Base):
    __tablename__ = "exchange_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # haechi / threatexchange
    url: Mapped[str | None] = mapped_column(Text)
    public_key_id: Mapped[str | None] = mapped_column(String(32))
    tx_api: Mapped[str | None] = mapped_column(String(32))
    tx_config_json: Mapped[str | None] = mapped_column(Text)
    bank_id: Mapped[int | None] = mapped_column(
        ForeignKey("match_banks.id", ondelete="SET NULL"), index=True
    )
    bank_name: Mapped[str] = mapped_column(String(128))
    cursor: Mapped[str | None] = mapped_column(Text)  # the partner's opaque cursor
    position: Mapped[int] = mapped_column(BigInteger, default=0)  # their last change id
    checkpoint_json: Mapped[str | None] = mapped_column(Text)  # threatexchange's
    resync: Mapped[bool] = mapped_column(Boolean, default=False)
    epoch: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(128))
    last_sync_at: Mapped[str | None] = mapped_column(String(40))
    last_ok_at: Mapped[str | None] = mapped_column(String(40))
    last_error: Mapped[str | None] = mapped_column(Text)


class ExchangeImport(Base):
    __tablename__ = "exchange_imports"
    __table_args__ = (
        UniqueConstraint("subscription_id", "remote_key", name="uq_exchange_imports_key"),
        Index("ix_exchange_imports_epoch", "subscription_id", "withdrawn_at", "epoch"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("exchange_subscriptions.id", ondelete="CASCADE")
    )
    remote_key: Mapped[str] = mapped_column(String(160))
    labels_json: Mapped[str | None] = mapped_column(Text)
    remote_added_at: Mapped[str | None] = mapped_column(String(40))
    change_id: Mapped[int | None] = mapped_column(BigInteger)
    fetched_at: Mapped[str] = mapped_column(String(40))
    withdrawn_at: Mapped[str | None] = mapped_column(String(40))
    epoch: Mapped[int] = mapped_column(Integer, default=0)


class ExchangeImportShadow(Base):
    __tablename__ = "exchange_import_shadows"
    __table_args__ = (Index("ix_exchange_import_shadows_hash", "subscription_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    import_id: Mapped[int] = mapped_column(
        ForeignKey("exchange_imports.id", ondelete="CASCADE"), index=True
    )
    subscription_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(255))
    signal_json: Mapped[str] = mapped_column(Text)  # [kind, value, quality, data]


class ExchangeSync(Base):
    __tablename__ = "exchange_syncs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("exchange_subscriptions.id", ondelete="CASCADE"), index=True
    )
    started_at: Mapped[str] = mapped_column(String(40))
    finished_at: Mapped[str | None] = mapped_column(String(40))
    pages: Mapped[int] = mapped_column(Integer, default=0)
    added: Mapped[int] = mapped_column(Integer, default=0)
    withdrawn: Mapped[int] = mapped_column(Integer, default=0)
    matches: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


# A subscription finds the local items of a partner's item by their external id (the
# partner's key) in its bank: an index of the matching capability's table, created by this
# capability's migration.
Index("ix_match_bank_items_bank_external", BankItem.bank_id, BankItem.external_id)
