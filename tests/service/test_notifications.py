"""Reminders and alerts that reach out: the scheduler's jobs against a real SMTP server (aiosmtpd on
127.0.0.1), with the clock set by the test (nothing sleeps); e-mail settings, the private calendar
feed and the handout PDF through the API and the pages.

``T0`` is 2026-03-10 12:00 UTC; Europe/Berlin is then UTC+1, so a 20:00 reminder falls due at 19:00 UTC.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator
from datetime import timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from service_support import T0, Clock, Signed, World, build_world, csrf_of_page, field_names
from sqlalchemy import text

from benzokit.errors import InputError
from benzokit.monitor.alerts import load_alert_rules
from benzokit.service import mailer
from benzokit.service.mailer import MailError, SmtpMailer, SmtpSettings
from benzokit.service.scheduler import ClinicScheduler, Jobs, Kind
from benzokit.service.unit import Unit
from benzokit.store.db import Database
from smtp_support import Credentials, SmtpServer, self_signed_certificate, smtp_server

ALEX_MAIL = "alex@example.org"
RIVERA_MAIL = "rivera@example.org"
# what no e-mail may contain: drug, dose, scores, the patient's name, the alert's words
CLINICAL = re.compile(r"clonazepam|\bmg\b|score|GAD|PHQ|seizure|Alex|Morgan|Sam Lee", re.I)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def any_world(request: pytest.FixtureRequest, world: World, clock: Clock) -> Iterator[World]:
    """The clinic on SQLite (the ``world`` fixture) or on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield world
        return
    built = build_world(request.getfixturevalue("fresh_postgres_url"), clock)
    try:
        yield built
    finally:
        built.close()


