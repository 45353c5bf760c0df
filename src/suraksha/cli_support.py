"""What every area's CLI commands share: expected failures become one line on stderr and exit 1;
the start-up checks (home folder, schema, no demo sign-in in production) exit 2."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import typer


class CliError(Exception):
    """An expected failure: printed as one line, exit status 1."""


def one_line_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn expected errors (bad input, missing things, unreadable files) into `error: ...` and exit 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (CliError, ValueError, LookupError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2 if isinstance(exc, StartupRefused) else 1) from None
        except OSError as exc:
            where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
            typer.echo(f"error: {where}{exc.strerror or exc}", err=True)
            raise typer.Exit(1) from None

    return wrapper


class StartupRefused(CliError):
    """A command must not run against this home or database: printed as one line, exit status 2."""


def check_home() -> None:
    """Refuse to pick ``./var`` of whatever folder the command was started from when it has none:
    a command run from the wrong folder would otherwise start a new, empty installation there."""
    from pathlib import Path

    from suraksha.config import get_settings

    settings = get_settings()
    if settings.home_is_set or settings.home.is_dir():
        return
    here = Path.cwd()
    raise StartupRefused(
        f"no Suraksha home here: SURAKSHA_HOME is not set and {here} has no var/ folder, so "
        f"{settings.home.resolve()} would be used (a new, empty installation); set SURAKSHA_HOME to the home "
        f"folder (and SURAKSHA_DATABASE_URL for PostgreSQL), or run from the folder that holds var/ "
        f"(`suraksha db upgrade` creates a new home here)")


def check_schema() -> None:
    """Stop before a command touches a database that is not migrated to this version. Demo mode with
    the embedded SQLite default migrates it instead, and says so on stderr."""
    from suraksha.config import get_settings
    from suraksha.db.migrate import DatabaseUnreachable, schema_state, upgrade

    settings = get_settings()
    try:
        state = schema_state()
    except DatabaseUnreachable as exc:
        raise StartupRefused(str(exc)) from None
    problem = state.problem()
    if problem is None:
        return
    if settings.mode != "production" and settings.embedded_database and not state.unknown:
        upgrade()
        what = "created and migrated" if state.empty else "migrated"
        typer.echo(f"database at {state.location} was not migrated: {what} it now (demo mode, embedded SQLite)",
                   err=True)
        return
    raise StartupRefused(problem)


def check_no_demo_credentials() -> None:
    """Production mode never runs while a demo sign-in (public password, TOTP secret or key) exists."""
    from suraksha.config import get_settings

    if get_settings().mode != "production":
        return
    from suraksha.demo import find_demo_credentials, production_refusal

    found = find_demo_credentials()
    if found:
        raise StartupRefused(production_refusal(found))


def startup_checks(*, demo_credentials: bool = True) -> None:
    """What every command that uses the database checks first, in this order: the home folder, the
    schema, and (production mode) that no demo sign-in exists. Exits 2 with one line on stderr.
    The home folder is created (0700) or tightened only once the first two passed."""
    from suraksha.config import get_settings

    try:
        check_home()
        check_schema()
        get_settings().ensure_home()  # 0700 whatever the database (PostgreSQL too: keys, evidence, index live here)
        if demo_credentials:
            check_no_demo_credentials()
    except StartupRefused as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
