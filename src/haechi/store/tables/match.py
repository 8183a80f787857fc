"""Tables of the matching capability: banks of known items, and the matches found.

- A **bank** holds known items (a victim's reported pictures, a partner's hash list);
  each **item** has one or more **bank signals** (PDQ, md5, SHA-256, vPDQ, and opaque
  hashes we cannot compute such as PhotoDNA or SHA-1, kept so exports round-trip).
  Items keep hashes, never pictures: a victim's photo added from a file leaves nothing
  but its hashes behind.
- A **match** links a stored file to a bank signal or to an earlier stored file, with
  the distance. Rows are only inserted, each with its ``match`` custody event. Bank and
  item are kept as a snapshot (name, labels) so a match still reads correctly after
  its bank was deleted (the foreign keys then become NULL).
- ``match_signal_scans`` / ``match_blob_scans`` record which signals and files have
  been matched, so matching is incremental and a crash is caught up by the next run.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from haechi.store.models import Base


class Bank(Base):
    __tablename__ = "match_banks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    origin: Mapped[str | None] = mapped_column(Text)  # who supplied it, under what terms
    notes: Mapped[str | None] = mapped_column(Text)
    labels_json: Mapped[str | None] = mapped_column(Text)  # given to every item added
    created_at: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(128))


class BankItem(Base):
    __tablename__ = "match_bank_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[int] = mapped_column(
        ForeignKey("match_banks.id", ondelete="CASCADE"), index=True
    )
    external_id: Mapped[str | None] = mapped_column(String(255))  # MediaID, case number
    labels_json: Mapped[str | None] = mapped_column(Text)
    origin: Mapped[str | None] = mapped_column(Text)  # "file:x.jpg", "blob:<sha>", "list.csv:12"
    blob_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"), index=True)
    attributes_json: Mapped[str | None] = mapped_column(Text)  # opaque fields of the source
    notes: Mapped[str | None] = mapped_column(Text)
    added_at: Mapped[str] = mapped_column(String(40))
    added_by: Mapped[str] = mapped_column(String(128))


class BankSignal(Base):
    """One hash of a bank item. ``value`` is lowercase hex for hex hashes, the SHA-256
    digest for vPDQ (its frames are in ``data_json``), the text as given otherwise."""

    __tablename__ = "match_bank_signals"
    __table_args__ = (
        UniqueConstraint("bank_id", "kind", "value", name="uq_match_bank_signals"),
        Index("ix_match_bank_signals_kind_value", "kind", "value"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("match_bank_items.id", ondelete="CASCADE"), index=True
    )
    bank_id: Mapped[int] = mapped_column(ForeignKey("match_banks.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(255))
    quality: Mapped[int | None] = mapped_column(Integer)
    data_json: Mapped[str | None] = mapped_column(Text)  # vPDQ frames, dihedral hashes
    hunted_at: Mapped[str | None] = mapped_column(String(40))  # matched against stored media


class MatchRow(Base):
    """A stored file that matched a bank signal or an earlier stored file."""

    __tablename__ = "match_hits"
    __table_args__ = (
        UniqueConstraint("blob_sha256", "kind", "target", name="uq_match_hits"),
        Index("ix_match_hits_target_blob", "target_blob_sha256"),
        Index("ix_match_hits_bank_id", "bank_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    blob_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # pdq / vpdq / md5 / sha256
    target: Mapped[str] = mapped_column(String(96))  # "bank-signal:<id>" or "blob:<sha256>"
    distance: Mapped[int | None] = mapped_column(Integer)  # Hamming bits; 0 when exact
    score: Mapped[float | None] = mapped_column(Float)  # vPDQ: share of query frames matched
    transform: Mapped[str | None] = mapped_column(String(16))  # dihedral variant that hit
    threshold: Mapped[int | None] = mapped_column(Integer)
    query_value: Mapped[str | None] = mapped_column(String(255))
    target_value: Mapped[str | None] = mapped_column(String(255))
    target_blob_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    bank_id: Mapped[int | None] = mapped_column(ForeignKey("match_banks.id", ondelete="SET NULL"))
    bank_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("match_bank_items.id", ondelete="SET NULL")
    )
    bank_signal_id: Mapped[int | None] = mapped_column(
        ForeignKey("match_bank_signals.id", ondelete="SET NULL")
    )
    bank_name: Mapped[str | None] = mapped_column(String(128))  # snapshot
    details_json: Mapped[str | None] = mapped_column(Text)  # labels snapshot, vPDQ shares
    created_at: Mapped[str] = mapped_column(String(40))
    custody_seq: Mapped[int | None] = mapped_column(BigInteger)


class SignalScan(Base):
    """A PDQ/vPDQ signal of a stored file that has been matched."""

    __tablename__ = "match_signal_scans"

    signal_id: Mapped[int] = mapped_column(
        ForeignKey("signals.id"), primary_key=True, autoincrement=False
    )
    scanned_at: Mapped[str] = mapped_column(String(40))
    hits: Mapped[int] = mapped_column(Integer, default=0)


class BlobScan(Base):
    """A stored file whose md5 and SHA-256 have been looked up in the banks."""

    __tablename__ = "match_blob_scans"

    blob_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"), primary_key=True)
    scanned_at: Mapped[str] = mapped_column(String(40))
