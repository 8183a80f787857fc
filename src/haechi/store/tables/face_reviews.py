"""The counsellor's decision on each face-search candidate (migration ``0015_cases_web``,
on the cases branch: the step between a face search and her case).

Rows are only added: a changed decision is a new row, the newest per (subject, file) is
the one in force, and each has its signed ``face_candidate_reviewed`` custody event. No
foreign key into the faces capability's tables (another branch); the ids are what its
search log and custody events name.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from haechi.store.models import Base


class FaceReview(Base):
    __tablename__ = "face_reviews"
    __table_args__ = (Index("ix_face_reviews_subject_blob", "subject_id", "blob_sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(Integer)
    search_id: Mapped[int | None] = mapped_column(Integer, index=True)
    blob_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    face_id: Mapped[int | None] = mapped_column(Integer)
    distance: Mapped[float | None] = mapped_column(Float)
    decision: Mapped[str] = mapped_column(String(16))  # confirmed / rejected
    staff: Mapped[str] = mapped_column(String(128))
    decided_at: Mapped[str] = mapped_column(String(40))
    custody_seq: Mapped[int | None] = mapped_column(BigInteger)
