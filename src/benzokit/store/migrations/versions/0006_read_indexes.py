"""check-ins indexed by patient and time: a patient's latest check-in is one index probe

The clinician's patient list asks when each patient last checked in, and a new check-in reads the
patient's latest ones: with an index on the patient alone, both read every check-in of the patient
(a year is hundreds). The index on (patient_id, recorded_at) replaces the one on patient_id (its
first column serves every lookup by patient).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08 01:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_checkins_patient_recorded", "checkins", ["patient_id", "recorded_at"])
    op.drop_index("ix_checkins_patient_id", table_name="checkins")


def downgrade() -> None:
    op.create_index("ix_checkins_patient_id", "checkins", ["patient_id"])
    op.drop_index("ix_checkins_patient_recorded", table_name="checkins")
