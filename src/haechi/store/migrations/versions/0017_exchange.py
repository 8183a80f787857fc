"""exchange: partners and their scopes, the change feed they page through, subscriptions
to partners, imported items with their provenance, sync runs

Revision ID: 0017_exchange
Revises: 0003_match
Create Date: 2026-12-12

The exchange capability's own branch. It depends on the matching capability's banks:
subscriptions import into a bank and the feed is derived from bank items.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_exchange"
down_revision = "0003_match"
branch_labels = ("exchange",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchange_feed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("op", sa.String(length=8), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.Integer(), nullable=True),
        sa.Column("labels_json", sa.Text(), nullable=True),
        sa.Column("item_added_at", sa.String(length=40), nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_feed")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_exchange_feed_bank_id_id", "exchange_feed", ["bank_id", "id"], unique=False)
    op.create_table(
        "exchange_live",
        sa.Column("item_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.String(length=40), nullable=False),
        sa.Column("add_change", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_exchange_live")),
    )
    op.create_index(op.f("ix_exchange_live_bank_id"), "exchange_live", ["bank_id"], unique=False)
    op.create_table(
        "exchange_partners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("token_prefix", sa.String(length=16), nullable=True),
        sa.Column("token_created_at", sa.String(length=40), nullable=True),
        sa.Column("token_revoked_at", sa.String(length=40), nullable=True),
        sa.Column("scope_json", sa.Text(), nullable=False),
        sa.Column("scope_digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("last_fetch_at", sa.String(length=40), nullable=True),
        sa.Column("last_change", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_partners")),
        sa.UniqueConstraint("name", name=op.f("uq_exchange_partners_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_exchange_partners_token_hash")),
    )
    op.create_table(
        "exchange_state",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_exchange_state")),
    )
    op.create_table(
        "exchange_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("public_key_id", sa.String(length=32), nullable=True),
        sa.Column("tx_api", sa.String(length=32), nullable=True),
        sa.Column("tx_config_json", sa.Text(), nullable=True),
        sa.Column("bank_id", sa.Integer(), nullable=True),
        sa.Column("bank_name", sa.String(length=128), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("checkpoint_json", sa.Text(), nullable=True),
        sa.Column("resync", sa.Boolean(), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("last_sync_at", sa.String(length=40), nullable=True),
        sa.Column("last_ok_at", sa.String(length=40), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["bank_id"],
            ["match_banks.id"],
            name=op.f("fk_exchange_subscriptions_bank_id_match_banks"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_subscriptions")),
        sa.UniqueConstraint("name", name=op.f("uq_exchange_subscriptions_name")),
    )
    op.create_index(
        op.f("ix_exchange_subscriptions_bank_id"),
        "exchange_subscriptions",
        ["bank_id"],
        unique=False,
    )
    op.create_table(
        "exchange_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("remote_key", sa.String(length=160), nullable=False),
        sa.Column("labels_json", sa.Text(), nullable=True),
        sa.Column("remote_added_at", sa.String(length=40), nullable=True),
        sa.Column("change_id", sa.BigInteger(), nullable=True),
        sa.Column("fetched_at", sa.String(length=40), nullable=False),
        sa.Column("withdrawn_at", sa.String(length=40), nullable=True),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["exchange_subscriptions.id"],
            name=op.f("fk_exchange_imports_subscription_id_exchange_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_imports")),
        sa.UniqueConstraint("subscription_id", "remote_key", name="uq_exchange_imports_key"),
    )
    op.create_index(
        "ix_exchange_imports_epoch",
        "exchange_imports",
        ["subscription_id", "withdrawn_at", "epoch"],
        unique=False,
    )
    op.create_table(
        "exchange_syncs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.String(length=40), nullable=False),
        sa.Column("finished_at", sa.String(length=40), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("withdrawn", sa.Integer(), nullable=False),
        sa.Column("matches", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["exchange_subscriptions.id"],
            name=op.f("fk_exchange_syncs_subscription_id_exchange_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_syncs")),
    )
    op.create_index(
        op.f("ix_exchange_syncs_subscription_id"),
        "exchange_syncs",
        ["subscription_id"],
        unique=False,
    )
    op.create_table(
        "exchange_import_shadows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("signal_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["exchange_imports.id"],
            name=op.f("fk_exchange_import_shadows_import_id_exchange_imports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_import_shadows")),
    )
    op.create_index(
        "ix_exchange_import_shadows_hash",
        "exchange_import_shadows",
        ["subscription_id", "kind", "value"],
        unique=False,
    )
    op.create_index(
        op.f("ix_exchange_import_shadows_import_id"),
        "exchange_import_shadows",
        ["import_id"],
        unique=False,
    )
    op.create_index(
        "ix_match_bank_items_bank_external",
        "match_bank_items",
        ["bank_id", "external_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_match_bank_items_bank_external", table_name="match_bank_items")
    op.drop_index(
        op.f("ix_exchange_import_shadows_import_id"), table_name="exchange_import_shadows"
    )
    op.drop_index("ix_exchange_import_shadows_hash", table_name="exchange_import_shadows")
    op.drop_table("exchange_import_shadows")
    op.drop_index(op.f("ix_exchange_syncs_subscription_id"), table_name="exchange_syncs")
    op.drop_table("exchange_syncs")
    op.drop_index("ix_exchange_imports_epoch", table_name="exchange_imports")
    op.drop_table("exchange_imports")
    op.drop_index(op.f("ix_exchange_subscriptions_bank_id"), table_name="exchange_subscriptions")
    op.drop_table("exchange_subscriptions")
    op.drop_table("exchange_state")
    op.drop_table("exchange_partners")
    op.drop_index(op.f("ix_exchange_live_bank_id"), table_name="exchange_live")
    op.drop_table("exchange_live")
    op.drop_index("ix_exchange_feed_bank_id_id", table_name="exchange_feed")
    op.drop_table("exchange_feed")
