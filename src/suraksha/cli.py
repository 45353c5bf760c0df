"""Command line: ``suraksha serve | worker | hash | scan | bank | db | demo ...``.

An adapter only: parse arguments, call one service function, print. Errors print a one-line
reason to stderr and exit non-zero.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Suraksha child-safety system.")
db_app = typer.Typer(no_args_is_help=True, help="Database migrations.")
app.add_typer(db_app, name="db")


class CliError(Exception):
    """An expected failure: printed as one line, exit status 1."""


def one_line_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn expected errors (bad input, missing things) into a one-line message and exit 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (CliError, ValueError, LookupError, OSError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None

    return wrapper


@db_app.command("upgrade")
@one_line_errors
def db_upgrade() -> None:
    """Apply all migrations to the configured database."""
    from suraksha.db.migrate import upgrade

    upgrade()
    typer.echo("database up to date")


def main() -> None:  # pragma: no cover
    app(prog_name="suraksha")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