def body_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def opt_in(signed: Signed, **settings: Any) -> dict[str, Any]:
    response = signed.client.put("/api/v1/me/notifications", json=settings, headers=signed.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def jobs_of(world: World, smtp: SmtpServer | None) -> Jobs:
    return Jobs(
        world.clinic.unit,
        smtp.mailer() if smtp else None,
        base_url="https://clinic.example.org/",
    )


def sent_rows(world: World) -> list[tuple[str, str]]:
    with world.clinic.db.engine.connect() as connection:
        rows = connection.execute(text("SELECT kind, slot FROM sent_notifications ORDER BY id"))
        return [(r[0], r[1]) for r in rows]


# ----------------------------------------------------------------------------- reminders


def test_a_reminder_arrives_at_its_time_and_a_restart_does_not_send_it_twice(
    any_world: World, clock: Clock, smtp: SmtpServer
) -> None:
    world = any_world
    opt_in(
        world.sign_in("alex"),
        email=ALEX_MAIL,
        timezone="Europe/Berlin",
        dose_reminder_times=["20:00"],
        checkin_reminder_time="21:30",
    )
    jobs = jobs_of(world, smtp)
    clock.now = T0.replace(hour=18, minute=59)  # 19:59 in Berlin: not yet
    assert jobs.run().sent_total == 0
    assert smtp.inbox.messages == []

    clock.now = T0.replace(hour=19, minute=0)  # 20:00 in Berlin
    report = jobs.run()
    assert report.sent == {Kind.DOSE: 1}
    (reminder,) = smtp.inbox.to(ALEX_MAIL)
    assert reminder["Subject"] == "Reminder: your 20:00 dose"
    assert reminder["From"] == "clinic@example.org"
    body = body_of(reminder)
    assert "https://clinic.example.org/" in body and "sign in" in body.lower()
    assert not CLINICAL.search(body + reminder["Subject"])

    assert jobs.run().sent_total == 0  # the next run: nothing again
    # a restart: a new process (new engine, new jobs) on the same database
    restarted_db = Database(world.clinic.db.url)
    try:
        restarted = Jobs(Unit(restarted_db, clock=clock), smtp.mailer())
        clock.advance(timedelta(minutes=1))
        assert restarted.run().sent_total == 0
        assert len(smtp.inbox.to(ALEX_MAIL)) == 1
        clock.now = T0.replace(hour=20, minute=30)  # 21:30 in Berlin: the check-in reminder
        assert restarted.run().sent == {Kind.CHECKIN: 1}
    finally:
        restarted_db.dispose()
    assert [m["Subject"] for m in smtp.inbox.to(ALEX_MAIL)] == [
        "Reminder: your 20:00 dose",
        "Reminder: your check-in",
    ]
    assert sent_rows(world) == [
        (Kind.DOSE, "2026-03-10T20:00:00+01:00"),
        (Kind.CHECKIN, "2026-03-10T21:30:00+01:00"),
    ]


def test_a_missed_run_catches_up_within_the_window_only(
    world: World, clock: Clock, smtp: SmtpServer
) -> None:
    opt_in(
        world.sign_in("alex"),
        email=ALEX_MAIL,
        timezone="UTC",
        dose_reminder_times=["13:00", "15:00"],
    )
    jobs = jobs_of(world, smtp)  # catch-up: two hours
    clock.now = T0.replace(hour=16, minute=30)  # down from 12:00 to 16:30
    report = jobs.run()
    # 15:00 is 1.5 h late: still sent; 13:00 is 3.5 h late: dropped (a stale dose reminder misleads)
    assert report.sent == {Kind.DOSE: 1}
    assert [m["Subject"] for m in smtp.inbox.to(ALEX_MAIL)] == ["Reminder: your 15:00 dose"]
    clock.advance(timedelta(days=1))  # the next day, 16:30: again only the one within the window
    assert jobs.run().sent == {Kind.DOSE: 1}


def test_no_reminder_falls_due_before_it_was_asked_for(
    world: World, clock: Clock, smtp: SmtpServer
) -> None:
    """Opting in at 12:00 for an 11:30 reminder sends nothing today (it is not a catch-up)."""
    opt_in(world.sign_in("alex"), email=ALEX_MAIL, timezone="UTC", dose_reminder_times=["11:30"])
    assert jobs_of(world, smtp).run().sent_total == 0
    clock.advance(timedelta(days=1))
    assert jobs_of(world, smtp).run().sent == {Kind.DOSE: 1}


def test_opting_out_stops_the_reminders(world: World, clock: Clock, smtp: SmtpServer) -> None:
    alex = world.sign_in("alex")
    opt_in(alex, email=ALEX_MAIL, timezone="UTC", dose_reminder_times=["13:00"])
    assert alex.client.delete("/api/v1/me/notifications", headers=alex.headers).status_code == 204
    assert alex.get("/api/v1/me/notifications").json() == {"enabled": False, "settings": None}
    clock.now = T0.replace(hour=13)
    assert jobs_of(world, smtp).run().sent_total == 0


def test_a_failed_send_is_tried_again_by_the_next_run(world: World, clock: Clock) -> None:
    opt_in(world.sign_in("alex"), email=ALEX_MAIL, timezone="UTC", dose_reminder_times=["13:00"])
    clock.now = T0.replace(hour=13)
    with smtp_server() as server:
        port = server.port
    # the server is gone: the send fails, its claim is given back
    down = SmtpSettings.create(
        host="127.0.0.1", sender="clinic@example.org", port=port, security="none", timeout_s=2
    )
    report = Jobs(world.clinic.unit, SmtpMailer(down)).run()
    assert report.failed == 1 and report.sent_total == 0 and sent_rows(world) == []
    with smtp_server() as server:
        clock.advance(timedelta(minutes=1))
        assert jobs_of(world, server).run().sent == {Kind.DOSE: 1}
        assert len(server.inbox.to(ALEX_MAIL)) == 1


# ----------------------------------------------------------------------------- the clinician


def test_urgent_alerts_at_once_and_a_daily_digest_without_clinical_detail(
    world: World, clock: Clock, smtp: SmtpServer
) -> None:
    opt_in(
        world.sign_in("dr.rivera"),
        email=RIVERA_MAIL,
        timezone="Europe/London",
        urgent_alerts=True,
        digest_time="08:00",
    )
    jobs = jobs_of(world, smtp)
    assert jobs.run().sent_total == 0  # nothing new yet
    alex, alex_id = world.sign_in("alex"), world.patients["alex"]
    clock.advance(timedelta(minutes=5))
    checkin = alex.post(f"/api/v1/patients/{alex_id}/checkins", {"seizures": 1})
    assert checkin.status_code == 201 and checkin.json()["alerts"], checkin.text
    assert jobs.run().sent == {Kind.URGENT: 1}
    (urgent,) = smtp.inbox.to(RIVERA_MAIL)
    assert "You have a new alert; sign in." in body_of(urgent)
    assert not CLINICAL.search(body_of(urgent) + urgent["Subject"])
    assert jobs.run().sent_total == 0

    clock.now = (T0 + timedelta(days=1)).replace(hour=8, minute=0)  # 08:00 in London (UTC+0)
    report = jobs.run()
    assert report.sent.get(Kind.DIGEST) == 1
    digest = smtp.inbox.to(RIVERA_MAIL)[-1]
    assert digest["Subject"] == "benzokit: daily summary"
    assert not CLINICAL.search(body_of(digest))
    assert jobs.run().sent_total == 0
    assert smtp.inbox.to("dr.other@example.org") == []


# ----------------------------------------------------------------------------- alerts on time


def test_the_scheduler_writes_the_day_based_alerts_on_time_without_email(
    world: World, clock: Clock
) -> None:
    """No SMTP: e-mail is off, and a run still writes the no-check-in alert when it falls due."""
    jobs = jobs_of(world, None)
    assert jobs.run().alerts_written == 0
    clock.advance(timedelta(days=load_alert_rules().no_checkin.days.value + 1))
    report = jobs.run()
    assert report.alerts_written >= 1 and report.sent == {}
    with world.clinic.db.engine.connect() as connection:
        quiet = connection.execute(
            text("SELECT key FROM alerts WHERE patient_id = :p AND code = 'MON-NO-CHECKIN'"),
            {"p": world.patients["sam"]},
        ).all()
        audited = connection.scalar(
            text("SELECT count(*) FROM audit_log WHERE what = 'scheduled alerts'")
        )
    assert len(quiet) == 1 and audited
    assert jobs.run().alerts_written == 0  # never doubled
    # a read now shows the stored alert (with its id), once
    rivera, sam = world.sign_in("dr.rivera"), world.patients["sam"]
    shown = rivera.get(f"/api/v1/patients/{sam}/alerts").json()["alerts"]
    assert [a["key"] for a in shown if a["code"] == "MON-NO-CHECKIN"] == [quiet[0][0]]
    assert all(a["id"] is not None for a in shown)


def test_the_background_scheduler_runs_the_jobs(world: World, clock: Clock) -> None:
    """APScheduler runs the first run at start (the jobs read the test's clock)."""
    clock.advance(timedelta(days=load_alert_rules().no_checkin.days.value + 1))
    runs: list[int] = []

    class Counted(Jobs):
        def run(self) -> Any:
            report = super().run()
            runs.append(report.alerts_written)
            return report

    scheduler = ClinicScheduler(Counted(world.clinic.unit), every=timedelta(seconds=30))
    scheduler.start()
    try:
        import time

        deadline = time.monotonic() + 20
        while not runs and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.shutdown()
    assert runs and runs[0] >= 1


# ----------------------------------------------------------------------------- bad settings


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"dose_reminder_times": ["25:00"]}, "dose_reminder_times"),
        ({"checkin_reminder_time": "7pm"}, "checkin_reminder_time"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"email": "not-an-address"}, "email"),
        ({"digest_time": "08:00"}, "digest_time"),  # a clinician's setting, not a patient's
    ],
)
def test_bad_settings_name_the_field_and_write_nothing(
    world: World, settings: dict[str, Any], field: str
) -> None:
    alex = world.sign_in("alex")
    body = {"email": ALEX_MAIL, "timezone": "UTC", "dose_reminder_times": ["08:00"], **settings}
    response = alex.client.put("/api/v1/me/notifications", json=body, headers=alex.headers)
    assert response.status_code == 422, response.text
    assert any(f.split(".")[-1] == field or field in f for f in field_names(response))
    assert alex.get("/api/v1/me/notifications").json()["enabled"] is False


