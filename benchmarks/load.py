"""Load benchmark: a clinic of 200 patients with a year of history on PostgreSQL, 50 concurrent clients.

Scenario: a new database on the PostgreSQL server named by ``BENZOKIT_LOAD_POSTGRES_URL`` (else
``BENZOKIT_TEST_POSTGRES_URL``; ``source .ci/services.sh; start_postgres`` starts one), dropped at the
end. Five clinicians, 200 patients (one planner-made taper, started a year ago, copied to each), and for
every patient a check-in (GAD-7 + PHQ-9) and the planned doses confirmed on each of the last 365 days,
inserted by the store in bulk. The service (``benzokit serve --workers 2``, as a clinic starts it,
127.0.0.1 only) then takes ``LOAD_SECONDS`` of traffic from 50 clients in one asyncio loop (aiohttp: the
client shares the machine's two cores, and httpx took 1.0-1.2 ms of CPU a request against 0.4): 45
patients (check-ins 50 %, dose confirmations 25 %, their today page 25 %) and 5 clinicians (the patient
list and a patient's page, in turn). Every write carries a client token; afterwards every acknowledged
write (201) is looked up in the database. The reference, in the same run: the same check-in rows written
by the store alone from as many threads, one transaction each.

Prints throughput and p50/p95/p99 per request kind, the error rate, the reference, and one JSON line.
``--profile`` instead sends each kind alone (``LOAD_PROFILE_REQUESTS``, default 300, from up to 10
clients at once) and prints, per request, the CPU of the service and of PostgreSQL and the database's
counters (pg_stat_database: commits, new connections, rows scanned, fetched and inserted): where a
kind's time goes, without the other kinds in the way.
Run: ``source .ci/services.sh; PG_DURABLE=1 start_postgres; .venv/bin/python benchmarks/load.py`` (about
2 minutes). ``PG_DURABLE=1`` keeps PostgreSQL's durable defaults (the test server turns fsync off); the
run prints which it measured.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from urllib.error import URLError
from urllib.request import urlopen

import aiohttp
import psutil
import psycopg
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url

from benzokit.monitor.records import CheckIn
from benzokit.monitor.scales import score_scale
from benzokit.service import schemas
from benzokit.service.app import create_app
from benzokit.service.enrol import SYSTEM
from benzokit.service.settings import ServiceSettings
from benzokit.store import records
from benzokit.store.db import Database
from benzokit.store.tables import (
    CheckInRow,
    DoseLogRow,
    PatientRow,
    PlanVersionRow,
    ScaleScoreRow,
    User,
)

PATIENTS = 200
CLINICIANS = 5
HISTORY_DAYS = 365
PATIENT_CLIENTS = 45
CLINICIAN_CLIENTS = int(os.environ.get("LOAD_CLINICIANS", "5"))
LOAD_SECONDS = float(os.environ.get("LOAD_SECONDS", "40"))
REFERENCE_SECONDS = 8.0
SERVER_WORKERS = 2
PASSWORD = "load-test-password"
GAD7 = {f"item{i}": 1 for i in range(1, 8)}
PHQ9 = {f"item{i}": 1 for i in range(1, 9)} | {"item9": 0}
TARGETS = "≥ 300 check-ins/s; p99 < 150 ms patient requests, < 300 ms clinician patient page"


# ----------------------------------------------------------------------------- the database


def _server_url() -> str:
    return os.environ.get("BENZOKIT_LOAD_POSTGRES_URL") or os.environ.get(
        "BENZOKIT_TEST_POSTGRES_URL", ""
    )


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """A new, empty database on the server, dropped afterwards."""
    name = f"benzokit_load_{secrets.token_hex(6)}"
    with psycopg.connect(_libpq(server), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_libpq(server), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def analyse(url: str) -> None:
    """Gather the planner's statistics of the seeded tables, as a clinic's database has them (autovacuum
    analyses a new table about a minute after the bulk seed, inside the timed window otherwise: until then
    PostgreSQL reads the year's scale scores by a scan of every row)."""
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute("ANALYZE")


@dataclass
class Clinic:
    """Who is in the seeded clinic: patient usernames and ids, each clinician's patients."""

    patients: list[tuple[str, int]] = field(default_factory=list)
    clinicians: dict[str, list[int]] = field(default_factory=dict)


def seed(url: str) -> Clinic:
    """Five clinicians, 200 patients with the same taper started a year ago, a year of history."""
    app = create_app(ServiceSettings(database_url=url))
    clinic = app.state.clinic
    today = clinic.today()
    names = [f"dr.load{c}" for c in range(CLINICIANS)]
    for name in names:
        clinic.enrolment.create_clinician(
            SYSTEM, schemas.NewClinician(username=name, password=PASSWORD, display_name=name)
        )
    template = _template_patient(clinic, today, names[0])
    db: Database = clinic.db
    with db.transaction() as session:
        first = session.scalar(select(PlanVersionRow).where(PlanVersionRow.patient_id == template))
        user_row = session.scalar(
            select(User)
            .join(PatientRow, PatientRow.user_id == User.id)
            .where(PatientRow.id == template)
        )
        assert first is not None and user_row is not None
        plan, password_hash = first.plan, user_row.password_hash
        clinician_ids = {
            n: session.scalar(select(User.id).where(User.username == n)) for n in names
        }
        course = records.course(session, template)
    assert course is not None
    found = Clinic(patients=[("load0", template)], clinicians={n: [] for n in names})
    found.clinicians[names[0]].append(template)
    now = clinic.now()
    with db.transaction() as session:
        for n in range(1, PATIENTS):
            clinician = names[n % CLINICIANS]
            user_id = session.scalar(
                insert(User)
                .values(
                    username=f"load{n}",
                    password_hash=password_hash,
                    role="patient",
                    display_name=f"Load patient {n}",
                    active=True,
                    created_at=now,
                )
                .returning(User.id)
            )
            patient_id = session.scalar(
                insert(PatientRow)
                .values(
                    user_id=user_id,
                    clinician_id=clinician_ids[clinician],
                    display_name=f"Load patient {n}",
                    drug="clonazepam",
                    comedications=[],
                    conditions=[],
                    locale="en-US",
                    enrolled_at=now - timedelta(days=HISTORY_DAYS),
                )
                .returning(PatientRow.id)
            )
            assert patient_id is not None
            session.execute(
                insert(PlanVersionRow).values(
                    patient_id=patient_id,
                    number=1,
                    plan=plan,
                    change=first.change,
                    reason="",
                    created_by=clinician_ids[clinician],
                    created_at=first.created_at,
                )
            )
            found.patients.append((f"load{n}", patient_id))
            found.clinicians[clinician].append(patient_id)
    _history(db, [p for _, p in found.patients], course, today)
    db.dispose()
    return found


def _template_patient(clinic: Any, today: date, clinician: str) -> int:
    """The first patient, enrolled by the planner a year ago (a taper still running today)."""
    for regimen in ("2 mg bid", "1.5 mg tid", "3 mg bid"):
        summary, _ = clinic.enrolment.create_patient(
            SYSTEM,
            schemas.NewPatient(
                username="load0" if regimen == "2 mg bid" else f"load0-{regimen[:3]}",
                password=PASSWORD,
                display_name="Load patient 0",
                clinician=clinician,
                current_regimen=regimen,
                start_date=today - timedelta(days=HISTORY_DAYS),
            ),
        )
        with clinic.db.transaction() as session:
            course = records.course(session, summary.id)
        if course is not None and course.doses_on(today):
            return int(summary.id)
    sys.exit("no planner taper started a year ago still has doses today")


def _history(db: Database, patients: list[int], course: Any, today: date) -> None:
    """A check-in and the planned doses confirmed on each of the last HISTORY_DAYS days."""
    scores = (score_scale("gad7", GAD7), score_scale("phq9", PHQ9))
    with db.transaction() as session:
        next_id = int(session.scalar(select(func.coalesce(func.max(CheckInRow.id), 0))) or 0) + 1
    for patient in patients:
        checkins, score_rows, doses = [], [], []
        for back in range(HISTORY_DAYS, 0, -1):
            day = today - timedelta(days=back)
            at = datetime.combine(day, clock_time(20, 0), UTC)
            checkins.append(
                {"id": next_id, "patient_id": patient, "recorded_at": at, "seizures": 0, "note": ""}
            )
            score_rows += [
                {
                    "checkin_id": next_id,
                    "scale": s.scale,
                    "version": s.version,
                    "answers": {"items": [list(a) for a in s.answers]},
                    "total": s.total,
                    "band": s.band,
                }
                for s in scores
            ]
            next_id += 1
            for dose in course.doses_on(day):
                taken = datetime.combine(day, clock_time(0), UTC) + timedelta(
                    minutes=dose.time.minutes
                )
                doses.append(
                    {
                        "patient_id": patient,
                        "day": day,
                        "time": str(dose.time),
                        "drug": dose.drug,
                        "planned_mg": dose.dose_mg,
                        "status": "taken",
                        "taken_mg": dose.dose_mg,
                        "taken_at": taken,
                        "note": "",
                        "recorded_at": taken,
                    }
                )
        with db.transaction() as session:
            session.execute(insert(CheckInRow), checkins)
            session.execute(insert(ScaleScoreRow), score_rows)
            if doses:
                session.execute(insert(DoseLogRow), doses)
    with db.transaction() as session:
        session.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('checkins', 'id'), (SELECT max(id) FROM checkins))"
            )
        )


