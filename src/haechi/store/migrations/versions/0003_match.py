"""match: banks, bank items and their hashes, matches, scan bookkeeping

Revision ID: 0003_match
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_match"
down_revision = "0002"
branch_labels = ("match",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "match_banks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("origin", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("labels_json", sa.Text(), nullable=True),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_banks")),
        sa.UniqueConstraint("name", name=op.f("uq_match_banks_name")),
    )
    op.create_table(
        "match_bank_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("labels_json", sa.Text(), nullable=True),
        sa.Column("origin", sa.Text(), nullable=True),
        sa.Column("blob_sha256", sa.String(length=64), nullable=True),
        sa.Column("attributes_json", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("added_at", sa.String(length=40), nullable=False),
        sa.Column("added_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["bank_id"],
            ["match_banks.id"],
            name=op.f("fk_match_bank_items_bank_id_match_banks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["blob_sha256"], ["blobs.sha256"], name=op.f("fk_match_bank_items_blob_sha256_blobs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_bank_items")),
    )
    with op.batch_alter_table("match_bank_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_match_bank_items_bank_id"), ["bank_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_match_bank_items_blob_sha256"), ["blob_sha256"], unique=False
        )

    op.create_table(
        "match_blob_scans",
        sa.Column("blob_sha256", sa.String(length=64), nullable=False),
        sa.Column("scanned_at", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["blob_sha256"], ["blobs.sha256"], name=op.f("fk_match_blob_scans_blob_sha256_blobs")
        ),
        sa.PrimaryKeyConstraint("blob_sha256", name=op.f("pk_match_blob_scans")),
    )
    op.create_table(
        "match_bank_signals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("quality", sa.Integer(), nullable=True),
        sa.Column("data_json", sa.Text(), nullable=True),
        sa.Column("hunted_at", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["bank_id"],
            ["match_banks.id"],
            name=op.f("fk_match_bank_signals_bank_id_match_banks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["match_bank_items.id"],
            name=op.f("fk_match_bank_signals_item_id_match_bank_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_bank_signals")),
        sa.UniqueConstraint("bank_id", "kind", "value", name="uq_match_bank_signals"),
    )
    with op.batch_alter_table("match_bank_signals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_match_bank_signals_item_id"), ["item_id"], unique=False
        )
        batch_op.create_index("ix_match_bank_signals_kind_value", ["kind", "value"], unique=False)

    op.create_table(
        "match_hits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("blob_sha256", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=96), nullable=False),
        sa.Column("distance", sa.Integer(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("transform", sa.String(length=16), nullable=True),
        sa.Column("threshold", sa.Integer(), nullable=True),
        sa.Column("query_value", sa.String(length=255), nullable=True),
        sa.Column("target_value", sa.String(length=255), nullable=True),
        sa.Column("target_blob_sha256", sa.String(length=64), nullable=True),
        sa.Column("bank_id", sa.Integer(), nullable=True),
        sa.Column("bank_item_id", sa.Integer(), nullable=True),
        sa.Column("bank_signal_id", sa.Integer(), nullable=True),
        sa.Column("bank_name", sa.String(length=128), nullable=True),
        sa.Column("details_json", sa.Text(), nullable=True),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("custody_seq", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["bank_id"],
            ["match_banks.id"],
            name=op.f("fk_match_hits_bank_id_match_banks"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["bank_item_id"],
            ["match_bank_items.id"],
            name=op.f("fk_match_hits_bank_item_id_match_bank_items"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["bank_signal_id"],
            ["match_bank_signals.id"],
            name=op.f("fk_match_hits_bank_signal_id_match_bank_signals"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["blob_sha256"], ["blobs.sha256"], name=op.f("fk_match_hits_blob_sha256_blobs")
        ),
        sa.ForeignKeyConstraint(
            ["target_blob_sha256"],
            ["blobs.sha256"],
            name=op.f("fk_match_hits_target_blob_sha256_blobs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_hits")),
        sa.UniqueConstraint("blob_sha256", "kind", "target", name="uq_match_hits"),
    )
    with op.batch_alter_table("match_hits", schema=None) as batch_op:
        batch_op.create_index("ix_match_hits_bank_id", ["bank_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_match_hits_blob_sha256"), ["blob_sha256"], unique=False
        )
        batch_op.create_index("ix_match_hits_target_blob", ["target_blob_sha256"], unique=False)

    op.create_table(
        "match_signal_scans",
        sa.Column("signal_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("scanned_at", sa.String(length=40), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["signal_id"], ["signals.id"], name=op.f("fk_match_signal_scans_signal_id_signals")
        ),
        sa.PrimaryKeyConstraint("signal_id", name=op.f("pk_match_signal_scans")),
    )


def downgrade() -> None:
    op.drop_table("match_signal_scans")
    op.drop_table("match_hits")
    op.drop_table("match_bank_signals")
    op.drop_table("match_blob_scans")
    op.drop_table("match_bank_items")
    op.drop_table("match_banks")
