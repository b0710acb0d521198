"""Persistence: SQLAlchemy tables, Alembic migrations, the clinic's repository, backup and restore."""
