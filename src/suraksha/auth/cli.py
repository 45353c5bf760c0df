"""`suraksha user create | list | reset-mfa | reset-password | unlock` (adapters over auth.service)."""

from __future__ import annotations

import json
from typing import Any

import typer

from suraksha.cli_support import one_line_errors

user_app = typer.Typer(no_args_is_help=True, help="Staff users of the review workspace (roles, passwords, TOTP).")


def _print_credentials(creds: Any) -> None:
    typer.echo("hand these over now; they cannot be shown again:", err=True)
    if creds.password:
        typer.echo(f"one-time password: {creds.password}")
    if creds.totp_secret:
        typer.echo(f"TOTP secret: {creds.totp_secret}")
        typer.echo(f"TOTP URI: {creds.totp_uri}")


@user_app.command("create")
@one_line_errors
def user_create(
    username: str,
    role: str = typer.Option(..., "--role", help="admin, reviewer, senior_reviewer, legal, analyst or auditor."),
    display_name: str = typer.Option("", "--name", help="Display name."),
) -> None:
    """Create a user with a one-time password (changed at first sign-in) and a TOTP secret."""
    from suraksha.auth.service import create_user

    creds = create_user(username, role, display_name=display_name, actor="system:cli")
    typer.echo(f"created {creds.username!r} with role {role}", err=True)
    _print_credentials(creds)


@user_app.command("list")
@one_line_errors
def user_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List staff users (never their secrets)."""
    from suraksha.auth.service import list_users

    users = list_users()
    if as_json:
        for u in users:
            typer.echo(
                json.dumps(
                    {
                        "username": u.username,
                        "role": u.role,
                        "active": u.active,
                        "locked": u.locked,
                        "mfa_enrolled": u.mfa_enrolled,
                        "must_change_password": u.must_change_password,
                        "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None,
                    }
                )
            )
        return
    typer.echo(f"{'username':24} {'role':16} {'state':12} {'mfa':5} last sign-in")
    for u in users:
        state = ("locked" if u.locked else "active") if u.active else "deactivated"
        last = u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else "never"
        typer.echo(f"{u.username:24} {u.role:16} {state:12} {'yes' if u.mfa_enrolled else 'no':5} {last}")


@user_app.command("reset-mfa")
@one_line_errors
def user_reset_mfa(username: str) -> None:
    """Issue a new TOTP secret (lost device); the user's sessions end."""
    from suraksha.auth.service import reset_mfa

    _print_credentials(reset_mfa(username, actor="system:cli"))


@user_app.command("reset-password")
@one_line_errors
def user_reset_password(username: str) -> None:
    """Issue a new one-time password; the user's sessions end."""
    from suraksha.auth.service import reset_password

    _print_credentials(reset_password(username, actor="system:cli"))


@user_app.command("unlock")
@one_line_errors
def user_unlock(username: str) -> None:
    """Clear a lock-out after repeated failed sign-ins."""
    from suraksha.auth.service import unlock

    unlock(username, actor="system:cli")
    typer.echo(f"unlocked {username!r}")
