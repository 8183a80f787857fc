"""Tables of the face capability: faces found in evidence, clusters of recurring faces,
subjects who consented, their consent records, templates and (only with consent) photos,
and the log of every face search.

Sensitive by design, so the schema keeps as little as it can:

* ``subjects.label`` is a case code (it appears in custody events, which are permanent);
  a real name, if staff record one at all, lives only in ``display_name`` and is wiped on
  deletion.
* Templates are embeddings, never pictures. Reference photos are kept only where the
  consent's scope includes ``keep_photos``, encrypted outside the evidence vault (which
  never deletes) so that deleting the subject really removes them.
* ``faces`` is a projection of the ``face`` signals (which carry the custody record); it
  can be rebuilt from them at any time.
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
)
from sqlalchemy.orm import Mapped, mapped_column

from haechi.store.models import Base


class Subject(Base):
    """A person who came forward and consented to be searched for."""

    __tablename__ = "subjects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(64), unique=True)  # a case code, not a name
    display_name: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    # Recorded by staff (from the consent paperwork): routes notices to the child-safety
    # channel (stopCA@telegram.org) and the Child/Youth Act.
    is_minor: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active / deleted
    created_at: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(128))
    deleted_at: Mapped[str | None] = mapped_column(String(40))
    deleted_by: Mapped[str | None] = mapped_column(String(128))
    delete_reason: Mapped[str | None] = mapped_column(Text)


class Consent(Base):
    """Who consented, when, to what, until when, and which staff member recorded it."""

    __tablename__ = "subject_consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    given_by: Mapped[str] = mapped_column(Text)  # the subject, or a guardian / representative
    relation: Mapped[str] = mapped_column(String(32))  # self / guardian / representative
    given_at: Mapped[str] = mapped_column(String(40))  # ISO date or time, as stated
    scope: Mapped[str] = mapped_column(String(255))  # comma-separated ConsentScope values
    valid_until: Mapped[str | None] = mapped_column(String(40))  # ISO date, inclusive
    reference: Mapped[str | None] = mapped_column(Text)  # the signed form's number, ...
    recorded_by: Mapped[str] = mapped_column(String(128))
    recorded_at: Mapped[str] = mapped_column(String(40))
    withdrawn_at: Mapped[str | None] = mapped_column(String(40))
    withdrawn_by: Mapped[str | None] = mapped_column(String(128))


class SubjectPhoto(Base):
    """A reference photo kept because the consent allows it: encrypted, outside the vault."""

    __tablename__ = "subject_photos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(128))


class SubjectTemplate(Base):
    """One face embedding of a subject, from one reference photo."""

    __tablename__ = "subject_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("subject_photos.id"))
    photo_sha256: Mapped[str] = mapped_column(String(64))  # which photo it came from
    embedding: Mapped[bytes] = mapped_column(LargeBinary)  # 128 float32, little-endian
    model: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)
    size: Mapped[int] = mapped_column(Integer)
    sharpness: Mapped[float] = mapped_column(Float)
    created_at: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(128))


class FaceCluster(Base):
    """A group of faces the clustering found to be one (unknown) person: "person #17"."""

    __tablename__ = "face_clusters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active / empty
    faces: Mapped[int] = mapped_column(Integer, default=0)
    images: Mapped[int] = mapped_column(Integer, default=0)
    chats: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"), index=True)
    linked_by: Mapped[str | None] = mapped_column(String(128))
    linked_at: Mapped[str | None] = mapped_column(String(40))
    link_reason: Mapped[str | None] = mapped_column(Text)
    # Set by staff, never by a model: drives notice routing (stopCA@telegram.org).
    apparent_minor: Mapped[bool] = mapped_column(Boolean, default=False)
    minor_set_by: Mapped[str | None] = mapped_column(String(128))
    minor_set_at: Mapped[str | None] = mapped_column(String(40))
    minor_reason: Mapped[str | None] = mapped_column(Text)


class FaceRow(Base):
    """A face found in a stored file (one ``face`` signal), with its embedding."""

    __tablename__ = "faces"
    __table_args__ = (Index("ix_faces_blob_active", "blob_sha256", "active"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id"), unique=True)
    analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id"), index=True)
    blob_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    analyzer_version: Mapped[str] = mapped_column(String(32))
    face_no: Mapped[int] = mapped_column(Integer)
    x: Mapped[int] = mapped_column(Integer)
    y: Mapped[int] = mapped_column(Integer)
    w: Mapped[int] = mapped_column(Integer)
    h: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    size: Mapped[int] = mapped_column(Integer)
    sharpness: Mapped[float] = mapped_column(Float)
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    # False once a newer analyzer version has analysed the same file.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("face_clusters.id"), index=True)


class FaceSearch(Base):
    """Every face search: who ran it, why, on what basis, and what it showed them."""

    __tablename__ = "face_searches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[str] = mapped_column(String(40))
    staff: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    basis: Mapped[str | None] = mapped_column(Text)  # consent id or stated legal authority
    kind: Mapped[str] = mapped_column(String(16))  # subject / probe
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"), index=True)
    consent_id: Mapped[int | None] = mapped_column(ForeignKey("subject_consents.id"))
    probe_sha256: Mapped[str | None] = mapped_column(String(64))
    threshold: Mapped[float] = mapped_column(Float)
    faces: Mapped[int] = mapped_column(Integer)
    images: Mapped[int] = mapped_column(Integer)
    # [[sha256, distance], ...]; a probe search adds the matched archive face's id to each
    results_json: Mapped[str | None] = mapped_column(Text)
    custody_seq: Mapped[int | None] = mapped_column(BigInteger)
