"""The ASGI application: ``create_app(settings, knowledge=...)`` wires the database, the clinic's use
cases (with the knowledge base they pass down), pages, API and error handling."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from anyio import to_thread
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from benzokit._disclaimer import DISCLAIMER
from benzokit._version import __version__
from benzokit.errors import BenzokitError
from benzokit.knowledge import Knowledge
from benzokit.service import api, notify_web, pages
from benzokit.service.clinic import Clinic
from benzokit.service.handlers import (
    benzokit_error_handler,
    http_error_handler,
    unexpected_error_handler,
    validation_error_handler,
)
from benzokit.service.settings import ServiceSettings
from benzokit.service.unit import Unit
from benzokit.service.web import BodyLimit, SecurityHeaders
from benzokit.store.db import POOL_SIZE, Database

#: requests one web process runs at once in its worker threads (anyio's default: 40). Each holds at
#: most one database connection, so the pool's POOL_SIZE connections serve them all (and an async
#: page's work in the event loop) without opening new ones; more threads would only contend for the
#: one core a process uses. (On the load benchmark, 40 threads on a pool of 5 opened about 20 new
#: PostgreSQL connections a second, each a new server process.)
REQUEST_THREADS = POOL_SIZE - 2


def create_app(
    settings: ServiceSettings | None = None,
    *,
    database: Database | None = None,
    knowledge: Knowledge | None = None,
) -> FastAPI:
    """The monitoring service on ``settings.database_url`` (migrated to the newest schema on start),
    with ``knowledge`` (default: the shipped data files) for every plan, check, scale and alert rule."""
    settings = settings or ServiceSettings()
    db = database or Database(settings.database_url)
    app = FastAPI(
        title="benzokit monitoring service",
        version=__version__,
        description=(
            "Patients record doses and check-ins; clinicians watch trends and steer the taper."
            f"\n\n{DISCLAIMER}"
        ),
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
        lifespan=_started,
    )
    app.state.settings = settings
    unit = Unit(db, timezone=settings.timezone, clock=settings.clock, knowledge=knowledge)
    app.state.clinic = Clinic(unit, limits=settings.sign_in_limits())
    app.add_exception_handler(BenzokitError, benzokit_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(Exception, unexpected_error_handler)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    static = Path(str(resources.files("benzokit.service") / "static"))
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.include_router(api.router)
    app.include_router(notify_web.router)
    app.include_router(notify_web.page_router)
    app.include_router(pages.router)
    return app


@asynccontextmanager
async def _started(app: FastAPI) -> AsyncIterator[None]:
    """When a server starts the app: at most REQUEST_THREADS requests at once, :func:`settle_heap`."""
    del app
    to_thread.current_default_thread_limiter().total_tokens = REQUEST_THREADS
    settle_heap()
    yield


def settle_heap() -> None:
    """Move every object alive now (the modules, the app, its knowledge base: kept for the whole run)
    out of the cyclic garbage collector's reach, so that a full collection during a request walks
    only what requests made. With them in reach one took 60-250 ms on the 2-core machine: the
    slowest page views of benchmarks/service.py. Objects frozen are still freed when no longer
    referenced; only a cycle among them would stay."""
    gc.collect()
    gc.freeze()
