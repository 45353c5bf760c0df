"""``suraksha audit verify|anchor``: check the hash chain against the last published anchor; publish one.

``verify`` exits 0 when the chain holds and contains the anchor, 1 on any tampering (including a
chain cut back before the anchor), 2 when the anchors file cannot be used, and 3 when the chain
holds but there was no anchor to check it against (a cut tail with a rewritten head would pass).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from suraksha.audit.listing import AuditFilter

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


def _filters(
    actor: str | None, kind: str | None, target: str | None, since: str | None, until: str | None, zone: str
) -> AuditFilter:
    import zoneinfo

    from suraksha.audit.listing import AuditFilter, parse_moment
    from suraksha.errors import InvalidInput

    try:
        tz = zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {zone!r}") from None
    return AuditFilter(
        actor=actor or None,
        kind=kind or None,
        target=target or None,
        since=parse_moment(since, tz),
        until=parse_moment(until, tz, end=True),
    )


_ACTOR_HELP = "Who: user:NAME, api_key:ID, system:COMPONENT or a bare user name."
_KIND_HELP = "An action (item.view) or a family (item. or item.*)."
_TARGET_HELP = "An object type (item) or type:id (item:42)."
_SINCE_HELP = "From this date (2026-12-01) or time (2026-12-01T20:15), inclusive."
_UNTIL_HELP = "Up to this time; a date includes that whole day."
_ZONE_HELP = "Time zone of --since/--until without an offset."


@audit_app.command("list")
def list_cmd(
    actor: str = typer.Option(None, "--actor", help=_ACTOR_HELP),
    kind: str = typer.Option(None, "--kind", help=_KIND_HELP),
    target: str = typer.Option(None, "--target", help=_TARGET_HELP),
    since: str = typer.Option(None, "--since", help=_SINCE_HELP),
    until: str = typer.Option(None, "--until", help=_UNTIL_HELP),
    zone: str = typer.Option("UTC", "--zone", help=_ZONE_HELP),
    limit: int = typer.Option(50, "--limit", min=1, max=500, help="Events per page."),
    page: int = typer.Option(1, "--page", min=1, help="Page number (newest first)."),
    as_json: bool = typer.Option(False, "--json", help="Print the page as JSON."),
) -> None:
    """List audit events, newest first, with the total that match the filters."""
    from suraksha.audit.listing import list_events

    f = _filters(actor, kind, target, since, until, zone)
    found = list_events(f, limit=limit, offset=(page - 1) * limit)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "total": found.total,
                    "page": page,
                    "limit": limit,
                    "filters": f.describe(),
                    "events": [e.as_dict() for e in found.events],
                },
                ensure_ascii=False,
            )
        )
        return
    first = found.offset + 1 if found.events else 0
    typer.echo(f"{found.total} event(s); showing {first}-{found.offset + len(found.events)}")
    for e in found.events:
        details = json.dumps(e.details, sort_keys=True, ensure_ascii=False)
        typer.echo(
            f"{e.seq}\t{e.at.astimezone().isoformat(timespec='seconds')}\t{e.who}\t{e.action}\t{e.target}\t{e.ip or '-'}\t{details}"
        )
    if found.has_more:
        typer.echo(f"more: --page {page + 1}", err=True)


@audit_app.command("export")
def export_cmd(
    fmt: str = typer.Option("jsonl", "--format", help="csv or jsonl."),
    output: Path = typer.Option(None, "--output", "-o", help="File to write (default: standard output)."),
    actor: str = typer.Option(None, "--actor", help=_ACTOR_HELP),
    kind: str = typer.Option(None, "--kind", help=_KIND_HELP),
    target: str = typer.Option(None, "--target", help=_TARGET_HELP),
    since: str = typer.Option(None, "--since", help=_SINCE_HELP),
    until: str = typer.Option(None, "--until", help=_UNTIL_HELP),
    zone: str = typer.Option("UTC", "--zone", help=_ZONE_HELP),
    by: str = typer.Option(None, "--as", help="Who exports (recorded as user:NAME); default system:cli."),
) -> None:
    """Export matching audit events, oldest first, as CSV or JSON Lines (the export is audited)."""
    import getpass

    from suraksha.audit.listing import export_events
    from suraksha.audit.log import Actor

    f = _filters(actor, kind, target, since, until, zone)
    who = Actor.user(by) if by else Actor.system(f"cli:{getpass.getuser()}"[:180])
    lines = export_events(f, fmt, who, via="cli")
    count = 0
    if output is None:
        for line in lines:
            typer.echo(line, nl=False)
            count += 1
    else:
        with output.open("w", encoding="utf-8", newline="") as fh:
            for line in lines:
                fh.write(line)
                count += 1
    rows = count - 1 if fmt == "csv" else count
    typer.echo(f"exported {max(rows, 0)} event(s)" + (f" to {output}" if output else ""), err=True)