def test_the_page_saves_the_settings_and_refuses_a_bad_time_naming_it(world: World) -> None:
    alex = world.sign_in("alex")
    page = alex.get("/account/notifications")
    assert page.status_code == 200 and "E-mail (off)" in page.text
    csrf = csrf_of_page(page.text)
    bad = alex.client.post(
        "/account/notifications",
        data={
            "csrf_token": csrf,
            "email": ALEX_MAIL,
            "timezone": "Europe/Berlin",
            "dose_reminder_times": "08:00, 25:00",
        },
    )
    assert bad.status_code == 422
    assert "dose reminder times" in bad.text and "Nothing was saved" in bad.text
    assert f'value="{ALEX_MAIL}"' in bad.text and 'value="08:00, 25:00"' in bad.text  # kept
    assert alex.get("/api/v1/me/notifications").json()["enabled"] is False
    good = alex.client.post(
        "/account/notifications",
        data={
            "csrf_token": csrf,
            "email": ALEX_MAIL,
            "timezone": "Europe/Berlin",
            "dose_reminder_times": "20:00, 08:00",
            "checkin_reminder_time": "",
        },
    )
    assert good.status_code == 303
    saved = alex.get("/api/v1/me/notifications").json()["settings"]
    assert saved["dose_reminder_times"] == ["08:00", "20:00"]
    assert saved["checkin_reminder_time"] is None and saved["timezone"] == "Europe/Berlin"


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_mail_goes_through_tls_with_a_password(tmp_path: Path, security: str) -> None:
    """STARTTLS (587-style) and TLS from the first byte (SMTPS), each with an SMTP sign-in; the
    certificate is checked (the test's own authority)."""
    certificate = self_signed_certificate(tmp_path)
    credentials = Credentials("clinic", "s3cret-pass")
    with smtp_server(security=security, certificate=certificate, credentials=credentials) as srv:
        settings = SmtpSettings.create(
            host="127.0.0.1",
            sender="clinic@example.org",
            port=srv.port,
            security=security,
            username="clinic",
            password="s3cret-pass",
            timeout_s=10,
        )
        trust = ssl.create_default_context(cafile=str(certificate[0]))
        SmtpMailer(settings, tls_context=trust).send(mailer.checkin_reminder(ALEX_MAIL, "x/"))
        assert [m["Subject"] for m in srv.inbox.to(ALEX_MAIL)] == ["Reminder: your check-in"]
        assert credentials.seen and credentials.seen[-1].endswith(":ok")
        wrong = SmtpSettings.create(**{**_fields(settings), "password": "wrong", "timeout_s": 2})
        with pytest.raises(MailError, match=r"127\.0\.0\.1"):
            SmtpMailer(wrong, tls_context=trust).send(mailer.checkin_reminder(ALEX_MAIL, "x/"))
        # an unknown authority is refused: no mail goes to a server that cannot prove who it is
        with pytest.raises(MailError):
            SmtpMailer(settings).send(mailer.checkin_reminder(ALEX_MAIL, "x/"))
    assert len(srv.inbox.messages) == 1


