"""web: staff belong to a unit; the PostgreSQL search document gets its date order

Revision ID: 0018_units
Revises: 0012_accounts
Create Date: 2026-12-06

On the web branch (issue 18, scale-out):

* ``web_users.unit`` names the unit a person works in (NULL: the default, unnamed unit);
  ``web_users.all_units`` lets a person see every unit's cases (supervisors, auditors).
  A case's own unit is on the cases branch (``0019_case_units``).
* ``message_search.doc``: the date-ordered document id FTS5 already uses, with a B-tree,
  so PostgreSQL answers "newest first" by walking it instead of sorting every match; the
  documents also gain Korean bigrams. The index is derived data: it is emptied here and
  rebuilt by the next ``search`` ingest hook or ``haechi serve``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_units"
down_revision = "0012_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("web_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("all_units", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index(batch_op.f("ix_web_users_unit"), ["unit"], unique=False)
    op.execute("DELETE FROM message_search")
    op.execute("DELETE FROM web_search_state WHERE name = 'messages'")
    with op.batch_alter_table("message_search", schema=None) as batch_op:
        batch_op.add_column(sa.Column("doc", sa.BigInteger(), nullable=False))
        batch_op.create_index("ix_message_search_doc", ["doc"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("message_search", schema=None) as batch_op:
        batch_op.drop_index("ix_message_search_doc")
        batch_op.drop_column("doc")
    with op.batch_alter_table("web_users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_users_unit"))
        batch_op.drop_column("all_units")
        batch_op.drop_column("unit")
