"""CLI of enforcement: ``suraksha dispatch`` and ``suraksha actions list|show|retry|request|suspend-network``."""

from __future__ import annotations

import json
import logging
import signal
import threading
from dataclasses import asdict
from typing import Any

import typer

actions_app = typer.Typer(no_args_is_help=True, help="Actions sent to the platform (remove, suspend, withhold, restore, notify).")


def _fail(exc: Exception) -> None:
    typer.echo(f"error: {exc.args[0] if exc.args else exc}", err=True)
    raise typer.Exit(1)


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, default=str)


def dispatch(
    once: bool = typer.Option(False, "--once", help="One pass, print what it did, exit."),
    poll_interval: float = typer.Option(1.0, "--poll-interval", help="Idle wait between passes (s)."),
) -> None:
    """Deliver the outbox until SIGTERM/SIGINT: actions to the platform connector, evidence to the
    vault, review tasks, reports to NCMEC; India/UK packages are prepared for a person to send."""
    from suraksha.enforcement.dispatch import dispatcher_from_settings
    from suraksha.evidence.keys import EvidenceKeyError, ensure_key_configured

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        ensure_key_configured()  # it preserves evidence: production without a key stops here
        d = dispatcher_from_settings()
    except (ValueError, EvidenceKeyError) as exc:
        _fail(exc)
    if d.ncmec is None:
        logging.getLogger("suraksha.dispatch").warning(
            "NCMEC credentials not configured (SURAKSHA_NCMEC_USERNAME/PASSWORD): NCMEC reports stay queued")
    if once:
        typer.echo(_json(d.run_once()))
        return
    stop = threading.Event()

    def _stop(signum, _frame):
        logging.getLogger("suraksha.dispatch").info("signal %s: finishing the current pass, then exiting", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    passes = d.run(stop, poll_interval=poll_interval)
    typer.echo(f"dispatcher stopped after {passes} passes")


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
        rows = list_actions(status=status, kind=kind, item_id=item, account_id=account, alert=True if alerts else None, limit=limit)
    except (ValueError, LookupError) as exc:
        _fail(exc)
    if as_json:
        typer.echo(_json([asdict(r) for r in rows]))
        return
    for r in rows:
        target = f"item {r.platform_item_id}" if r.platform_item_id else f"account {r.platform_account_id}"
        flag = "  ALERT" if r.alert else ""
        typer.echo(f"{r.id}\t{r.kind}\t{r.status}\t{target}\tattempts={r.attempts}\t{r.last_error or ''}{flag}")


@actions_app.command("show")
def show_cmd(action_id: int = typer.Argument(...)) -> None:
    """One action with its items and every delivery attempt (JSON)."""
    from suraksha.enforcement.actions import get_action

    try:
        typer.echo(_json(asdict(get_action(action_id))))
    except (ValueError, LookupError) as exc:
        _fail(exc)


@actions_app.command("retry")
def retry_cmd(action_id: int = typer.Argument(...), actor: str = typer.Option("system:cli", "--actor")) -> None:
    """Send a dead or failed action again now."""
    from suraksha.enforcement.actions import retry_action

    try:
        a = retry_action(action_id, actor)
    except (ValueError, LookupError) as exc:
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
        a, created = request_action(kind, actor, item_id=item, account_id=account, country=country, reason=reason, message=message)
    except (ValueError, LookupError) as exc:
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
    from suraksha.enforcement.actions import suspend_network

    try:
        result = suspend_network(account, reason, actor, max_accounts=max_accounts)
    except (ValueError, LookupError) as exc:
        _fail(exc)
    for m in result.members:
        typer.echo(f"{m.account_id}\t{m.platform_account_id}\taction {m.action_id}\t"
                   f"{'enqueued' if m.enqueued else 'already suspended'}\t{', '.join(m.shared)}")
    typer.echo(f"{len(result.enqueued)} suspension(s) enqueued, {len(result.members) - len(result.enqueued)} already on record")


def register(app: typer.Typer) -> None:
    app.command("dispatch")(dispatch)
    app.add_typer(actions_app, name="actions")
