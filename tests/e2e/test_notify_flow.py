"""Reminders and alerts in a real browser, against ``benzokit serve`` with its in-process scheduler and a
real SMTP server (aiosmtpd on 127.0.0.1), on SQLite and on PostgreSQL.

The clinician opts in to urgent-alert e-mails on the *Reminders* page; the patient's bad reminder time
(25:00) is refused naming the field and nothing is saved, a good one is saved; the patient makes a
private calendar link that opens without a session, and downloads the handout. A seizure reported by
the patient reaches the clinician's mailbox within a few scheduled runs (``--every 5``), without any
clinical detail. (That a reminder arrives at its time, and once, with the clock set by the test, is
``tests/service/test_notifications.py``.)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, expect
from test_monitor_flow import (
    DESKTOP,
    PASSWORDS,
    PHONE,
    browser_context,
    free_port,
    sign_in,
    stop,
    wait_until_serving,
)

from smtp_support import SENDER, SmtpServer, smtp_server

BENZOKIT = Path(sys.executable).parent / "benzokit"
MAIL_TIMEOUT_S = 60.0
RIVERA_MAIL = "rivera@example.org"
CLINICAL = re.compile(r"clonazepam|\bmg\b|seizure|Alex|Morgan", re.I)


@dataclass(frozen=True, slots=True)
class Clinic:
    url: str
    smtp: SmtpServer


@pytest.fixture(params=["sqlite", "postgresql"])
def clinic(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Clinic]:
    if request.param == "sqlite":
        database = f"sqlite:///{tmp_path / 'clinic.db'}"
    else:
        database = request.getfixturevalue("fresh_postgres_url")
    port = free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "COLUMNS": "200", "MPLBACKEND": "Agg"}
    with smtp_server() as smtp:
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    str(BENZOKIT),
                    "serve",
                    "--port",
                    str(port),
                    "--database",
                    database,
                    "--demo",
                    "--every",
                    "5",
                    "--smtp-host",
                    "127.0.0.1",
                    "--smtp-port",
                    str(smtp.port),
                    "--smtp-security",
                    "none",
                    "--smtp-sender",
                    SENDER,
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=tmp_path,
                env=env,
            )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_serving(process, url, log)
            yield Clinic(url, smtp)
        finally:
            stop(process)
    output = log.read_text()
    assert "Traceback" not in output, output
    assert "e-mail on: smtp 127.0.0.1" in " ".join(output.split())


def wait_for_mail(smtp: SmtpServer, address: str) -> Message:
    deadline = time.monotonic() + MAIL_TIMEOUT_S
    while time.monotonic() < deadline:
        received = smtp.inbox.to(address)
        if received:
            return received[0]
        time.sleep(0.2)  # polling the mailbox, not a sleep standing in for an assertion
    pytest.fail(f"no e-mail to {address} within {MAIL_TIMEOUT_S} s")


def test_reminders_calendar_handout_and_an_urgent_alert_by_email(
    browser: Browser, clinic: Clinic, tmp_path: Path
) -> None:
    base = clinic.url
    with browser_context(browser, DESKTOP, tmp_path / "fail-clinician") as context:
        page = context.new_page()
        sign_in(page, base, "dr.rivera")
        page.get_by_role("link", name="Reminders").click()
        expect(page.get_by_role("heading", name="Reminders and e-mail")).to_be_visible()
        page.get_by_label("E-mail address").fill(RIVERA_MAIL)
        page.get_by_label(re.compile("^Your time zone")).fill("Europe/Berlin")
        page.get_by_label(re.compile("urgent alert")).check()
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("status")).to_contain_text("Saved")

    with browser_context(browser, PHONE, tmp_path / "fail-patient") as context:
        page = context.new_page()
        sign_in(page, base, "alex")
        page.get_by_role("link", name="Reminders").first.click()
        page.get_by_label("E-mail address").fill("alex@example.org")
        page.get_by_label(re.compile("^Your time zone")).fill("UTC")
        page.get_by_label(re.compile("^Dose reminders at")).fill("08:00, 25:00")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("alert")).to_contain_text("dose reminder times")
        expect(page.get_by_role("alert")).to_contain_text("Nothing was saved")
        expect(page.get_by_role("heading", name="E-mail (off)")).to_be_visible()
        page.get_by_label(re.compile("^Dose reminders at")).fill("08:00, 20:00")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("heading", name="E-mail (on)")).to_be_visible()

        page.get_by_role("button", name="Make a calendar link").click()
        feed_url = page.locator("#feed-url").inner_text()
        feed = httpx.get(feed_url, timeout=10)  # no cookie: the token is the key
        assert feed.status_code == 200 and "BEGIN:VEVENT" in feed.text

        with page.expect_download() as download:
            page.get_by_role("link", name=re.compile("handout \\(PDF\\)")).first.click()
        pdf = Path(download.value.path())
        assert pdf.read_bytes().startswith(b"%PDF")

    # the patient reports a seizure (API); the clinician's mailbox gets "a new alert", nothing more
    with httpx.Client(base_url=base, timeout=10) as api:
        opened = api.post(
            "/api/v1/session", json={"username": "alex", "password": PASSWORDS["alex"]}
        )
        assert opened.status_code == 200, opened.text
        me = api.get("/api/v1/me").json()
        checkin = api.post(
            f"/api/v1/patients/{me['patient_id']}/checkins",
            json={"seizures": 1},
            headers={"X-CSRF-Token": opened.json()["csrf_token"]},
        )
        assert checkin.status_code == 201, checkin.text
    mail = wait_for_mail(clinic.smtp, RIVERA_MAIL)
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)
    body = payload.decode()
    assert "You have a new alert; sign in." in body
    assert not CLINICAL.search(body + str(mail["Subject"]))
