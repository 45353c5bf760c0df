"""Command line: ``suraksha serve | worker | hash | scan | bank | db | demo ...``.

An adapter only: parse arguments, call one service function, print. Errors print a one-line
reason to stderr and exit non-zero.

Before any command that uses the database runs, ``suraksha.cli_support.startup_checks`` checks
the home folder, the schema and, in production mode, that no demo sign-in exists (exit 2 with one
line). ``NO_DATABASE`` lists the commands that skip them; every other command, a new one included,
is checked.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import typer
from typer.core import TyperGroup

from suraksha.cli_support import CliError, guard_commands, hide_flag_types, one_line_errors, startup_checks

hide_flag_types()  # `--help` without `<bool>` beside it (issue 14.6)

COMMAND_PATH = "suraksha.command_path"

# Commands that never open the database: they run from any folder, against any database state.
# `db upgrade` creates or migrates the database itself; `demo purge` is the one command production
# mode runs while demo sign-ins exist (it removes them).
NO_DATABASE = frozenset({("hash",), ("settings",), ("disclosure", "verify"), ("db", "upgrade")})
RUNS_WITH_DEMO_CREDENTIALS = frozenset({("demo", "purge")})


class _Suraksha(TyperGroup):
    """Records which command (and sub-command) runs, so the root callback knows what to check
    before the command's own code starts."""

    def resolve_command(self, ctx, args):  # type: ignore[no-untyped-def]
        name, cmd, rest = super().resolve_command(ctx, args)
        path: tuple[str, ...] = (name,) if name else ()
        if isinstance(cmd, TyperGroup):
            sub = next((a for a in rest if not a.startswith("-")), None)
            path += (sub,) if sub else ()
        ctx.meta[COMMAND_PATH] = path
        ctx.meta["suraksha.help"] = any(a in ("--help", "-h") for a in rest) or (isinstance(cmd, TyperGroup) and len(path) < 2)
        return name, cmd, rest


app = typer.Typer(cls=_Suraksha, no_args_is_help=True, add_completion=False, help="Suraksha child-safety system.")
db_app = typer.Typer(no_args_is_help=True, help="Database migrations.")
app.add_typer(db_app, name="db")


def _register_area_commands() -> None:
    from suraksha.matching.cli import bank_app, index_app

    app.add_typer(bank_app, name="bank")
    app.add_typer(index_app, name="index")

    from suraksha.api.cli import apikey_app, demo_app, serve

    app.command("serve")(serve)
    app.add_typer(apikey_app, name="apikey")
    app.add_typer(demo_app, name="demo")

    from suraksha.pipeline.cli import register as register_pipeline

    register_pipeline(app)

    from suraksha.auth.cli import user_app

    app.add_typer(user_app, name="user")

    from suraksha.audit.cli import audit_app

    app.add_typer(audit_app, name="audit")

    from suraksha.evidence.cli import evidence_app

    app.add_typer(evidence_app, name="evidence")

    from suraksha.enforcement.cli import register as register_enforcement

    register_enforcement(app)

    from suraksha.outbox.cli import outbox_app

    app.command("dispatch")(dispatch)
    app.add_typer(outbox_app, name="outbox")

    from suraksha.reporting.cli import register as register_reporting

    register_reporting(app)

    from suraksha.networks.cli import network_app

    app.add_typer(network_app, name="network")

    from suraksha.transparency.cli import register as register_transparency

    register_transparency(app)

    from suraksha.legal.cli import register as register_legal

    register_legal(app)

    from suraksha.legal.portal_cli import register as register_portal

    register_portal(app)


