"""a plan version names the pacing policy that paces it (``fixed``: every step on its planned day)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plan_versions") as batch:
        batch.add_column(
            sa.Column("policy", sa.String(length=64), nullable=False, server_default="fixed")
        )


def downgrade() -> None:
    with op.batch_alter_table("plan_versions") as batch:
        batch.drop_column("policy")
