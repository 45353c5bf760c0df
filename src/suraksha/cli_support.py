"""What every area's CLI commands share: expected failures become one line on stderr and exit 1."""

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
            raise typer.Exit(1) from None
        except OSError as exc:
            where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
            typer.echo(f"error: {where}{exc.strerror or exc}", err=True)
            raise typer.Exit(1) from None

    return wrapper
