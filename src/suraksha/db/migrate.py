"""Run Alembic migrations programmatically (used by the CLI and the tests), and tell whether a
database is migrated to what this code expects (the CLI's start-up check).

Each area keeps its migrations on its own Alembic branch (``branch_labels``), so areas evolve
independently; ``upgrade("heads")`` applies them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from suraksha.config import get_settings
from suraksha.db.session import prepare_sqlite_file, sqlite_path
from suraksha.errors import Unavailable

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", (url or get_settings().resolved_database_url).replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None, revision: str = "heads") -> None:
    settings = get_settings()
    url = url or settings.resolved_database_url
    if url.startswith("sqlite"):
        settings.ensure_home()
        prepare_sqlite_file(url)  # created 0600 here, before SQLite creates it 0644
    command.upgrade(alembic_config(url), revision)


def database_location(url: str) -> str:
    """What to call the database in a message: the SQLite file's absolute path, or the URL without
    its password."""
    path = sqlite_path(url)
    if path is not None:
        return str(path.resolve())
    return make_url(url).render_as_string(hide_password=True)


class DatabaseUnreachable(Unavailable):
    """The database could not be opened at all (server down, wrong URL, unreadable file)."""


@dataclass(frozen=True)
class SchemaState:
    """Which migrations a database has, against the heads this code ships."""

    location: str
    current: frozenset[str]  # what the database's alembic_version table holds
    missing: frozenset[str]  # head revisions of this code the database has not reached
    unknown: frozenset[str]  # revisions in the database that this code does not know (a newer release ran on it)

    @property
    def up_to_date(self) -> bool:
        return not self.missing and not self.unknown

    @property
    def empty(self) -> bool:
        """Never migrated (no file, or no Alembic version recorded)."""
        return not self.current

    def problem(self) -> str | None:
        """One line saying what is wrong and what to run; None when the schema is current."""
        if self.up_to_date:
            return None
        if self.unknown:
            return (
                f"database at {self.location} was migrated by a newer Suraksha (unknown revisions "
                f"{', '.join(sorted(self.unknown))}): run that version, or this one against another database"
            )
        if self.empty:
            return f"database at {self.location} is not migrated: run suraksha db upgrade"
        return (
            f"database at {self.location} is not migrated to this version ({len(self.missing)} area migrations "
            f"missing): run suraksha db upgrade"
        )


def _reached(script: ScriptDirectory, current: frozenset[str]) -> set[str]:
    """Every revision the database has applied: its recorded heads and all they stand on.

    Alembic records only the heads that no other recorded revision already implies, and a branch
    reached through another area's ``depends_on`` (``s0001`` under ``c0001``) is never recorded on
    its own, so comparing the recorded heads with the script heads would call an up-to-date
    database outdated."""
    seen: set[str] = set()
    stack = list(current)
    while stack:
        rev = script.get_revision(stack.pop())
        if rev is None or rev.revision in seen:
            continue
        seen.add(rev.revision)
        for parent in (*_ids(rev.down_revision), *_ids(rev.dependencies)):
            stack.extend(r.revision for r in script.revision_map.get_revisions(parent) if r is not None)
    return seen


def _ids(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def schema_state(url: str | None = None) -> SchemaState:
    """Read the database's Alembic revisions without changing anything: a SQLite file that does not
    exist is reported as never migrated, not created. Raises ``DatabaseUnreachable`` (one line)
    when the database cannot be opened."""
    url = url or get_settings().resolved_database_url
    location = database_location(url)
    script = ScriptDirectory.from_config(alembic_config(url))
    expected = frozenset(script.get_heads())
    path = sqlite_path(url)
    if path is not None and not path.exists():
        return SchemaState(location, frozenset(), expected, frozenset())
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            current = frozenset(MigrationContext.configure(conn).get_current_heads())
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise DatabaseUnreachable(
            f"cannot open the database at {location}: {reason[0] if reason else type(exc).__name__}"
        ) from None
    finally:
        engine.dispose()
    known = {rev.revision for rev in script.walk_revisions()}
    unknown = frozenset(current - known)
    return SchemaState(location, current, frozenset(expected - _reached(script, current - unknown)), unknown)
