"""web: forced password changes, one-time reset codes, two-administrator grants

Revision ID: 0012_accounts
Revises: 0011_audit_chain
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_accounts"
down_revision = "0011_audit_chain"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("web_users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(sa.Column("reset_code_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("reset_expires_at", sa.BigInteger(), nullable=True))
    op.create_table(
        "web_grant_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_grant_requests")),
    )
    with op.batch_alter_table("web_grant_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_web_grant_requests_username"), ["username"], unique=False
        )


def downgrade() -> None:
    op.drop_table("web_grant_requests")
    with op.batch_alter_table("web_users", schema=None) as batch_op:
        for column in ("reset_expires_at", "reset_code_hash", "must_change_password"):
            batch_op.drop_column(column)
