"""The clinician's patient page reads the record once: what it shows equals what the separate reads
return (today, alerts, adherence, trends, check-ins, the latest dose confirmations), and it is audited
with the same rows as those reads."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from service_support import World
from test_statement_counts import counted

from benzokit.monitor.records import CheckIn
from benzokit.store import records


def without_answers(checkins: list[CheckIn]) -> list[CheckIn]:
    """``checkins`` as the pages read them: every total and band, no item answers."""
    return [replace(c, scales=tuple(replace(s, answers=()) for s in c.scales)) for c in checkins]


def test_one_read_shows_what_the_separate_reads_return(world: World) -> None:
    clinic, alex = world.clinic, world.patients["alex"]
    rivera = world.accounts["dr.rivera"]
    for back in range(3):  # some history: check-ins and confirmed doses over a few days
        world.clock.set_day(clinic.today(), hour=23)  # every dose of the day has come
        patient = world.sign_in("alex")
        gad7 = {f"item{i}": back + 1 for i in range(1, 8)}
        response = patient.post(f"/api/v1/patients/{alex}/checkins", {"scales": {"gad7": gad7}})
        assert response.status_code == 201, response.text
        for time, drug, _ in world.doses_today("alex"):
            body = {"day": clinic.today().isoformat(), "time": time, "drug": drug}
            response = patient.post(f"/api/v1/patients/{alex}/doses", body | {"status": "taken"})
            assert response.status_code == 201, response.text
        world.clock.advance(timedelta(days=1))
    reading = clinic.reading

    page = reading.clinician_page(rivera, alex)

    assert page.course == reading.course(rivera, alex)
    assert page.today == reading.today_view(rivera, alex)
    assert page.alerts == reading.alerts(rivera, alex)
    assert page.adherence == reading.adherence_of(rivera, alex)
    assert page.trends == reading.trends(rivera, alex)
    assert page.checkins == without_answers(reading.checkin_history(rivera, alex))
    newest_first = list(reversed(records.latest_dose_logs(reading.dose_history(rivera, alex))))
    assert page.latest_doses == newest_first[:25] and page.doses_page == 1
    size = 4
    pages = -(-len(newest_first) // size)
    shown = [  # every page, and one asked past the end: the last is shown
        reading.clinician_page(rivera, alex, doses_page=n, page_size=size)
        for n in range(1, pages + 2)
    ]
    assert [d for p in shown[:pages] for d in p.latest_doses] == newest_first
    assert [p.doses_page for p in shown] == [*range(1, pages + 1), pages]
    assert {p.doses_pages for p in shown} == {pages} and shown[-1] == shown[-2]
    assert len(page.checkins) >= 3 and page.latest_doses


def test_the_page_is_audited_as_the_reads_it_replaces(world: World) -> None:
    alex = world.patients["alex"]
    clinician = world.sign_in("dr.rivera")
    with world.clinic.db.transaction() as session:
        before = len(records.audit_entries(session, patient_id=alex, limit=10_000))
    assert clinician.get(f"/clinic/patients/{alex}").status_code == 200
    with world.clinic.db.transaction() as session:
        entries = records.audit_entries(session, patient_id=alex, limit=10_000)
    new = entries[: len(entries) - before]
    assert sorted(e.what for e in new) == sorted(
        ["plan", "today", "alerts", "doses", "adherence", "trends", "checkins"]
    )
    assert {e.action for e in new} == {"read"}


def test_the_patients_history_page_reads_the_record_once(world: World) -> None:
    """The history page's trends and check-ins come from one read of the record (the check-ins
    table is read once, not twice), equal to the separate reads and audited as they were."""
    clinic, alex = world.clinic, world.patients["alex"]
    account = world.accounts["alex"]
    trends, checkins = clinic.reading.history(account, alex)
    assert trends == clinic.reading.trends(account, alex)
    assert checkins == without_answers(clinic.reading.checkin_history(account, alex)) and checkins
    patient = world.sign_in("alex")
    assert patient.get("/me/history").status_code == 200  # warm: the chart is drawn and kept
    with world.clinic.db.transaction() as session:
        before = len(records.audit_entries(session, patient_id=alex, limit=10_000))
    with counted(world) as statements:
        assert patient.get("/me/history").status_code == 200
    with world.clinic.db.transaction() as session:
        entries = records.audit_entries(session, patient_id=alex, limit=10_000)
    assert sorted(e.what for e in entries[: len(entries) - before]) == ["checkins", "trends"]
    reads = [s for s in statements if re.search(r"\bFROM checkins\b", s)]
    assert len(reads) == 1, reads


def test_an_alert_names_its_check_in_with_every_answer(world: World) -> None:
    """The page reads the year's check-ins without their item answers, and the check-ins its alerts
    name with them: the alert's details show each answer, as the full read has it."""
    clinic, alex = world.clinic, world.patients["alex"]
    rivera = world.accounts["dr.rivera"]
    patient = world.sign_in("alex")
    phq9 = {f"item{i}": 1 for i in range(1, 9)} | {"item9": 2}  # self-harm thoughts: escalates
    for scales in ({"gad7": {f"item{i}": 1 for i in range(1, 8)}}, {"phq9": phq9}):
        response = patient.post(f"/api/v1/patients/{alex}/checkins", {"scales": scales})
        assert response.status_code == 201, response.text
    page = clinic.reading.clinician_page(rivera, alex)
    full = {c.id: c for c in clinic.reading.checkin_history(rivera, alex)}
    named = {a.checkin_id for a in page.alerts if a.checkin_id is not None}
    assert named and page.raised_by == {i: full[i] for i in named}
    assert all(s.answers for c in page.raised_by.values() for s in c.scales)
    html = world.sign_in("dr.rivera").client.get(f"/clinic/patients/{alex}").text
    assert "The check-in that raised it" in html and "item9 2" in html
