"""CLI of networks: ``suraksha network show ACCOUNT [--json]``, ``network groups``, ``network refresh``."""

from __future__ import annotations

import json

import typer

from suraksha.cli_support import one_line_errors

network_app = typer.Typer(no_args_is_help=True, help="Account networks: accounts linked by shared material, links, IPs, devices.")


def _when(value: object) -> str:
    return str(value)[:19].replace("T", " ") if value else "-"


def _print(data: dict) -> None:
    typer.echo(
        f"{data['size']} account(s){' (truncated: more are linked)' if data['truncated'] else ''}, "
        f"active {_when(data['first_activity'])} .. {_when(data['last_activity'])}, "
        f"IP/device window {data['window_hours']} h"
    )
    for kind, summary in data["linked_by"].items():
        typer.echo(f"  linked by {kind}: {summary['links']} ({', '.join(summary['examples'])})")
    typer.echo("members:")
    for m in data["members"]:
        typer.echo(
            f"  {m['account_id']}\t{m['platform_account_id']}\t{m['handle'] or '-'}\t{m['items']} item(s), "
            f"{m['matched_items']} matched\t{_when(m['first_activity'])} .. {_when(m['last_activity'])}"
            f"{chr(9) + 'suspended' if m['suspended'] else ''}"
        )
    typer.echo("links:")
    for x in data["links"]:
        typer.echo(f"  {x['kind']}\t{x['value']}\t{x['account_count']} accounts, {x['item_count']} items\t{x['detail']}")


@network_app.command("show")
@one_line_errors
def show(
    account: str = typer.Argument(..., help="Our account id, or the platform's account id."),
    as_json: bool = typer.Option(False, "--json", help="The network as JSON (what the API returns)."),
    window_hours: int | None = typer.Option(None, "--window-hours", help="IP/device time window (default: setting)."),
    max_accounts: int = typer.Option(500, "--max-accounts"),
) -> None:
    """The account's network: its members, what links them, first and last activity."""
    from suraksha.networks.service import network_for

    ref: int | str = int(account) if account.isdigit() else account
    data = network_for(ref, window_hours=window_hours, max_accounts=max_accounts).to_dict()
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        _print(data)


@network_app.command("groups")
@one_line_errors
def groups_cmd(
    min_size: int = typer.Option(2, "--min-size", help="Only groups with at least this many accounts."),
    limit: int = typer.Option(50, "--limit", help="Groups to list (1-500)."),
    offset: int = typer.Option(0, "--offset", help="Skip this many groups (the next page: --offset 50)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON array of networks."),
    window_hours: int | None = typer.Option(None, "--window-hours"),
) -> None:
    """Every connected group of accounts, largest first (then the earliest active)."""
    from suraksha.networks.service import group_page

    page = group_page(min_size=min_size, limit=limit, offset=offset, window_hours=window_hours)
    found = [g.to_dict() for g in page.groups]
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    if not found:
        typer.echo(
            f"no group of {min_size} or more accounts"
            if not page.total
            else f"no groups after the first {page.total} of {min_size} or more accounts"
        )
    for n, g in enumerate(found, offset + 1):
        kinds = ", ".join(f"{k} {v['links']}" for k, v in g["linked_by"].items())
        names = ", ".join(m["platform_account_id"] for m in g["members"][:8]) + (", ..." if g["size"] > 8 else "")
        typer.echo(
            f"{n}. {g['accounts_total']} accounts\t{_when(g['first_activity'])} .. "
            f"{_when(g['last_activity'])}\tlinked by {kinds}\t{names}"
        )
    if page.total > offset + len(found) and found:
        typer.echo(f"{page.total - offset - len(found)} more group(s): --offset {offset + len(found)}")


@network_app.command("refresh")
@one_line_errors
def refresh() -> None:
    """Index the links, IPs and devices of new items now (otherwise done on the next network view)."""
    from suraksha.db import session_scope
    from suraksha.networks.index import refresh_keys

    total = 0
    while True:  # one transaction per batch: an interrupted first run keeps what it did
        with session_scope() as session:
            n = refresh_keys(session, limit=10_000)
        total += n
        if n < 10_000:
            break
        typer.echo(f"{total} item(s) indexed so far", err=True)
    typer.echo(f"{total} item(s) indexed")
