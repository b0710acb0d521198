"""``benzokit serve --workers N``: several web processes on one PostgreSQL database.

Python runs one request's code at a time per process, so one process uses one core; ``--workers N``
has uvicorn start N web processes on the same address (the kernel shares the connections out). Each
builds the app (:func:`worker_app`) from the settings ``serve`` checked, passed to it in the
environment (:data:`SETTINGS_VAR`), so the workers run exactly what the serve command validated. The
scheduler stays in the serve command's own process (one per clinic; see ``--no-scheduler``).

SQLite is refused with more than one worker: its writes are serialised across processes anyway, and
its clinic is one process (README, "Scheduled work").
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from benzokit.errors import InputError

if TYPE_CHECKING:
    from fastapi import FastAPI

    from benzokit.service.settings import ServiceSettings

#: the environment variable that carries the checked settings to each web process
SETTINGS_VAR = "BENZOKIT_SERVE_WORKER_SETTINGS"
#: the most web processes ``--workers`` starts (a policy bound, well above any machine's use)
MAX_WORKERS = 64


def checked_workers(workers: int, database_url: str) -> int:
    """``workers`` if it is a number of web processes this database can be served by, else an
    :class:`InputError` naming ``--workers``."""
    if not 1 <= workers <= MAX_WORKERS:
        raise InputError("--workers", workers, f"a number of web processes from 1 to {MAX_WORKERS}")
    if workers > 1 and not database_url.startswith("postgresql"):
        raise InputError(
            "--workers",
            workers,
            "1 with SQLite (several web processes need PostgreSQL: "
            "--database postgresql+psycopg://user@host/db)",
        )
    return workers


def settings_text(settings: ServiceSettings, overlay: Path | None) -> str:
    """The settings a web process needs, as the text of :data:`SETTINGS_VAR`."""
    return json.dumps(
        {
            "database_url": settings.database_url,
            "timezone": settings.timezone,
            "session_lifetime_s": settings.session_lifetime.total_seconds(),
            "session_idle_s": settings.session_idle.total_seconds(),
            "secure_cookies": settings.secure_cookies,
            "clinic_phone": settings.clinic_phone,
            "clinic_hours": settings.clinic_hours,
            "knowledge_overlay": None if overlay is None else str(overlay),
        }
    )


def worker_app() -> FastAPI:
    """The app of one web process (uvicorn's factory), from the settings in :data:`SETTINGS_VAR`."""
    from benzokit.knowledge import Knowledge
    from benzokit.service.app import create_app
    from benzokit.service.settings import ServiceSettings

    given = json.loads(os.environ[SETTINGS_VAR])
    overlay = given["knowledge_overlay"]
    settings = ServiceSettings(
        database_url=given["database_url"],
        timezone=given["timezone"],
        session_lifetime=timedelta(seconds=given["session_lifetime_s"]),
        session_idle=timedelta(seconds=given["session_idle_s"]),
        secure_cookies=given["secure_cookies"],
        clinic_phone=given["clinic_phone"],
        clinic_hours=given["clinic_hours"],
    )
    knowledge = Knowledge.with_overlay(None if overlay is None else Path(overlay))
    return create_app(settings, knowledge=knowledge)


def run_workers(
    settings: ServiceSettings, overlay: Path | None, *, host: str, port: int, workers: int
) -> None:
    """Serve with ``workers`` web processes until stopped (uvicorn supervises and restarts them)."""
    import uvicorn

    os.environ[SETTINGS_VAR] = settings_text(settings, overlay)
    uvicorn.run(
        "benzokit.cli.web_workers:worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,  # a line per request, formatted and then dropped at level warning
    )
