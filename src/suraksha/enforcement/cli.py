"""CLI of enforcement: ``suraksha actions list|show|retry|request|suspend-network`` (``suraksha dispatch``
is the composition root's, in ``suraksha.cli``)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import typer

from suraksha.cli_support import echo_record
from suraksha.errors import SurakshaError

actions_app = typer.Typer(no_args_is_help=True, help="Actions sent to the platform (remove, suspend, withhold, restore, notify).")


def _fail(exc: Exception) -> None:
    typer.echo(f"error: {exc.args[0] if exc.args else exc}", err=True)
    raise typer.Exit(1)


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, default=str)


@actions_app.command("list")
def list_cmd(
    status: str = typer.Option(None, "--status", help="pending | delivering | acknowledged | failed | dead"),
    kind: str = typer.Option(None, "--kind"),
    item: int = typer.Option(None, "--item", help="Actions on this item (including suspensions it led to)."),
    account: int = typer.Option(None, "--account"),
    alerts: bool = typer.Option(False, "--alerts", help="Only dead-lettered actions not yet retried."),
    limit: int = typer.Option(100, "--limit"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List actions, newest first."""
    from suraksha.enforcement.actions import list_actions

    try:
        rows = list_actions(
            status=status, kind=kind, item_id=item, account_id=account, alert=True if alerts else None, limit=limit
        )
    except SurakshaError as exc:
        _fail(exc)
    if as_json:
        typer.echo(_json([asdict(r) for r in rows]))
        return
    for r in rows:
        target = f"item {r.platform_item_id}" if r.platform_item_id else f"account {r.platform_account_id}"
        flag = "  ALERT" if r.alert else ""
        typer.echo(f"{r.id}\t{r.kind}\t{r.status}\t{target}\tattempts={r.attempts}\t{r.last_error or ''}{flag}")


@actions_app.command("show")
def show_cmd(action_id: int = typer.Argument(...), as_json: bool = typer.Option(False, "--json")) -> None:
    """One action with its items and every delivery attempt."""
    from suraksha.enforcement.actions import get_action

    try:
        view = asdict(get_action(action_id))
    except SurakshaError as exc:
        _fail(exc)
    echo_record(view, as_json)


@actions_app.command("retry")
def retry_cmd(action_id: int = typer.Argument(...), actor: str = typer.Option("system:cli", "--actor")) -> None:
    """Send a dead or failed action again now."""
    from suraksha.enforcement.actions import retry_action

    try:
        a = retry_action(action_id, actor)
    except SurakshaError as exc:
        _fail(exc)
    typer.echo(f"action {a.id} ({a.kind}) queued again")


@actions_app.command("request")
def request_cmd(
    kind: str = typer.Argument(..., help="remove_item | suspend_account | withhold_in_country | restore | notify_user"),
    reason: str = typer.Option(..., "--reason"),
    item: int = typer.Option(None, "--item"),
    account: int = typer.Option(None, "--account"),
    country: str = typer.Option(None, "--country"),
    message: str = typer.Option(None, "--message", help="notify_user: the text shown to the user."),
    actor: str = typer.Option("system:cli", "--actor"),
) -> None:
    """Ask for an action by hand (e.g. restore after a wrong match)."""
    from suraksha.enforcement.actions import request_action

    try:
        a, created = request_action(
            kind, actor, item_id=item, account_id=account, country=country, reason=reason, message=message
        )
    except SurakshaError as exc:
        _fail(exc)
    typer.echo(f"action {a.id} ({a.kind}) {'enqueued' if created else 'already on record'}: {a.status}")


@actions_app.command("suspend-network")
def suspend_network_cmd(
    account: int = typer.Argument(..., help="Our account id."),
    reason: str = typer.Option(..., "--reason"),
    max_accounts: int = typer.Option(500, "--max-accounts"),
    actor: str = typer.Option("system:cli", "--actor"),
) -> None:
    """Suspend the account and every account that posted the same matched material."""
    from suraksha.networks.suspend import suspend_network

    try:
        result = suspend_network(account, reason, actor, max_accounts=max_accounts)
    except SurakshaError as exc:
        _fail(exc)
    for m in result.members:
        typer.echo(
            f"{m.account_id}\t{m.platform_account_id}\taction {m.action_id}\t"
            f"{'enqueued' if m.enqueued else 'already suspended'}\t{', '.join(m.shared)}"
        )
    typer.echo(f"{len(result.enqueued)} suspension(s) enqueued, {len(result.members) - len(result.enqueued)} already on record")


def register(app: typer.Typer) -> None:
    app.add_typer(actions_app, name="actions")
