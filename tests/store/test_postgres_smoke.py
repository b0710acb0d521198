"""Smoke test of the PostgreSQL test setup: a real server, a fresh database, SQLAlchemy + psycopg."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, func, select, text
from sqlalchemy.engine import make_url


def test_fresh_database_round_trip(fresh_postgres_url: str) -> None:
    assert fresh_postgres_url.startswith("postgresql+psycopg://")
    metadata = MetaData()
    notes = Table(
        "smoke_note",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("body", String(200), nullable=False),
    )
    engine = create_engine(fresh_postgres_url)
    try:
        with engine.begin() as conn:
            # A fresh database: nothing of other tests in it.
            assert (
                conn.scalar(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")) == 0
            )
            metadata.create_all(conn)
            conn.execute(notes.insert(), [{"body": "0.5 mg bid"}, {"body": "0.25 mg bid"}])
        with engine.connect() as conn:
            bodies = conn.scalars(select(notes.c.body).order_by(notes.c.id)).all()
            assert bodies == ["0.5 mg bid", "0.25 mg bid"]
            assert conn.scalar(select(func.count()).select_from(notes)) == 2
            assert conn.dialect.name == "postgresql"
    finally:
        engine.dispose()


def test_shared_database_allows_creating_databases(postgres_url: str) -> None:
    # fresh_postgres_url relies on the role being allowed to CREATE DATABASE.
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT current_database()")) == make_url(postgres_url).database
            may_create = conn.scalar(
                text("SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user")
            )
            assert may_create is True
    finally:
        engine.dispose()
