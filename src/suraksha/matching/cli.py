"""`suraksha bank ...` and `suraksha index ...` commands (adapters over the bank service)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TextIO, cast

import typer

from suraksha.cli_support import CliError, one_line_errors
from suraksha.errors import InvalidInput

bank_app = typer.Typer(no_args_is_help=True, help="Hash banks: create, fill, import, export, fetch.")
index_app = typer.Typer(no_args_is_help=True, help="The persisted match indexes.")


def _refresh_snapshot() -> None:
    """Bring the persisted index up to date so the next `serve` starts without rebuilding."""
    from suraksha.matching.matcher import get_matcher

    get_matcher().save()


@bank_app.command("create")
@one_line_errors
def create(
    name: str,
    label: str = typer.Option(..., "--label", help="What the bank holds: csam, ncii, csam_url, ..."),
    negative: bool = typer.Option(False, "--negative", help="Matches here suppress all other matches (known false positives)."),
    threshold: int = typer.Option(31, "--threshold", help="PDQ distance threshold, 0-63."),
    no_transforms: bool = typer.Option(False, "--no-transforms", help="Do not match rotated/mirrored images."),
    description: str = typer.Option("", "--description"),
) -> None:
    """Create a bank."""
    from suraksha.matching.banks import create_bank

    b = create_bank(
        name, label, negative=negative, pdq_threshold=threshold, match_transforms=not no_transforms, description=description
    )
    typer.echo(f"created bank {b.name} (label {b.label}{', negative' if b.negative else ''}, pdq threshold {b.pdq_threshold})")


@bank_app.command("list")
@one_line_errors
def list_cmd(as_json: bool = typer.Option(False, "--json")) -> None:
    """List banks with their settings and entry counts."""
    from dataclasses import asdict

    from suraksha.matching.banks import list_banks

    banks = list_banks()
    if as_json:
        for b in banks:
            typer.echo(json.dumps(asdict(b)))
        return
    typer.echo(f"{'name':24} {'label':12} {'entries':>9} {'thr':>4} {'transforms':10} {'state':8} source")
    for b in banks:
        state = "disabled" if not b.enabled else "negative" if b.negative else "enabled"
        typer.echo(
            f"{b.name:24} {b.label:12} {b.entries:>9} {b.pdq_threshold:>4} {('yes' if b.match_transforms else 'no'):10} {state:8} {b.source}"
        )


@bank_app.command("update")
@one_line_errors
def update(
    name: str,
    enable: bool | None = typer.Option(None, "--enable/--disable"),
    threshold: int | None = typer.Option(None, "--threshold"),
    transforms: bool | None = typer.Option(None, "--transforms/--no-transforms"),
    label: str | None = typer.Option(None, "--label"),
) -> None:
    """Change a bank's settings (takes effect in every matcher within a second)."""
    from suraksha.matching.banks import update_bank

    b = update_bank(name, enabled=enable, pdq_threshold=threshold, match_transforms=transforms, label=label)
    typer.echo(
        f"bank {b.name}: {'enabled' if b.enabled else 'disabled'}, label {b.label}, threshold {b.pdq_threshold}, transforms {'on' if b.match_transforms else 'off'}"
    )


@bank_app.command("add")
@one_line_errors
def add(
    name: str,
    files: list[Path] = typer.Argument(..., help="Media files whose signals to add."),
    metadata: str = typer.Option("", "--metadata", help="JSON object stored with each entry."),
) -> None:
    """Hash media files and add their signals (sha256, md5, pdq / vpdq) to a bank."""
    from suraksha.matching.banks import add_content, get_bank

    try:
        meta = json.loads(metadata) if metadata else {}
    except ValueError:
        raise CliError("--metadata is not valid JSON") from None
    if not isinstance(meta, dict):
        raise CliError("--metadata must be a JSON object")
    get_bank(name)  # fail before hashing anything
    failed = 0
    for path in files:
        try:
            res = add_content(name, path.read_bytes(), {**meta, "file": path.name})
        except (InvalidInput, OSError) as exc:
            failed += 1
            typer.echo(f"error: {path}: {exc}", err=True)
            continue
        note = f" ({'; '.join(res.skipped)})" if res.skipped else ""
        typer.echo(f"{path}: {res.added} signals added, {res.duplicates} already present{note}")
    _refresh_snapshot()
    if failed:
        raise typer.Exit(1)


@bank_app.command("add-signal")
@one_line_errors
def add_signal(name: str, signal_type: str, signal: str, metadata: str = typer.Option("", "--metadata")) -> None:
    """Add one raw signal (e.g. `pdq <64 hex>`, `url <url>`, `domain <host>`)."""
    from suraksha.matching.banks import SignalRow, add_signals

    res = add_signals(name, [SignalRow(signal_type, signal, json.loads(metadata) if metadata else {})])
    typer.echo(f"entry {res.entry_ids[0]} added" if res.entry_ids else "already present")
    _refresh_snapshot()


