"""``benzokit serve`` and ``benzokit admin``: the real commands, end to end."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from cli_support import BENZOKIT, invoke_benzokit, normalise, run_benzokit

from benzokit.service.demo import DEMO_LOGINS

STARTUP_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_serve_with_no_arguments_starts_the_demo_clinic(tmp_path: Path) -> None:
    """The README's main command: SQLite in the working folder, demo data, URL and logins printed."""
    port = free_port()
    env = {**os.environ, "COLUMNS": "160", "MPLBACKEND": "Agg"}
    server = subprocess.Popen(
        [str(BENZOKIT), "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(url + "login", timeout=2) as response:
                    page = response.read().decode()
                break
            except OSError:
                assert server.poll() is None, "the server exited"
                assert time.monotonic() < deadline, "the server did not answer in time"
                time.sleep(0.2)
        assert "Sign in" in page and "decision support" in page
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    text = normalise(output)
    assert url in text
    for login in DEMO_LOGINS:
        assert f"{login.username} password {login.password}" in text
    assert (tmp_path / "benzokit-clinic.db").exists()
    assert "Traceback" not in output
    # the scheduler runs in the process; with no SMTP server, e-mail is off and it says so
    assert "scheduler: in this process" in text
    assert "e-mail reminders and alerts are off" in text


def test_admin_accounts_backup_and_restore(tmp_path: Path) -> None:
    source = f"sqlite:///{tmp_path / 'a.db'}"
    made = invoke_benzokit(
        [
            "admin",
            "create-clinician",
            "--username",
            "dr.b",
            "--name",
            "Dr B",
            "--password",
            "long-enough-1",
            "--database",
            source,
        ]
    )
    assert made.exit_code == 0, made.stderr
    enrolled = invoke_benzokit(
        [
            "admin",
            "create-patient",
            "--username",
            "pat.b",
            "--name",
            "Pat B",
            "--clinician",
            "dr.b",
            "--from",
            "1 mg bid",
            "--start",
            "2027-01-04",
            "--password",
            "long-enough-2",
            "--indication",
            "panic",
            "--database",
            source,
        ]
    )
    assert enrolled.exit_code == 0, enrolled.stderr
    assert "enrolled" in enrolled.stdout
    backup = tmp_path / "backup.json"
    saved = run_benzokit(["admin", "backup", str(backup), "--database", source], tmp_path)
    assert saved.exit_code == 0, saved.stderr
    target = f"sqlite:///{tmp_path / 'b.db'}"
    restored = run_benzokit(["admin", "restore", str(backup), "--database", target], tmp_path)
    assert restored.exit_code == 0, restored.stderr
    assert "2 users" in restored.stdout and "1 plan_versions" in restored.stdout
    again = run_benzokit(["admin", "restore", str(backup), "--database", target], tmp_path)
    assert again.exit_code == 2
    assert "empty database" in normalise(again.stderr)
    assert "Traceback" not in again.stderr


def patient_args(database: str, **options: str) -> list[str]:
    """``admin create-patient`` with valid options, each of which ``options`` may replace."""
    values = {
        "username": "pat.c",
        "name": "Pat C",
        "clinician": "dr.c",
        "from": "1 mg bid",
        "start": "2027-01-04",
        "password": "long-enough-3",
        "database": database,
    } | options
    return ["admin", "create-patient", *[x for k, v in values.items() for x in (f"--{k}", v)]]


def test_admin_bad_input_names_the_option(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'c.db'}"
    short = invoke_benzokit(
        ["admin", "create-clinician", "--username", "dr.c", "--name", "C", "--password", "short",
         "--database", database]
    )  # fmt: skip
    assert short.exit_code == 2 and "password" in short.stderr
    unknown = invoke_benzokit(patient_args(database, clinician="nobody"))
    assert unknown.exit_code == 2 and "clinician" in unknown.stderr
    bad_date = invoke_benzokit(patient_args(database, start="4 Jan"))
    assert bad_date.exit_code == 2 and "--start" in bad_date.stderr
    url = invoke_benzokit(["admin", "migrate", "--database", "oracle://x"])
    assert url.exit_code == 2 and "--database" in url.stderr


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--clinic-phone", "call us"),
        ("--session-idle", "0"),
        ("--workers", "0"),
        ("--workers", "2"),
    ],
)
def test_serve_bad_settings_name_the_option(tmp_path: Path, option: str, value: str) -> None:
    """A setting refused by the service is worded as the serve option that gave it; nothing starts."""
    database = f"sqlite:///{tmp_path / 'c.db'}"
    refused = invoke_benzokit(["serve", "--database", database, option, value])
    assert refused.exit_code == 2 and f"{option}:" in refused.stderr
    assert not (tmp_path / "c.db").exists()


def test_serve_with_two_workers_on_postgresql(fresh_postgres_url: str, tmp_path: Path) -> None:
    """``--workers 2``: two web processes answer on one port, sharing one database (a check-in made
    through one connection is read back through others), and stop with the command."""
    import json
    import urllib.request

    import psutil

    port = free_port()
    env = {**os.environ, "COLUMNS": "160", "MPLBACKEND": "Agg"}
    server = subprocess.Popen(
        [str(BENZOKIT), "serve", "--port", str(port), "--workers", "2", "--demo",
         "--database", fresh_postgres_url],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            try:
                urllib.request.urlopen(base + "/login", timeout=2).close()
                break
            except OSError:
                assert server.poll() is None, "the server exited"
                assert time.monotonic() < deadline, "the server did not answer in time"
                time.sleep(0.3)
        web = [p for p in psutil.Process(server.pid).children(recursive=True) if p.is_running()]
        assert len([p for p in web if "spawn_main" in " ".join(p.cmdline())]) == 2

        def call(path: str, body: object = None, headers: dict[str, str] | None = None) -> object:
            data = None if body is None else json.dumps(body).encode()
            request = urllib.request.Request(base + path, data=data, headers=headers or {})
            request.add_header("Content-Type", "application/json")
            with urllib.request.urlopen(request, timeout=10) as response:  # a new connection each
                return json.loads(response.read() or b"null")

        login = {"username": "alex", "password": "demo-patient-alex"}
        request = urllib.request.Request(
            base + "/api/v1/session",
            json.dumps(login).encode(),
            {"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            cookie = response.headers["set-cookie"].split(";")[0]
            csrf = json.loads(response.read())["csrf_token"]
        signed = {"Cookie": cookie}
        me = call("/api/v1/me", headers=signed)
        assert isinstance(me, dict)
        patient = me["patient_id"]
        body = {"scales": {}, "note": "two workers", "client_token": "two-workers-0001"}
        call(f"/api/v1/patients/{patient}/checkins", body, signed | {"X-CSRF-Token": csrf})
        for _ in range(6):  # whichever process answers, the session and the check-in are there
            found = call(f"/api/v1/patients/{patient}/checkins", headers=signed)
            assert isinstance(found, dict)
            assert any(c["note"] == "two workers" for c in found["checkins"])
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert "2 web processes" in normalise(output)
    assert "Traceback" not in output
    psutil.wait_procs(web, timeout=30)  # uvicorn ends its web processes as it stops
    assert not [p for p in web if _alive(p)], "a web process outlived the command"


def _alive(process: Any) -> bool:
    """Whether a process still runs (an exited one not yet reaped by its parent does not)."""
    import psutil

    try:
        return bool(process.is_running() and process.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False