def _fields(settings: SmtpSettings) -> dict[str, Any]:
    return {
        "host": settings.host,
        "sender": settings.sender,
        "port": settings.port,
        "security": str(settings.security),
        "username": settings.username,
        "password": settings.password,
        "timeout_s": settings.timeout_s,
    }


def test_smtp_settings_are_checked_naming_the_setting() -> None:
    def field_of(**options: Any) -> str:
        values = {"host": "mail.example.org", "sender": "clinic@example.org", **options}
        with pytest.raises(InputError) as raised:
            SmtpSettings.create(**values)
        return raised.value.field

    assert field_of(port=0) == "smtp_port"
    assert field_of(port=70000) == "smtp_port"
    assert field_of(security="ssl") == "smtp_security"
    assert field_of(sender=None) == "smtp_sender"
    assert field_of(sender="clinic at example") == "smtp_sender"
    assert field_of(host="") == "smtp_host"
    assert field_of(username="clinic") == "smtp_password"
    assert field_of(password="secret") == "smtp_username"
    assert field_of(security="none", username="u", password="p") == "smtp_security"
    ok = SmtpSettings.create(host="mail.example.org", sender="clinic@example.org", security="tls")
    assert ok.port == 465 and "secret" not in ok.describe()


# ----------------------------------------------------------------------------- calendar, handout


