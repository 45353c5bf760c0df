"""Command line: ``suraksha serve | worker | hash | scan | bank | db | demo ...``.

An adapter only: parse arguments, call one service function, print. Errors print a one-line
reason to stderr and exit non-zero.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import typer

from suraksha.cli_support import CliError, one_line_errors

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Suraksha child-safety system.")
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


_register_area_commands()


@db_app.command("upgrade")
@one_line_errors
def db_upgrade() -> None:
    """Apply all migrations to the configured database."""
    from suraksha.db.migrate import upgrade

    upgrade()
    typer.echo("database up to date")


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
        typer.echo("\t".join(f"{k}={v}" for k, v in record.items() if k != "vpdq")
                   + (f"\tvpdq_frames={len(record['vpdq'])}" if "vpdq" in record else ""))


def _per_file(paths: list[str], as_json: bool, work: Callable[[str], dict[str, Any]]) -> None:
    """Run `work` on each file; a bad file gets an error line and a non-zero exit, the rest go on."""
    from suraksha.signals.errors import MediaError

    failed = 0
    for path in paths:
        try:
            record = work(path)
        except (MediaError, OSError, CliError) as exc:
            failed += 1
            msg = str(exc) if isinstance(exc, CliError) else f"{path}: {exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}"
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
                {"bank": m.bank, "label": m.label, "signal_type": m.signal_type, "distance": m.distance,
                 "transform": m.transform, **m.detail}
                for m in matches
            ],
            "matched": bool(matches),
        }

    if as_json:
        _per_file(files, True, work)
    else:
        def text_work(path: str) -> dict[str, Any]:
            r = work(path)
            hits = ", ".join(f"{m['bank']}({m['label']}, {m['signal_type']} d={m['distance']}"
                             + (f", {m['transform']}" if m["transform"] else "") + ")" for m in r["matches"])
            return {"file": path, "matched": r["matched"], "matches": hits or "-"}

        _per_file(files, False, text_work)


def main() -> None:  # pragma: no cover
    app(prog_name="suraksha")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
