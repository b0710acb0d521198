"""``benzokit worker`` and the e-mail and scheduler options it shares with ``benzokit serve``.

Every option can come from the environment (``BENZOKIT_SMTP_HOST`` …); the SMTP password only from
``BENZOKIT_SMTP_PASSWORD`` (a command line is visible to every user of the machine).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from benzokit._disclaimer import DISCLAIMER
from benzokit.cli.context import knowledge
from benzokit.cli.errors import guarded
from benzokit.cli.render import console
from benzokit.errors import InputError
from benzokit.store import DEFAULT_URL

if TYPE_CHECKING:
    from benzokit.service.mailer import SmtpSettings
    from benzokit.service.scheduler import Jobs
    from benzokit.service.unit import Unit

SmtpHostOption = Annotated[
    str | None,
    typer.Option(
        "--smtp-host",
        envvar="BENZOKIT_SMTP_HOST",
        help="SMTP server for e-mail reminders and alerts (none: e-mail is off).",
        rich_help_panel="E-mail",
    ),
]
SmtpPortOption = Annotated[
    int | None,
    typer.Option(
        "--smtp-port",
        envvar="BENZOKIT_SMTP_PORT",
        help="SMTP port (default 587 for starttls, 465 for tls, 25 for none).",
        rich_help_panel="E-mail",
    ),
]
SmtpSecurityOption = Annotated[
    str,
    typer.Option(
        "--smtp-security",
        envvar="BENZOKIT_SMTP_SECURITY",
        help="starttls (default), tls (SMTPS) or none (a local relay only).",
        rich_help_panel="E-mail",
    ),
]
SmtpSenderOption = Annotated[
    str | None,
    typer.Option(
        "--smtp-sender",
        envvar="BENZOKIT_SMTP_SENDER",
        help="The From address, e.g. clinic@example.org.",
        rich_help_panel="E-mail",
    ),
]
SmtpUserOption = Annotated[
    str | None,
    typer.Option(
        "--smtp-username",
        envvar="BENZOKIT_SMTP_USERNAME",
        help="SMTP sign-in name; its password comes from BENZOKIT_SMTP_PASSWORD.",
        rich_help_panel="E-mail",
    ),
]
PublicUrlOption = Annotated[
    str | None,
    typer.Option(
        "--public-url",
        envvar="BENZOKIT_PUBLIC_URL",
        help="The address people open (for the sign-in link in e-mails); serve's default: the "
        "served one; needed by a worker that sends e-mail.",
        rich_help_panel="E-mail",
    ),
]
EveryOption = Annotated[
    int,
    typer.Option(
        "--every",
        help="Seconds between scheduled runs (alerts, reminders).",
        min=5,
        max=3600,
        rich_help_panel="Scheduler",
    ),
]
CatchUpOption = Annotated[
    int,
    typer.Option(
        "--catch-up-minutes",
        help="Reminders missed while nothing ran are still sent within this many minutes.",
        min=1,
        max=24 * 60,
        rich_help_panel="Scheduler",
    ),
]


@dataclass(frozen=True, slots=True)
class MailOptions:
    host: str | None
    port: int | None
    security: str
    sender: str | None
    username: str | None
    password: str | None

    def settings(self) -> SmtpSettings | None:
        """Checked SMTP settings, or None when no host is given (then no other option may be)."""
        from benzokit.service.mailer import SmtpSettings

        if self.host is None:
            stray = [
                name
                for name, value in (
                    ("--smtp-port", self.port),
                    ("--smtp-sender", self.sender),
                    ("--smtp-username", self.username),
                )
                if value is not None
            ]
            if stray:
                raise InputError(
                    "--smtp-host", None, f"the SMTP server, needed when {stray[0]} is given"
                )
            return None
        return SmtpSettings.create(
            host=self.host,
            sender=self.sender,
            port=self.port,
            security=self.security,
            username=self.username,
            password=self.password,
        )


def mail_options(
    host: str | None,
    port: int | None,
    security: str,
    sender: str | None,
    username: str | None,
) -> MailOptions:
    import os

    password = os.environ.get("BENZOKIT_SMTP_PASSWORD") or None
    return MailOptions(host, port, security, sender, username, password)


def build_jobs(
    unit: Unit, smtp: SmtpSettings | None, public_url: str, catch_up_minutes: int
) -> Jobs:
    from datetime import timedelta

    from benzokit.service.mailer import SmtpMailer
    from benzokit.service.scheduler import Jobs

    outbox = SmtpMailer(smtp) if smtp is not None else None
    return Jobs(unit, outbox, base_url=public_url, catch_up=timedelta(minutes=catch_up_minutes))


def checked_public_url(url: str | None, *, needed: bool, served: str | None = None) -> str:
    """The address in e-mails: ``url`` if it is an http(s) address; else the served one (``serve``).
    A worker that sends e-mail has no served address, so there it is ``needed``."""
    allowed = "the address people open, such as https://clinic.example.org/"
    if url is None:
        if served is not None:
            return served
        if needed:
            raise InputError("--public-url", None, f"{allowed} (for the link in e-mails)")
        return "http://127.0.0.1:8000/"
    if not re.match(r"^https?://[^\s/?#]+(/[^\s?#]*)?$", url.strip()):
        raise InputError("--public-url", url, allowed)
    return url.strip() if url.strip().endswith("/") else url.strip() + "/"


def describe_mail(smtp: SmtpSettings | None) -> str:
    if smtp is None:
        return "e-mail reminders and alerts are off (no --smtp-host); the scheduler still writes alerts"
    return f"e-mail on: {smtp.describe()}"


def worker_command(
    database: Annotated[
        str,
        typer.Option(
            "--database",
            help="sqlite:///file.db (default) or postgresql+psycopg://user@host/db.",
        ),
    ] = DEFAULT_URL,
    timezone: Annotated[
        str, typer.Option("--timezone", help="The clinic's IANA time zone (doses are local).")
    ] = "UTC",
    smtp_host: SmtpHostOption = None,
    smtp_port: SmtpPortOption = None,
    smtp_security: SmtpSecurityOption = "starttls",
    smtp_sender: SmtpSenderOption = None,
    smtp_username: SmtpUserOption = None,
    public_url: PublicUrlOption = None,
    every: EveryOption = 60,
    catch_up_minutes: CatchUpOption = 120,
    once: Annotated[
        bool, typer.Option("--once", help="One run now, then exit (for cron or a check).")
    ] = False,
) -> None:
    """Run the scheduled jobs apart from the web service: day-based alerts, reminders and alert
    e-mails (start serve with --no-scheduler; several workers on PostgreSQL run each job once)."""
    from datetime import timedelta

    from benzokit.service.scheduler import ClinicScheduler
    from benzokit.service.unit import Unit
    from benzokit.store.db import Database

    smtp = guarded(
        lambda: mail_options(
            smtp_host, smtp_port, smtp_security, smtp_sender, smtp_username
        ).settings()
    )
    url = guarded(lambda: checked_public_url(public_url, needed=smtp is not None))
    unit = guarded(lambda: Unit(Database(database), timezone=timezone, knowledge=knowledge()))
    jobs = build_jobs(unit, smtp, url, catch_up_minutes)
    console.print(describe_mail(smtp), soft_wrap=True)
    if once:
        report = guarded(jobs.run)
        console.print(
            f"run at {report.at.isoformat(timespec='seconds')}: "
            + (
                "skipped (another worker holds the lock)"
                if report.skipped
                else f"{report.alerts_written} alerts written, {report.sent_total} e-mails sent,"
                f" {report.failed} failed"
            ),
            soft_wrap=True,
        )
        return
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    console.print(f"scheduler: a run every {every} s; stop with Ctrl+C", soft_wrap=True)
    console.print(DISCLAIMER, style="dim", soft_wrap=True)
    scheduler = ClinicScheduler(jobs, every=timedelta(seconds=every), blocking=True)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown()
