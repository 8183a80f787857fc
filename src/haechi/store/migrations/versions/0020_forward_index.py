"""graph: a room's forward sources read from an index of its forwarded messages

Revision ID: 0020_forward_index
Revises: 0002
Create Date: 2026-12-06

The network map's node page loads a room's forward sources after itself; they were
counted by reading every message of the room (about 50,000 in a large one: 0.15 s alone,
1.6 s at p95 under the web benchmark's load). A partial index on (chat_id,
forwarded_from) over forwarded messages only answers the count from the index (50x
faster on 1M rows, measured), and costs an ingest only for the forwarded messages.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_forward_index"
down_revision = "0002"
branch_labels = ("graph",)
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_messages_chat_forward",
        "messages",
        ["chat_id", "forwarded_from"],
        unique=False,
        sqlite_where=sa.text("forwarded_from IS NOT NULL"),
        postgresql_where=sa.text("forwarded_from IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_messages_chat_forward", table_name="messages")
