"""``admin backup`` / ``admin restore``: the whole database as one JSON document, and back.

The backup names its format version and schema revision; restore accepts only a backup of the same
schema revision, into a database with no accounts yet, in one transaction (all rows or none), and then
moves PostgreSQL's id sequences past the restored ids. The file is written atomically.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Date, Table, func, insert, select, text

from benzokit.errors import InputError
from benzokit.files import write_atomically
from benzokit.store.db import Database, schema_revision
from benzokit.store.tables import TABLES_IN_ORDER, Base, User, UTCDateTime

FORMAT = "benzokit-backup"
FORMAT_VERSION = 1


def _tables() -> list[Table]:
    """The tables in an order that inserts parents before children."""
    return [Base.metadata.tables[str(model.__tablename__)] for model in TABLES_IN_ORDER]


def _encode(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def dump(db: Database) -> dict[str, Any]:
    """Every row of every table, in an order that restores without breaking a foreign key."""
    tables: dict[str, list[dict[str, object]]] = {}
    with db.transaction() as session:
        for table in _tables():
            key = list(table.primary_key.columns)
            rows = session.execute(select(table).order_by(*key)).mappings()
            tables[table.name] = [{k: _encode(v) for k, v in row.items()} for row in rows]
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "schema_revision": schema_revision(db.engine),
        "created_at": datetime.now(UTC).isoformat(),
        "tables": tables,
    }


def write_backup(db: Database, path: Path) -> dict[str, int]:
    """Write the backup to ``path`` (atomically); returns the row count of each table."""
    document = dump(db)
    write_atomically(path, json.dumps(document, ensure_ascii=False, indent=1).encode())
    return {name: len(rows) for name, rows in document["tables"].items()}


def _decode(table_name: str, row: dict[str, Any]) -> dict[str, Any]:
    table = Base.metadata.tables[table_name]
    out = dict(row)
    for column in table.columns:
        value = out.get(column.name)
        if value is None:
            continue
        if isinstance(column.type, UTCDateTime):
            out[column.name] = datetime.fromisoformat(value)
        elif isinstance(column.type, Date):
            out[column.name] = date.fromisoformat(value)
    return out


def read_backup(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(
            "backup file", str(path), f"a benzokit backup (JSON) that can be read ({error})"
        ) from error
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise InputError("backup file", str(path), "a file written by 'benzokit admin backup'")
    if document.get("format_version") != FORMAT_VERSION:
        raise InputError(
            "format_version", document.get("format_version"), f"backup format {FORMAT_VERSION}"
        )
    return document


def restore(db: Database, path: Path) -> dict[str, int]:
    """Load the backup at ``path`` into ``db``, which must hold no accounts yet."""
    document = read_backup(path)
    revision = schema_revision(db.engine)
    if document.get("schema_revision") != revision:
        raise InputError(
            "schema_revision",
            document.get("schema_revision"),
            f"a backup of schema revision {revision} (this benzokit's database)",
        )
    tables = document.get("tables")
    if not isinstance(tables, dict):
        raise InputError("tables", type(tables).__name__, "the tables of the backup")
    counts: dict[str, int] = {}
    with db.transaction() as session:
        if session.scalar(select(func.count()).select_from(User)):
            raise InputError("database_url", db.url, "an empty database (it already has accounts)")
        for table in _tables():
            rows = [_decode(table.name, r) for r in tables.get(table.name, [])]
            if rows:
                session.execute(insert(table), rows)
            counts[table.name] = len(rows)
        if db.engine.dialect.name == "postgresql":
            for table in _tables():
                if "id" in table.columns and counts[table.name]:
                    session.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"(SELECT MAX(id) FROM {table.name}))"
                        )
                    )
    return counts
