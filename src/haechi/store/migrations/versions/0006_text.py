"""text intelligence: scans, findings, entities, room scores

Revision ID: 0006_text
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_text"
down_revision = "0002"
branch_labels = ("text",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "room_scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=48), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("flagged_messages", sa.Integer(), nullable=False),
        sa.Column("news_like_messages", sa.Integer(), nullable=False),
        sa.Column("discounted", sa.Boolean(), nullable=False),
        sa.Column("explanation_json", sa.Text(), nullable=False),
        sa.Column("computed_at", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name=op.f("fk_room_scores_chat_id_chats")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_scores")),
        sa.UniqueConstraint("chat_id", "version", name="uq_room_scores_chat_version"),
    )
    op.create_table(
        "text_entities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_pk", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=48), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("span_start", sa.Integer(), nullable=True),
        sa.Column("span_end", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("detail_json", sa.Text(), nullable=True),
        sa.Column("date_unix", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name=op.f("fk_text_entities_chat_id_chats")
        ),
        sa.ForeignKeyConstraint(
            ["message_pk"], ["messages.id"], name=op.f("fk_text_entities_message_pk_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_entities")),
    )
    with op.batch_alter_table("text_entities", schema=None) as batch_op:
        batch_op.create_index("ix_text_entities_chat_version", ["chat_id", "version"], unique=False)
        batch_op.create_index("ix_text_entities_kind_value", ["kind", "value"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_text_entities_message_pk"), ["message_pk"], unique=False
        )

    op.create_table(
        "text_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_pk", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=48), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("term_id", sa.String(length=96), nullable=False),
        sa.Column("category", sa.String(length=48), nullable=False),
        sa.Column("strength", sa.String(length=16), nullable=True),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=True),
        sa.Column("span_start", sa.Integer(), nullable=False),
        sa.Column("span_end", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Text(), nullable=False),
        sa.Column("news_like", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name=op.f("fk_text_findings_chat_id_chats")
        ),
        sa.ForeignKeyConstraint(
            ["message_pk"], ["messages.id"], name=op.f("fk_text_findings_message_pk_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_findings")),
    )
    with op.batch_alter_table("text_findings", schema=None) as batch_op:
        batch_op.create_index("ix_text_findings_chat_version", ["chat_id", "version"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_text_findings_message_pk"), ["message_pk"], unique=False
        )
        batch_op.create_index("ix_text_findings_term", ["term_id"], unique=False)

    op.create_table(
        "text_scans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_pk", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=48), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("entities", sa.Integer(), nullable=False),
        sa.Column("news_like", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_pk"], ["messages.id"], name=op.f("fk_text_scans_message_pk_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_scans")),
        sa.UniqueConstraint("message_pk", "version", name="uq_text_scans_message_version"),
    )


def downgrade() -> None:
    op.drop_table("text_scans")
    with op.batch_alter_table("text_findings", schema=None) as batch_op:
        batch_op.drop_index("ix_text_findings_term")
        batch_op.drop_index(batch_op.f("ix_text_findings_message_pk"))
        batch_op.drop_index("ix_text_findings_chat_version")

    op.drop_table("text_findings")
    with op.batch_alter_table("text_entities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_text_entities_message_pk"))
        batch_op.drop_index("ix_text_entities_kind_value")
        batch_op.drop_index("ix_text_entities_chat_version")

    op.drop_table("text_entities")
    op.drop_table("room_scores")
