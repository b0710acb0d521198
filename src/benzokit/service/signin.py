"""Signing in and out, sessions and passwords: the account holder's use cases.

Methods of :class:`SignIn` in the one shape of :mod:`benzokit.service.unit` (the access check is the
password itself). Sign-in is limited per username and per client address (:class:`SignInLimits`); every
attempt is a login-attempt row, and a failed one is committed before the refusal is raised, so the limit
counts it. Opening and closing a session, and a password change, are audited (a failed sign-in is not:
its account is not known, and what was typed as a username is not copied into the audit log). The web
edge only sets and reads the cookie.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from benzokit.errors import BenzokitError, InputError
from benzokit.service.unit import Unit, UseCases
from benzokit.store import accounts
from benzokit.store.accounts import Account, LoginSession


class RateLimitError(BenzokitError):
    """Too many failed sign-ins (HTTP 429, with Retry-After)."""

    def __init__(self, retry_after_s: int) -> None:
        self.retry_after_s = retry_after_s
        minutes = math.ceil(retry_after_s / 60)
        super().__init__(f"too many failed sign-ins; try again in {minutes} minutes")


# A sliding session moves its end on at most this often: a page read does not write the session row
# on every request (a minute of idle time is the most it can lose).
SLIDE_STEP = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class SignInLimits:
    """How long a session lasts, and how many failed sign-ins are allowed in the window.

    A session ends after ``session_idle`` without a request (each request moves its end on), and in any
    case ``session_lifetime`` after sign-in (the absolute maximum); see ``ServiceSettings``."""

    session_lifetime: timedelta = timedelta(hours=8)
    session_idle: timedelta = timedelta(minutes=30)
    failures_per_username: int = 5
    failures_per_client: int = 50
    window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class OpenedSession:
    """A new session: the account, the token for the cookie and the session's CSRF token."""

    account: Account
    token: str
    csrf_token: str


class SignIn(UseCases):
    """Sessions and passwords."""

    def __init__(self, unit: Unit, limits: SignInLimits) -> None:
        super().__init__(unit)
        self.limits = limits

    def sign_in(self, username: str, password: str, client: str) -> OpenedSession:
        """Check the password under the rate limit and open a session."""
        now = self.unit.now()
        self._require_under_limit(username, client, per_client=True)
        with self.unit.transaction() as session:
            account = accounts.verify_password(session, username, password)
            accounts.record_attempt(session, username, client, now, account is not None)
            if account is not None:
                first_end = min(self.limits.session_idle, self.limits.session_lifetime)
                token, csrf = accounts.open_session(session, account, now, first_end)
                self.unit.audit(session, account, "write", "session", None, detail="signed in")
        if account is None:  # raised after the failed attempt is committed: the limit counts it
            raise InputError(
                "password", "(hidden)", "the username and password of an active account"
            )
        return OpenedSession(account, token, csrf)

    def session(self, token: str) -> LoginSession | None:
        """The signed-in account of a session token (None: unknown, idle too long or past its
        absolute end). A live session's end slides on to ``session_idle`` from now, never past
        ``session_lifetime`` from sign-in; written only when it moves by ``SLIDE_STEP`` or more.
        Asked on every request, so not audited: the use case the request makes is."""
        now = self.unit.now()
        with self.unit.db.single_read() as session:  # one statement: the session and its account
            found = accounts.find_session(session, token, now)
        if found is None:
            return None
        slid = min(now + self.limits.session_idle, found.created_at + self.limits.session_lifetime)
        if slid - found.expires_at >= SLIDE_STEP:
            with self.unit.transaction() as session:
                accounts.extend_session(session, token, slid)
        return found

    def sign_out(self, actor: Account, token: str) -> None:
        """End the session ``token`` of ``actor``."""
        with self.unit.transaction() as session:
            accounts.close_session(session, token)
            self.unit.audit(session, actor, "write", "session", None, detail="signed out")

    def change_password(
        self, actor: Account, token: str, current: str, new: str, client: str
    ) -> None:
        """The actor's new password; their other sessions end, this one (``token``) stays.

        A wrong current password counts as a failed sign-in (the same limit guards both).
        """
        now, name = self.unit.now(), actor.username
        self._require_under_limit(name, client, per_client=False)
        with self.unit.transaction() as session:
            right = accounts.verify_password(session, name, current) is not None
            if right:
                accounts.change_password(session, actor, current, new, keep_session=token)
            else:
                accounts.record_attempt(session, name, client, now, False)
            action, detail = ("write", "") if right else ("denied", "wrong current password")
            self.unit.audit(session, actor, action, "password", None, detail=detail)
        if not right:  # raised after the failed attempt is committed, as at sign-in
            raise InputError(
                "current_password", "(hidden)", "your current password (it did not match)"
            )

    def _require_under_limit(self, username: str, client: str, *, per_client: bool) -> None:
        limits = self.limits
        with self.unit.transaction() as session:
            failures = accounts.recent_failures(
                session, username, client, self.unit.now() - limits.window
            )
        if failures.by_username >= limits.failures_per_username or (
            per_client and failures.by_client >= limits.failures_per_client
        ):
            raise RateLimitError(int(limits.window.total_seconds()))
