"""`suraksha serve`, `suraksha apikey ...` and `suraksha demo seed` (adapters)."""

from __future__ import annotations

import json
from dataclasses import asdict

import typer

from suraksha.api.scopes import SCOPES
from suraksha.cli_support import one_line_errors

apikey_app = typer.Typer(no_args_is_help=True, help="API keys (one per integration; sent as 'Authorization: Bearer KEY').")
demo_app = typer.Typer(no_args_is_help=True, help="Demo data (benign reference images only).")


@one_line_errors
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    workers_in_process: int = typer.Option(
        2, "--workers-in-process", min=0, help="Scan worker threads in this process (0: run `suraksha worker` elsewhere)."
    ),
    dispatch_in_process: bool = typer.Option(
        True,
        "--dispatch-in-process/--no-dispatch-in-process",
        help="Deliver actions, reports, review tasks and legal escalations from this process "
        "(--no-dispatch-in-process: run `suraksha dispatch` elsewhere).",
    ),
    log_level: str = typer.Option("info", "--log-level"),
) -> None:
    """Serve the API, the UI, in-process scan workers and a dispatcher; persist the match index periodically."""
    import uvicorn

    from suraksha.api.app import create_app
    from suraksha.api.settings import get_api_settings
    from suraksha.cli_support import CliError
    from suraksha.evidence.keys import EvidenceKeyError, ensure_key_configured

    try:  # production without an evidence key stops here, before serving anything
        ensure_key_configured()
    except EvidenceKeyError as exc:
        raise CliError(str(exc)) from None
    dispatcher = None
    if dispatch_in_process:
        from suraksha.dispatch import dispatcher_from_settings

        try:
            dispatcher = dispatcher_from_settings()
        except ValueError as exc:
            raise CliError(f"{exc} (or serve with --no-dispatch-in-process and run `suraksha dispatch` elsewhere)") from None
    app = create_app(
        workers_in_process=workers_in_process, index_save_seconds=get_api_settings().index_save_seconds, dispatcher=dispatcher
    )
    uvicorn.run(app, host=host, port=port, log_level=log_level, proxy_headers=False, server_header=False)


_SCOPE_HELP = "repeat the option for each scope. Scopes: " + ", ".join(SCOPES) + " (details in /docs)."


@apikey_app.command("create")
@one_line_errors
def apikey_create(
    name: str,
    rate_limit: int | None = typer.Option(
        None, "--rate-limit", help="Requests per minute (default SURAKSHA_DEFAULT_RATE_LIMIT_PER_MINUTE, 600)."
    ),
    scope: list[str] | None = typer.Option(None, "--scope", help="A scope the key holds; " + _SCOPE_HELP),
) -> None:
    """Create a key and print it once (only its hash is stored). Without --scope it may only scan
    (submit items, hash, look up)."""
    from suraksha.api.keys import create_key

    info, secret = create_key(name, rate_limit, scopes=scope or None)
    typer.echo(
        f"created API key {info.name!r} ({info.prefix}…, {info.rate_limit_per_minute} requests/minute, "
        f"scopes: {' '.join(info.scopes)})",
        err=True,
    )
    typer.echo("store it now; it cannot be shown again:", err=True)
    typer.echo(secret)


@apikey_app.command("scopes")
@one_line_errors
def apikey_scopes(
    name: str = typer.Argument(..., help="The key's name (or its displayed prefix)."),
    scope: list[str] = typer.Option(..., "--scope", help="The key's scopes from now on (replacing the old ones); " + _SCOPE_HELP),
) -> None:
    """Replace a key's scopes, e.g. narrow a key that the upgrade made 'admin' (the secret is unchanged)."""
    from suraksha.api.keys import set_scopes

    info = set_scopes(name, scope)
    typer.echo(f"API key {info.name!r} ({info.prefix}…) now has scopes: {' '.join(info.scopes)}")


@apikey_app.command("list")
@one_line_errors
def apikey_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List keys (prefix, state, scopes, last use); secrets are never shown."""
    from suraksha.api.keys import list_keys

    keys = list_keys()
    if as_json:
        for k in keys:
            typer.echo(json.dumps(asdict(k), default=str))
        return
    typer.echo(f"{'name':24} {'prefix':14} {'state':8} {'rate/min':>8} {'created':20} {'last used':20} scopes")
    for k in keys:
        last = k.last_used_at.strftime("%Y-%m-%d %H:%M:%S") if k.last_used_at else "never"
        typer.echo(
            f"{k.name:24} {k.prefix + '…':14} {'revoked' if k.revoked else 'active':8} {k.rate_limit_per_minute:>8} "
            f"{k.created_at.strftime('%Y-%m-%d %H:%M:%S'):20} {last:20} {' '.join(k.scopes) or '(none)'}"
        )


@apikey_app.command("revoke")
@one_line_errors
def apikey_revoke(name: str = typer.Argument(..., help="The key's name (or its displayed prefix).")) -> None:
    """Revoke a key (refused at once here, within seconds in other server processes)."""
    from suraksha.api.keys import revoke_key

    info = revoke_key(name)
    typer.echo(f"API key {info.name!r} ({info.prefix}…) revoked")


@demo_app.command("seed")
@one_line_errors
def demo_seed() -> None:
    """Create demo banks (filled from a benign reference image when present) and a demo API key.
    Idempotent: a second run changes nothing and says so."""
    from suraksha.demo import seed_demo

    report = seed_demo()
    for line in report.lines:
        typer.echo(line)
    if report.api_key:
        typer.echo("")
        typer.echo("demo API key (shown once; store it now):")
        typer.echo(report.api_key)
    if not report.changed:
        typer.echo("demo already seeded; nothing changed")


@demo_app.command("purge")
@one_line_errors
def demo_purge() -> None:
    """Remove the demo sign-ins (demo staff users, the demo portal officer, the 'demo' API key), whose
    secrets are published in the source: production mode refuses to start while any exists, and this
    is the one command it runs meanwhile. Recorded in the audit log; a second run changes nothing."""
    from suraksha.demo import purge_demo

    report = purge_demo()
    for name in report.deleted_users:
        typer.echo(f"deleted demo staff user {name}")
    for name, retired in report.retired_users:
        typer.echo(
            f"retired demo staff user {name} as {retired} (kept for the review record; deactivated, "
            f"password and authenticator cleared)"
        )
    for email in report.officers:
        typer.echo(f"deleted demo portal officer {email}")
    for key in report.api_keys:
        typer.echo(f"deleted API key {key!r}")
    if not report.changed:
        typer.echo("no demo sign-ins found; nothing changed")
        return
    if not report.active_admins:
        typer.echo(
            "no active admin is left: in production mode `suraksha serve` creates 'admin' at first start when "
            "no staff user exists, otherwise run `suraksha user create NAME admin`"
        )
