"""When alerts are evaluated: reads never write domain data; write-time alerts are saved by the write.

The no-check-in alert falls due with nothing written, so it is derived on every read and not saved;
acknowledging it saves it (it stays acknowledged), and so does the check-in that ends the silence. The
missed-dose alert is saved by the dose record that completes the pattern. A clinic's own alert rules
(a knowledge overlay given to ``create_app``) change when the alert falls due.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from service_support import Clock, Signed, World, build_world
from sqlalchemy import text

from benzokit.knowledge import Knowledge, shipped_folder
from benzokit.monitor.alerts import load_alert_rules
from benzokit.store import records

QUIET = "MON-NO-CHECKIN"


def stored_codes(w: World, patient: str) -> list[str]:
    with w.clinic.db.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT code FROM alerts WHERE patient_id = :p ORDER BY id"),
            {"p": w.patients[patient]},
        )
        return [r[0] for r in rows]


def alerts_of(signed: Signed, patient_id: int, **params: Any) -> list[dict[str, Any]]:
    response = signed.get(f"/api/v1/patients/{patient_id}/alerts", params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["alerts"]
    return found


def quiet_days() -> int:
    return load_alert_rules().no_checkin.days.value


def test_reads_derive_the_silence_alert_and_write_nothing(world: World, clock: Clock) -> None:
    clock.advance(timedelta(days=quiet_days() + 1))
    rivera, sam = (
        world.sign_in("dr.rivera"),
        world.patients["sam"],
    )  # sam was enrolled at T0 and never checked in
    before, audit_mark = world.counts(), world.last_audit_id()
    reads = [
        "/api/v1/patients",
        f"/api/v1/patients/{sam}/alerts",
        f"/api/v1/patients/{sam}/today",
        f"/api/v1/patients/{sam}/trends",
        "/clinic",
        f"/clinic/patients/{sam}",
    ]
    for url in reads:
        assert rivera.get(url).status_code == 200, url
    assert world.counts() == before  # no alert (nor anything else) written by a read
    assert {r["action"] for r in world.audit_after(audit_mark)} == {"read"}  # reads are audited
    quiet = [a for a in alerts_of(rivera, sam) if a["code"] == QUIET]
    assert len(quiet) == 1 and quiet[0]["id"] is None and quiet[0]["acknowledged_at"] is None
    listed = {p["patient"]["id"]: p for p in rivera.get("/api/v1/patients").json()["patients"]}
    assert listed[sam]["open_alerts"] == 1 and listed[sam]["top_level"] == "info"
    assert "No alerts" not in rivera.get(f"/clinic/patients/{sam}").text
    assert stored_codes(world, "sam") == []


def test_an_acknowledged_derived_alert_stays_acknowledged(world: World, clock: Clock) -> None:
    clock.advance(timedelta(days=quiet_days() + 1))
    rivera, sam = world.sign_in("dr.rivera"), world.patients["sam"]
    (quiet,) = [a for a in alerts_of(rivera, sam) if a["code"] == QUIET]
    url = f"/api/v1/patients/{sam}/alerts/acknowledge"
    done = rivera.post(url, {"key": quiet["key"], "note": "Texted Sam; away on holiday."})
    assert done.status_code == 200, done.text
    assert done.json()["alert"]["acknowledged_note"] == "Texted Sam; away on holiday."
    assert done.json()["alert"]["acknowledged_at"] is not None and done.json()["alert"]["id"]
    assert stored_codes(world, "sam") == [QUIET]
    for _ in range(3):  # the silence goes on: the same alert, still acknowledged, never doubled
        rivera = world.sign_in("dr.rivera")  # (days pass: a new session each day)
        every = [a for a in alerts_of(rivera, sam) if a["code"] == QUIET]
        assert [(a["key"], a["acknowledged_at"] is not None) for a in every] == [
            (quiet["key"], True)
        ]
        assert [a for a in alerts_of(rivera, sam, open_only=True) if a["code"] == QUIET] == []
        listed = {p["patient"]["id"]: p for p in rivera.get("/api/v1/patients").json()["patients"]}
        assert listed[sam]["open_alerts"] == 0
        clock.advance(timedelta(days=1))
    again = world.sign_in("dr.rivera").post(url, {"key": quiet["key"]})
    assert again.json()["alert"]["acknowledged_at"] == done.json()["alert"]["acknowledged_at"]
    assert stored_codes(world, "sam") == [QUIET]


def test_the_page_acknowledges_a_derived_alert(world: World, clock: Clock) -> None:
    clock.advance(timedelta(days=quiet_days() + 1))
    rivera, sam = world.sign_in("dr.rivera"), world.patients["sam"]
    page = rivera.get(f"/clinic/patients/{sam}").text
    action = f'action="/clinic/patients/{sam}/alerts/acknowledge"'
    assert action in page and 'name="key" value="quiet:' in page
    (quiet,) = [a for a in alerts_of(rivera, sam) if a["code"] == QUIET]
    response = rivera.client.post(
        f"/clinic/patients/{sam}/alerts/acknowledge",
        data={"csrf_token": rivera.csrf, "key": quiet["key"], "back": f"/clinic/patients/{sam}"},
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/clinic/patients/{sam}?done=ack"
    assert action not in rivera.get(f"/clinic/patients/{sam}").text
    assert stored_codes(world, "sam") == [QUIET]


def test_the_check_in_that_ends_a_silence_saves_it(world: World, clock: Clock) -> None:
    clock.advance(timedelta(days=quiet_days() + 2))
    rivera, sam = world.sign_in("dr.rivera"), world.patients["sam"]
    patient = world.sign_in("sam")
    body = {"scales": {"gad7": {f"item{i}": 0 for i in range(1, 8)}}}
    response = patient.post(f"/api/v1/patients/{sam}/checkins", body)
    assert response.status_code == 201 and response.json()["alerts"] == []
    assert stored_codes(world, "sam") == [QUIET]  # the record keeps that sam was quiet ...
    (quiet,) = [a for a in alerts_of(rivera, sam, open_only=True) if a["code"] == QUIET]
    assert quiet["id"] is not None  # ... open until a clinician acknowledges it


def test_missed_doses_are_alerted_by_the_dose_record(world: World) -> None:
    """No read in between: the dose record that completes the pattern saves the alert."""
    alex, alex_id = world.sign_in("alex"), world.patients["alex"]
    rule = load_alert_rules().missed_doses
    with world.clinic.db.transaction() as session:
        course = records.course(session, alex_id)
    assert course is not None
    today = world.clinic.today()
    days = [today - timedelta(days=back) for back in (2, 1, 0)]
    planned = [(day, dose) for day in days for dose in course.doses_on(day)]
    assert len(planned) >= rule.missed.value
    assert "MON-MISSED-DOSES" not in stored_codes(world, "alex")
    for day, dose in planned:
        body = {
            "day": day.isoformat(),
            "time": str(dose.time),
            "drug": dose.drug,
            "status": "missed",
        }
        assert alex.post(f"/api/v1/patients/{alex_id}/doses", body).status_code == 201
        if "MON-MISSED-DOSES" in stored_codes(world, "alex"):
            break
    with world.clinic.db.transaction() as session:
        logs = records.latest_dose_logs(records.dose_logs(session, alex_id))
    since = today - timedelta(days=rule.window_days.value - 1)
    missed = [d for d in logs if d.day >= since and not d.taken and d.status == "missed"]
    assert len(missed) == rule.missed.value  # saved at exactly the record that reached the count
    assert stored_codes(world, "alex").count("MON-MISSED-DOSES") == 1


def overlay_with_quiet_days(folder: Path, days: int) -> Knowledge:
    shipped = (shipped_folder("benzokit.monitor") / "alerts.toml").read_text()
    line = '\ndays = { value = 7, policy = true, source = "benzokit_policy" }'
    assert shipped.count(line) == 1
    folder.mkdir()
    (folder / "alerts.toml").write_text(shipped.replace(line, line.replace("7", str(days))))
    return Knowledge.with_overlay(folder)


def test_a_clinic_overlay_changes_when_the_silence_alert_falls_due(
    tmp_path: Path, clinic_template: Path
) -> None:
    clock = Clock()
    knowledge = overlay_with_quiet_days(tmp_path / "overlay", 2)
    world = build_world(
        tmp_path / "clinic.db", clock, template=clinic_template, knowledge=knowledge
    )
    try:
        clock.advance(timedelta(days=2))
        rivera, sam = world.sign_in("dr.rivera"), world.patients["sam"]
        assert quiet_days() > 2  # the shipped rule would say nothing yet
        (quiet,) = [a for a in alerts_of(rivera, sam) if a["code"] == QUIET]
        assert "2 days" in quiet["message"]
    finally:
        world.close()
