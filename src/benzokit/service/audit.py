"""The audit log's use cases: reading it (administrators only; the reading is itself audited) and the
row a refused request leaves.

Methods of :class:`AuditLog` in the one shape of :mod:`benzokit.service.unit`.
"""

from __future__ import annotations

from benzokit.service.access import require_id, require_role
from benzokit.service.unit import UseCases
from benzokit.store import records
from benzokit.store.accounts import Account, Role
from benzokit.store.records import AuditEntry

MAX_ENTRIES = 500


class AuditLog(UseCases):
    """Reading the audit log, and recording refusals."""

    def entries(
        self, actor: Account, *, patient_id: int | None = None, limit: int = 200
    ) -> list[AuditEntry]:
        """The newest ``limit`` entries (at most :data:`MAX_ENTRIES`), of one patient's record or all."""
        require_role(actor, Role.ADMIN)
        if patient_id is not None:
            require_id("patient_id", patient_id)
        with self.unit.transaction() as session:
            found = records.audit_entries(
                session, patient_id=patient_id, limit=max(1, min(limit, MAX_ENTRIES))
            )
            self.unit.audit(
                session,
                actor,
                "read",
                "audit log",
                None,
                detail=f"patient {patient_id}" if patient_id else "all",
            )
        return found

    def refusal(self, actor: Account | None, request: str, detail: str) -> None:
        """A refused request (``actor`` None: not signed in): who, what, the answer, in its own
        transaction (the refused one was rolled back)."""
        with self.unit.transaction() as session:
            self.unit.audit(session, actor, "denied", request[:64], None, detail=detail)
