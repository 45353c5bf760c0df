"""CLI commands of the pipeline: ``suraksha worker``, ``suraksha scan-item``, ``suraksha item``."""

from __future__ import annotations

import json
import logging
import signal
import threading

import typer


def worker(
    concurrency: int = typer.Option(1, "--concurrency", "-c", min=1, help="Worker threads in this process."),
    poll_interval: float = typer.Option(0.05, "--poll-interval", help="Longest idle wait between queue polls (s)."),
    batch: int = typer.Option(0, "--batch", help="Jobs claimed at a time (0: SURAKSHA_WORKER_BATCH)."),
) -> None:
    """Scan queued items until SIGTERM/SIGINT; the batch in hand is finished before exiting."""
    from suraksha.pipeline.worker import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()

    def _stop(signum, _frame):
        logging.getLogger("suraksha.worker").info("signal %s: finishing the current batch, then exiting", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    done = run_worker(stop, concurrency=concurrency, poll_interval=poll_interval, batch=batch or None)
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


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
    app.command("scan-item")(scan_item)
    app.command("item")(item_show)