def test_the_private_calendar_feed_needs_no_session_and_can_be_revoked(world: World) -> None:
    alex, alex_id = world.sign_in("alex"), world.patients["alex"]
    made = alex.post(f"/api/v1/patients/{alex_id}/calendar-feed")
    assert made.status_code == 201, made.text
    url = made.json()["url"]
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    anonymous = world.client()
    feed = anonymous.get(url)
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    assert "BEGIN:VEVENT" in feed.text and "mg" in feed.text
    with world.clinic.db.engine.connect() as connection:
        stored = connection.execute(text("SELECT token_hash FROM calendar_feeds")).scalars().all()
    assert stored and token not in stored  # kept hashed
    # the clinician of another patient may not make one; a new one ends the old one
    other = world.sign_in("dr.other").post(f"/api/v1/patients/{alex_id}/calendar-feed")
    assert other.status_code == 404
    again = world.sign_in("dr.rivera").post(f"/api/v1/patients/{alex_id}/calendar-feed")
    assert again.status_code == 201
    assert anonymous.get(url).status_code == 404
    assert anonymous.get(again.json()["url"]).status_code == 200
    revoked = alex.client.delete(f"/api/v1/patients/{alex_id}/calendar-feed", headers=alex.headers)
    assert revoked.status_code == 204
    assert anonymous.get(again.json()["url"]).status_code == 404
    assert anonymous.get("/calendar/not-a-token.ics").status_code == 404


def test_the_handout_pdf_for_the_patient_and_their_clinician_only(world: World) -> None:
    alex_id = world.patients["alex"]
    for who in ("alex", "dr.rivera"):
        signed = world.sign_in(who)
        for url in (f"/patients/{alex_id}/handout.pdf", f"/api/v1/patients/{alex_id}/handout.pdf"):
            response = signed.get(url)
            assert response.status_code == 200, (who, url, response.text)
            assert response.headers["content-type"] == "application/pdf"
            assert response.content.startswith(b"%PDF")
    for who in ("sam", "dr.other", "admin"):
        response = world.sign_in(who).get(f"/api/v1/patients/{alex_id}/handout.pdf")
        assert response.status_code in (403, 404), who
    assert world.client().get(f"/api/v1/patients/{alex_id}/handout.pdf").status_code == 401
    page = world.sign_in("alex").get("/me").text
    assert f'href="/patients/{alex_id}/handout.pdf"' in page


# ----------------------------------------------------------------------------- PostgreSQL


