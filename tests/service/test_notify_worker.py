"""``benzokit worker``: its e-mail options checked with clear errors, and one run (``--once``) that
sends a due reminder to a real SMTP server once (the command reads the real clock, so the reminder
is set half an hour ago, within the catch-up window)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from benzokit.cli.app import app
from benzokit.service.clinic import Clinic
from benzokit.service.demo import seed_demo
from benzokit.service.unit import Unit
from benzokit.store import notifications
from benzokit.store.accounts import find_account
from benzokit.store.db import Database
from smtp_support import SENDER, smtp_server


def worker(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["worker", *args], env=env)
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return result.exit_code, " ".join(result.output.split())


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (
            ["--smtp-host", "mail.example.org", "--smtp-sender", SENDER, "--smtp-security", "ssl"],
            None,
            "--smtp-security",
        ),
        (["--smtp-port", "2525"], None, "--smtp-host"),
        (["--smtp-host", "mail.example.org"], None, "--smtp-sender"),
        (
            ["--smtp-host", "mail.example.org", "--smtp-sender", "clinic at example"],
            None,
            "--smtp-sender",
        ),
        (
            ["--smtp-host", "mail.example.org", "--smtp-sender", SENDER, "--smtp-port", "0"],
            None,
            "--smtp-port",
        ),
        (
            ["--smtp-host", "mail.example.org", "--smtp-sender", SENDER, "--smtp-username", "c"],
            {"BENZOKIT_SMTP_PASSWORD": ""},
            "BENZOKIT_SMTP_PASSWORD",
        ),
        (["--timezone", "Mars/Olympus"], None, "--timezone"),
        (["--smtp-host", "127.0.0.1", "--smtp-sender", SENDER], None, "--public-url"),
        (["--public-url", "clinic.example.org"], None, "--public-url"),
    ],
)
def test_bad_settings_are_clear_errors(
    tmp_path: Path, args: list[str], env: dict[str, str] | None, named: str
) -> None:
    database = f"sqlite:///{tmp_path / 'clinic.db'}"
    code, output = worker("--once", "--database", database, *args, env=env)
    assert code == 2, output
    assert named in output and "Traceback" not in output


def test_worker_once_without_smtp_writes_alerts_and_says_email_is_off(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'clinic.db'}"
    code, output = worker("--once", "--database", database)
    assert code == 0, output
    assert "e-mail reminders and alerts are off" in output
    assert "0 alerts written, 0 e-mails sent" in output


def test_worker_once_sends_a_due_reminder_once(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'clinic.db'}"
    now = datetime.now(UTC)
    db = Database(database)
    try:
        clinic = Clinic(Unit(db))
        assert seed_demo(clinic)
        due = (now - timedelta(minutes=30)).strftime("%H:%M")
        with db.transaction() as session:
            alex = find_account(session, "alex")
            assert alex is not None
            settings = notifications.NotificationSettings(
                alex.id, "alex@example.org", "UTC", dose_reminder_times=(due,)
            )
            notifications.save_settings(session, settings, now=now - timedelta(hours=1))
    finally:
        db.dispose()
    with smtp_server() as server:
        options = [
            "--once",
            "--database",
            database,
            "--smtp-host",
            "127.0.0.1",
            "--smtp-port",
            str(server.port),
            "--smtp-security",
            "none",
            "--smtp-sender",
            SENDER,
            "--public-url",
            "https://clinic.example.org",
        ]
        code, output = worker(*options)
        assert code == 0, output
        assert "e-mail on: smtp 127.0.0.1" in output and "1 e-mails sent" in output
        code, output = worker(*options)
        assert code == 0 and "0 e-mails sent" in output, output
        (reminder,) = server.inbox.to("alex@example.org")
        assert reminder["Subject"] == f"Reminder: your {due} dose"
        assert "https://clinic.example.org/" in str(reminder.get_payload())
