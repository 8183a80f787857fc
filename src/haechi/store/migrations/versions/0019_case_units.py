"""cases: each case belongs to a unit

Revision ID: 0019_case_units
Revises: 0015_cases_web
Create Date: 2026-12-06

On the cases branch (issue 18): ``cases.unit`` (NULL: the default, unnamed unit, which
every case opened before units existed keeps). Staff see the cases of their own unit
unless their account may see all units (``web_users.all_units``, migration 0018_units);
``haechi.cases.visibility`` enforces it in the services.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_case_units"
down_revision = "0015_cases_web"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_cases_unit"), ["unit"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_unit"))
        batch_op.drop_column("unit")
