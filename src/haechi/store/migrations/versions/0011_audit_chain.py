"""web: the audit trail becomes a signed hash chain

Revision ID: 0011_audit_chain
Revises: 0007_web
Create Date: 2026-12-06

Each audit entry gets a sequence number and the canonical JSON body that was hashed and
signed (Ed25519, the data directory's custody key), chained by the previous entry's hash,
like the custody log. Entries written before this revision keep ``seq`` NULL: ``haechi
verify`` counts them as unchained (they cannot be checked), it does not fail on them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_audit_chain"
down_revision = "0007_web"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("body", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("signature", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("key_id", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_audit_log_seq"), ["seq"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_seq"))
        for column in ("key_id", "signature", "hash", "prev_hash", "body", "seq"):
            batch_op.drop_column(column)
