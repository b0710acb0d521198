"""When a server starts the app (its lifespan), the objects alive then are frozen out of the garbage
collector's reach, so that a full collection during a request does not walk them again (the
slowest page views of benchmarks/service.py were such collections)."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

from benzokit.service.app import create_app
from benzokit.service.settings import ServiceSettings


def test_starting_the_app_freezes_the_startup_heap(tmp_path: Path) -> None:
    app = create_app(ServiceSettings(database_url=f"sqlite:///{tmp_path / 'clinic.db'}"))
    gc.unfreeze()
    assert gc.get_freeze_count() == 0

    async def started() -> int:
        async with app.router.lifespan_context(app):
            return gc.get_freeze_count()

    try:
        frozen = asyncio.run(started())
        assert frozen > 10_000  # the modules, the app, its knowledge base
        assert gc.get_freeze_count() > frozen / 2  # stays frozen after startup
    finally:
        gc.unfreeze()  # the rest of this test process as it was
        app.state.clinic.db.dispose()
