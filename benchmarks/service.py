"""Benchmark: the monitoring service's write path and its heaviest page, against the bare database write.

Scenario: the demo clinic on SQLite (WAL, synchronous=FULL) in a temporary folder, one process. A patient
submits check-ins (GAD-7 + PHQ-9) through the real ASGI app (an httpx client on the app's ASGI interface
in one event loop: validation, session, CSRF, scoring, alert rules, audit, one transaction each); the
reference is the same check-in rows inserted by the store alone, one transaction each, in the same run.
Both are medians. Also timed: the clinician's patient page (the record, the model's prediction over the
course and the SVG chart). The last line is one JSON object.
Run: `.venv/bin/python benchmarks/service.py` (or `make bench`).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx2 as httpx

from benzokit.monitor.records import CheckIn
from benzokit.monitor.scales import score_scale
from benzokit.service.app import create_app
from benzokit.service.demo import seed_demo
from benzokit.service.settings import ServiceSettings
from benzokit.store import records

CHECKINS = 200
PAGE_REPEATS = 10
GAD7 = {f"item{i}": 1 for i in range(1, 8)}
PHQ9 = {f"item{i}": 1 for i in range(1, 9)} | {"item9": 0}


async def _login(client: httpx.AsyncClient, username: str, password: str) -> str:
    response = await client.post(
        "/api/v1/session", json={"username": username, "password": password}
    )
    response.raise_for_status()
    token: str = response.json()["csrf_token"]
    return token


def _client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")


async def _service(folder: str) -> tuple[list[float], list[float], list[float]]:
    """(check-in times, store reference times, page times) in seconds."""
    app = create_app(ServiceSettings(database_url=f"sqlite:///{Path(folder) / 'bench.db'}"))
    clinic = app.state.clinic
    seed_demo(clinic)
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
    clinic.db.dispose()
    return service_times, reference_times, page_times


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        service_times, reference_times, page_times = asyncio.run(_service(folder))
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
    print(
        json.dumps(
            {
                "checkin_ms": round(service_s * 1e3, 2),
                "reference_insert_ms": round(reference_s * 1e3, 2),
                "ratio": round(service_s / reference_s, 2),
                "patient_page_ms": round(page_s * 1e3, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
