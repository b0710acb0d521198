"""Who may see and change what: the one place authorisation is decided.

A patient sees only their own record; a clinician only the patients assigned to them; an administrator
manages accounts and backups but reads no clinical record. A record the actor may not see is reported as
not found, so its existence is not disclosed.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from benzokit.errors import BenzokitError, InputError
from benzokit.store import records
from benzokit.store.accounts import Account, Role
from benzokit.store.records import PatientRecord

#: the largest id the database holds (its integer columns are 32-bit signed): ids are bounded to it
MAX_ID = 2**31 - 1


def require_id(field: str, ident: int) -> int:
    """``ident`` if it is an id the database can hold, else an :class:`InputError` naming ``field``."""
    if not 1 <= ident <= MAX_ID:
        raise InputError(field, ident, f"a record id from 1 to {MAX_ID}")
    return ident


class AccessError(BenzokitError):
    """The actor may not do this (HTTP 403), or may not know the record exists (HTTP 404)."""

    def __init__(self, message: str, *, status: int) -> None:
        self.status = status
        super().__init__(message)


def not_found(what: str, ident: object) -> AccessError:
    return AccessError(f"{what} {ident} is not among the records you can see", status=404)


def require_role(actor: Account, *roles: Role) -> None:
    if actor.role not in roles:
        allowed = " or ".join(str(r) for r in roles)
        raise AccessError(
            f"this needs a {allowed} account; you are signed in as a {actor.role}", status=403
        )


def can_see(actor: Account, record: PatientRecord) -> bool:
    if actor.role is Role.PATIENT:
        return record.user_id == actor.id
    if actor.role is Role.CLINICIAN:
        return record.clinician_id == actor.id
    return False


def patient_for(session: Session, actor: Account, patient_id: int) -> PatientRecord:
    """The patient's record, if ``actor`` may see it; otherwise a 404 :class:`AccessError`."""
    record = records.patient(session, patient_id) if 0 < patient_id <= MAX_ID else None
    if record is None or not can_see(actor, record):
        raise not_found("patient", patient_id)
    return record
