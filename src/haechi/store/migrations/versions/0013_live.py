"""live: the watching account, targets and their state, what vanished, names, bot profiles

Revision ID: 0013_live
Revises: 0002
Create Date: 2026-12-10

Live capture's own bookkeeping (``haechi watch``). Captured messages and files are the
foundation's rows, written by the ingest service; nothing here copies them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_live"
down_revision = "0002"
branch_labels = ("live",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "live_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tg_id", sa.BigInteger(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("display_name", sa.Text(), nullable=True),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("logged_in_at", sa.BigInteger(), nullable=False),
        sa.Column("logged_in_by", sa.String(length=128), nullable=False),
        sa.Column("logged_out_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_accounts")),
        sa.UniqueConstraint("session_id", name=op.f("uq_live_accounts_session_id")),
    )
    op.create_table(
        "live_names",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("peer_kind", sa.String(length=16), nullable=False),
        sa.Column("tg_id", sa.BigInteger(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("first_seen", sa.BigInteger(), nullable=False),
        sa.Column("last_seen", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_names")),
        sa.UniqueConstraint("peer_kind", "tg_id", "username", "title", name="uq_live_names"),
    )
    with op.batch_alter_table("live_names", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_live_names_tg_id"), ["tg_id"], unique=False)

    op.create_table(
        "live_service",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("account_tg_id", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("heartbeat_at", sa.BigInteger(), nullable=False),
        sa.Column("stopped_at", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_live_service")),
    )
    op.create_table(
        "live_bot_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tg_id", sa.BigInteger(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("about", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("commands_json", sa.Text(), nullable=True),
        sa.Column("blob_sha256", sa.String(length=64), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("captured_at", sa.BigInteger(), nullable=False),
        sa.Column("case_ref", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["blob_sha256"], ["blobs.sha256"], name=op.f("fk_live_bot_profiles_blob_sha256_blobs")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_live_bot_profiles_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_bot_profiles")),
    )
    with op.batch_alter_table("live_bot_profiles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_live_bot_profiles_tg_id"), ["tg_id"], unique=False)

    op.create_table(
        "live_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=255), nullable=False),
        sa.Column("ref_kind", sa.String(length=16), nullable=False),
        sa.Column("join_allowed", sa.Boolean(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=True),
        sa.Column("chat_id", sa.Integer(), nullable=True),
        sa.Column("peer_kind", sa.String(length=16), nullable=True),
        sa.Column("tg_id", sa.BigInteger(), nullable=True),
        sa.Column("access_hash", sa.BigInteger(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("backfill_done", sa.Boolean(), nullable=False),
        sa.Column("last_message_id", sa.BigInteger(), nullable=True),
        sa.Column("last_message_at", sa.BigInteger(), nullable=True),
        sa.Column("last_capture_at", sa.BigInteger(), nullable=True),
        sa.Column("messages_captured", sa.BigInteger(), nullable=False),
        sa.Column("versions_captured", sa.BigInteger(), nullable=False),
        sa.Column("files_captured", sa.BigInteger(), nullable=False),
        sa.Column("gone_messages", sa.BigInteger(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.BigInteger(), nullable=True),
        sa.Column("wait_until", sa.BigInteger(), nullable=True),
        sa.Column("added_at", sa.BigInteger(), nullable=False),
        sa.Column("added_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name=op.f("fk_live_targets_chat_id_chats")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_targets")),
        sa.UniqueConstraint("ref", name=op.f("uq_live_targets_ref")),
    )
    with op.batch_alter_table("live_targets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_live_targets_chat_id"), ["chat_id"], unique=False)
        batch_op.create_index("ix_live_targets_peer", ["peer_kind", "tg_id"], unique=False)

    op.create_table(
        "live_gone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("chat_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("message_pk", sa.Integer(), nullable=True),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("detail_json", sa.Text(), nullable=True),
        sa.Column("custody_seq", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["chat_id"], ["chats.id"], name=op.f("fk_live_gone_chat_id_chats")),
        sa.ForeignKeyConstraint(
            ["message_pk"], ["messages.id"], name=op.f("fk_live_gone_message_pk_messages")
        ),
        sa.ForeignKeyConstraint(
            ["target_id"], ["live_targets.id"], name=op.f("fk_live_gone_target_id_live_targets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_gone")),
    )
    with op.batch_alter_table("live_gone", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_live_gone_at"), ["at"], unique=False)
        batch_op.create_index("ix_live_gone_chat_message", ["chat_id", "message_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_live_gone_message_pk"), ["message_pk"], unique=False)
        batch_op.create_index(batch_op.f("ix_live_gone_target_id"), ["target_id"], unique=False)


def downgrade() -> None:
    op.drop_table("live_gone")
    op.drop_table("live_targets")
    op.drop_table("live_bot_profiles")
    op.drop_table("live_service")
    op.drop_table("live_names")
    op.drop_table("live_accounts")
