"""Alembic environment: one metadata for all areas, run online against the configured URL."""

from __future__ import annotations

from alembic import context

from suraksha.db.base import Base
from suraksha.db.models import import_all_models
from suraksha.db.session import make_engine

import_all_models()
target_metadata = Base.metadata


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    engine = make_engine(url)
    with engine.connect() as connection:
        if url.startswith("sqlite"):
            # Batch mode rebuilds a SQLite table (create a copy, drop the old one). With foreign keys on,
            # dropping ``items`` would cascade into every table that references it (matches, media,
            # jobs...): a downgrade or a column drop would delete data. Alembic's advice: keys off
            # while migrating (the PRAGMA only takes effect outside a transaction, hence the commit).
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=url.startswith("sqlite"),
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
