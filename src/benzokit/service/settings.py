"""How the service runs: database, time zone, cookies and login limits (no clinical figures here)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

from benzokit.errors import InputError
from benzokit.service.signin import SignInLimits
from benzokit.service.unit import Clock, utc_now
from benzokit.store import DEFAULT_URL

PHONE = re.compile(r"\+?[0-9][0-9 -]{1,19}")


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    database_url: str = DEFAULT_URL
    timezone: str = "UTC"
    # A session ends after session_idle without a request, and in any case session_lifetime after
    # sign-in (README: "Sessions"): shorter than the 12 h between two doses, so a phone left signed in
    # after the morning dose is signed out by the evening one.
    session_lifetime: timedelta = timedelta(hours=8)
    session_idle: timedelta = timedelta(minutes=30)
    secure_cookies: bool = False  # set True behind HTTPS
    login_failures_allowed: int = 5  # failed sign-ins per username ...
    login_failures_per_client: int = 50  # ... or from one address (a clinic behind one NAT) ...
    login_window: timedelta = timedelta(minutes=15)  # ... within this window, then 429
    max_body_bytes: int = 64 * 1024
    clock: Clock = field(default=utc_now)
    clinic_phone: str | None = (
        None  # the clinic's own number, as dialled (a tel: link on the pages)
    )
    clinic_hours: str = ""  # when that number is answered, in the clinic's words

    def __post_init__(self) -> None:
        if not timedelta(minutes=1) <= self.session_idle <= self.session_lifetime:
            raise InputError(
                "session_idle",
                str(self.session_idle),
                f"at least a minute and no longer than session_lifetime ({self.session_lifetime})",
            )
        if self.clinic_phone is not None and not PHONE.fullmatch(self.clinic_phone):
            raise InputError(
                "clinic_phone", self.clinic_phone, "a phone number of digits, spaces, '-', '+'"
            )

    def sign_in_limits(self) -> SignInLimits:
        return SignInLimits(
            session_lifetime=self.session_lifetime,
            session_idle=self.session_idle,
            failures_per_username=self.login_failures_allowed,
            failures_per_client=self.login_failures_per_client,
            window=self.login_window,
        )
