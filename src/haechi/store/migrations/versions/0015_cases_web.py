"""cases: the counsellor's decisions on face-search candidates

Revision ID: 0015_cases_web
Revises: 0010_case_face_watch
Create Date: 2026-12-10

On the cases branch: ``face_reviews`` records, per candidate a face search showed, who
confirmed or rejected it and when (the step before her case). Subjects, searches and faces
are named by id without a foreign key: they are the faces capability's (another branch).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_cases_web"
down_revision = "0010_case_face_watch"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "face_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("search_id", sa.Integer(), nullable=True),
        sa.Column("blob_sha256", sa.String(length=64), nullable=False),
        sa.Column("face_id", sa.Integer(), nullable=True),
        sa.Column("distance", sa.Float(), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("staff", sa.String(length=128), nullable=False),
        sa.Column("decided_at", sa.String(length=40), nullable=False),
        sa.Column("custody_seq", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["blob_sha256"], ["blobs.sha256"], name=op.f("fk_face_reviews_blob_sha256_blobs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_face_reviews")),
    )
    with op.batch_alter_table("face_reviews", schema=None) as batch_op:
        batch_op.create_index(
            "ix_face_reviews_subject_blob", ["subject_id", "blob_sha256"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_face_reviews_search_id"), ["search_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("face_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_face_reviews_search_id"))
        batch_op.drop_index("ix_face_reviews_subject_blob")
    op.drop_table("face_reviews")
