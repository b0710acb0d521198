"""notifications: e-mail settings, sent notifications (the scheduler's idempotency key), calendar feeds

Revision ID: 0003_notify
Revises: 0002
Create Date: 2026-12-07 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import benzokit.store.tables

revision = "0003_notify"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification_settings",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("dose_reminder_times", sa.JSON(), nullable=False),
        sa.Column("checkin_reminder_time", sa.String(length=5), nullable=True),
        sa.Column("urgent_alerts", sa.Boolean(), nullable=False),
        sa.Column("digest_time", sa.String(length=5), nullable=True),
        sa.Column("updated_at", benzokit.store.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notification_settings_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notification_settings")),
    )
    op.create_table(
        "sent_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("slot", sa.String(length=64), nullable=False),
        sa.Column("sent_at", benzokit.store.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sent_notifications_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sent_notifications")),
        sa.UniqueConstraint("user_id", "kind", "slot", name="uq_sent_notifications_user_kind_slot"),
    )
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", benzokit.store.tables.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", benzokit.store.tables.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_calendar_feeds_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_calendar_feeds_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feeds_token_hash")),
    )
    with op.batch_alter_table("calendar_feeds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_calendar_feeds_patient_id"), ["patient_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("calendar_feeds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_feeds_patient_id"))
    op.drop_table("calendar_feeds")
    op.drop_table("sent_notifications")
    op.drop_table("notification_settings")
