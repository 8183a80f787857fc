"""Tables of the cases capability: cases, their evidence, people, notices and watches.

Design notes:
- A case item points at the foundation's rows (message, media, chat, blob) by foreign key
  and, for rows of capabilities that may not be installed (matches, graph findings), by a
  string reference: the cases capability must work whether or not they exist.
- Rows that a court relies on are never deleted: an item is *withdrawn* (with a reason), a
  consent is *withdrawn* (with a time). The custody log holds the history of every change.
- Victims' identifiers live only here (never in custody events, which hold a salted
  commitment instead: ``nonce`` + SHA-256), so an exported log never reveals a victim.
- Times are ISO 8601 UTC strings; where statistics group or subtract them, the epoch
  seconds sit beside them (integers compare and subtract identically on both back ends).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from haechi.store.models import Base


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)  # the unit's own case number
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)  # CaseStatus
    reported_on: Mapped[str] = mapped_column(String(10), index=True)  # YYYY-MM-DD (statistics)
    opened_at: Mapped[str] = mapped_column(String(40))
    closed_at: Mapped[str | None] = mapped_column(String(40))
    assignee: Mapped[str | None] = mapped_column(String(128), index=True)
    created_by: Mapped[str] = mapped_column(String(128))
    nonce: Mapped[str] = mapped_column(String(32))  # salts the custody commitments
    # The unit the case belongs to (NULL: the default, unnamed unit); migration
    # 0019_case_units, enforced by haechi.cases.visibility.
    unit: Mapped[str | None] = mapped_column(String(64), index=True)


class CaseTag(Base):
    __tablename__ = "case_tags"
    __table_args__ = (UniqueConstraint("case_id", "tag", name="uq_case_tags"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    tag: Mapped[str] = mapped_column(String(64), index=True)


class CaseItem(Base):
    """One piece of evidence in a case: a message, a file, a chat, a link, a match, a finding."""

    __tablename__ = "case_items"
    __table_args__ = (UniqueConstraint("case_id", "ref", name="uq_case_items_ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # ItemKind
    ref: Mapped[str] = mapped_column(String(255))  # "message:12", "media:4", "match:7", ...
    message_pk: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    media_pk: Mapped[int | None] = mapped_column(ForeignKey("media.id"))
    chat_id: Mapped[int | None] = mapped_column(ForeignKey("chats.id"), index=True)
    blob_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"), index=True)
    url: Mapped[str | None] = mapped_column(Text)  # stated by the investigator
    external_ref: Mapped[str | None] = mapped_column(String(128))  # a match or finding id
    detail_json: Mapped[str | None] = mapped_column(Text)
    reupload_of: Mapped[int | None] = mapped_column(ForeignKey("case_items.id"))
    added_at: Mapped[str] = mapped_column(String(40))
    added_by: Mapped[str] = mapped_column(String(128))
    withdrawn_at: Mapped[str | None] = mapped_column(String(40))
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)


class CaseSubject(Base):
    """A victim (or other protected person) of a case. The most sensitive row we hold."""

    __tablename__ = "case_subjects"
    __table_args__ = (UniqueConstraint("case_id", "label", name="uq_case_subjects_label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    label: Mapped[str] = mapped_column(String(16))  # "V1": what exports show instead of names
    role: Mapped[str] = mapped_column(String(16))  # victim
    display_name: Mapped[str | None] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(Text)
    identifiers_json: Mapped[str | None] = mapped_column(Text)  # [{kind, value}], redacted
    age: Mapped[int | None] = mapped_column(Integer)  # at the time of the report
    age_band: Mapped[str | None] = mapped_column(String(8))  # when only the band is known
    is_minor: Mapped[bool] = mapped_column(Boolean, default=False)  # staff-set
    faces_subject_ref: Mapped[str | None] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(32))  # salts the custody commitment
    created_at: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(128))


class CaseConsent(Base):
    __tablename__ = "case_consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("case_subjects.id"), index=True)
    scope: Mapped[str] = mapped_column(String(32))  # ConsentScope
    given_by: Mapped[str] = mapped_column(String(16))  # subject / guardian / representative
    method: Mapped[str] = mapped_column(String(16))  # written / verbal / electronic
    document_sha256: Mapped[str | None] = mapped_column(String(64))  # the signed form, if any
    note: Mapped[str | None] = mapped_column(Text)
    granted_at: Mapped[str] = mapped_column(String(40))
    recorded_by: Mapped[str] = mapped_column(String(128))
    withdrawn_at: Mapped[str | None] = mapped_column(String(40))


class CaseSuspect(Base):
    __tablename__ = "case_suspects"
    __table_args__ = (UniqueConstraint("case_id", "label", name="uq_case_suspects_label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    label: Mapped[str] = mapped_column(String(16))  # "S1"
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    age: Mapped[int | None] = mapped_column(Integer)  # at the time of the offence
    age_band: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))  # SuspectStatus
    apprehended_at: Mapped[str | None] = mapped_column(String(40))
    apprehended_unix: Mapped[int | None] = mapped_column(BigInteger, index=True)
    detained_at: Mapped[str | None] = mapped_column(String(40))
    detained_unix: Mapped[int | None] = mapped_column(BigInteger, index=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(String(40))


class SuspectIdentifier(Base):
    """An identifier a suspect was seen with: a Telegram id or @username, a wallet, a handle."""

    __tablename__ = "case_suspect_identifiers"
    __table_args__ = (
        UniqueConstraint("suspect_id", "kind", "value", name="uq_case_suspect_identifiers"),
        Index("ix_case_suspect_identifiers_kind_value", "kind", "value"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    suspect_id: Mapped[int] = mapped_column(ForeignKey("case_suspects.id"))
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(255))


class CaseNote(Base):
    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    author: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    nonce: Mapped[str] = mapped_column(String(32))


class NotifierProfile(Base):
    """Who sends notices: a unit, a support centre, a trusted flagger."""

    __tablename__ = "notifier_profiles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    person_name: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(String(255))
    organisation: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(32))  # police / support_centre / ...
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)


class Notice(Base):
    """A takedown notice: the exact text drafted, and where it stands."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(32), index=True)  # Recipient key
    language: Mapped[str] = mapped_column(String(8))
    to_address: Mapped[str | None] = mapped_column(String(255))
    subject_line: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    body_sha256: Mapped[str] = mapped_column(String(64))
    notifier_json: Mapped[str | None] = mapped_column(Text)  # the identity as sent
    concerns_minor: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), index=True)  # NoticeStatus
    created_at: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(128))
    sent_unix: Mapped[int | None] = mapped_column(BigInteger)
    acknowledged_unix: Mapped[int | None] = mapped_column(BigInteger)
    decided_unix: Mapped[int | None] = mapped_column(BigInteger)
    decision: Mapped[str | None] = mapped_column(String(32))
    removed_unix: Mapped[int | None] = mapped_column(BigInteger)
    reuploaded_unix: Mapped[int | None] = mapped_column(BigInteger)
    external_ref: Mapped[str | None] = mapped_column(String(128))  # the recipient's ticket


