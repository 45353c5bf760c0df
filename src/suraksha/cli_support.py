"""What every area's CLI commands share: the one error decorator (an expected failure is one line
on stderr and exit 1; the start-up checks (home folder, schema, no demo sign-in in production)
exit 2; anything else is a bug: a short line with an error id and exit 70) and the start-up checks.

``guard_commands`` puts the decorator on every command of the root app, so no command prints a
raw traceback (unless ``SURAKSHA_DEBUG=1``): a traceback may quote an item or a statement's
parameters, and it buries the one line a person needs.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

import click
import typer

from suraksha import logsafe
from suraksha.errors import SurakshaError

log = logging.getLogger(__name__)

#: The exit status of an unexpected error (BSD sysexits' EX_SOFTWARE: an internal software error).
EXIT_INTERNAL = 70


#: Typer's (and click's) own ways out of a command: they pass through the decorator untouched.
_WAYS_OUT = (typer.Exit, typer.Abort, typer.TyperException, click.exceptions.Exit, click.ClickException, click.Abort)


class CliError(SurakshaError):
    """An expected failure a command states itself: printed as one line, exit status 1."""


def hide_flag_types() -> None:
    """Typer 0.29's help prints a type beside every option, flags included: ``--help <bool>``,
    ``--json <bool>``. A flag takes no value, so its type is noise: show none. (Typer has no
    setting for this; the one method that renders the column is wrapped, once.)"""
    from typer.core import TyperOption

    if getattr(TyperOption.display_type_rich, "_suraksha_flags_hidden", False):
        return
    shown = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx: click.Context) -> str | None:
        if self.is_flag and not self.count:
            return None
        return shown(self, ctx)  # type: ignore[arg-type]

    display_type_rich._suraksha_flags_hidden = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign,assignment]


def echo_record(record: dict[str, Any], as_json: bool) -> None:
    """A ``show`` command's output: the record as JSON with ``--json``, else one ``key: value`` line
    per field, and for a list its length and one compact JSON line per element."""
    if as_json:
        typer.echo(json.dumps(record, indent=2, default=str))
        return
    for key, value in record.items():
        if isinstance(value, list):
            typer.echo(f"{key}: {len(value)}")
            for row in value:
                typer.echo(f"  - {json.dumps(row, default=str, sort_keys=True)}")
        else:
            typer.echo(f"{key}: {'' if value is None else value}")


def one_line_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Map a command's errors by type (``suraksha.errors``), in this one place for the CLI:
    a ``SurakshaError`` prints ``error: <reason>`` and exits with its ``exit_code`` (1; 2 for a
    start-up refusal); an unreadable file (``OSError``) is one line and exit 1; anything else is
    logged by type and frames only, printed as ``error: internal error <id> (<type>)`` and exits 70
    (``SURAKSHA_DEBUG=1`` re-raises it for the traceback)."""
    if getattr(func, "_one_line_errors", False):
        return func

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except _WAYS_OUT:
            raise  # typer's own ways out (typer.Exit, bad usage, Ctrl-C at a prompt)
        except SurakshaError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except OSError as exc:
            where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
            typer.echo(f"error: {where}{exc.strerror or exc}", err=True)
            raise typer.Exit(1) from None
        except Exception as exc:  # noqa: BLE001 - the point: a bug is one line with an id, not a traceback
            if os.environ.get("SURAKSHA_DEBUG") == "1":
                raise
            error_id = uuid.uuid4().hex[:12]
            # Type, SQLSTATE and frames only: the message may quote an item or a statement's parameters.
            log.error(
                "unhandled error %s in %s: %s", error_id, getattr(func, "__name__", "command"), logsafe.describe_exception(exc)
            )
            typer.echo(
                f"error: internal error {error_id} ({type(exc).__name__}); this is a bug: run again "
                f"with SURAKSHA_DEBUG=1 for the traceback",
                err=True,
            )
            raise typer.Exit(EXIT_INTERNAL) from None

    wrapper._one_line_errors = True  # type: ignore[attr-defined]
    return wrapper


def guard_commands(app: typer.Typer) -> None:
    """Put ``one_line_errors`` on every command (and group callback) of ``app`` and its sub-apps,
    so a command an area adds without it still answers one line."""
    for command in app.registered_commands:
        if command.callback is not None:
            command.callback = one_line_errors(command.callback)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            guard_commands(group.typer_instance)
    if app.registered_callback is not None and app.registered_callback.callback is not None:
        app.registered_callback.callback = one_line_errors(app.registered_callback.callback)


class StartupRefused(CliError):
    """A command must not run against this home or database: printed as one line, exit status 2."""

    exit_code = 2


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
        f"(`suraksha db upgrade` creates a new home here)"
    )


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
        typer.echo(f"database at {state.location} was not migrated: {what} it now (demo mode, embedded SQLite)", err=True)
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
