"""The PostgreSQL engine's pool: connections kept for reuse, and tested only after they sat idle.

A connection used moments ago is handed out without a ping (a round trip per checkout, two per
request, was the price of ``pool_pre_ping``); one idle for longer than ``IDLE_PING_S`` is pinged, and
one the server closed meanwhile is replaced before the transaction starts.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from benzokit.store import db as db_module
from benzokit.store.db import POOL_SIZE, Database


@pytest.fixture
def database(fresh_postgres_url: str) -> Iterator[Database]:
    opened = Database(fresh_postgres_url, run_migrations=False)
    try:
        yield opened
    finally:
        opened.dispose()


def _pings(database: Database, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that grows by one for every ping the engine's dialect sends."""
    sent: list[int] = []
    dialect = database.engine.dialect
    ping = dialect.do_ping

    def counted(connection: Any) -> bool:
        sent.append(1)
        return ping(connection)

    monkeypatch.setattr(dialect, "do_ping", counted)
    return sent


def _backend(database: Database) -> int:
    with database.transaction() as session:
        return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_used_moments_ago_is_not_pinged(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "IDLE_PING_S", 3600.0)
    sent = _pings(database, monkeypatch)
    backends = {_backend(database) for _ in range(5)}
    assert sent == []
    assert len(backends) == 1  # the same connection, reused


def test_an_idle_connection_the_server_closed_is_replaced(
    database: Database, fresh_postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "IDLE_PING_S", 0.0)  # every returned connection counts as idle
    sent = _pings(database, monkeypatch)
    first = _backend(database)
    libpq = make_url(fresh_postgres_url).set(drivername="postgresql")
    with psycopg.connect(libpq.render_as_string(hide_password=False), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (first,))
    second = _backend(database)  # no error: the dead connection was found and replaced
    assert second != first
    assert sent  # found by a ping


def test_concurrent_requests_reuse_their_connections(database: Database) -> None:
    """As many transactions at once as the pool keeps, twice over: no connection is opened anew
    for the second round (connections beyond the pool's size are closed when given back)."""
    barrier = threading.Barrier(POOL_SIZE)
    seen: list[int] = []

    def work() -> None:
        with database.transaction() as session:
            # the session takes its connection at its first statement: all of them hold one before any
            # gives it back, so a round uses as many connections as it has threads
            backend = int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())
            barrier.wait(timeout=30)
            seen.append(backend)

    for _ in range(2):
        threads = [threading.Thread(target=work) for _ in range(POOL_SIZE)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(seen) == 2 * POOL_SIZE
    assert len(set(seen)) == POOL_SIZE
