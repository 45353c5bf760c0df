"""Database plumbing: engine, sessions, the declarative base and Alembic migrations.

Each area owns its tables (``<area>/models.py``) but they share one ``Base`` so Alembic sees them
all. The same code runs on SQLite (embedded default) and PostgreSQL (production).
"""

from suraksha.db.base import Base, utcnow
from suraksha.db.session import get_engine, make_engine, reset_engine, session_scope, unit_of_work

__all__ = ["Base", "utcnow", "get_engine", "make_engine", "session_scope", "reset_engine", "unit_of_work"]
