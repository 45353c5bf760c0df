"""`suraksha outbox list | counts | retry`: what the outbox holds, and sending a dead-lettered message again."""

from __future__ import annotations

import json
from dataclasses import asdict

import typer

from suraksha.audit import record
from suraksha.cli_support import one_line_errors
from suraksha.db import session_scope
from suraksha.outbox import service

outbox_app = typer.Typer(no_args_is_help=True, help="The outbox: work the scans asked for (actions, evidence, review, reports).")


@outbox_app.command("list")
@one_line_errors
def list_cmd(
    status: str = typer.Option(None, "--status", help="pending | claimed | delivered | skipped | dead"),
    topic: str = typer.Option(None, "--topic", help="action | preserve | review | report"),
    item: int = typer.Option(None, "--item", help="Messages about this item."),
    limit: int = typer.Option(100, "--limit"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List messages, newest first (``--status dead``: the dead-lettered ones, each an alert)."""
    with session_scope() as session:
        rows = service.list_messages(session, status=status, topic=topic, item_id=item, limit=limit)
    if as_json:
        typer.echo(json.dumps([asdict(r) for r in rows], indent=2, default=str))
        return
    for r in rows:
        typer.echo(f"{r.id}\t{r.topic}\t{r.status}\t{r.dedupe_key}\tattempts={r.attempts}\t{r.last_error or ''}")


@outbox_app.command("counts")
@one_line_errors
def counts_cmd(as_json: bool = typer.Option(False, "--json")) -> None:
    """Messages per topic and status."""
    with session_scope() as session:
        counts = service.counts(session)
    if as_json:
        typer.echo(json.dumps(counts, indent=2))
        return
    for topic, by_status in sorted(counts.items()):
        typer.echo(f"{topic}\t" + "\t".join(f"{s}={n}" for s, n in sorted(by_status.items())))


@outbox_app.command("retry")
@one_line_errors
def retry_cmd(message_id: int = typer.Argument(...), actor: str = typer.Option("system:cli", "--actor")) -> None:
    """Make a dead (or skipped) message due again now, with a fresh attempt count (audited)."""
    with session_scope() as session:
        m = service.retry(session, message_id)
        record(session, actor, "outbox.retry", "outbox_message", m.id, {"topic": m.topic, "last_error": m.last_error})
    typer.echo(f"outbox message {m.id} ({m.topic}) queued again")
