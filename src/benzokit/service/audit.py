"""The audit log's use cases: reading it (administrators only; the reading is itself audited) and the
row a refused request leaves.

Methods of :class:`AuditLog` in the one shape of :mod:`benzokit.service.unit`.
"""

from __future__ import annotations

from benzokit.service.access import require_id, require_role
from benzokit.service.unit import UseCases
from benzokit.store import records
from benzokit.store.accounts import Account, Role
from benzokit.store.records import AuditEntry, AuditFilter

MAX_ENTRIES = 500


class AuditLog(UseCases):
    """Reading the audit log, and recording refusals."""

    def entries(
        self,
        actor: Account,
        *,
        patient_id: int | None = None,
        limit: int = 200,
        where: AuditFilter | None = None,
    ) -> list[AuditEntry]:
        """The newest ``limit`` entries (at most :data:`MAX_ENTRIES`) that pass the filter."""
        require_role(actor, Role.ADMIN)
        chosen = where or AuditFilter(patient_id=patient_id)
        if chosen.patient_id is not None:
            require_id("patient_id", chosen.patient_id)
        with self.unit.transaction() as session:
            found = records.audit_entries(
                session, limit=max(1, min(limit, MAX_ENTRIES)), where=chosen
            )
            self.unit.audit(session, actor, "read", "audit log", None, detail=_described(chosen))
        return found

    def refusal(self, actor: Account | None, request: str, detail: str) -> None:
        """A refused request (``actor`` None: not signed in): who, what, the answer, in its own
        transaction (the refused one was rolled back)."""
        with self.unit.transaction() as session:
            self.unit.audit(session, actor, "denied", request[:64], None, detail=detail)


def _described(where: AuditFilter) -> str:
    """The filter in words for the audit row of reading the log (``all`` without one)."""
    parts = [
        f"{name} {value}"
        for name, value in (
            ("patient", where.patient_id),
            ("user", where.username),
            ("action", where.action),
            ("since", where.since),
            ("until", where.until),
        )
        if value
    ]
    return ", ".join(parts) or "all"