@one_line_errors
def dispatch(
    once: bool = typer.Option(False, "--once", help="One pass, print what it did, exit."),
    poll_interval: float = typer.Option(1.0, "--poll-interval", help="Idle wait between passes (s)."),
) -> None:
    """Carry out the outbox until SIGTERM/SIGINT: actions to the platform connector, evidence to the
    vault, review tasks, reports to NCMEC; India/UK packages are prepared for a person to send
    (the composition root, ``suraksha.dispatch``)."""
    import json
    import logging
    import signal
    import threading

    from suraksha.dispatch import dispatcher_from_settings
    from suraksha.evidence.keys import EvidenceKeyError, ensure_key_configured
    from suraksha.logsafe import configure_cli_logging

    configure_cli_logging()  # database errors' messages (which may quote an item) never reach the log
    try:
        ensure_key_configured()  # it preserves evidence: production without a key stops here
    except EvidenceKeyError as exc:
        raise CliError(str(exc)) from None
    d = dispatcher_from_settings()
    log = logging.getLogger("suraksha.dispatch")
    if d.ncmec is None:
        log.warning("NCMEC credentials not configured (SURAKSHA_NCMEC_USERNAME/PASSWORD): NCMEC reports stay queued")
    if once:
        typer.echo(json.dumps(d.run_once(), indent=2, default=str))
        return
    stop = threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        log.info("signal %s: finishing the current pass, then exiting", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    passes = d.run(stop, poll_interval=poll_interval)
    typer.echo(f"dispatcher stopped after {passes} passes")


_register_area_commands()


@app.callback()
def _before_every_command(ctx: typer.Context) -> None:
    """Start-up checks for commands that use the database (see the module docstring)."""
    path = ctx.meta.get(COMMAND_PATH, ())
    if ctx.resilient_parsing or ctx.meta.get("suraksha.help") or not path or path in NO_DATABASE:
        return
    startup_checks(demo_credentials=path not in RUNS_WITH_DEMO_CREDENTIALS)


@db_app.command("upgrade")
@one_line_errors
def db_upgrade() -> None:
    """Apply all migrations to the configured database (a new SQLite database and home folder are
    created when missing, readable by this user only)."""
    from suraksha.config import get_settings
    from suraksha.db.migrate import database_location, upgrade

    settings = get_settings()
    if settings.resolved_database_url.startswith("sqlite") and not settings.home.is_dir():
        typer.echo(
            f"creating the home folder {settings.home.resolve()}"
            + ("" if settings.home_is_set else " (SURAKSHA_HOME is not set: ./var of this folder)"),
            err=True,
        )
    upgrade()
    typer.echo(f"database up to date ({database_location(settings.resolved_database_url)})")


# --------------------------------------------------------------------------- hashing and scanning
def _read_file(path: str) -> bytes:
    from suraksha.config import get_settings

    limit = get_settings().max_media_bytes
    with open(path, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise CliError(f"{path}: larger than the {limit}-byte media limit (SURAKSHA_MAX_MEDIA_BYTES)")
    return data


def _hash_record(path: str) -> tuple[dict[str, Any], Any]:
    from suraksha.config import get_settings
    from suraksha.signals import media_signals

    settings = get_settings()
    ms = media_signals(_read_file(path), max_pixels=settings.max_image_pixels, max_bytes=settings.max_media_bytes)
    record: dict[str, Any] = {"file": path, "sha256": ms.sha256, "md5": ms.md5}
    if ms.pdq is not None:
        record["pdq"] = ms.pdq.hash
        record["pdq_quality"] = ms.pdq.quality
    if ms.vpdq is not None:
        record["vpdq"] = [{"second": f.second, "pdq": f.pdq, "quality": f.quality} for f in ms.vpdq]
    return record, ms


def _emit(record: dict[str, Any], as_json: bool) -> None:
    import json

    if as_json:
        typer.echo(json.dumps(record))
    else:
        typer.echo(
            "\t".join(f"{k}={v}" for k, v in record.items() if k != "vpdq")
            + (f"\tvpdq_frames={len(record['vpdq'])}" if "vpdq" in record else "")
        )


def _per_file(paths: list[str], as_json: bool, work: Callable[[str], dict[str, Any]]) -> None:
    """Run `work` on each file; a bad file gets an error line and a non-zero exit, the rest go on."""
    from suraksha.signals.errors import MediaError

    failed = 0
    for path in paths:
        try:
            record = work(path)
        except (MediaError, OSError, CliError) as exc:
            failed += 1
            msg = (
                str(exc)
                if isinstance(exc, CliError)
                else f"{path}: {exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}"
            )
            if as_json:
                _emit({"file": path, "error": msg}, True)
            typer.echo(f"error: {msg}", err=True)
            continue
        _emit(record, as_json)
    if failed:
        raise typer.Exit(1)


@app.command("hash")
def hash_cmd(
    files: list[str] = typer.Argument(..., help="Image or video files."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """Print each file's signals: sha256, md5, pdq and its quality (video: vpdq, one PDQ per second)."""
    _per_file(files, as_json, lambda p: _hash_record(p)[0])


@app.command("settings")
def settings_cmd(
    as_json: bool = typer.Option(False, "--json", help="A JSON list: section, name, env, value, source, description."),
) -> None:
    """Print every setting with its value and where it came from (default or environment); secrets masked."""
    import json

    from suraksha.settings import current

    rows = list(current())
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    width = max(len(r["env"]) for r in rows)
    for r in rows:
        typer.echo(f"{r['env']:<{width}}  {r['value'] or '-'}  ({r['source']})")


@app.command("scan")
def scan_cmd(
    files: list[str] = typer.Argument(..., help="Image or video files."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """Hash each file and match it against every enabled bank."""
    from suraksha.matching.matcher import get_matcher

    matcher = get_matcher()

    def work(path: str) -> dict[str, Any]:
        record, ms = _hash_record(path)
        matches = matcher.lookup_media(ms)
        signals = {k: v for k, v in record.items() if k != "file"}
        return {
            "file": path,
            "signals": signals,
            "matches": [
                {
                    "bank": m.bank,
                    "label": m.label,
                    "signal_type": m.signal_type,
                    "distance": m.distance,
                    "transform": m.transform,
                    **m.detail,
                }
                for m in matches
            ],
            "matched": bool(matches),
        }

    if as_json:
        _per_file(files, True, work)
    else:

        def text_work(path: str) -> dict[str, Any]:
            r = work(path)
            hits = ", ".join(
                f"{m['bank']}({m['label']}, {m['signal_type']} d={m['distance']}"
                + (f", {m['transform']}" if m["transform"] else "")
                + ")"
                for m in r["matches"]
            )
            return {"file": path, "matched": r["matched"], "matches": hits or "-"}

        _per_file(files, False, text_work)


# Last, once every command is registered: each answers its errors through the one decorator.
guard_commands(app)


def main() -> None:  # pragma: no cover
    app(prog_name="suraksha")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
