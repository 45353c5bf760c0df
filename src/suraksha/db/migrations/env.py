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
