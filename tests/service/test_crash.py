"""A crash during a burst of check-ins loses nothing that was acknowledged, and half-writes nothing.

The real console script (``benzokit serve --demo``) runs in a subprocess, on SQLite (a file in
``tmp_path``) and on PostgreSQL (``fresh_postgres_url``). Several threads post check-ins as the demo
patient ``alex``, each with its own ``client_token`` and note; every fourth reports a seizure, so
that it raises an urgent alert in the same transaction. Once enough have been acknowledged (201),
the server is killed with SIGKILL while requests are in flight, then started again on the same
database. Then:

- every acknowledged check-in is there, by its client token, with the note and answers sent, and
  is listed by the restarted server (through the same session: sessions are stored too);
- no check-in is half-written: each row of the burst has both scale scores, its seizure alert if
  it reported a seizure (and none otherwise) and its audit row; no score or alert row is orphaned.

Check-ins that were committed but whose response was lost in the crash may be there too: that is
allowed. The clients then retry what was cut off, with the same tokens: a check-in the crash had
committed is answered as a repeat, not saved twice, and in the end each one sent is there once.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import select

from benzokit.store.db import Database
from benzokit.store.tables import (
    AlertRow,
    AuditRow,
    CheckInRow,
    DoseLogRow,
    PatientRow,
    PlanVersionRow,
    ScaleScoreRow,
    User,
)

BENZOKIT = Path(sys.executable).parent / "benzokit"
STARTUP_TIMEOUT_S = 45.0
REQUEST_TIMEOUT = httpx.Timeout(10.0, connect=3.0)
THREADS = 8
ACKNOWLEDGED_BEFORE_KILL = 30  # kill once this many check-ins have been answered 201
BURST_TIMEOUT_S = 25.0  # ... or fail if they are not within this time
MAX_PER_THREAD = 400  # a bound on the burst, whatever happens
JOIN_TIMEOUT_S = 15.0  # the burst's threads end this soon after the kill (requests time out in 10)
SEIZURE_EVERY = 4
GAD7 = {f"item{i}": 0 for i in range(1, 8)}
PHQ9 = {f"item{i}": 0 for i in range(1, 10)}


# ----------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """``benzokit serve --demo`` on ``database``: started, killed and started again by the test."""

    database: str
    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    logs: list[Path] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = self.folder / f"serve-{len(self.logs)}.log"
        self.logs.append(log)
        env = {**os.environ, "COLUMNS": "200", "MPLBACKEND": "Agg"}
        args = ["serve", "--port", str(self.port), "--database", self.database, "--demo"]
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(BENZOKIT), *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
                env=env,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"benzokit serve exited early:\n{log.read_text()}", pytrace=False)
            try:
                if httpx.get(f"{self.url}/login", timeout=2.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)  # polling for readiness, not a sleep standing in for an assertion
        pytest.fail(f"benzokit serve not ready in {STARTUP_TIMEOUT_S} s:\n{log.read_text()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, nothing is flushed or closed."""
        assert self.process is not None and self.process.poll() is None
        os.kill(self.process.pid, signal.SIGKILL)
        assert self.process.wait(timeout=10) == -signal.SIGKILL

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def output(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()}" for log in self.logs)


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    if request.param == "sqlite":
        database = f"sqlite:///{tmp_path / 'clinic.db'}"
    else:
        database = request.getfixturevalue("fresh_postgres_url")
    server = Server(database, tmp_path)
    try:
        yield server
    finally:
        server.stop()


# ----------------------------------------------------------------------------- the burst


