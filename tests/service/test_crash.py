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
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import select

from benzokit.store.db import Database
from benzokit.store.tables import AlertRow, AuditRow, CheckInRow, PatientRow, ScaleScoreRow, User

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
