"""Benchmark: the monitoring service's write path and its heaviest page, against the bare database write.

Scenario: the demo clinic on SQLite (WAL, synchronous=FULL) in a temporary folder, one process. A patient
submits check-ins (GAD-7 + PHQ-9) through the real ASGI app (an httpx client on the app's ASGI interface
in one event loop: validation, session, CSRF, scoring, alert rules, audit, one transaction each); the
reference is the same check-in rows inserted by the store alone, one transaction each, in the same run.
Both are medians. Also timed: the clinician's patient page (the record, the model's prediction over the
course and the SVG chart) of the demo patient, and of a patient with one year of history (enrolled by
the planner a year ago, a check-in and every planned dose confirmed on each of the last 365 days,
inserted by the store), viewed again unchanged and viewed after each new check-in (its chart drawn
again): median and p95 of the server's time (the ASGI app in process, no network), against the store
alone reading the same record (plan versions, doses, check-ins, alerts) in one transaction, in the
same run. The app is started as a server starts it (its lifespan: the startup heap frozen out of the
garbage collector's reach). The last line is one JSON object.
Run: `.venv/bin/python benchmarks/service.py` (or `make bench`).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import httpx2 as httpx

from benzokit.monitor.records import CheckIn, DoseLog, DoseStatus
from benzokit.monitor.scales import score_scale
from benzokit.service import schemas
from benzokit.service.app import create_app
from benzokit.service.demo import seed_demo
from benzokit.service.enrol import SYSTEM
from benzokit.service.settings import ServiceSettings
from benzokit.store import records

CHECKINS = 200
PAGE_REPEATS = 10
YEAR_DAYS = 365
YEAR_PAGE_REPEATS = 20
YEAR_PASSWORD = "year-patient-password"
GAD7 = {f"item{i}": 1 for i in range(1, 8)}
PHQ9 = {f"item{i}": 1 for i in range(1, 9)} | {"item9": 0}


async def _login(client: httpx.AsyncClient, username: str, password: str) -> str:
    response = await client.post(
        "/api/v1/session", json={"username": username, "password": password}
    )
    response.raise_for_status()
    token: str = response.json()["csrf_token"]
    return token


def _year_patient(clinic: Any) -> int:
    """A patient enrolled by the planner a year ago (a taper still running today), with a check-in
    and every planned dose confirmed (taken) on each of the last YEAR_DAYS days."""
    today = clinic.today()
    summary, _ = clinic.enrolment.create_patient(
        SYSTEM,
        schemas.NewPatient(
            username="year",
            password=YEAR_PASSWORD,
            display_name="Year patient",
            clinician="dr.rivera",
            current_regimen="2 mg bid",
            start_date=today - timedelta(days=YEAR_DAYS),
        ),
    )
    scores = (score_scale("gad7", GAD7), score_scale("phq9", PHQ9))
    with clinic.db.transaction() as session:
        course = records.course(session, summary.id)
        assert course is not None and course.doses_on(today), "the taper should still run"
        for back in range(YEAR_DAYS, 0, -1):
            day = today - timedelta(days=back)
            at = datetime.combine(day, clock_time(20, 0), UTC)
            records.add_checkin(session, summary.id, CheckIn(at, scores), client_token=None)
            for dose in course.doses_on(day):
                taken = datetime.combine(day, clock_time(0), UTC) + timedelta(
                    minutes=dose.time.minutes
                )
                log = DoseLog(
                    day, str(dose.time), dose.drug, dose.dose_mg, DoseStatus.TAKEN, taken,
                    dose.dose_mg, taken,
                )  # fmt: skip
                records.add_dose_log(session, summary.id, log, client_token=None)
    return int(summary.id)


def _store_read(clinic: Any, patient_id: int) -> float:
    """Seconds for the store alone to read what the page shows, in one transaction."""
    start = time.perf_counter()
    with clinic.db.transaction() as session:
        records.patient(session, patient_id)
        records.course(session, patient_id)
        records.dose_logs(session, patient_id)
        records.checkins(session, patient_id)
        records.alerts(session, patient_id)
    return time.perf_counter() - start


async def _year_page(app: Any) -> tuple[list[float], list[float], list[float]]:
    """(clinician page times, times after a new check-in, store read times) in seconds for the
    patient with a year of history. A page viewed again unchanged reuses the drawn chart; after a
    check-in (saved by the store, untimed) the chart is drawn again."""
    clinic = app.state.clinic
    patient_id = _year_patient(clinic)
    scores = (score_scale("gad7", GAD7), score_scale("phq9", PHQ9))
    page_times, changed_times, reference_times = [], [], []
    async with _client(app) as clinician:
        await _login(clinician, "dr.rivera", "demo-clinician")
        warm = await clinician.get(f"/clinic/patients/{patient_id}")
        assert warm.status_code == 200, warm.text[:300]
        for _ in range(YEAR_PAGE_REPEATS):
            start = time.perf_counter()
            page = await clinician.get(f"/clinic/patients/{patient_id}")
            page_times.append(time.perf_counter() - start)
            assert page.status_code == 200
            reference_times.append(_store_read(clinic, patient_id))
            with clinic.db.transaction() as session:
                checkin = CheckIn(datetime.now(UTC), scores, note="changed")
                records.add_checkin(session, patient_id, checkin, client_token=None)
            start = time.perf_counter()
            page = await clinician.get(f"/clinic/patients/{patient_id}")
            changed_times.append(time.perf_counter() - start)
            assert page.status_code == 200
    return page_times, changed_times, reference_times


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def _client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")


async def _service(folder: str) -> tuple[list[float], ...]:
    """(check-in times, store reference times, page times, year page times, year store read
    times) in seconds."""
    app = create_app(ServiceSettings(database_url=f"sqlite:///{Path(folder) / 'bench.db'}"))
    clinic = app.state.clinic
    seed_demo(clinic)
    async with app.router.lifespan_context(app):  # started as a server starts it (`benzokit serve`)
        return await _timed(app, clinic)


async def _timed(app: Any, clinic: Any) -> tuple[list[float], ...]:
    async with _client(app) as patient, _client(app) as clinician:
        csrf = await _login(patient, "alex", "demo-patient-alex")
        await _login(clinician, "dr.rivera", "demo-clinician")
        patient_id = (await patient.get("/api/v1/me")).json()["patient_id"]

        service_times = []
        for index in range(CHECKINS):
            body = {
                "scales": {"gad7": GAD7, "phq9": PHQ9},
                "note": f"bench {index}",
                "sleep_hours": 7,
            }
            start = time.perf_counter()
            response = await patient.post(
                f"/api/v1/patients/{patient_id}/checkins", json=body, headers={"X-CSRF-Token": csrf}
            )
            service_times.append(time.perf_counter() - start)
            assert response.status_code == 201, response.text

        scores = (score_scale("gad7", GAD7), score_scale("phq9", PHQ9))
        reference_times = []
        for index in range(CHECKINS):
            start = time.perf_counter()
            with clinic.db.transaction() as session:
                records.add_checkin(
                    session,
                    patient_id,
                    CheckIn(datetime.now(UTC), scores, note=f"ref {index}"),
                    client_token=None,
                )
            reference_times.append(time.perf_counter() - start)

        page_times = []
        for _ in range(PAGE_REPEATS):
            start = time.perf_counter()
            page = await clinician.get(f"/clinic/patients/{patient_id}")
            page_times.append(time.perf_counter() - start)
            assert page.status_code == 200
    year_times, year_changed, year_reference = await _year_page(app)
    clinic.db.dispose()
    return service_times, reference_times, page_times, year_times, year_changed, year_reference


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        timed = asyncio.run(_service(folder))
    service_times, reference_times, page_times, year_times, year_changed, year_reference = timed
    service_s = statistics.median(service_times)
    reference_s = statistics.median(reference_times)
    page_s = statistics.median(page_times)

    print(
        f"check-in through the service: {service_s * 1e3:.1f} ms median ({1 / service_s:.0f}/s, "
        "one transaction each)"
    )
    print(
        f"reference, store insert only:  {reference_s * 1e3:.1f} ms median "
        f"({1 / reference_s:.0f}/s; the commit's fsync is most of it)"
    )
    print(f"service / reference:           {service_s / reference_s:.1f} x")
    print(
        f"clinician patient page (median of {PAGE_REPEATS}, {CHECKINS * 2} check-ins on record): "
        f"{page_s * 1e3:.0f} ms"
    )
    year_s, year_p95_s = statistics.median(year_times), _p95(year_times)
    year_ref_s = statistics.median(year_reference)
    changed_s, changed_p95_s = statistics.median(year_changed), _p95(year_changed)
    print(
        f"clinician patient page, one year of daily check-ins and doses ({YEAR_PAGE_REPEATS} runs): "
        f"{year_s * 1e3:.0f} ms median, {year_p95_s * 1e3:.0f} ms p95 (target: under 200 ms)"
    )
    print(
        f"  the same, each after a new check-in (chart drawn again): {changed_s * 1e3:.0f} ms "
        f"median, {changed_p95_s * 1e3:.0f} ms p95 (target: under 200 ms)"
    )
    print(
        f"reference, store read of that record: {year_ref_s * 1e3:.1f} ms median "
        f"(page / reference {year_s / year_ref_s:.1f} x)"
    )
    print(
        json.dumps(
            {
                "checkin_ms": round(service_s * 1e3, 2),
                "reference_insert_ms": round(reference_s * 1e3, 2),
                "ratio": round(service_s / reference_s, 2),
                "patient_page_ms": round(page_s * 1e3, 1),
                "year_page_ms": round(year_s * 1e3, 1),
                "year_page_p95_ms": round(year_p95_s * 1e3, 1),
                "year_page_after_checkin_ms": round(changed_s * 1e3, 1),
                "year_page_after_checkin_p95_ms": round(changed_p95_s * 1e3, 1),
                "year_store_read_ms": round(year_ref_s * 1e3, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
