"""``suraksha audit verify``: check the whole hash chain; exit status 1 on any tampering."""

from __future__ import annotations

import json

import typer

audit_app = typer.Typer(no_args_is_help=True, help="Audit log.")


def _parse_anchor(value: str | None) -> tuple[int, str] | None:
    if not value:
        return None
    seq, sep, digest = value.partition(":")
    if not sep or not seq.isdigit() or len(digest) != 64:
        raise typer.BadParameter("expected SEQ:HASH (a sequence number and a 64-hex-digit hash)")
    return int(seq), digest.lower()


@audit_app.command("verify")
def verify(
    anchor: str = typer.Option(None, "--anchor", help="SEQ:HASH noted earlier (e.g. from a previous run) that must still hold."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Verify every audit event's hash and link, and the head; print the head to note as an anchor."""
    from suraksha.audit.log import verify_chain

    result = verify_chain(anchor=_parse_anchor(anchor))
    if as_json:
        typer.echo(json.dumps(result.__dict__))
    elif result.ok:
        typer.echo(f"ok: {result.checked} events verified; head {result.head_seq}:{result.head_hash}")
    else:
        where = f" at seq {result.first_bad_seq}" if result.first_bad_seq is not None else ""
        typer.echo(f"TAMPERED{where}: {result.reason} ({result.checked} events verified before it)", err=True)
    if not result.ok:
        raise typer.Exit(1)