# ----------------------------------------------------------------------------- the server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server(url: str) -> Iterator[tuple[str, int]]:
    """The service as a clinic starts it: ``benzokit serve`` with ``--workers``, on 127.0.0.1:
    (its address, its process id)."""
    port = _free_port()
    command = [
        str(Path(sys.executable).parent / "benzokit"),
        "serve",
        "--database", url,
        "--host", "127.0.0.1",
        "--port", str(port),
        "--workers", str(SERVER_WORKERS),
        "--no-demo",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urlopen(f"{base}/login", timeout=2) as response:
                    if response.status == 200:
                        break
            except (URLError, OSError):
                time.sleep(0.3)
        else:
            raise RuntimeError("the service did not start")
        yield base, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ----------------------------------------------------------------------------- the clients


_SEMAPHORE: list[asyncio.Semaphore] = []


def _signing_in() -> asyncio.Semaphore:
    if not _SEMAPHORE:
        _SEMAPHORE.append(asyncio.Semaphore(_SIGN_INS))
    return _SEMAPHORE[0]


@dataclass
class Tally:
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    acknowledged: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


_SIGN_INS = 4  # sign-ins at once (each checks an argon2 hash: memory and a core for a while)


def _client(base: str) -> aiohttp.ClientSession:
    """One client: its own connection (kept alive) and cookies (the session cookie of 127.0.0.1:
    ``unsafe`` lets aiohttp keep a cookie of an IP address)."""
    return aiohttp.ClientSession(
        base_url=base,
        cookie_jar=aiohttp.CookieJar(unsafe=True),
        timeout=aiohttp.ClientTimeout(total=30),
    )


async def _answer(call: Any) -> tuple[int, bytes]:
    """The status and the whole body of a request (``call``: an aiohttp request not yet awaited)."""
    async with call as response:
        return int(response.status), await response.read()


async def _sign_in(client: aiohttp.ClientSession, username: str) -> str:
    """Sign ``client`` in; its session's CSRF token."""
    async with _signing_in():
        status, body = await _answer(
            client.post("/api/v1/session", json={"username": username, "password": PASSWORD})
        )
    if status != 200:
        raise RuntimeError(f"sign-in of {username} answered {status}")
    return str(json.loads(body)["csrf_token"])


async def _timed(tally: Tally, kind: str, call: Any, ok: int, token: str | None = None) -> None:
    start = time.perf_counter()
    try:
        status, _ = await _answer(call)
    except (aiohttp.ClientError, TimeoutError):
        tally.errors[kind] += 1
        return
    tally.times[kind].append(time.perf_counter() - start)
    if status != ok:
        tally.errors[kind] += 1
    elif token is not None:
        tally.acknowledged[kind].append(token)


@dataclass
class Window:
    """The timed window: every client signs in first, then all start together until ``until``."""

    clients: int
    signed_in: int = 0
    until: float = 0.0
    go: asyncio.Event = field(default_factory=asyncio.Event)

    async def ready(self) -> None:
        self.signed_in += 1
        if self.signed_in == self.clients:
            self.until = time.monotonic() + LOAD_SECONDS
            self.go.set()
        await self.go.wait()


async def _past_slots(client: aiohttp.ClientSession, patient_id: int) -> list[tuple[str, str, str]]:
    """The planned doses of yesterday and today whose time has come (the clinic is on UTC): a dose
    due later today cannot be confirmed as taken yet, whatever the hour the benchmark runs at."""
    now = datetime.now(UTC)
    slots = []
    for day in (now.date() - timedelta(days=1), now.date()):
        url = f"/api/v1/patients/{patient_id}/today?day={day.isoformat()}"
        _, body = await _answer(client.get(url))
        for slot in json.loads(body)["slots"]:
            hour, minute = map(int, slot["time"].split(":"))
            if datetime.combine(day, clock_time(hour, minute), UTC) <= now:
                slots.append((slot["day"], slot["time"], slot["drug"]))
    return slots


async def patient_client(
    base: str, username: str, patient_id: int, *, window: Window, tally: Tally, seed_: int
) -> None:
    rng = random.Random(seed_)
    async with _client(base) as client:
        headers = {"X-CSRF-Token": await _sign_in(client, username)}
        slots = await _past_slots(client, patient_id)
        await window.ready()
        while time.monotonic() < window.until:
            roll = rng.random()
            token = secrets.token_urlsafe(16)
            if roll < 0.5:
                body = {"scales": {"gad7": GAD7, "phq9": PHQ9}, "client_token": token}
                url = f"/api/v1/patients/{patient_id}/checkins"
                await _timed(
                    tally, "check-in", client.post(url, json=body, headers=headers), 201, token
                )
            elif roll < 0.75 and slots:
                day, at, drug = rng.choice(slots)
                body = {
                    "day": day,
                    "time": at,
                    "drug": drug,
                    "status": "taken",
                    "client_token": token,
                }
                url = f"/api/v1/patients/{patient_id}/doses"
                await _timed(
                    tally, "dose", client.post(url, json=body, headers=headers), 201, token
                )
            else:
                url = f"/api/v1/patients/{patient_id}/today"
                await _timed(tally, "today", client.get(url), 200)


async def clinician_client(
    base: str, username: str, patients: list[int], *, window: Window, tally: Tally, seed_: int
) -> None:
    rng = random.Random(seed_)
    async with _client(base) as client:
        await _sign_in(client, username)
        await window.ready()
        while time.monotonic() < window.until:
            await _timed(tally, "patient list", client.get("/api/v1/patients"), 200)
            page = client.get(f"/clinic/patients/{rng.choice(patients)}")
            await _timed(tally, "clinician patient page", page, 200)


@dataclass
class Usage:
    """CPU seconds used during the timed window by the service (its processes), the database server
    (the backends of the load database) and this client process: where the machine's cores went."""

    service_pid: int
    database: str
    postmaster: int = 0
    start: dict[str, float] = field(default_factory=dict)
    used: dict[str, float] = field(default_factory=dict)

    def _now(self) -> dict[str, float]:
        root = psutil.Process(self.service_pid)
        service = [root, *root.children(recursive=True)]
        backends = [  # a backend's title: "postgres: user database client state"
            p
            for p in psutil.process_iter(["cmdline"])
            if (title := " ".join(p.info["cmdline"] or ())).startswith("postgres:")
            and f" {self.database} " in title
        ]
        if backends and not self.postmaster:
            self.postmaster = backends[0].ppid()
        return {
            "service": _cpu_s(service),
            "database": _cpu_s(backends) + self._ended_backends_s(),
            "client": time.process_time(),
        }

    def _ended_backends_s(self) -> float:
        """CPU of the server's backends that ended (connections a pool closed): the postmaster
        reaped them, so it is counted among its children's times."""
        try:
            times = psutil.Process(self.postmaster).cpu_times() if self.postmaster else None
        except psutil.Error:
            return 0.0
        return 0.0 if times is None else times.children_user + times.children_system

    def begin(self) -> None:
        self.start = self._now()

    def end(self) -> None:
        self.used = {k: v - self.start[k] for k, v in self._now().items()}


def _cpu_s(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:  # ended meanwhile
            continue
        total += times.user + times.system
    return total


async def load(base: str, clinic: Clinic, usage: Usage) -> tuple[Tally, float]:
    tally = Tally()
    window = Window(PATIENT_CLIENTS + CLINICIAN_CLIENTS)

    async def measured() -> None:
        await window.go.wait()
        usage.begin()

    tasks = [
        patient_client(base, username, patient_id, window=window, tally=tally, seed_=n)
        for n, (username, patient_id) in enumerate(clinic.patients[:PATIENT_CLIENTS])
    ]
    tasks += [
        clinician_client(base, name, ids, window=window, tally=tally, seed_=1000 + n)
        for n, (name, ids) in enumerate(list(clinic.clinicians.items())[:CLINICIAN_CLIENTS])
    ]
    await asyncio.gather(measured(), *tasks)
    usage.end()
    return tally, LOAD_SECONDS + max(0.0, time.monotonic() - window.until)


# ----------------------------------------------------------------------------- the profile


PROFILE_REQUESTS = int(os.environ.get("LOAD_PROFILE_REQUESTS", "300"))
PROFILE_CLIENTS = 10  # clients at once per kind (clinician kinds: the clinicians, at most this)
#: counters of pg_stat_database read before and after each kind (per request in the profile)
DATABASE_COUNTERS = ("xact_commit", "sessions", "tup_returned", "tup_fetched", "tup_inserted")


def _database_counters(server: str, database: str) -> dict[str, float]:
    """The database's cumulative counters (pg_stat_database), after the server has flushed them."""
    with psycopg.connect(_libpq(server), autocommit=True) as conn:
        conn.execute("SELECT pg_stat_force_next_flush()")
        row = conn.execute(
            f"SELECT {', '.join(DATABASE_COUNTERS)} FROM pg_stat_database WHERE datname = %s",
            (database,),
        ).fetchone()
    assert row is not None
    return {name: float(value or 0) for name, value in zip(DATABASE_COUNTERS, row, strict=True)}


async def _profile_kind(
    base: str, clinic: Clinic, kind: str, usage: Usage, server_url: str
) -> dict[str, float]:
    """CPU (service, PostgreSQL) and database counters per request of one kind, from
    PROFILE_CLIENTS clients at once sending PROFILE_REQUESTS requests in all."""
    tally = Tally()
    clinician = kind in ("patient list", "clinician patient page")
    people: list[tuple[str, Any]] = (
        [(name, ids) for name, ids in clinic.clinicians.items()]
        if clinician
        else list(clinic.patients[:PROFILE_CLIENTS])
    )
    clients = [_client(base) for _ in people]
    try:
        tokens = [await _sign_in(c, name) for c, (name, _) in zip(clients, people, strict=True)]
        slots = [
            [] if clinician else await _past_slots(c, int(who))
            for c, (_, who) in zip(clients, people, strict=True)
        ]
        share = max(1, PROFILE_REQUESTS // len(people))

        async def one(n: int) -> None:
            client, (_, who), token = clients[n], people[n], tokens[n]
            rng = random.Random(n)
            for _ in range(share):
                call = _request(client, kind, who, token, slots=slots[n], rng=rng)
                await _timed(tally, kind, call, 201 if kind in ("check-in", "dose") else 200)

        before = _database_counters(server_url, usage.database)
        usage.begin()
        started = time.monotonic()
        await asyncio.gather(*(one(n) for n in range(len(people))))
        elapsed = time.monotonic() - started
        usage.end()
        after = _database_counters(server_url, usage.database)
    finally:
        for client in clients:
            await client.close()
    done = len(tally.times[kind])
    found = {
        "requests": float(done),
        "per_s": done / elapsed,
        "service_cpu_ms": usage.used["service"] / done * 1e3,
        "postgres_cpu_ms": usage.used["database"] / done * 1e3,
        "errors": float(tally.errors[kind]),
    }
    found |= {f"{name}/request": (after[name] - before[name]) / done for name in DATABASE_COUNTERS}
    return found


def _request(
    client: aiohttp.ClientSession,
    kind: str,
    who: Any,
    token: str,
    *,
    slots: list[tuple[str, str, str]],
    rng: random.Random,
) -> Any:
    """The awaitable request of ``kind`` (``who``: the patient id, or the clinician's patient ids)."""
    headers = {"X-CSRF-Token": token}
    if kind == "check-in":
        body: dict[str, Any] = {
            "scales": {"gad7": GAD7, "phq9": PHQ9},
            "client_token": secrets.token_urlsafe(16),
        }
        return client.post(f"/api/v1/patients/{who}/checkins", json=body, headers=headers)
    if kind == "dose":
        day, at, drug = rng.choice(slots)
        body = {"day": day, "time": at, "drug": drug, "status": "taken"}
        body["client_token"] = secrets.token_urlsafe(16)
        return client.post(f"/api/v1/patients/{who}/doses", json=body, headers=headers)
    if kind == "today":
        return client.get(f"/api/v1/patients/{who}/today")
    if kind == "patient list":
        return client.get("/api/v1/patients")
    return client.get(f"/clinic/patients/{rng.choice(who)}")


PROFILE_KINDS = ("check-in", "dose", "today", "patient list", "clinician patient page")


def profile_main(url: str, clinic: Clinic) -> None:
    """``--profile``: each request kind alone, its CPU and database work per request."""

    async def every_kind(base: str, usage: Usage) -> dict[str, dict[str, float]]:
        return {
            k: await _profile_kind(base, clinic, k, usage, _server_url()) for k in PROFILE_KINDS
        }

    with server(url) as (base, pid):
        rows = asyncio.run(every_kind(base, Usage(pid, make_url(url).database or "")))
    print(
        f"each kind alone, {PROFILE_REQUESTS} requests from up to {PROFILE_CLIENTS} clients; "
        "per request: CPU ms of the service and of PostgreSQL, and pg_stat_database counters"
    )
    names = ["per_s", "service_cpu_ms", "postgres_cpu_ms", "errors"]
    names += [f"{n}/request" for n in DATABASE_COUNTERS]
    print(f"{'kind':24}" + "".join(f"{n.removesuffix('/request'):>16}" for n in names))
    for kind, row in rows.items():
        print(f"{kind:24}" + "".join(f"{row[n]:>16.2f}" for n in names))
    print(json.dumps({"profile": rows}))


# ----------------------------------------------------------------------------- checks and reference


def missing_writes(url: str, tally: Tally) -> dict[str, int]:
    """How many acknowledged writes of each kind are not in the database."""
    db = Database(url, run_migrations=False)
    try:
        with db.transaction() as session:
            missing = {}
            for kind, table in (("check-in", CheckInRow), ("dose", DoseLogRow)):
                tokens = tally.acknowledged[kind]
                found = set()
                for chunk in range(0, len(tokens), 1000):
                    part = tokens[chunk : chunk + 1000]
                    found |= set(
                        session.scalars(
                            select(table.client_token).where(table.client_token.in_(part))
                        )
                    )
                missing[kind] = len(set(tokens) - found)
            return missing
    finally:
        db.dispose()


def store_reference(url: str, patients: list[int], threads: int) -> tuple[float, list[float]]:
    """Check-ins written by the store alone from ``threads`` threads: (per second, latencies)."""
    db = Database(url, run_migrations=False)
    scores = (score_scale("gad7", GAD7), score_scale("phq9", PHQ9))
    latencies: list[float] = []
    lock = threading.Lock()
    until = time.monotonic() + REFERENCE_SECONDS

    def writer(patient: int) -> None:
        while time.monotonic() < until:
            start = time.perf_counter()
            with db.transaction() as session:
                records.add_checkin(
                    session, patient, CheckIn(datetime.now(UTC), scores), client_token=None
                )
            with lock:
                latencies.append(time.perf_counter() - start)

    workers = [threading.Thread(target=writer, args=(p,)) for p in patients[:threads]]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    db.dispose()
    return len(latencies) / REFERENCE_SECONDS, latencies


def percentile_ms(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1e3


def durability(server: str) -> str:
    """The server's fsync and synchronous_commit settings, e.g. ``fsync=on synchronous_commit=on``."""
    with psycopg.connect(_libpq(server), autocommit=True) as conn:
        settings = [
            f"{name}={conn.execute(f'SHOW {name}').fetchone()[0]}"  # type: ignore[index]
            for name in ("fsync", "synchronous_commit")
        ]
    return " ".join(settings)


def main() -> None:
    if not _server_url():
        print(
            "load benchmark skipped: no PostgreSQL server (source .ci/services.sh; start_postgres, "
            "or set BENZOKIT_LOAD_POSTGRES_URL)"
        )
        return
    with fresh_database(_server_url()) as url:
        started = time.monotonic()
        clinic = seed(url)
        analyse(url)
        print(
            f"seeded {PATIENTS} patients x {HISTORY_DAYS} days in {time.monotonic() - started:.0f} s"
        )
        if "--profile" in sys.argv[1:]:
            profile_main(url, clinic)
            return
        with server(url) as (base, pid):
            usage = Usage(pid, make_url(url).database or "")
            tally, elapsed = asyncio.run(load(base, clinic, usage))
        missing = missing_writes(url, tally)
        reference_rate, reference = store_reference(
            url, [p for _, p in clinic.patients], PATIENT_CLIENTS
        )
    durable = durability(_server_url())
    print(
        f"PostgreSQL: {durable}" + ("" if "fsync=on" in durable else " (NOT durable: PG_DURABLE=1)")
    )
    summary: dict[str, Any] = {"seconds": round(elapsed, 1), "postgres": durable, "kinds": {}}
    total = sum(len(t) for t in tally.times.values())
    errors = sum(tally.errors.values())
    print(f"{PATIENT_CLIENTS + CLINICIAN_CLIENTS} clients for {elapsed:.0f} s, {total} requests")
    print(f"{'kind':24} {'per s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for kind in sorted(set(tally.times) | set(tally.errors)):
        times = tally.times[kind]
        row = {
            "per_s": round(len(times) / elapsed, 1),
            "p50_ms": round(percentile_ms(times, 0.50), 1),
            "p95_ms": round(percentile_ms(times, 0.95), 1),
            "p99_ms": round(percentile_ms(times, 0.99), 1),
            "errors": tally.errors[kind],
        }
        summary["kinds"][kind] = row
        print(
            f"{kind:24} {row['per_s']:>7} {row['p50_ms']:>8} {row['p95_ms']:>8} "
            f"{row['p99_ms']:>8} {row['errors']:>7}"
        )
    rate = errors / max(1, total)
    print(f"error rate: {rate:.2%}; acknowledged writes missing afterwards: {missing}")
    print(
        f"reference, store-only check-ins from {PATIENT_CLIENTS} threads: {reference_rate:.0f}/s, "
        f"p50 {percentile_ms(reference, 0.5):.1f} ms, p99 {percentile_ms(reference, 0.99):.1f} ms"
    )
    cores = {k: round(v / elapsed, 2) for k, v in usage.used.items()}
    per_request_ms = round(usage.used["service"] / max(1, total) * 1e3, 2)
    print(
        f"CPU in the window (cores busy): service {cores['service']}, PostgreSQL "
        f"{cores['database']}, this client {cores['client']} (of {os.cpu_count()}); "
        f"service CPU per request {per_request_ms} ms (all kinds)"
    )
    summary |= {"cores_busy": cores, "service_cpu_ms_per_request": per_request_ms}
    checkin_rate = summary["kinds"].get("check-in", {}).get("per_s", 0.0)
    print(f"check-ins through the service / store alone: {checkin_rate / reference_rate:.2f}")
    print(f"targets: {TARGETS}")
    summary |= {
        "error_rate": round(rate, 4),
        "missing_writes": missing,
        "reference_checkins_per_s": round(reference_rate, 1),
        "reference_p50_ms": round(percentile_ms(reference, 0.5), 1),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