@bank_app.command("remove")
@one_line_errors
def remove(name: str, entry_id: int) -> None:
    """Delete one entry."""
    from suraksha.matching.banks import remove_entry

    remove_entry(name, entry_id)
    typer.echo(f"entry {entry_id} removed from {name}")
    _refresh_snapshot()


@bank_app.command("import")
@one_line_errors
def import_cmd(
    name: str,
    file: Path,
    fmt: str = typer.Option(
        "csv", "--format", help="csv (signal_type,signal,label,metadata) or te (threatexchange signal file)."
    ),
    show_progress: bool = typer.Option(
        True, "--progress/--no-progress", help="Progress bar on stderr (lines read of the total)."
    ),
) -> None:
    """Import signals from a file: all rows or none (a bad row names its line and stores nothing)."""

    from suraksha.matching.banks import LineCounter, get_bank, import_rows
    from suraksha.matching.formats import read_rows

    get_bank(name)
    total_lines = _count_lines(file)
    started = time.monotonic()
    with file.open("r", encoding="utf-8", newline="") as fh:
        lines = LineCounter(fh)
        rows = read_rows(cast(TextIO, lines), fmt)
        if show_progress:
            with typer.progressbar(
                length=total_lines, label=f"importing {file.name}", show_pos=True, show_eta=True, file=sys.stderr
            ) as bar:
                shown = 0

                def step(_: object) -> None:
                    nonlocal shown
                    bar.update(lines.line - shown)
                    shown = lines.line

                res = import_rows(name, rows, progress=step, lines=lines)
                bar.update(total_lines - shown)
        else:
            res = import_rows(name, rows, lines=lines)
    took = time.monotonic() - started
    rows_done = res.added + res.duplicates
    typer.echo(
        f"imported {res.added} signals into {name} ({res.duplicates} already present); "
        f"{rows_done} rows from {lines.line} lines in {took:.1f} s ({rows_done / max(took, 1e-9):,.0f} rows/s)"
    )
    _refresh_snapshot()


def _count_lines(path: Path) -> int:
    """Lines in a file (the progress bar's total): newlines, plus a last line without one."""
    count, last = 0, b"\n"
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (0 if last == b"\n" else 1)


@bank_app.command("export")
@one_line_errors
def export_cmd(
    name: str,
    fmt: str = typer.Option("csv", "--format", help="csv or te"),
    output: Path | None = typer.Option(None, "--output", "-o", help="File to write (default: stdout)."),
) -> None:
    """Export a bank's enabled entries."""
    from suraksha.matching.banks import get_bank, iter_entries
    from suraksha.matching.formats import write_entries

    bank = get_bank(name)
    if output:
        with output.open("w", encoding="utf-8", newline="") as fh:
            counts = write_entries(iter_entries(name), fh, fmt, label=bank.label)
    else:
        counts = write_entries(iter_entries(name), sys.stdout, fmt, label=bank.label)
    msg = f"exported {counts['written']} entries"
    if counts["skipped"]:
        msg += f"; {counts['skipped']} skipped (no equivalent in the {fmt} format)"
    typer.echo(msg, err=True)


@bank_app.command("link")
@one_line_errors
def link(
    name: str,
    exchange: str,
    config: str = typer.Option("{}", "--config", help='JSON collaboration config, e.g. {"filename": "/abs/path"}'),
) -> None:
    """Link a bank to an exchange (file, ncmec, stop_ncii, fb_threatexchange)."""
    from suraksha.matching.exchanges import configure_exchange

    try:
        cfg = json.loads(config)
    except ValueError:
        raise CliError("--config is not valid JSON") from None
    if not isinstance(cfg, dict):
        raise CliError("--config must be a JSON object")
    configure_exchange(name, exchange, cfg)
    typer.echo(f"bank {name} linked to {exchange}")


@bank_app.command("fetch")
@one_line_errors
def fetch(name: str) -> None:
    """Fetch new signals from the bank's exchange, from its stored checkpoint."""
    from suraksha.matching.exchanges import fetch_exchange

    res = fetch_exchange(name, progress=lambda r: typer.echo(f"  batch {r.batches}: +{r.added}", err=True))
    typer.echo(
        f"fetched {res.batches} batches: {res.added} added, {res.duplicates} already present, {res.removed} removed, {res.skipped} skipped"
    )
    _refresh_snapshot()


@index_app.command("stats")
@one_line_errors
def stats(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Entries per index and the change-log position."""
    from suraksha.matching.matcher import get_matcher

    values = get_matcher().stats()
    if as_json:
        typer.echo(json.dumps(values, indent=2))
        return
    for k, v in values.items():
        typer.echo(f"{k}: {v}")


@index_app.command("rebuild")
@one_line_errors
def rebuild() -> None:
    """Discard the persisted indexes and build them again from bank rows."""
    import shutil

    from suraksha.config import get_settings
    from suraksha.matching.matcher import Matcher

    shutil.rmtree(get_settings().index_dir, ignore_errors=True)
    m = Matcher.open()
    m.save()
    typer.echo(f"rebuilt: {m.stats()}")