def test_two_workers_on_postgresql_send_once(fresh_postgres_url: str, smtp: SmtpServer) -> None:
    clock = Clock()
    world = build_world(fresh_postgres_url, clock)
    second_db = Database(fresh_postgres_url)
    try:
        opt_in(
            world.sign_in("alex"), email=ALEX_MAIL, timezone="UTC", dose_reminder_times=["13:00"]
        )
        clock.now = T0.replace(hour=13)
        first = jobs_of(world, smtp)
        second = Jobs(Unit(second_db, clock=clock), smtp.mailer())
        # while one worker runs (holds the lock), the other's run is skipped
        with first._lock() as held:
            assert held
            assert second.run().skipped
        # both at once, from two threads: the reminder is sent once
        import threading

        reports: list[Any] = []
        threads = [
            threading.Thread(target=lambda j=j: reports.append(j.run())) for j in (first, second)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sum(r.sent_total for r in reports) == 1
        assert len(smtp.inbox.to(ALEX_MAIL)) == 1
        assert second.run().sent_total == 0 and first.run().sent_total == 0
    finally:
        second_db.dispose()
        world.close()


def test_the_feed_moves_the_dose_changes_by_the_days_paused(world: World, clock: Clock) -> None:
    """Three days paused: every dose change still to come moves three days later in the feed."""
    from icalendar import Calendar

    alex_id, rivera = world.patients["alex"], world.sign_in("dr.rivera")
    url = rivera.post(f"/api/v1/patients/{alex_id}/calendar-feed").json()["url"]

    def changes() -> list[Any]:
        feed = Calendar.from_ical(world.client().get(url).content)
        return sorted(e.decoded("dtstart") for e in feed.walk("VEVENT"))

    before = changes()
    paused = rivera.post(f"/api/v1/patients/{alex_id}/plan/pause", {"reason": "a hard week"})
    assert paused.status_code == 200, paused.text
    clock.advance(timedelta(days=3))
    rivera = world.sign_in("dr.rivera")
    resumed = rivera.post(f"/api/v1/patients/{alex_id}/plan/resume", {"reason": "better"})
    assert resumed.status_code == 200, resumed.text
    after = changes()
    paused_on, today = T0.date(), world.clinic.today()
    to_come = [d for d in before if d > paused_on]
    assert to_come and [d + timedelta(days=3) for d in to_come] == [d for d in after if d > today]


def test_in_the_web_process_an_urgent_alert_is_emailed_at_once(
    world: World, clock: Clock, smtp: SmtpServer
) -> None:
    """The regular run is an hour away: the urgent alert's commit wakes the scheduler."""
    import time

    opt_in(world.sign_in("dr.rivera"), email=RIVERA_MAIL, timezone="UTC", urgent_alerts=True)
    clock.advance(timedelta(minutes=1))
    runs: list[int] = []

    class Counted(Jobs):
        def run(self) -> Any:
            report = super().run()
            runs.append(report.sent_total)
            return report

    jobs = Counted(world.clinic.unit, smtp.mailer(), base_url="https://clinic.example.org/")
    scheduler = ClinicScheduler(jobs, every=timedelta(hours=1))
    scheduler.start()
    try:
        deadline = time.monotonic() + 20
        while not runs and time.monotonic() < deadline:  # the first run, at start, is over
            time.sleep(0.05)
        assert runs == [0]
        alex, alex_id = world.sign_in("alex"), world.patients["alex"]
        sent = alex.post(f"/api/v1/patients/{alex_id}/checkins", {"seizures": 1})
        assert sent.status_code == 201, sent.text
        deadline = time.monotonic() + 20
        while not smtp.inbox.to(RIVERA_MAIL) and time.monotonic() < deadline:
            time.sleep(0.05)  # polling the mailbox
    finally:
        scheduler.shutdown()
    assert [m["Subject"] for m in smtp.inbox.to(RIVERA_MAIL)] == [
        "benzokit: you have a new urgent alert"
    ]
    assert runs[:2] == [0, 1]  # the second run came from the wake, not the hourly interval
