"""cases: face templates of removed items, for the re-upload watch

Revision ID: 0010_case_face_watch
Revises: 0008_cases
Create Date: 2026-12-08

On the cases branch: the templates hang off ``reupload_watches`` (one ``face`` watch per
template). No foreign key into the faces capability's tables: a template is copied, so the
watch outlives a re-analysis or a rebuilt ``faces`` projection.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_case_face_watch"
down_revision = "0008_cases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reupload_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("watch_id", sa.Integer(), nullable=False),
        sa.Column("blob_sha256", sa.String(length=64), nullable=False),
        sa.Column("face_no", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["watch_id"],
            ["reupload_watches.id"],
            name=op.f("fk_reupload_templates_watch_id_reupload_watches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reupload_templates")),
        sa.UniqueConstraint("watch_id", name=op.f("uq_reupload_templates_watch_id")),
    )


def downgrade() -> None:
    op.drop_table("reupload_templates")
