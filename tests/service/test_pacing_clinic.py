"""Symptom-guided pacing in the clinic (issue 11): a paced plan's next step waits for the clinician,
who sees the policy's proposal (hold, slow, advance or contact the patient) with its reasons and the
model's peak for each choice, and accepts one with a click: a plan version and an audit row, once.

The patient ``robin`` is enrolled by ``dr.rivera`` through the API with the Maudsley symptom-guided
policy on a guideline taper from 1 mg bid (first cut on the start day, 28-day steps); check-ins give the
withdrawal checklist (13 items, 0-3: range 0-39). Run on SQLite and on PostgreSQL (marker ``postgres``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from service_support import Clock, Signed, World, build_world

from benzokit.service.demo import DEMO_LOGINS
from benzokit.service.schemas import PaceForm

CHECKLIST_ITEMS = (
    "sleep",
    "anxiety",
    "panic",
    "mood",
    "senses",
    "unreal",
    "perception",
    "muscles",
    "body",
    "heart",
    "balance",
    "stomach",
    "memory",
)
ROBIN_PASSWORD = "robin-patient-pw"
POLICY = "maudsley-symptom-guided"


def checklist(total: int) -> dict[str, int]:
    """Withdrawal checklist answers summing to ``total`` (ones, then twos where needed)."""
    answers = dict.fromkeys(CHECKLIST_ITEMS, 0)
    for n in range(total):
        item = CHECKLIST_ITEMS[n % len(CHECKLIST_ITEMS)]
        answers[item] += 1
    return answers


#: sessions that outlast the weeks the tests move the clock by
LONG_SESSIONS = {"session_lifetime": timedelta(days=400), "session_idle": timedelta(days=400)}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def paced_world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """A fresh clinic (clock at T0) on the given backend."""
    if request.param == "sqlite":
        built = build_world(tmp_path / "clinic.db", Clock(), **LONG_SESSIONS)
    else:
        url = request.getfixturevalue("fresh_postgres_url")
        built = build_world(url, Clock(), **LONG_SESSIONS)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def world(tmp_path: Path, clinic_template: Path) -> Iterator[World]:
    """A fresh clinic on SQLite (from the seeded template) with long sessions."""
    built = build_world(tmp_path / "clinic.db", Clock(), template=clinic_template, **LONG_SESSIONS)
    try:
        yield built
    finally:
        built.close()


def enrol_robin(world: World, clinician: Signed, policy: str = POLICY) -> int:
    body = {
        "username": "robin",
        "password": ROBIN_PASSWORD,
        "display_name": "Robin Vale",
        "clinician": "dr.rivera",
        "indication": "panic",
        "current_regimen": "1 mg bid",
        "strategy": "guideline",
        "start_date": world.clinic.today().isoformat(),
        "policy": policy,
    }
    response = clinician.post("/api/v1/admin/patients", json=body)
    assert response.status_code == 201, response.text
    patient_id: int = response.json()["patient"]["id"]
    return patient_id


def robin(world: World) -> Signed:
    client = world.client()
    body = {"username": "robin", "password": ROBIN_PASSWORD}
    response = client.post("/api/v1/session", json=body)
    assert response.status_code == 200, response.text
    return Signed(client, response.json()["csrf_token"], response.json()["account"])


def check_in(patient: Signed, patient_id: int, total: int, **more: Any) -> None:
    body = {"scales": {"withdrawal_checklist": checklist(total)}, **more}
    response = patient.post(f"/api/v1/patients/{patient_id}/checkins", json=body)
    assert response.status_code == 201, response.text


def proposal(clinician: Signed, patient_id: int) -> Any:
    response = clinician.get(f"/api/v1/patients/{patient_id}/plan/pacing")
    assert response.status_code == 200, response.text
    return response.json()["proposal"]


def accept(clinician: Signed, patient_id: int, version: int, choice: str) -> Any:
    body = {"version": version, "choice": choice, "note": "talked it through"}
    return clinician.post(f"/api/v1/patients/{patient_id}/plan/pacing", json=body)


def today_mg(patient: Signed, patient_id: int) -> tuple[float, bool]:
    body = patient.get(f"/api/v1/patients/{patient_id}/today").json()
    return body["daily_dose_mg"], body["waiting"]


def versions(clinician: Signed, patient_id: int) -> list[dict[str, Any]]:
    course = clinician.get(f"/api/v1/patients/{patient_id}/plan").json()["course"]
    found: list[dict[str, Any]] = course["versions"]
    return found


def rising_after_the_cut(world: World) -> tuple[Signed, Signed, int]:
    """Robin enrolled today (the first cut today, 2 -> 1.875 mg/day), a check-in about yesterday
    (before the cut: 6/39), then 30 days on (the next step was due on day 28) a check-in of 14/39."""
    clinician = world.sign_in("dr.rivera")
    patient_id = enrol_robin(world, clinician)
    patient = robin(world)
    yesterday = world.clinic.today() - timedelta(days=1)
    check_in(patient, patient_id, 6, describes_day=yesterday.isoformat(), describes_time="20:00")
    world.clock.advance(timedelta(days=30))
    check_in(patient, patient_id, 14)
    return clinician, patient, patient_id


def test_rising_scores_hold_the_next_step_until_the_clinician_accepts(paced_world: World) -> None:
    world = paced_world
    clinician, patient, patient_id = rising_after_the_cut(world)
    assert versions(clinician, patient_id)[0]["policy"] == POLICY

    # no silent cut: the step planned for day 28 (1.75 mg/day) is not taken; the patient waits
    assert today_mg(patient, patient_id) == (1.875, True)
    page = patient.client.get("/me").text
    assert "Your next step is waiting for your clinician." in page
    assert "Keep taking 1.875 mg" in page

    found = proposal(clinician, patient_id)
    assert found["decision"] == "hold" and found["recommended"] == "hold"
    assert not found["contact"] and found["due"]
    assert [o["choice"] for o in found["options"]] == ["hold", "advance", "slow"]
    assert "Withdrawal checklist 6/39 → 14/39 since the cut on 10 March 2026" in found["reasons"][0]
    assert "a rise of 0.21 of the range, ≥ the policy's 0.1" in found["reasons"][0]
    peaks = {o["choice"]: o["peak_withdrawal_index"] for o in found["options"]}
    assert all(0 <= p <= 1 for p in peaks.values())
    assert peaks["advance"] > peaks["hold"]  # the model: a cut now withdraws more than keeping it
    assert "not a prediction of the patient's scores" in found["model_note"]

    before = world.last_audit_id()
    first = accept(clinician, patient_id, found["version"], "hold")
    assert first.status_code == 200, first.text
    again = accept(clinician, patient_id, found["version"], "hold")  # a double click
    assert again.status_code == 200, again.text
    assert "already accepted" in again.json()["message"]
    stored = versions(clinician, patient_id)
    assert [v["change"] for v in stored] == ["initial", "held"]
    assert stored[1]["policy"] == POLICY
    assert "hold accepted; policy: hold; note: talked it through" in stored[1]["reason"]
    writes = [r for r in world.audit_after(before) if r["action"] == "write"]
    assert len(writes) == 1 and writes[0]["what"] == "plan"
    assert "pace: version 2" in writes[0]["detail"] and "6/39 → 14/39" in writes[0]["detail"]

    # the held dose: kept to the next check-in (day 34 from the cut: the end of the 5th week)
    assert today_mg(patient, patient_id) == (1.875, False)
    assert proposal(clinician, patient_id) is None
    world.clock.advance(timedelta(days=4))  # day 34, the check-in day: still on the held step
    assert today_mg(patient, patient_id) == (1.875, False)
    world.clock.advance(timedelta(days=1))  # day 35: the next step waits again
    assert today_mg(patient, patient_id) == (1.875, True)


def test_a_second_hold_slows_and_a_tolerated_cut_advances(paced_world: World) -> None:
    world = paced_world
    clinician, patient, patient_id = rising_after_the_cut(world)
    assert accept(clinician, patient_id, 1, "hold").status_code == 200
    world.clock.advance(timedelta(days=5))
    check_in(patient, patient_id, 13)
    found = proposal(clinician, patient_id)
    assert found["decision"] == "slow" and found["recommended"] == "slow"
    assert "1 accepted hold(s) in a row" in found["reasons"][1]
    assert accept(clinician, patient_id, 2, "slow").status_code == 200
    slow = versions(clinician, patient_id)[-1]
    steps = slow["plan"]["steps"]
    assert slow["change"] == "pace-slowed"
    assert steps[1]["end_day"] - steps[1]["start_day"] == 42  # 28 days x 1.5

    world.clock.advance(timedelta(days=7))
    check_in(patient, patient_id, 7)  # back near the baseline: 1/39 above it
    found = proposal(clinician, patient_id)
    assert found["decision"] == "advance" and found["recommended"] == "advance"
    assert "The next step was due and the cut is tolerated" in found["reasons"][-1]
    assert accept(clinician, patient_id, 3, "advance").status_code == 200
    assert today_mg(patient, patient_id) == (1.75, False)
    assert versions(clinician, patient_id)[-1]["change"] == "advanced"


def test_a_severe_reading_asks_to_contact_the_patient_and_never_cuts(paced_world: World) -> None:
    world = paced_world
    clinician = world.sign_in("dr.rivera")
    patient_id = enrol_robin(world, clinician)
    patient = robin(world)
    world.clock.advance(timedelta(days=10))  # the step is not due (day 28), the reading severe
    check_in(patient, patient_id, 21)  # 21/39 = 0.54 >= 0.5
    found = proposal(clinician, patient_id)
    assert found["contact"] and found["recommended"] is None and found["decision"] == "refer"
    assert [o["choice"] for o in found["options"]] == ["hold", "slow"]
    assert "contact the patient" in found["reasons"][0]
    refused = accept(clinician, patient_id, 1, "advance")
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "choice"
    assert accept(clinician, patient_id, 1, "hold").status_code == 200
    held = versions(clinician, patient_id)[-1]["plan"]["steps"][0]
    assert held["end_day"] - held["start_day"] == 18  # never shorter than the planned step's rest


def test_a_seizure_since_the_cut_asks_to_contact_the_patient(paced_world: World) -> None:
    world = paced_world
    clinician, patient, patient_id = rising_after_the_cut(world)
    check_in(patient, patient_id, 7, seizures=1)
    found = proposal(clinician, patient_id)
    assert found["contact"] and "A seizure was reported" in found["reasons"][0]


def test_the_fixed_policy_changes_nothing(world: World) -> None:
    clinician = world.sign_in("dr.rivera")
    alex = world.patients["alex"]
    assert proposal(clinician, alex) is None
    assert versions(clinician, alex)[0]["policy"] == "fixed"
    patient = world.sign_in("alex")
    assert today_mg(patient, alex)[1] is False
    refused = accept(clinician, alex, 1, "hold")
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "choice"


def test_only_the_patients_clinician_may_see_or_accept(world: World) -> None:
    clinician, patient, patient_id = rising_after_the_cut(world)
    other = world.sign_in("dr.other")
    counts = world.counts()
    assert patient.get(f"/api/v1/patients/{patient_id}/plan/pacing").status_code == 403
    assert accept(patient, patient_id, 1, "hold").status_code == 403
    assert other.get(f"/api/v1/patients/{patient_id}/plan/pacing").status_code == 404
    assert accept(other, patient_id, 1, "hold").status_code == 404
    no_csrf = clinician.client.post(
        f"/api/v1/patients/{patient_id}/plan/pacing", json={"version": 1, "choice": "hold"}
    )
    assert no_csrf.status_code == 403
    assert world.counts() == counts


def test_an_unknown_policy_is_refused_naming_the_field(world: World) -> None:
    clinician = world.sign_in("dr.rivera")
    body = {
        "username": "robin",
        "password": ROBIN_PASSWORD,
        "display_name": "Robin Vale",
        "clinician": "dr.rivera",
        "current_regimen": "1 mg bid",
        "start_date": world.clinic.today().isoformat(),
        "policy": "as-fast-as-possible",
    }
    response = clinician.post("/api/v1/admin/patients", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == "policy" and "maudsley-symptom-guided" in error["allowed"]


def test_a_stale_proposal_after_another_change_is_refused(world: World) -> None:
    clinician, _, patient_id = rising_after_the_cut(world)
    paused = clinician.post(
        f"/api/v1/patients/{patient_id}/plan/slow", json={"factor": 2, "reason": "by hand"}
    )
    assert paused.status_code == 200, paused.text
    stale = accept(clinician, patient_id, 1, "hold")
    assert stale.status_code == 422 and stale.json()["error"]["field"] == "version"


def test_concurrent_accepts_make_one_version(paced_world: World) -> None:
    world = paced_world
    _, _, patient_id = rising_after_the_cut(world)
    steering = world.clinic.steering
    actor = world.accounts["dr.rivera"]
    start = threading.Barrier(4)
    results: list[str] = []
    failures: list[BaseException] = []

    def click() -> None:
        start.wait()
        try:
            form = PaceForm(version=1, choice="hold")
            results.append(steering.pace(actor, patient_id, form).message)
        except BaseException as error:  # the test reports it below
            failures.append(error)

    threads = [threading.Thread(target=click) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    assert sorted(m.split(":")[0] for m in results) == ["version 2"] * 4
    with world.clinic.db.transaction() as session:
        from benzokit.store import records

        course = records.course(session, patient_id)
    assert course is not None and [v.number for v in course.versions] == [1, 2]


def test_the_clinician_page_shows_the_proposal_and_accepts_it(world: World) -> None:
    clinician, patient, patient_id = rising_after_the_cut(world)
    page = clinician.client.get(f"/clinic/patients/{patient_id}")
    assert page.status_code == 200
    html = page.text
    assert "Next step: the policy proposes to hold" in html
    assert "6/39 → 14/39" in html
    assert "Accept: hold" in html and "Accept: advance" in html
    assert "Model&#39;s peak withdrawal index" in html or "Model's peak withdrawal index" in html
    listing = clinician.client.get("/clinic").text
    assert "next step waiting for you" in listing
    form = {"csrf_token": clinician.csrf, "version": "1", "choice": "hold", "note": ""}
    done = clinician.client.post(f"/clinic/patients/{patient_id}/pace", data=form)
    assert done.status_code == 303 and done.headers["location"].endswith("?done=pace")
    after = clinician.client.get(f"/clinic/patients/{patient_id}?done=pace").text
    assert "Your choice is saved" in after
    assert "Next step: the policy proposes" not in after
    assert "Your next step is waiting" not in patient.client.get("/me").text


def test_enrolment_page_offers_the_policies(world: World) -> None:
    admin = world.sign_in("admin")
    html = admin.client.get("/admin").text
    assert 'name="policy"' in html and "Symptom-guided (Maudsley step 3)" in html


def test_the_demo_clinic_shows_a_step_waiting_for_the_clinician(world: World) -> None:
    """`make demo` shows the feature: Kai's withdrawal checklist rose since the first cut (6/39 -> 14/39),
    the step due two days ago waits, the clinician is proposed a hold and Kai is told why."""
    kai = next(login for login in DEMO_LOGINS if login.username == "kai")
    client = world.client()
    signed = client.post(
        "/api/v1/session", json={"username": kai.username, "password": kai.password}
    )
    assert signed.status_code == 200, signed.text
    page = client.get("/me").text
    assert "Your next step is waiting for your clinician." in page
    assert "Keep taking 1.875 mg" in page
    clinician = world.sign_in("dr.rivera")
    listed = clinician.get("/api/v1/patients").json()
    kai_row = next(p for p in listed["patients"] if p["patient"]["display_name"] == "Kai Turner")
    assert kai_row["waiting"] and kai_row["daily_dose_mg"] == 1.875
    patient_id = kai_row["patient"]["id"]
    found = proposal(clinician, patient_id)
    assert found["decision"] == "hold" and found["recommended"] == "hold" and found["due"]
    assert "6/39 → 14/39" in clinician.client.get(f"/clinic/patients/{patient_id}").text
    assert "next step waiting for you" in clinician.client.get("/clinic").text
