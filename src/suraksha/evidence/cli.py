"""``suraksha evidence purge | verify``."""

from __future__ import annotations

import datetime as dt

import typer

evidence_app = typer.Typer(no_args_is_help=True, help="Evidence vault: retention purge and integrity checks.")


def _parse_now(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("expected an ISO 8601 time with an offset, e.g. 2027-01-01T00:00:00+05:30") from None
    if when.tzinfo is None:
        raise typer.BadParameter("give a time zone offset (e.g. +00:00); a naive time is ambiguous")
    return when


@evidence_app.command("purge")
def purge(
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would be purged; change nothing."),
    now: str = typer.Option(None, "--now", help="Purge as of this time (ISO 8601 with offset); default now."),
) -> None:
    """Delete evidence past its retention that no legal hold protects (tombstones and custody stay)."""
    from suraksha.evidence.keys import EvidenceKeyError
    from suraksha.evidence.vault import purge_expired

    try:
        result = purge_expired(now=_parse_now(now), dry_run=dry_run)
    except EvidenceKeyError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    verb = "would purge" if dry_run else "purged"
    for ev_id in result.purged:
        typer.echo(f"{verb} {ev_id}")
    for ev_id in result.held:
        typer.echo(f"kept {ev_id} (legal hold)")
    typer.echo(f"{len(result.purged)} {verb}, {len(result.held)} kept under legal hold")


@evidence_app.command("verify")
def verify(ids: list[str] = typer.Argument(None, help="Evidence ids (default: every preserved object).")) -> None:
    """Decrypt and check every object against its capture hashes; exit 1 if any fails."""
    from suraksha.evidence.keys import EvidenceKeyError
    from suraksha.evidence.vault import orphaned_blobs
    from suraksha.evidence.vault import verify as verify_all

    try:
        outcomes = verify_all(ids or None)
    except EvidenceKeyError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    bad = [o for o in outcomes if not o.ok]
    for o in bad:
        typer.echo(f"FAILED {o.evidence_id}: {o.reason}", err=True)
    orphans = orphaned_blobs() if not ids else []
    if orphans:
        typer.echo(f"note: {len(orphans)} orphaned blob(s) without a row (capture rolled back; unreadable)")
    typer.echo(f"{len(outcomes) - len(bad)} of {len(outcomes)} evidence objects verified")
    if bad:
        raise typer.Exit(1)
