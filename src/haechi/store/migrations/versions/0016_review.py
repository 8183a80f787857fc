"""review: triage categories and bank-match decisions (with their history), tags, and
the index the triage queue pages through (signals by kind and score)

Revision ID: 0016_review
Revises: 0002
Create Date: 2026-12-10

The review capability's own branch. Decisions reference files by foreign key and matches
by string (``match:<id>``), so the branch needs the foundation only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_review"
down_revision = "0002"
branch_labels = ("review",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=96), nullable=False),
        sa.Column("grp", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=48), nullable=False),
        sa.Column("blob_sha256", sa.String(length=64), nullable=True),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=False),
        sa.Column("decided_at", sa.String(length=40), nullable=False),
        sa.Column("decided_unix", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("custody_seq", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["blob_sha256"], ["blobs.sha256"], name=op.f("fk_review_decisions_blob_sha256_blobs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_decisions")),
    )
    with op.batch_alter_table("review_decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_review_decisions_blob_sha256"), ["blob_sha256"], unique=False
        )
        batch_op.create_index(
            "ix_review_decisions_target", ["target", "grp", "current"], unique=False
        )
        batch_op.create_index(
            "ix_review_decisions_value", ["grp", "value", "current"], unique=False
        )

    op.create_table(
        "review_tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=96), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.Column("added_by", sa.String(length=128), nullable=False),
        sa.Column("added_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_tags")),
        sa.UniqueConstraint("target", "tag", name="uq_review_tags_target_tag"),
    )
    with op.batch_alter_table("review_tags", schema=None) as batch_op:
        batch_op.create_index("ix_review_tags_tag", ["tag"], unique=False)

    # The triage queue's order: nudity scores, highest first (foundation's signals table).
    op.create_index("ix_signals_kind_score", "signals", ["kind", "score", "blob_sha256"])


def downgrade() -> None:
    op.drop_index("ix_signals_kind_score", table_name="signals")
    with op.batch_alter_table("review_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_review_tags_tag")
    op.drop_table("review_tags")
    with op.batch_alter_table("review_decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_review_decisions_value")
        batch_op.drop_index("ix_review_decisions_target")
        batch_op.drop_index(batch_op.f("ix_review_decisions_blob_sha256"))
    op.drop_table("review_decisions")