@dataclass
class Burst:
    """What the clients saw: the tokens sent, acknowledged (201) and cut off, under one lock."""

    url: str
    patient_id: int
    cookies: dict[str, str]
    csrf: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    enough: threading.Event = field(default_factory=threading.Event)
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)  # token -> body
    acknowledged: dict[str, dict[str, Any]] = field(default_factory=dict)  # token -> response
    cut_off: list[str] = field(default_factory=list)  # no response: the server died
    refused: list[tuple[str, int, str]] = field(default_factory=list)  # any other answer
    in_flight: int = 0

    def body(self, token: str, number: int) -> dict[str, Any]:
        return {
            "client_token": token,
            "note": f"burst check-in {token}",
            "seizures": 1 if number % SEIZURE_EVERY == 0 else 0,
            "sleep_hours": 7.0,
            "scales": {"gad7": GAD7, "phq9": PHQ9},
        }

    def run(self, thread: int) -> None:
        with httpx.Client(
            base_url=self.url,
            cookies=self.cookies,
            headers={"X-CSRF-Token": self.csrf},
            timeout=REQUEST_TIMEOUT,
        ) as client:
            for number in range(MAX_PER_THREAD):
                if self.stop.is_set():
                    return
                token = f"crash-t{thread}-n{number:04d}"
                body = self.body(token, number)
                with self.lock:
                    self.sent[token] = body
                    self.in_flight += 1
                try:
                    response = client.post(
                        f"/api/v1/patients/{self.patient_id}/checkins", json=body
                    )
                except httpx.TransportError:
                    with self.lock:
                        self.cut_off.append(token)
                    return  # the server is gone
                finally:
                    with self.lock:
                        self.in_flight -= 1
                with self.lock:
                    if response.status_code == 201:
                        self.acknowledged[token] = response.json()
                        if len(self.acknowledged) >= ACKNOWLEDGED_BEFORE_KILL:
                            self.enough.set()
                    else:
                        self.refused.append((token, response.status_code, response.text[:500]))


def sign_in(url: str) -> tuple[dict[str, str], str, int]:
    with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT) as client:
        response = client.post(
            "/api/v1/session", json={"username": "alex", "password": "demo-patient-alex"}
        )
        assert response.status_code == 200, response.text
        csrf = response.json()["csrf_token"]
        me = client.get("/api/v1/me")
        assert me.status_code == 200, me.text
        return dict(client.cookies), csrf, int(me.json()["patient_id"])


# ----------------------------------------------------------------------------- the test


