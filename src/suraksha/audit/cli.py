"""``suraksha audit verify|anchor``: check the hash chain against the last published anchor; publish one.

``verify`` exits 0 when the chain holds and contains the anchor, 1 on any tampering (including a
chain cut back before the anchor), 2 when the anchors file cannot be used, and 3 when the chain
holds but there was no anchor to check it against (a cut tail with a rewritten head would pass).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

audit_app = typer.Typer(no_args_is_help=True, help="Audit log.")

NO_ANCHOR_EXIT = 3


def _parse_anchor(value: str | None) -> tuple[int, str] | None:
    if not value:
        return None
    seq, sep, digest = value.partition(":")
    if not sep or not seq.isdigit() or int(seq) < 1 or len(digest) != 64:
        raise typer.BadParameter("expected SEQ:HASH (a sequence number and a 64-hex-digit hash)")
    try:
        int(digest, 16)
    except ValueError:
        raise typer.BadParameter("expected SEQ:HASH (a sequence number and a 64-hex-digit hash)") from None
    return int(seq), digest.lower()


_ANCHOR_FILE_HELP = "Anchors file (default SURAKSHA_AUDIT_ANCHOR_FILE, else $SURAKSHA_HOME/audit-anchors.jsonl)."


@audit_app.command("verify")
def verify(
    anchor: str = typer.Option(None, "--anchor", help="SEQ:HASH to check instead of the anchors file's last anchor."),
    anchor_file: Path = typer.Option(None, "--anchor-file", help=_ANCHOR_FILE_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Verify every audit event's hash and link, the head, and the last published anchor."""
    from suraksha.audit.anchors import AnchorFileError, anchor_path, read_last_anchor
    from suraksha.audit.log import verify_chain

    pinned = _parse_anchor(anchor)
    source = "--anchor"
    path = anchor_file or anchor_path()
    if pinned is None:
        source = str(path)
        try:
            last = read_last_anchor(path)
        except (AnchorFileError, OSError) as exc:
            typer.echo(f"error: cannot use the anchors file: {exc}", err=True)
            raise typer.Exit(2) from None
        pinned = last.pair if last is not None else None

    result = verify_chain(anchor=pinned)
    warning = None
    if result.ok and pinned is None:
        warning = (
            f"WARNING: no published anchor in {path}: the chain is consistent, but its newest events "
            "cannot be checked (someone with database access could cut them and rewrite the head). "
            "Publish anchors with `suraksha audit anchor` (the dispatcher does it hourly) and keep the file "
            "off this host."
        )
    if as_json:
        typer.echo(
            json.dumps(
                {
                    **result.__dict__,
                    "anchor": None if pinned is None else f"{pinned[0]}:{pinned[1]}",
                    "anchor_source": source if pinned is not None else None,
                    "warning": warning,
                }
            )
        )
    elif result.ok:
        against = f"; contains the anchor {pinned[0]}:{pinned[1][:16]}… from {source}" if pinned is not None else ""
        typer.echo(f"ok: {result.checked} events verified; head {result.head_seq}:{result.head_hash}{against}")
    else:
        where = f" at seq {result.first_bad_seq}" if result.first_bad_seq is not None else ""
        typer.echo(f"TAMPERED{where}: {result.reason} ({result.checked} events verified before it)", err=True)
    if not result.ok:
        raise typer.Exit(1)
    if warning is not None:
        if not as_json:
            typer.echo(warning, err=True)
        raise typer.Exit(NO_ANCHOR_EXIT)


@audit_app.command("anchor")
def anchor_cmd(
    anchor_file: Path = typer.Option(None, "--anchor-file", help=_ANCHOR_FILE_HELP),
) -> None:
    """Print the chain's head (SEQ:HASH) and append it to the anchors file, outside the database.

    The chain is checked since the previous anchor first; if it no longer holds, nothing is written
    and the exit status is 1. Keep the file on other storage or ship it off the host.
    """
    from suraksha.audit.anchors import AnchorFileError, AnchorRefused, anchor_path, publish_anchor

    path = anchor_file or anchor_path()
    try:
        published = publish_anchor(path)
    except AnchorRefused as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    except (AnchorFileError, OSError) as exc:
        typer.echo(f"error: cannot use the anchors file: {exc}", err=True)
        raise typer.Exit(2) from None
    if published is None:
        typer.echo("nothing to anchor: the audit log is empty")
        return
    typer.echo(f"{published.seq}:{published.hash}")
    typer.echo(f"anchor {published.seq} in {path}", err=True)
