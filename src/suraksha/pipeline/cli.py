"""CLI commands of the pipeline: ``suraksha worker``, ``suraksha scan-item``, ``suraksha item``."""

from __future__ import annotations

import json
import logging
import signal
import threading

import typer

from suraksha.cli_support import CliError


def worker(
    concurrency: int = typer.Option(1, "--concurrency", "-c", min=1, help="Worker threads in this process."),
    poll_interval: float = typer.Option(0.05, "--poll-interval", help="Longest idle wait between queue polls (s)."),
    batch: int = typer.Option(0, "--batch", help="Jobs claimed at a time (0: SURAKSHA_WORKER_BATCH)."),
) -> None:
    """Scan queued items until SIGTERM/SIGINT; the batch in hand is finished before exiting."""
    from suraksha.logsafe import configure_cli_logging
    from suraksha.pipeline.worker import run_worker

    configure_cli_logging()  # database errors' messages (which may quote an item) never reach the log
    stop = threading.Event()

    def _stop(signum, _frame):
        logging.getLogger("suraksha.worker").info("signal %s: finishing the current batch, then exiting", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    from suraksha.pipeline.scan import ScanSettingsError

    try:
        done = run_worker(stop, concurrency=concurrency, poll_interval=poll_interval, batch=batch or None)
    except ScanSettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"worker stopped; {done} items scanned")