def test_kill_during_checkin_burst_keeps_every_acknowledged_checkin(server: Server) -> None:
    server.start()
    cookies, csrf, patient_id = sign_in(server.url)
    burst = Burst(server.url, patient_id, cookies, csrf)
    threads = [
        threading.Thread(target=burst.run, args=(n,), name=f"burst-{n}", daemon=True)
        for n in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    reached = burst.enough.wait(timeout=BURST_TIMEOUT_S)
    with burst.lock:  # no response can be recorded between counting and killing
        in_flight_at_kill = burst.in_flight
        acknowledged_at_kill = len(burst.acknowledged)
        server.kill()
    burst.stop.set()
    joined_by = time.monotonic() + JOIN_TIMEOUT_S  # one deadline for all the threads
    for thread in threads:
        thread.join(timeout=max(0.0, joined_by - time.monotonic()))
        assert not thread.is_alive(), f"{thread.name} still running after the kill"

    assert reached, (
        f"only {acknowledged_at_kill} check-ins acknowledged in {BURST_TIMEOUT_S} s; "
        f"refused: {burst.refused[:3]}\n{server.output()}"
    )
    assert not burst.refused, f"check-ins refused before the crash: {burst.refused[:5]}"
    assert in_flight_at_kill > 0, "the server was killed with no request in flight"
    assert burst.cut_off, "no request was cut off by the kill"
    # Every request sent was answered 201 or cut off: the lists add up.
    assert len(burst.acknowledged) + len(burst.cut_off) == len(burst.sent)
    # (a response read just before the kill may be recorded after it: the lock was held)
    assert len(burst.acknowledged) >= acknowledged_at_kill

    # The acknowledged responses themselves are complete.
    for token, result in burst.acknowledged.items():
        sent = burst.sent[token]
        assert result["repeated"] is False, token
        assert result["checkin"]["note"] == sent["note"], token
        assert {s["scale"] for s in result["checkin"]["scales"]} == {"gad7", "phq9"}, token
        codes = [a["code"] for a in result["alerts"]]
        assert codes == (["MON-SEIZURE"] if sent["seizures"] else []), (token, codes)

    # --- restart on the same database: the acknowledged check-ins are listed ---
    server.start()
    assert "Demo clinic already in this database" in server.logs[-1].read_text()
    with httpx.Client(
        base_url=server.url,
        cookies=cookies,
        headers={"X-CSRF-Token": csrf},
        timeout=REQUEST_TIMEOUT,
    ) as client:
        listed = client.get(f"/api/v1/patients/{patient_id}/checkins")
        assert listed.status_code == 200, listed.text
        notes = {c["note"] for c in listed.json()["checkins"]}
        missing = [t for t in burst.acknowledged if burst.sent[t]["note"] not in notes]
        assert not missing, f"acknowledged check-ins lost in the crash: {missing}"
        # The clients retry what was cut off, with the same tokens: what the crash had already
        # committed is answered as a repeat (not saved twice), the rest is saved now.
        for token in burst.cut_off:
            retried = client.post(f"/api/v1/patients/{patient_id}/checkins", json=burst.sent[token])
            assert retried.status_code == 201, (token, retried.text)
            committed_before = burst.sent[token]["note"] in notes
            assert retried.json()["repeated"] is committed_before, token

    # --- the rows themselves, read straight from the database ---
    db = Database(server.database, run_migrations=False)
    try:
        with db.transaction() as session:
            alex = session.scalar(select(PatientRow).where(PatientRow.id == patient_id))
            assert alex is not None
            rows = {
                r.client_token: r
                for r in session.scalars(select(CheckInRow))
                if r.client_token is not None  # the demo's check-ins have none
            }
            scores: dict[int, list[str]] = {}
            for score in session.scalars(select(ScaleScoreRow)):
                scores.setdefault(score.checkin_id, []).append(score.scale)
            alerts: dict[int | None, list[str]] = {}
            for alert in session.scalars(select(AlertRow)):
                alerts.setdefault(alert.checkin_id, []).append(alert.code)
            checkin_ids = set(session.scalars(select(CheckInRow.id)))
            audited = len(
                session.scalars(
                    select(AuditRow.id)
                    .join(User, AuditRow.user_id == User.id)
                    .where(
                        User.username == "alex",
                        AuditRow.action == "write",
                        AuditRow.what == "checkin",
                        AuditRow.detail != "repeated token",  # retries are audited apart
                    )
                ).all()
            )
    finally:
        db.dispose()

    # every acknowledged check-in, by its client token, as it was sent
    for token, result in burst.acknowledged.items():
        row = rows.get(token)
        assert row is not None, f"acknowledged check-in {token} is not in the database"
        sent = burst.sent[token]
        assert row.id == result["checkin"]["id"], token
        assert row.patient_id == patient_id, token
        assert (row.note, row.seizures, row.sleep_hours) == (
            sent["note"],
            sent["seizures"],
            sent["sleep_hours"],
        ), token
    # after the retries, everything sent is there (once: client_token is unique), and nothing else
    assert set(rows) == set(burst.sent), set(rows) ^ set(burst.sent)
    # nothing half-written
    for token, row in rows.items():
        assert sorted(scores.get(row.id, [])) == ["gad7", "phq9"], (token, scores.get(row.id))
        expected = ["MON-SEIZURE"] if burst.sent[token]["seizures"] else []
        assert alerts.get(row.id, []) == expected, (token, alerts.get(row.id))
    assert set(scores) <= checkin_ids, "scale scores without their check-in"
    assert {k for k in alerts if k is not None} <= checkin_ids, "alerts without their check-in"
    # one audit row per saved check-in: written in the same transaction, or not at all
    assert audited == len(rows), (audited, len(rows))

    server.stop()
    assert "Traceback" not in server.output(), server.output()


# ----------------------------------------------------------------------------- doses and plan changes

DOSE_THREADS = 6
DOSES_BEFORE_KILL = 30
PLAN_CHANGES_BEFORE_KILL = 2


@dataclass
class Writes:
    """A burst of dose confirmations (patient threads, each with a client token) and plan changes
    (one clinician thread: slowing, each with its own reason), and what the clients saw."""

    url: str
    patient_id: int
    patient: tuple[dict[str, str], str]  # cookies, CSRF token
    clinician: tuple[dict[str, str], str]
    slots: list[tuple[str, str, str]]  # (day, time, drug) of yesterday's planned doses
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    doses_sent: dict[str, dict[str, Any]] = field(default_factory=dict)
    doses_acknowledged: dict[str, dict[str, Any]] = field(default_factory=dict)
    doses_cut_off: list[str] = field(default_factory=list)
    changes_acknowledged: dict[str, dict[str, Any]] = field(default_factory=dict)  # reason -> body
    refused: list[tuple[str, int, str]] = field(default_factory=list)
    in_flight: int = 0

    def enough(self) -> bool:
        with self.lock:
            return (
                len(self.doses_acknowledged) >= DOSES_BEFORE_KILL
                and len(self.changes_acknowledged) >= PLAN_CHANGES_BEFORE_KILL
            )

    def _client(self, who: tuple[dict[str, str], str]) -> httpx.Client:
        cookies, csrf = who
        return httpx.Client(
            base_url=self.url,
            cookies=cookies,
            headers={"X-CSRF-Token": csrf},
            timeout=REQUEST_TIMEOUT,
        )

    def _post(self, client: httpx.Client, url: str, body: dict[str, Any]) -> Any:
        with self.lock:
            self.in_flight += 1
        try:
            return client.post(url, json=body)
        except httpx.TransportError:
            return None
        finally:
            with self.lock:
                self.in_flight -= 1

    def doses(self, thread: int) -> None:
        with self._client(self.patient) as client:
            for number in range(MAX_PER_THREAD):
                if self.stop.is_set():
                    return
                token = f"dose-t{thread}-n{number:04d}"
                day, at, drug = self.slots[number % len(self.slots)]
                status = "missed" if number % 3 == 0 else "taken"
                body = {"day": day, "time": at, "drug": drug, "status": status}
                body |= {"client_token": token, "note": f"burst dose {token}"}
                with self.lock:
                    self.doses_sent[token] = body
                response = self._post(client, f"/api/v1/patients/{self.patient_id}/doses", body)
                with self.lock:
                    if response is None:
                        self.doses_cut_off.append(token)
                        return
                    if response.status_code == 201:
                        self.doses_acknowledged[token] = response.json()["dose"]
                    else:
                        self.refused.append((token, response.status_code, response.text[:300]))

    def plan_changes(self) -> None:
        with self._client(self.clinician) as client:
            for number in range(MAX_PER_THREAD):
                if self.stop.is_set():
                    return
                reason = f"burst slowing {number:04d}"
                url = f"/api/v1/patients/{self.patient_id}/plan/slow"
                response = self._post(client, url, {"factor": 1.05, "reason": reason})
                with self.lock:
                    if response is None:
                        return
                    if response.status_code == 200:
                        self.changes_acknowledged[reason] = response.json()
                    else:
                        self.refused.append((reason, response.status_code, response.text[:300]))


def sign_in_as(url: str, username: str, password: str) -> tuple[dict[str, str], str]:
    with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT) as client:
        response = client.post("/api/v1/session", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return dict(client.cookies), response.json()["csrf_token"]


def yesterdays_slots(url: str, patient: tuple[dict[str, str], str], patient_id: int) -> Any:
    with httpx.Client(base_url=url, cookies=patient[0], timeout=REQUEST_TIMEOUT) as client:
        today = client.get(f"/api/v1/patients/{patient_id}/today").json()["day"]
        day = (date.fromisoformat(today) - timedelta(days=1)).isoformat()
        found = client.get(f"/api/v1/patients/{patient_id}/today", params={"day": day})
        assert found.status_code == 200, found.text
        return [(s["day"], s["time"], s["drug"]) for s in found.json()["slots"]]


def test_kill_during_dose_and_plan_burst_keeps_every_acknowledged_write(server: Server) -> None:
    server.start()
    _, _, patient_id = sign_in(server.url)
    patient = sign_in_as(server.url, "alex", "demo-patient-alex")
    clinician = sign_in_as(server.url, "dr.rivera", "demo-clinician")
    slots = yesterdays_slots(server.url, patient, patient_id)
    assert slots, "alex has planned doses yesterday"
    before = Database(server.database, run_migrations=False)
    try:
        with before.transaction() as session:
            versions_before = len(
                session.scalars(
                    select(PlanVersionRow.id).where(PlanVersionRow.patient_id == patient_id)
                ).all()
            )
    finally:
        before.dispose()
    writes = Writes(server.url, patient_id, patient, clinician, slots)
    threads = [
        threading.Thread(target=writes.doses, args=(n,), daemon=True) for n in range(DOSE_THREADS)
    ]
    threads.append(threading.Thread(target=writes.plan_changes, daemon=True))
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + BURST_TIMEOUT_S * 2
    while not writes.enough() and time.monotonic() < deadline and not writes.refused:
        time.sleep(0.05)  # polling for the burst to reach its size, not standing in for a check
    with writes.lock:
        in_flight_at_kill = writes.in_flight
        server.kill()
    writes.stop.set()
    for thread in threads:
        thread.join(timeout=JOIN_TIMEOUT_S)
        assert not thread.is_alive(), "a burst thread still running after the kill"
    assert not writes.refused, f"writes refused before the crash: {writes.refused[:5]}"
    assert writes.enough(), f"burst too small before the kill\n{server.output()}"
    assert in_flight_at_kill > 0, "the server was killed with no request in flight"

    # --- restart; the rows straight from the database, before any retry ---
    server.start()
    db = Database(server.database, run_migrations=False)
    try:
        with db.transaction() as session:
            doses = {
                r.client_token: r
                for r in session.scalars(
                    select(DoseLogRow).where(DoseLogRow.patient_id == patient_id)
                )
                if r.client_token is not None
            }
            versions = session.scalars(
                select(PlanVersionRow)
                .where(PlanVersionRow.patient_id == patient_id)
                .order_by(PlanVersionRow.number)
            ).all()
            audited = {
                what: len(
                    session.scalars(
                        select(AuditRow.id).where(
                            AuditRow.patient_id == patient_id,
                            AuditRow.action == "write",
                            AuditRow.what == what,
                        )
                    ).all()
                )
                for what in ("dose", "plan")
            }
    finally:
        db.dispose()
    for token, shown in writes.doses_acknowledged.items():
        row = doses.get(token)
        assert row is not None, f"acknowledged dose confirmation {token} lost in the crash"
        sent = writes.doses_sent[token]
        assert row.id == shown["id"], token
        assert (str(row.day), row.time, row.drug, row.status, row.note) == (
            sent["day"],
            sent["time"],
            sent["drug"],
            sent["status"],
            sent["note"],
        ), token
    assert set(doses) <= set(writes.doses_sent), "a dose confirmation nobody sent"
    assert audited["dose"] == len(doses), (
        "a dose confirmation without its audit row, or the reverse"
    )
    # plan versions: every acknowledged change is there, numbered without a gap, each audited
    reasons = {v.reason for v in versions}
    lost = [r for r in writes.changes_acknowledged if r not in reasons]
    assert not lost, f"acknowledged plan changes lost in the crash: {lost}"
    assert [v.number for v in versions] == list(range(1, len(versions) + 1))
    assert audited["plan"] == len(versions) - versions_before, (audited, len(versions))
    for reason, shown in writes.changes_acknowledged.items():
        number = next(v["number"] for v in shown["course"]["versions"] if v["reason"] == reason)
        assert next(v for v in versions if v.number == number).reason == reason

    # --- the clients retry what was cut off: each dose is then there exactly once ---
    cookies, csrf = patient
    with httpx.Client(
        base_url=server.url,
        cookies=cookies,
        headers={"X-CSRF-Token": csrf},
        timeout=REQUEST_TIMEOUT,
    ) as client:
        for token in writes.doses_cut_off:
            body = writes.doses_sent[token]
            retried = client.post(f"/api/v1/patients/{patient_id}/doses", json=body)
            assert retried.status_code == 201, (token, retried.text)
            if token in doses:
                assert retried.json()["dose"]["id"] == doses[token].id, token
    db = Database(server.database, run_migrations=False)
    try:
        with db.transaction() as session:
            tokens = session.scalars(
                select(DoseLogRow.client_token).where(DoseLogRow.client_token.is_not(None))
            ).all()
    finally:
        db.dispose()
    assert sorted(tokens) == sorted(set(tokens)) and set(tokens) == set(writes.doses_sent)
    server.stop()
    assert "Traceback" not in server.output(), server.output()
