"""Opening the database: engine, SQLite pragmas (WAL, foreign keys, full sync), Alembic migrations.

``sqlite:///path`` is the embedded default; ``postgresql+psycopg://user@host/db`` is supported. Opening
brings the schema to the newest migration, so a new or an older database is ready to use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from time import monotonic
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from benzokit.errors import InputError

#: connections a PostgreSQL engine keeps open (per process): at least as many as the requests one web
#: process runs at once (``service.app.REQUEST_THREADS``, and its event loop's work), so that
#: a busy process reuses its connections; beyond it the pool opens up to ``POOL_OVERFLOW`` more, and
#: closes each as it is returned (a new server process for each: slow under load)
POOL_SIZE = 10
POOL_OVERFLOW = 10
#: a pooled PostgreSQL connection unused for longer than this (seconds) is tested before it is handed
#: out (one round trip); one in use moments ago is not: under load a ping on every checkout (two a
#: request) cost a round trip each for nothing (see :func:`_ping_if_idle`)
IDLE_PING_S = 10.0
SINGLE_READ = "benzokit_single_read"  # the execution option of one read statement, no transaction
ALLOWED = "sqlite:///path/to/file.db or postgresql+psycopg://user@host/dbname"


def make_engine(url: str) -> Engine:
    """An engine for ``url``; an unusable URL is an :class:`InputError` naming ``database_url``."""
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise InputError("database_url", url, ALLOWED) from error
    backend = parsed.get_backend_name()
    if backend not in {"sqlite", "postgresql"}:
        raise InputError("database_url", url, ALLOWED)
    try:
        if backend == "sqlite":
            engine = create_engine(parsed, connect_args={"timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
        else:
            engine = create_engine(parsed, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)
            event.listen(engine, "checkout", _ping_if_idle(engine))
            event.listen(engine, "checkin", _returned)
    except NoSuchModuleError as error:
        raise InputError("database_url", url, ALLOWED) from error
    except ModuleNotFoundError as error:
        raise InputError(
            "database_url",
            url,
            f"install the PostgreSQL driver: pip install 'benzokit[postgres]' ({error})",
        ) from error
    return engine


_RETURNED_AT = "benzokit_returned_at"  # when a pooled connection was last given back (monotonic s)


def _returned(_dbapi_connection: Any, record: Any) -> None:
    record.info[_RETURNED_AT] = monotonic()


def _ping_if_idle(engine: Engine) -> Callable[[Any, Any, Any], None]:
    """The pool's checkout hook: a connection idle for more than :data:`IDLE_PING_S` (a server
    restarted overnight may have closed it) is pinged first, and a dead one replaced (the pool
    retries with a new connection). A connection used moments ago is handed out as it is; if the
    server went away since, the statement fails once and the engine then replaces every
    connection of its pool (SQLAlchemy's handling of a disconnect)."""
    dialect = engine.dialect

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get(_RETURNED_AT)
        if returned is None or monotonic() - returned <= IDLE_PING_S:
            return  # new (just connected), or used moments ago
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise DisconnectionError("the database closed this connection") from error
            raise

    return checkout


def _sqlite_pragmas(connection: Any, _record: object) -> None:
    # benzokit, not the sqlite3 module, starts transactions (see _sqlite_begin)
    connection.isolation_level = None
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    cursor.execute("PRAGMA synchronous=FULL")  # a committed transaction survives a crash
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    """Every transaction takes SQLite's write lock at its start (waiting up to the busy timeout).

    Almost every request writes (the audit log records reads too), and a transaction that read first
    and then tried to write after another writer committed would fail at once in WAL mode; taking the
    lock first makes transactions serializable: a check for a retry token and the insert after it
    cannot interleave with another request's. A :meth:`Database.single_read` is one statement
    outside any transaction (the connection's ``isolation_level`` is None: autocommit), so it takes
    no lock and waits for no writer.
    """
    if not connection.get_execution_options().get(SINGLE_READ):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def core_connection(session: Session) -> Connection:
    """``session``'s connection, for a Core statement built once (no ORM work per request), after
    writing any ORM change still pending: the statement must see it, and may refer to it."""
    session.flush()  # nothing to do (and cheap) when nothing is pending
    return session.connection()


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option(
        "script_location", str(Path(str(resources.files("benzokit.store") / "migrations")))
    )
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (a no-op when it is already there)."""
    try:
        command.upgrade(_alembic_config(engine), "head")
    except OperationalError as error:
        raise InputError(
            "database_url",
            engine.url.render_as_string(hide_password=True),
            f"a database benzokit can reach and write to ({error.orig})",
        ) from error


def schema_revision(engine: Engine) -> str | None:
    """The migration the database is at (None for an empty database)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    head = ScriptDirectory.from_config(
        _alembic_config(create_engine("sqlite://"))
    ).get_current_head()
    assert head is not None
    return head


class Database:
    """An engine and its session factory; ``transaction()`` commits all or nothing."""

    def __init__(self, url: str, *, run_migrations: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url)
        if run_migrations:
            migrate(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        single: dict[str, Any] = {SINGLE_READ: True}
        if self.engine.dialect.name != "sqlite":  # SQLite: no BEGIN is sent (_sqlite_begin)
            single["isolation_level"] = "AUTOCOMMIT"
        self._single = sessionmaker(self.engine.execution_options(**single), expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed when the block ends, and rolled back if it raises."""
        with self._sessions.begin() as session:
            yield session

    @contextmanager
    def single_read(self) -> Iterator[Session]:
        """A session for one read statement outside any transaction (autocommit: no BEGIN, no
        ROLLBACK, one round trip fewer each): one statement is consistent on its own. For a
        lookup asked on every request, such as the session of a cookie."""
        with self._single() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