def scan_item(item_id: int = typer.Argument(..., help="Item id.")) -> None:
    """Scan (or rescan) one stored item now and print its verdict as JSON."""
    from suraksha.pipeline.views import get_item
    from suraksha.pipeline.worker import scan_now

    try:
        scan_now(item_id)
        view = get_item(item_id)
    except LookupError as exc:
        typer.echo(f"error: {exc.args[0] if exc.args else exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps(view.model_dump(mode="json"), indent=2))


def item_show(item_id: int = typer.Argument(..., help="Item id.")) -> None:
    """Print one item with its status, signals, matches, scores and verdict as JSON."""
    from suraksha.pipeline.views import get_item

    try:
        view = get_item(item_id)
    except LookupError as exc:
        typer.echo(f"error: {exc.args[0] if exc.args else exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps(view.model_dump(mode="json"), indent=2))


def consume(
    stream: str = typer.Option(..., "--stream", help="JetStream stream holding the items."),
    subject: str = typer.Option(..., "--subject", help="Subject the items are published on (a filter of the stream)."),
    servers: str = typer.Option("nats://127.0.0.1:4222", "--servers", help="NATS server URL(s), comma-separated."),
    durable: str = typer.Option("suraksha-consume", "--durable", help="Durable consumer name (shared by all consumers)."),
    dead_letter: str = typer.Option("suraksha.dead-letter", "--dead-letter-subject", help="Where refused messages go."),
    batch: int = typer.Option(100, "--batch", min=1, max=1000, help="Messages fetched and stored per transaction."),
    max_messages: int = typer.Option(0, "--max-messages", min=0, help="Stop after this many (0: run until stopped)."),
    idle_exit: float = typer.Option(0, "--idle-exit", min=0, help="Stop after this many idle seconds (0: never)."),
    create_stream: bool = typer.Option(False, "--create-stream", help="Create the stream if it does not exist."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Read items (the POST /v1/items shape) from NATS JetStream with a durable pull consumer until
    SIGTERM/SIGINT; each message is acknowledged once its item is stored (or, with findings-only
    storage, counted), refused ones go to the dead-letter subject with the reason."""
    import asyncio

    from suraksha.logsafe import configure_cli_logging
    from suraksha.pipeline import stream as stream_mod
    from suraksha.pipeline.settings import get_pipeline_settings
    from suraksha.pipeline.stream_nats import NatsSource

    configure_cli_logging()

    async def run() -> stream_mod.Stats:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        source = await NatsSource.connect(
            servers.split(","),
            stream=stream,
            subject=subject,
            durable=durable,
            dead_letter_subject=dead_letter,
            create_stream=create_stream,
        )
        try:
            return await stream_mod.consume(
                source,
                batch=batch,
                max_messages=max_messages or None,
                idle_exit=idle_exit or None,
                stop=stop,
                findings_only=get_pipeline_settings().findings_only,
            )
        finally:
            await source.close()

    stats = asyncio.run(run())
    if as_json:
        typer.echo(json.dumps(stats.as_dict()))
    else:
        typer.echo(
            f"consume stopped: {stats.messages} messages; {stats.stored} stored, {stats.repeat} repeats, "
            f"{stats.counted} benign counted, {stats.dead} dead-lettered, {stats.retried} to be redelivered"
        )


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
    app.command("consume")(consume)
    app.command("scan-item")(scan_item)
    app.command("item")(item_show)
    app.command("backfill")(backfill)
    app.command("rescan")(rescan)
    app.add_typer(archive_app, name="archive")


# ---------------------------------------------------------------- backfill and rescan
def _progress(console, enabled: bool):
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TextColumn("{task.fields[rows]:>9,} rows  {task.fields[rate]:>7,.0f}/s  {task.fields[matched]:,} matched"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        disable=not enabled,
        transient=False,
    )


def _render_summary(summary: dict, console) -> None:
    from rich.table import Table

    table = Table(title=f"backfill {summary['source']} ({summary['status']})", show_header=False)
    for label, key in [
        ("rows read", "rows_read"),
        ("items ingested", "ingested"),
        ("already present (skipped)", "already_present"),
        ("bad rows", "bad_rows"),
        ("matched", "matched"),
        ("not scanned yet", "pending_scans"),
        ("scans failed", "failed_scans"),
        ("reading (s)", "read_s"),
        ("elapsed (s)", "elapsed_s"),
        ("items/s", "items_per_s"),
    ]:
        table.add_row(label, f"{summary[key]:,}" if isinstance(summary[key], int) else str(summary[key]))
    for verdict, n in sorted(summary["verdicts"].items()):
        table.add_row(f"verdict {verdict}", f"{n:,}")
    if summary["resumed_from_line"]:
        table.add_row("resumed after row", f"{summary['resumed_from_line']:,}")
    console.print(table)


def backfill(
    source: str = typer.Argument(..., help="Export file: JSON Lines or Parquet, one item per line/row."),
    fmt: str = typer.Option(None, "--format", help="jsonl or parquet (default: from the file name)."),
    batch_size: int = typer.Option(500, "--batch-size", min=1, help="Rows per transaction (and checkpoint)."),
    max_errors: int = typer.Option(100, "--max-errors", min=0, help="Stop after this many bad rows (0: at the first)."),
    workers: int = typer.Option(
        1, "--workers", min=0, help="Scan worker threads in this process (0: rely on `suraksha worker`)."
    ),
    no_wait: bool = typer.Option(False, "--no-wait", help="Return once the export is read; workers scan later."),
    max_queued: int = typer.Option(
        2000, "--max-queued", min=0, help="Pause reading while more scan jobs than this wait (0: never pause)."
    ),
    media_root: str = typer.Option(None, "--media-root", help="Folder media paths must lie in (default: the export's)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Scan a platform's history from an export, resumably (rerun the same command to continue)."""
    from suraksha.cli_support import one_line_errors

    one_line_errors(_backfill)(source, fmt, batch_size, max_errors, workers, no_wait, max_queued, media_root, as_json)


def _backfill(
    source: str,
    fmt: str | None,
    batch_size: int,
    max_errors: int,
    workers: int,
    no_wait: bool,
    max_queued: int,
    media_root: str | None,
    as_json: bool,
) -> None:
    import time

    from rich.console import Console

    from suraksha.cli_support import CliError
    from suraksha.pipeline import backfill as bf
    from suraksha.pipeline.worker import start_background_workers

    console = Console(stderr=True)
    shown_bad = [0]

    def bad_row(report: bf.BadRowReport) -> None:
        shown_bad[0] += 1
        if shown_bad[0] <= 20:
            console.print(f"bad row: line {report.line}: {report.reason}", markup=False, highlight=False, soft_wrap=True)
        elif shown_bad[0] == 21:
            console.print("bad row: ... (more; all are counted, the first 100 kept in the run)", markup=False)

    started = time.monotonic()
    pool = start_background_workers(workers) if workers else None
    run_id = None
    try:
        with _progress(console, not as_json and console.is_terminal) as progress:
            read = progress.add_task("reading ", total=None, rows=0, rate=0.0, matched=0)
            last_poll, matched = 0.0, [0]

            def on_progress(p: bf.Progress) -> None:
                nonlocal last_poll
                if time.monotonic() - last_poll > 1.0 and run_id is not None:
                    last_poll = time.monotonic()
                    matched[0] = bf.pending_scans(run_id)[1]
                progress.update(
                    read,
                    completed=p.done,
                    total=p.total,
                    rows=p.rows_read,
                    description="waiting " if p.waiting else "reading ",
                    rate=p.rows_read / max(time.monotonic() - started, 1e-6),
                    matched=matched[0],
                )

            def on_start(run) -> None:
                nonlocal run_id
                run_id = run.id
                done = run.position if run.format == "parquet" else run.byte_offset
                progress.update(read, completed=done, total=run.total)
                if run.position and run.status != "finished":
                    console.print(f"resuming {source} after row {run.position:,} (checkpoint of run {run.id})")

            summary = bf.run_backfill(
                source,
                fmt=fmt,
                batch_size=batch_size,
                max_errors=max_errors,
                on_bad_row=bad_row,
                on_progress=on_progress,
                on_start=on_start,
                max_queued=max_queued,
                media_root=media_root,
            )
            if not no_wait and summary.status == "finished" and summary.ingested:
                if not workers:
                    console.print("waiting for `suraksha worker` processes to scan the items (--no-wait to skip)")
                scan = progress.add_task("scanning", total=summary.ingested, rows=0, rate=0.0, matched=0)
                wait_started = time.monotonic()

                def on_scan(pending: int, matched_now: int) -> None:
                    done = summary.ingested - pending
                    progress.update(
                        scan,
                        completed=done,
                        rows=done,
                        matched=matched_now,
                        rate=done / max(time.monotonic() - wait_started, 1e-6),
                    )

                bf.wait_for_scans(summary.run_id, on_progress=on_scan)
    except bf.BackfillConflict as exc:
        raise CliError(str(exc)) from None
    except KeyboardInterrupt:
        console.print("interrupted: the checkpoint is at the last committed batch; rerun the same command to continue")
        raise typer.Exit(130) from None
    finally:
        if pool is not None:
            pool.stop()
    final = bf.summarize(summary.run_id, resumed_from_line=summary.resumed_from_line)
    final.rows_read_now, final.read_s = summary.rows_read_now, summary.read_s
    final.elapsed_s = round(time.monotonic() - started, 3)
    final.items_per_s = round(final.rows_read_now / final.elapsed_s, 1) if final.elapsed_s else 0.0
    if as_json:
        typer.echo(json.dumps(final.as_dict(), indent=2))
    else:
        _render_summary(final.as_dict(), Console())
    if final.status == "stopped":
        raise CliError(
            f"stopped after {final.bad_rows} bad rows (--max-errors {max_errors}); fix them, or raise "
            f"--max-errors and rerun to continue after line {final.position}"
        )


def rescan(
    since: str = typer.Option(..., "--since", help="Rescan items posted on or after this date (YYYY-MM-DD or ISO time)."),
    bank: str = typer.Option(None, "--bank", help="Only record new matches in this bank."),
    batch_size: int = typer.Option(500, "--batch-size", min=1, help="Items per transaction."),
    from_archive: bool = typer.Option(
        False, "--from-archive", help="Retro-hunt over the Parquet signal archive instead of the stored item signals."
    ),
    ray: str = typer.Option(
        None, "--ray", help="Run the retro-hunt on the Ray cluster at this address ('local': one on this machine)."
    ),
    ray_workers: int = typer.Option(None, "--ray-workers", min=0, help="Retro-hunt actors (0: one per cluster CPU)."),
    archive_url: str = typer.Option(None, "--archive", help="Archive folder or URL (default: SURAKSHA_ARCHIVE_URL)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Match stored signals of past items against the banks as they are now (no media is fetched)."""
    from suraksha.cli_support import one_line_errors

    one_line_errors(_rescan)(since, bank, batch_size, as_json, from_archive, ray, ray_workers, archive_url)


def _rescan(
    since: str,
    bank: str | None,
    batch_size: int,
    as_json: bool,
    from_archive: bool = False,
    ray: str | None = None,
    ray_workers: int | None = None,
    archive_url: str | None = None,
) -> None:
    import datetime as dt

    from rich.console import Console
    from rich.table import Table

    from suraksha.pipeline.rescan import rescan as run_rescan

    try:
        when = dt.datetime.fromisoformat(since)
    except ValueError:
        raise CliError(f"--since {since!r} is not a date (YYYY-MM-DD) or an ISO time") from None
    console = Console(stderr=True)
    with _progress(console, not as_json and console.is_terminal) as progress:
        task = progress.add_task("rescan  ", total=None, rows=0, rate=0.0, matched=0)
        summary = run_rescan(
            when,
            bank=bank,
            batch_size=batch_size,
            source="archive" if from_archive or ray or archive_url else "database",
            ray_address=ray,
            ray_workers=ray_workers,
            archive_url=archive_url,
            on_progress=lambda done, total, new: progress.update(
                task, completed=done, total=total, rows=done, matched=new, rate=0.0
            ),
        )
    data = summary.as_dict()
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    table = Table(title=f"rescan since {summary.since}" + (f", bank {bank}" if bank else ""), show_header=False)
    for label, key in [
        ("source", "source"),
        ("engine", "engine"),
        ("archived signals checked", "signals_checked"),
        ("items checked", "items_checked"),
        ("items with new matches", "items_matched"),
        ("new matches", "new_matches"),
        ("messages enqueued", "messages_enqueued"),
        ("elapsed (s)", "elapsed_s"),
    ]:
        table.add_row(label, str(data[key]))
    for change, n in sorted(summary.verdict_changes.items()):
        table.add_row(f"verdict {change}", str(n))
    Console().print(table)


# ---------------------------------------------------------------- the signal archive
archive_app = typer.Typer(help="The Parquet signal archive: list, purge by retention, rebuild from the database.")


@archive_app.command("list")
def archive_list(
    archive_url: str = typer.Option(None, "--archive", help="Archive folder or URL (default: SURAKSHA_ARCHIVE_URL)."),
    as_json: bool = typer.Option(False, "--json", help="Print the partitions as JSON."),
) -> None:
    """Partitions (jurisdiction, day) with their files, rows and bytes, and each one's retention."""
    from rich.console import Console
    from rich.table import Table

    from suraksha.pipeline.archive import open_archive, retention_days

    archive = open_archive(archive_url)
    parts: dict[tuple[str, str], dict] = {}
    for f in archive.files():
        p = parts.setdefault(
            (f.jurisdiction, f.day.isoformat()),
            {"jurisdiction": f.jurisdiction, "day": f.day.isoformat(), "files": 0, "rows": 0, "bytes": 0},
        )
        p["files"] += 1
        p["rows"] += archive.count_rows([f])
        p["bytes"] += f.size
    rows = list(parts.values())
    for p in rows:
        p["retention_days"] = retention_days(p["jurisdiction"])
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"signal archive {archive.url}")
    for col in ("jurisdiction", "day (UTC)", "files", "rows", "bytes", "kept (days)"):
        table.add_column(col)
    for p in rows:
        table.add_row(
            p["jurisdiction"], p["day"], f"{p['files']:,}", f"{p['rows']:,}", f"{p['bytes']:,}", str(p["retention_days"])
        )
    Console().print(table)


@archive_app.command("purge")
def archive_purge(
    archive_url: str = typer.Option(None, "--archive", help="Archive folder or URL (default: SURAKSHA_ARCHIVE_URL)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would be deleted; delete nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Delete the partitions past their jurisdiction's retention (days after the partition's day, UTC)."""
    from suraksha.pipeline.archive import open_archive

    summary = open_archive(archive_url).purge(dry_run=dry_run)
    if as_json:
        typer.echo(json.dumps({**summary.as_dict(), "dry_run": dry_run}, indent=2))
        return
    verb = "would delete" if dry_run else "deleted"
    typer.echo(
        f"{verb} {summary.partitions_deleted} partitions ({summary.files_deleted} files, {summary.rows_deleted:,} rows, "
        f"{summary.bytes_deleted:,} bytes); retention in days: "
        + (", ".join(f"{j} {d}" for j, d in sorted(summary.kept_days.items())) or "no partitions")
    )


@archive_app.command("rebuild")
def archive_rebuild(
    since: str = typer.Option(..., "--since", help="Items posted on or after this date (YYYY-MM-DD or ISO time)."),
    until: str = typer.Option(None, "--until", help="Items posted before this date (default: now)."),
    archive_url: str = typer.Option(None, "--archive", help="Archive folder or URL (default: SURAKSHA_ARCHIVE_URL)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Write to the archive the scanned items of a period that it lacks (after a crash, or for older history)."""
    import datetime as dt

    from suraksha.pipeline.archive import open_archive, rebuild

    def when(value: str, name: str) -> dt.datetime:
        try:
            t = dt.datetime.fromisoformat(value)
        except ValueError:
            raise CliError(f"{name} {value!r} is not a date (YYYY-MM-DD) or an ISO time") from None
        return t if t.tzinfo else t.replace(tzinfo=dt.UTC)

    rows = rebuild(when(since, "--since"), when(until, "--until") if until else None, archive=open_archive(archive_url))
    if as_json:
        typer.echo(json.dumps({"rows_written": rows}))
    else:
        typer.echo(f"{rows:,} rows written to the archive")
