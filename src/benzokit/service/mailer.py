"""E-mail through an SMTP server (the standard library's ``smtplib``): settings checked up front, and
the words of every e-mail the service sends.

No e-mail carries clinical detail: no drug, dose, score or alert text, not even the patient's name in
a clinician's e-mail; only that there is something to look at, and to sign in. Mail can be read by
whoever reaches a mailbox; the service is where the record is.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from enum import StrEnum
from typing import Protocol

from benzokit.errors import BenzokitError, InputError

EMAIL = re.compile(r"^[^@\s<>\"',;]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
EMAIL_ALLOWED = "an e-mail address such as name@example.org"
MAX_EMAIL = 254


class SmtpSecurity(StrEnum):
    NONE = "none"  # plain SMTP (a relay on the same machine or private network)
    STARTTLS = "starttls"  # plain connection upgraded with STARTTLS (usually port 587)
    TLS = "tls"  # TLS from the first byte (SMTPS, usually port 465)


class MailError(BenzokitError):
    """The SMTP server could not be reached or refused the message (it is tried again later)."""


def check_email(field: str, value: str) -> str:
    """``value`` if it is an e-mail address; otherwise an :class:`InputError` naming ``field``."""
    address = value.strip()
    if len(address) > MAX_EMAIL or not EMAIL.match(address) or ".." in address:
        raise InputError(field, value, EMAIL_ALLOWED)
    return address


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """Where and how the service sends e-mail. ``timeout_s``: seconds to wait for the server."""

    host: str
    sender: str
    port: int = 587
    security: SmtpSecurity = SmtpSecurity.STARTTLS
    username: str | None = None
    password: str | None = None
    timeout_s: float = 30.0

    @classmethod
    def create(
        cls,
        *,
        host: str,
        sender: str | None,
        port: int | None = None,
        security: str = "starttls",
        username: str | None = None,
        password: str | None = None,
        timeout_s: float = 30.0,
    ) -> SmtpSettings:
        """Checked settings; each problem is an :class:`InputError` naming its option."""
        if not host.strip() or any(c.isspace() for c in host.strip()):
            raise InputError("smtp_host", host, "a host name or address such as mail.example.org")
        try:
            mode = SmtpSecurity(security.strip().lower())
        except ValueError as error:
            allowed = "one of " + ", ".join(m.value for m in SmtpSecurity)
            raise InputError("smtp_security", security, allowed) from error
        chosen_port = port if port is not None else _DEFAULT_PORTS[mode]
        if not 1 <= chosen_port <= 65535:
            raise InputError("smtp_port", chosen_port, "a port number from 1 to 65535")
        if sender is None or not sender.strip():
            raise InputError("smtp_sender", sender, f"the sender's address: {EMAIL_ALLOWED}")
        if (username is None) != (password is None):
            missing = "smtp_password" if password is None else "smtp_username"
            raise InputError(
                missing, None, "SMTP sign-in needs both a user name and a password, or neither"
            )
        if mode is SmtpSecurity.NONE and username is not None:
            raise InputError(
                "smtp_security", security, "starttls or tls when a password is sent to the server"
            )
        if timeout_s <= 0:
            raise InputError("smtp_timeout", timeout_s, "a number of seconds above 0")
        return cls(
            host=host.strip(),
            sender=check_email("smtp_sender", sender),
            port=chosen_port,
            security=mode,
            username=username,
            password=password,
            timeout_s=timeout_s,
        )

    def describe(self) -> str:
        """Where mail goes, without the password."""
        who = f"{self.username}@" if self.username else ""
        return f"smtp {who}{self.host}:{self.port} ({self.security}), from {self.sender}"


_DEFAULT_PORTS = {SmtpSecurity.NONE: 25, SmtpSecurity.STARTTLS: 587, SmtpSecurity.TLS: 465}


@dataclass(frozen=True, slots=True)
class Mail:
    to: str
    subject: str
    body: str


class Outbox(Protocol):
    """Something that sends mail (the SMTP mailer; a test may count instead)."""

    def send(self, mail: Mail) -> None: ...


class SmtpMailer:
    """Sends each mail on its own connection (the jobs send few, minutes apart)."""

    def __init__(
        self, settings: SmtpSettings, *, tls_context: ssl.SSLContext | None = None
    ) -> None:
        self.settings = settings
        self._tls = tls_context or ssl.create_default_context()

    def send(self, mail: Mail) -> None:
        message = EmailMessage()
        message["From"] = self.settings.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self.settings.sender.rpartition("@")[2])
        message.set_content(mail.body)
        try:
            with self._connect() as smtp:
                if self.settings.username is not None and self.settings.password is not None:
                    smtp.login(self.settings.username, self.settings.password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            raise MailError(
                f"e-mail to the SMTP server {self.settings.host} failed: {error}"
            ) from error

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.security is SmtpSecurity.TLS:
            return smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_s, context=self._tls)
        smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
        if s.security is SmtpSecurity.STARTTLS:
            smtp.starttls(context=self._tls)
        return smtp


# ----------------------------------------------------------------------------- the words

SIGN_IN = "Sign in to benzokit to see it: {url}"
FOOTER = (
    "\n\nThis message holds no medical details on purpose. You chose to receive it; change or stop "
    "these e-mails on the Notifications page of your account: {url}account/notifications"
)


def dose_reminder(to: str, local_time: str, url: str) -> Mail:
    return Mail(
        to,
        f"Reminder: your {local_time} dose",
        f"It is time for the dose you planned at {local_time}. After taking it, record it in "
        f"benzokit.\n\n{SIGN_IN.format(url=url)}{FOOTER.format(url=url)}",
    )


def checkin_reminder(to: str, url: str) -> Mail:
    return Mail(
        to,
        "Reminder: your check-in",
        "It is time for your check-in: a few questions on how you are.\n\n"
        f"{SIGN_IN.format(url=url)}{FOOTER.format(url=url)}",
    )


def urgent_alert(to: str, url: str) -> Mail:
    return Mail(
        to,
        "benzokit: you have a new urgent alert",
        f"You have a new alert; sign in.\n\n{SIGN_IN.format(url=url)}{FOOTER.format(url=url)}",
    )


def daily_digest(to: str, open_alerts: int, url: str) -> Mail:
    """Sent only when ``open_alerts`` > 0; the number is not said (it hints at patients' states)."""
    return Mail(
        to,
        "benzokit: daily summary",
        "You have alerts that are not yet acknowledged; sign in to review them.\n\n"
        f"{SIGN_IN.format(url=url)}{FOOTER.format(url=url)}",
    )
