"""``benzokit serve`` and ``benzokit admin``: run the monitoring service and manage its database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from benzokit._disclaimer import DISCLAIMER
from benzokit.cli.context import knowledge
from benzokit.cli.errors import guarded
from benzokit.cli.render import console
from benzokit.cli.worker import (
    CatchUpOption,
    EveryOption,
    PublicUrlOption,
    SmtpHostOption,
    SmtpPortOption,
    SmtpSecurityOption,
    SmtpSenderOption,
    SmtpUserOption,
    build_jobs,
    checked_public_url,
    describe_mail,
    mail_options,
)
from benzokit.errors import InputError
from benzokit.store import DEFAULT_URL

if TYPE_CHECKING:
    from pydantic import BaseModel

    from benzokit.service.clinic import Clinic
    from benzokit.store.accounts import Account

M = TypeVar("M", bound="BaseModel")
T = TypeVar("T")

DatabaseOption = Annotated[
    str,
    typer.Option(
        "--database", help="sqlite:///file.db (default) or postgresql+psycopg://user@host/db."
    ),
]
TimezoneOption = Annotated[
    str, typer.Option("--timezone", help="The clinic's IANA time zone (doses are local).")
]


def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    database: DatabaseOption = DEFAULT_URL,
    timezone: TimezoneOption = "UTC",
    demo: Annotated[
        bool | None,
        typer.Option(
            "--demo/--no-demo",
            help="Create the demo clinic in an empty database (default: on with the default database).",
        ),
    ] = None,
    secure_cookies: Annotated[
        bool, typer.Option(help="Mark cookies Secure (serve behind HTTPS).")
    ] = False,
    scheduler: Annotated[
        bool,
        typer.Option(
            "--scheduler/--no-scheduler",
            help="Run the scheduled jobs (day-based alerts, reminders) in this process; "
            "--no-scheduler when `benzokit worker` runs them.",
            rich_help_panel="Scheduler",
        ),
    ] = True,
    smtp_host: SmtpHostOption = None,
    smtp_port: SmtpPortOption = None,
    smtp_security: SmtpSecurityOption = "starttls",
    smtp_sender: SmtpSenderOption = None,
    smtp_username: SmtpUserOption = None,
    public_url: PublicUrlOption = None,
    every: EveryOption = 60,
    catch_up_minutes: CatchUpOption = 120,
    clinic_phone: Annotated[
        str | None,
        typer.Option(help="The clinic's phone number, shown to patients as a tap-to-call link."),
    ] = None,
    clinic_hours: Annotated[
        str, typer.Option(help="When the clinic's phone is answered, e.g. 'Mon-Fri 09:00-17:00'.")
    ] = "",
    session_idle: Annotated[
        int,
        typer.Option(
            help="Minutes without a request after which a session ends (each request restarts them)."
        ),
    ] = 30,
    session_lifetime: Annotated[
        int, typer.Option(help="Hours after sign-in at which a session ends however active it is.")
    ] = 8,
    workers: Annotated[
        int,
        typer.Option(
            help="Web processes to serve with (PostgreSQL only; about one per core). "
            "The scheduler runs in the main process.",
        ),
    ] = 1,
) -> None:
    """Start the monitoring web service (patients check in; clinicians watch trends and steer tapers)."""
    import uvicorn

    from benzokit.cli.web_workers import checked_workers, run_workers
    from benzokit.service.app import create_app
    from benzokit.service.demo import (
        DEMO_CLINIC_HOURS,
        DEMO_CLINIC_PHONE,
        DEMO_LOGINS,
        seed_demo,
    )
    from benzokit.service.scheduler import ClinicScheduler
    from benzokit.service.settings import ServiceSettings

    guarded(lambda: checked_workers(workers, database))
    smtp = guarded(
        lambda: mail_options(
            smtp_host, smtp_port, smtp_security, smtp_sender, smtp_username
        ).settings()
    )
    url = f"http://{host}:{port}/"
    link = guarded(lambda: checked_public_url(public_url, needed=False, served=url))
    with_demo = demo if demo is not None else database == DEFAULT_URL
    if with_demo and clinic_phone is None:
        clinic_phone, clinic_hours = DEMO_CLINIC_PHONE, clinic_hours or DEMO_CLINIC_HOURS
    settings = guarded(
        lambda: ServiceSettings(
            database_url=database,
            timezone=timezone,
            secure_cookies=secure_cookies,
            clinic_phone=clinic_phone,
            clinic_hours=clinic_hours,
            session_idle=timedelta(minutes=session_idle),
            session_lifetime=timedelta(hours=session_lifetime),
        )
    )
    app = guarded(lambda: create_app(settings, knowledge=knowledge()))
    seeded = guarded(lambda: seed_demo(app.state.clinic)) if with_demo else False
    console.rule("benzokit monitoring service")
    console.print(
        f"Open [bold]{url}[/] (API docs: {url}api/docs) · database: {_safe(database)}",
        soft_wrap=True,
    )
    console.print(f"knowledge base {_knowledge_in_use()}", soft_wrap=True)
    if workers > 1:
        console.print(f"{workers} web processes", soft_wrap=True)
    if with_demo:
        console.print(
            "Demo clinic " + ("created" if seeded else "already in this database") + "; sign in as:"
        )
        for login in DEMO_LOGINS:
            console.print(
                f"  {login.role:<10} {login.username:<10} password {login.password:<20} {login.who}",
                soft_wrap=True,
            )
    running = None
    if scheduler:
        jobs = build_jobs(app.state.clinic.unit, smtp, link, catch_up_minutes)
        running = ClinicScheduler(jobs, every=timedelta(seconds=every))
        where = "in this process" if workers == 1 else "in the main process (not woken at once"
        where += "" if workers == 1 else " by the web processes' urgent alerts)"
        console.print(f"scheduler: {where}, a run every {every} s; " + describe_mail(smtp))
    else:
        console.print("scheduler: off here (run `benzokit worker` for alerts and reminders)")
    console.print(DISCLAIMER, style="dim", soft_wrap=True)
    if running is not None:
        running.start()
    try:
        if workers > 1:
            run_workers(settings, knowledge().overlay, host=host, port=port, workers=workers)
        else:
            uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        if running is not None:
            running.shutdown()


def _knowledge_in_use() -> str:
    chosen = knowledge()
    where = f"(overlay {chosen.overlay})" if chosen.overlay else "(the shipped files)"
    return f"{chosen.version} {where}"


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


admin_app = typer.Typer(
    help=f"Accounts, migrations, backup and restore of the service database.\n\n{DISCLAIMER}",
    no_args_is_help=True,
)


def _clinic(database: str) -> Clinic:
    from benzokit.service.clinic import Clinic
    from benzokit.service.unit import Unit
    from benzokit.store.db import Database

    return Clinic(Unit(guarded(lambda: Database(database)), knowledge=knowledge()))


UsernameOption = Annotated[str, typer.Option(help="Login name.")]
PasswordOption = Annotated[
    str,
    typer.Option(
        prompt=True, hide_input=True, confirmation_prompt=True, help="At least 10 characters."
    ),
]


@admin_app.command("migrate")
def migrate_command(database: DatabaseOption = DEFAULT_URL) -> None:
    """Bring the database schema to the newest version (serve does this too)."""
    from benzokit.store.db import head_revision

    _clinic(database)
    console.print(f"database at schema revision {head_revision()}")


@admin_app.command("create-admin")
def create_admin_command(
    username: UsernameOption,
    name: Annotated[str, typer.Option(help="Name shown in the service.")],
    password: PasswordOption,
    database: DatabaseOption = DEFAULT_URL,
) -> None:
    """Create an administrator account."""
    _create_account(
        "administrator", database, lambda c: c.enrolment.create_admin(username, password, name)
    )


@admin_app.command("create-clinician")
def create_clinician_command(
    username: UsernameOption,
    name: Annotated[str, typer.Option(help="Name shown to patients and in the audit log.")],
    password: PasswordOption,
    database: DatabaseOption = DEFAULT_URL,
) -> None:
    """Create a clinician account."""
    from benzokit.service import schemas
    from benzokit.service.enrol import SYSTEM

    def create(clinic: Clinic) -> Account:
        form = _form(schemas.NewClinician, username=username, password=password, display_name=name)
        return clinic.enrolment.create_clinician(SYSTEM, form)

    _create_account("clinician", database, create)


def _create_account(what: str, database: str, create: Callable[[Clinic], Account]) -> None:
    """Create an account in ``database`` (a clear message, no traceback, when it cannot be)."""
    clinic = _clinic(database)
    account = guarded(lambda: create(clinic))
    console.print(f"{what} {account.username} created")


@admin_app.command("create-patient")
def create_patient_command(
    username: UsernameOption,
    name: Annotated[str, typer.Option(help="Name shown to the clinician.")],
    clinician: Annotated[str, typer.Option(help="The clinician's username.")],
    regimen: Annotated[str, typer.Option("--from", help="Current dose, e.g. '1 mg bid'.")],
    start: Annotated[str, typer.Option(help="First day of the taper, YYYY-MM-DD.")],
    password: PasswordOption,
    drug: Annotated[str, typer.Option(help="Drug name.")] = "clonazepam",
    strategy: Annotated[str, typer.Option(help="Taper strategy.")] = "guideline",
    indication: Annotated[str | None, typer.Option(help="panic or seizure.")] = None,
    birth_year: Annotated[int | None, typer.Option(help="Year of birth (for age checks).")] = None,
    weight: Annotated[float | None, typer.Option("--weight-kg", help="Body weight, kg.")] = None,
    database: DatabaseOption = DEFAULT_URL,
) -> None:
    """Enrol a patient with their first taper plan (checked for safety)."""
    from benzokit.service import schemas
    from benzokit.service.enrol import SYSTEM

    clinic = _clinic(database)
    form = guarded(
        lambda: _form(
            schemas.NewPatient,
            username=username,
            password=password,
            display_name=name,
            clinician=clinician,
            drug=drug,
            indication=indication,
            birth_year=birth_year,
            weight_kg=weight,
            current_regimen=regimen,
            strategy=strategy,
            start_date=_date(start),
        )
    )
    summary, findings = guarded(lambda: clinic.enrolment.create_patient(SYSTEM, form))
    console.print(f"patient {summary.display_name} enrolled (record {summary.id})")
    for finding in findings:
        console.print(f"  [{finding.severity}] {finding.message}", soft_wrap=True)


@admin_app.command("backup")
def backup_command(
    out: Annotated[Path, typer.Argument(help="The backup file to write (JSON).")],
    database: DatabaseOption = DEFAULT_URL,
) -> None:
    """Write the whole database to one file (atomically)."""
    from benzokit.store.backup import write_backup

    clinic = _clinic(database)
    counts = guarded(lambda: write_backup(clinic.db, out))
    console.print(f"backup written to {out}: {_counts_text(counts)}", soft_wrap=True)


@admin_app.command("restore")
def restore_command(
    backup: Annotated[Path, typer.Argument(help="A file written by 'benzokit admin backup'.")],
    database: DatabaseOption = DEFAULT_URL,
) -> None:
    """Restore a backup into an empty database (all of it, or nothing)."""
    from benzokit.store.backup import restore

    clinic = _clinic(database)
    counts = guarded(lambda: restore(clinic.db, backup))
    console.print(f"restored: {_counts_text(counts)}", soft_wrap=True)


@admin_app.command("import-scale")
def import_scale_command(
    file: Annotated[Path, typer.Argument(help="A licensed scale file, named scale_<id>.toml.")],
    into: Annotated[
        Path | None,
        typer.Option(
            help="The clinic's knowledge overlay folder (default: the one of --knowledge)."
        ),
    ] = None,
) -> None:
    """Validate a scale file and add it to the clinic's knowledge overlay (nothing written if bad)."""
    from benzokit.monitor.scale_import import import_scale

    folder = into or knowledge().overlay
    if folder is None:
        guarded(_no_folder)
        return
    loaded = guarded(lambda: import_scale(file, folder))
    for key, scale in loaded.scales.items():
        console.print(
            f"scale {key} ({scale.name}, {len(scale.items)} items, licence {scale.licence.status}) "
            f"imported into {folder / file.name}",
            soft_wrap=True,
        )
    console.print(f"serve it with: benzokit --knowledge {folder} serve", soft_wrap=True)


def _no_folder() -> None:
    raise InputError("--into", None, "the clinic's knowledge overlay folder (or --knowledge DIR)")


def _counts_text(counts: dict[str, int]) -> str:
    """Rows per table, e.g. ``3 users, 2 patients``."""
    return ", ".join(f"{n} {table}" for table, n in counts.items())


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise InputError("--start", text, "a date as YYYY-MM-DD") from error


def _form(model: type[M], **values: object) -> M:
    from benzokit.service.schemas import parse

    parsed: M = parse(model, {k: v for k, v in values.items() if v is not None})
    return parsed
