"""Reading the audit log (administrators only; the reading is itself audited)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from benzokit.service.access import require_role
from benzokit.service.clinic import Clinic
from benzokit.store.accounts import Account, Role
from benzokit.store.tables import AuditRow, User

MAX_ENTRIES = 500


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    username: str | None
    role: str
    action: str
    what: str
    patient_id: int | None
    detail: str


def audit_entries(
    clinic: Clinic, actor: Account, *, patient_id: int | None = None, limit: int = 200
) -> list[AuditEntry]:
    """The newest ``limit`` entries (at most :data:`MAX_ENTRIES`), of one patient's record or all."""
    require_role(actor, Role.ADMIN)
    query = (
        select(AuditRow, User.username)
        .outerjoin(User, AuditRow.user_id == User.id)
        .order_by(AuditRow.id.desc())
        .limit(max(1, min(limit, MAX_ENTRIES)))
    )
    if patient_id is not None:
        query = query.where(AuditRow.patient_id == patient_id)
    with clinic.db.transaction() as session:
        entries = [
            AuditEntry(row.at, username, row.role, row.action, row.what, row.patient_id, row.detail)
            for row, username in session.execute(query)
        ]
        clinic.audit(
            session,
            actor,
            "read",
            "audit log",
            None,
            detail=f"patient {patient_id}" if patient_id else "all",
        )
    return entries