class NoticeItem(Base):
    __tablename__ = "notice_items"
    __table_args__ = (UniqueConstraint("notice_id", "case_item_id", name="uq_notice_items"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), index=True)
    case_item_id: Mapped[int] = mapped_column(ForeignKey("case_items.id"), index=True)
    url: Mapped[str] = mapped_column(Text)


class NoticeTransition(Base):
    """One status change of a notice, with the time it happened (may be earlier than now)."""

    __tablename__ = "notice_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[str] = mapped_column(String(40))
    at_unix: Mapped[int] = mapped_column(BigInteger)
    recorded_at: Mapped[str] = mapped_column(String(40))
    recorded_by: Mapped[str] = mapped_column(String(128))
    note: Mapped[str | None] = mapped_column(Text)


class ReuploadWatch(Base):
    """A hash (or template) of a removed item that new captures are compared with."""

    __tablename__ = "reupload_watches"
    __table_args__ = (
        UniqueConstraint("case_item_id", "method", "value", name="uq_reupload_watches"),
        Index("ix_reupload_watches_method_value", "method", "value"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    case_item_id: Mapped[int] = mapped_column(ForeignKey("case_items.id"))
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id"))
    method: Mapped[str] = mapped_column(String(16))  # sha256 / md5 / or a match backend's
    value: Mapped[str] = mapped_column(String(255))
    backend_ref: Mapped[str | None] = mapped_column(String(128))  # e.g. a bank entry id
    created_at: Mapped[str] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ReuploadHit(Base):
    """A re-appearance of a watched item: a new message carrying the same content."""

    __tablename__ = "reupload_hits"
    __table_args__ = (UniqueConstraint("watch_id", "media_pk", name="uq_reupload_hits"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    watch_id: Mapped[int] = mapped_column(ForeignKey("reupload_watches.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    media_pk: Mapped[int] = mapped_column(ForeignKey("media.id"))
    blob_sha256: Mapped[str] = mapped_column(String(64))
    new_case_item_id: Mapped[int | None] = mapped_column(ForeignKey("case_items.id"))
    # reupload: posted after the removal; copy: another copy that was already there
    kind: Mapped[str] = mapped_column(String(16))
    score: Mapped[float | None] = mapped_column(Float)
    detected_at: Mapped[str] = mapped_column(String(40))


class ReuploadTemplate(Base):
    """The face template behind a ``face`` watch: a face found in a removed item's file, as
    the 128 numbers of its embedding. Never a picture or a crop; the watch's ``value`` is
    the template's SHA-256, which is what custody events name."""

    __tablename__ = "reupload_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    watch_id: Mapped[int] = mapped_column(ForeignKey("reupload_watches.id"), unique=True)
    blob_sha256: Mapped[str] = mapped_column(String(64))  # the removed file it was found in
    face_no: Mapped[int] = mapped_column(Integer)  # which face of that file
    model: Mapped[str] = mapped_column(String(64))  # embeddings of other models do not compare
    embedding: Mapped[bytes] = mapped_column(LargeBinary)  # 128 float32, little-endian
