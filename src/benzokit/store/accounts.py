"""Accounts, password hashes (argon2id), login sessions and login attempts: values out, never rows.

A session token is random and given to the browser only; the database keeps its SHA-256, so a copy of
the database does not let anyone log in. Each session has its own CSRF token.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Table, bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from benzokit.errors import InputError
from benzokit.store.db import core_connection as _connection
from benzokit.store.tables import LoginAttemptRow, SessionRow, User

_hasher = PasswordHasher()
MIN_PASSWORD = 10
USERNAME_ALLOWED = "3 to 64 characters: lower-case letters, digits, '.', '-' or '_'"


class Role(StrEnum):
    PATIENT = "patient"
    CLINICIAN = "clinician"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    username: str
    role: Role
    display_name: str


def _account(user: User) -> Account:
    return Account(user.id, user.username, Role(user.role), user.display_name)


def normal_username(username: str) -> str:
    name = username.strip().lower()
    if not 3 <= len(name) <= 64 or not all(c.isalnum() or c in ".-_" for c in name):
        raise InputError("username", username, USERNAME_ALLOWED)
    return name


def create_user(
    session: Session,
    username: str,
    password: str,
    *,
    role: Role,
    display_name: str,
    now: datetime,
) -> Account:
    """A new account; a taken username or a short password is an :class:`InputError`."""
    name = normal_username(username)
    if len(password) < MIN_PASSWORD:
        raise InputError("password", "(hidden)", f"at least {MIN_PASSWORD} characters")
    if not display_name.strip():
        raise InputError("display_name", display_name, "a name to show, not empty")
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise InputError("username", name, "a username nobody has yet")
    user = User(
        username=name,
        password_hash=_hasher.hash(password),
        role=str(Role(role)),
        display_name=display_name.strip(),
        active=True,
        created_at=now,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as error:
        raise InputError("username", name, "a username nobody has yet") from error
    return _account(user)


def verify_password(session: Session, username: str, password: str) -> Account | None:
    """The account when ``password`` is right, else None (same work whether or not the user exists)."""
    try:
        name = normal_username(username)
    except InputError:
        return None
    user = session.scalar(select(User).where(User.username == name, User.active.is_(True)))
    stored = user.password_hash if user else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return _account(user)


_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def _key(username: str) -> str:
    """A username as the attempt log keeps it: lower case, printable, at most 64 characters."""
    return "".join(c for c in username.strip().lower() if c.isprintable())[:64]


def record_attempt(session: Session, username: str, client: str, now: datetime, ok: bool) -> None:
    session.add(LoginAttemptRow(username=_key(username), client=client[:64], at=now, succeeded=ok))


@dataclass(frozen=True, slots=True)
class Failures:
    """Failed sign-ins in the window: for one username, and from one client address."""

    by_username: int
    by_client: int


def recent_failures(session: Session, username: str, client: str, since: datetime) -> Failures:
    """Failed sign-ins since ``since`` for this username, and from this client."""

    def count(*where: Any) -> int:
        query = select(func.count()).where(
            LoginAttemptRow.at >= since, LoginAttemptRow.succeeded.is_(False), *where
        )
        return int(session.scalar(query) or 0)

    return Failures(
        count(LoginAttemptRow.username == _key(username)), count(LoginAttemptRow.client == client)
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(
    session: Session, account: Account, now: datetime, lifetime: timedelta
) -> tuple[str, str]:
    """A new login session: (token for the cookie, CSRF token). Expired sessions are removed."""
    session.execute(delete(SessionRow).where(SessionRow.expires_at <= now))
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(
        SessionRow(
            token_hash=_digest(token),
            user_id=account.id,
            csrf_token=csrf,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token, csrf


@dataclass(frozen=True, slots=True)
class LoginSession:
    """A live session: its account, CSRF token, when it was opened and when it ends (UTC)."""

    account: Account
    csrf_token: str
    created_at: datetime
    expires_at: datetime


_SESSIONS = cast(Table, SessionRow.__table__)
_USERS = cast(Table, User.__table__)
# the session and its account in one statement, built once (asked on every request)
_SESSION_BY_HASH = (
    select(
        _SESSIONS.c.created_at,
        _SESSIONS.c.expires_at,
        _SESSIONS.c.csrf_token,
        _USERS.c.id,
        _USERS.c.username,
        _USERS.c.role,
        _USERS.c.display_name,
        _USERS.c.active,
    )
    .join(_USERS, _USERS.c.id == _SESSIONS.c.user_id)
    .where(_SESSIONS.c.token_hash == bindparam("token_hash"))
)


def find_session(session: Session, token: str, now: datetime) -> LoginSession | None:
    found = _connection(session).execute(_SESSION_BY_HASH, {"token_hash": _digest(token)}).first()
    if found is None or found.expires_at <= now or not found.active:
        return None
    account = Account(found.id, found.username, Role(found.role), found.display_name)
    return LoginSession(account, found.csrf_token, found.created_at, found.expires_at)


def extend_session(session: Session, token: str, expires_at: datetime) -> None:
    """Move the end of the session ``token`` to ``expires_at`` (an idle timeout sliding on)."""
    session.execute(
        update(SessionRow)
        .where(SessionRow.token_hash == _digest(token))
        .values(expires_at=expires_at)
    )


def close_session(session: Session, token: str) -> None:
    session.execute(delete(SessionRow).where(SessionRow.token_hash == _digest(token)))


def change_password(
    session: Session, account: Account, current: str, new: str, *, keep_session: str
) -> None:
    """Set a new password after checking the current one; every other session of the user ends."""
    if verify_password(session, account.username, current) is None:
        raise InputError("current_password", "(hidden)", "your current password")
    if len(new) < MIN_PASSWORD:
        raise InputError("new_password", "(hidden)", f"at least {MIN_PASSWORD} characters")
    if new == current:
        raise InputError("new_password", "(hidden)", "a password different from the current one")
    user = session.get(User, account.id)
    assert user is not None
    user.password_hash = _hasher.hash(new)
    session.execute(
        delete(SessionRow).where(
            SessionRow.user_id == account.id, SessionRow.token_hash != _digest(keep_session)
        )
    )


def find_account(session: Session, username: str) -> Account | None:
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    return None if user is None else _account(user)


def clinicians(session: Session) -> list[Account]:
    """Every clinician account, by username."""
    users = session.scalars(
        select(User).where(User.role == str(Role.CLINICIAN)).order_by(User.username)
    )
    return [_account(u) for u in users]


def has_accounts(session: Session) -> bool:
    """Whether any account exists (the demo clinic is made only in an empty database)."""
    return bool(session.scalar(select(func.count()).select_from(User)))
