"""Persistence: SQLAlchemy tables, Alembic migrations, the clinic's repository, backup and restore."""

DEFAULT_URL = "sqlite:///benzokit-clinic.db"  # the embedded default: a file in the working folder
