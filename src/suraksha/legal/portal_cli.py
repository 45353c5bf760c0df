"""`suraksha portal officers | outbox | sent | reset | unlock | deactivate | activate`: the officers'
portal accounts, and the outbox a mail relay delivers (confirmation links), as adapters over
``legal.officers``."""

from __future__ import annotations

import json

import typer

from suraksha.cli_support import CliError, one_line_errors

portal_app = typer.Typer(no_args_is_help=True, help="Officers' portal: officer accounts and the outbox of their messages.")
ACTOR = "system:cli"


def register(app: typer.Typer) -> None:
    app.add_typer(portal_app, name="portal")


@portal_app.command("officers")
@one_line_errors
def officers_list(
    agency: int | None = typer.Option(None, "--agency", help="Only this agency's officers."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List officers and the state of their account (never their secrets)."""
    from suraksha.legal.officers import list_officers

    for o in list_officers(agency):
        state = (
            "deactivated"
            if not o.active
            else "locked"
            if o.locked
            else "active"
            if o.mfa_enrolled
            else "authenticator not set up"
            if o.email_confirmed
            else "email not confirmed"
        )
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "id": o.id,
                        "email": o.email,
                        "name": o.name,
                        "rank": o.rank,
                        "agency_id": o.agency_id,
                        "agency": o.agency_name,
                        "state": state,
                        "last_login_at": o.last_login_at.isoformat() if o.last_login_at else None,
                    }
                )
            )
        else:
            typer.echo(f"{o.id}\t{o.email}\t{o.name} ({o.rank})\t{o.agency_name}\t{state}")


@portal_app.command("outbox")
@one_line_errors
def outbox(all_messages: bool = typer.Option(False, "--all", help="Include messages already marked sent.")) -> None:
    """Messages waiting for the mail relay, one JSON object per line (id, to, subject, body); mark
    them with `suraksha portal sent ID...` once delivered."""
    from suraksha.legal.officers import outbox as pending

    for n in pending(unsent_only=not all_messages):
        typer.echo(
            json.dumps(
                {"id": n.id, "to": n.to_address, "subject": n.subject, "body": n.body, "created_at": n.created_at.isoformat()}
            )
        )


@portal_app.command("sent")
@one_line_errors
def sent(ids: list[int] = typer.Argument(..., help="Outbox message ids the relay delivered.")) -> None:
    """Mark outbox messages as delivered."""
    from suraksha.legal.officers import mark_sent

    typer.echo(f"marked {mark_sent(ids)} message(s) sent")


@portal_app.command("reset")
@one_line_errors
def reset(
    officer_id: int, base_url: str = typer.Option(..., "--base-url", help="The portal's public address, for the link.")
) -> None:
    """Lost phone or password: clear the officer's password and authenticator, end their sessions
    and put a new confirmation link in the outbox."""
    from suraksha.config import get_settings
    from suraksha.legal.officers import reset_credentials

    if not base_url.startswith(("https://", "http://")):
        raise CliError("--base-url must start with https:// (e.g. https://safety.example.com)")
    reset_credentials(officer_id, ACTOR, base_url=base_url, mode=get_settings().mode)
    typer.echo(f"officer {officer_id} reset; a new confirmation link is in the outbox")


@portal_app.command("unlock")
@one_line_errors
def unlock(officer_id: int) -> None:
    """Clear an officer's lock-out after failed sign-ins."""
    from suraksha.legal.officers import unlock as do_unlock

    do_unlock(officer_id, ACTOR)
    typer.echo(f"officer {officer_id} unlocked")


@portal_app.command("deactivate")
@one_line_errors
def deactivate(officer_id: int) -> None:
    """Deactivate an officer (e.g. who left the agency); their sessions end at once."""
    from suraksha.legal.officers import set_active

    set_active(officer_id, False, ACTOR)
    typer.echo(f"officer {officer_id} deactivated")


@portal_app.command("activate")
@one_line_errors
def activate(officer_id: int) -> None:
    """Reactivate an officer."""
    from suraksha.legal.officers import set_active

    set_active(officer_id, True, ACTOR)
    typer.echo(f"officer {officer_id} activated")
