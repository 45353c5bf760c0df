"""CLI of reporting: ``suraksha reports list|show|retry|retract|package|sent|acknowledged|supplemental``."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from pathlib import Path

import typer

from suraksha.cli_support import CliError, echo_record
from suraksha.errors import SurakshaError

reports_app = typer.Typer(no_args_is_help=True, help="Reports to NCMEC, Indian police (POCSO rule 11) and the UK NCA.")


def _fail(exc: Exception) -> None:
    typer.echo(f"error: {exc.args[0] if exc.args else exc}", err=True)
    raise typer.Exit(1)


def _when(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        at = dt.datetime.fromisoformat(value)
    except ValueError:
        raise CliError(f"{value!r} is not an ISO 8601 time (e.g. 2026-11-23T10:30:00+05:30)") from None
    if at.tzinfo is None:
        raise CliError(f"{value!r} has no time zone (add +05:30, Z, ...)")
    return at


@reports_app.command("list")
def list_cmd(
    state: str = typer.Option(None, "--state"),
    destination: str = typer.Option(None, "--destination", help="ncmec | in_police | uk_nca"),
    item: int = typer.Option(None, "--item"),
    limit: int = typer.Option(100, "--limit"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List reports, newest first."""
    from suraksha.reporting.service import list_reports

    try:
        rows = list_reports(state=state, destination=destination, item_id=item, limit=limit)
    except SurakshaError as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps([asdict(r) for r in rows], indent=2, default=str))
        return
    for r in rows:
        typer.echo(
            f"{r.id}\t{r.destination}\t{r.subject}\t{r.state}{' (gave up)' if r.gave_up else ''}\t"
            f"{r.external_id or '-'}\t{r.state_reason or ''}"
        )


@reports_app.command("show")
def show_cmd(report_id: int = typer.Argument(...), as_json: bool = typer.Option(False, "--json")) -> None:
    """One report with every state change."""
    from suraksha.reporting.service import get_report

    try:
        view = asdict(get_report(report_id))
    except SurakshaError as exc:
        _fail(exc)
    echo_record(view, as_json)


@reports_app.command("retry")
def retry_cmd(report_id: int = typer.Argument(...), actor: str = typer.Option("system:cli", "--actor")) -> None:
    """Queue a failed report again now (a draft is re-checked)."""
    from suraksha.reporting.service import retry_report

    try:
        r = retry_report(report_id, actor)
    except SurakshaError as exc:
        _fail(exc)
    typer.echo(f"report {r.id}: {r.state}{' - ' + r.state_reason if r.state_reason else ''}")


@reports_app.command("retract")
def retract_cmd(
    report_id: int = typer.Argument(...),
    reason: str = typer.Option(..., "--reason"),
    actor: str = typer.Option("system:cli", "--actor"),
) -> None:
    """Withdraw a report that has not been sent."""
    from suraksha.reporting.service import retract_report

    try:
        r = retract_report(report_id, actor, reason)
    except SurakshaError as exc:
        _fail(exc)
    typer.echo(f"report {r.id}: {r.state}")


@reports_app.command("package")
def package_cmd(
    report_id: int = typer.Argument(...),
    out: Path = typer.Option(None, "--out", help="Write here (.json or .pdf) instead of printing JSON."),
) -> None:
    """The India (POCSO rule 11) or UK (NCA) package of a report, as JSON or PDF."""
    from suraksha.reporting.service import package, package_pdf

    try:
        if out is not None and out.suffix.lower() == ".pdf":
            out.write_bytes(package_pdf(report_id))
            typer.echo(f"wrote {out}")
            return
        text = json.dumps(package(report_id), indent=2, ensure_ascii=False)
    except (SurakshaError, OSError) as exc:
        _fail(exc)
    if out is not None:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}")
    else:
        typer.echo(text)


@reports_app.command("sent")
def sent_cmd(
    report_id: int = typer.Argument(...),
    method: str = typer.Option(..., "--via", help="portal | email | in_person"),
    reference: str = typer.Option(None, "--reference", help="Portal acknowledgement number, email message id, ..."),
    police_unit: str = typer.Option(None, "--police-unit"),
    fir: str = typer.Option(None, "--fir"),
    at: str = typer.Option(None, "--at", help="When it was sent (ISO 8601 with zone); default now."),
    actor: str = typer.Option("system:cli", "--actor"),
) -> None:
    """Record that an India/UK package was sent."""
    from suraksha.reporting.service import record_delivery

    try:
        r = record_delivery(
            report_id, method, actor, reference=reference, police_unit=police_unit, fir_number=fir, sent_at=_when(at)
        )
    except SurakshaError as exc:
        _fail(exc)
    typer.echo(f"report {r.id}: {r.state} via {r.delivery_method}")


@reports_app.command("acknowledged")
def acknowledged_cmd(
    report_id: int = typer.Argument(...),
    reference: str = typer.Option(None, "--reference"),
    fir: str = typer.Option(None, "--fir", help="FIR number, when the police registered a case."),
    at: str = typer.Option(None, "--at"),
    actor: str = typer.Option("system:cli", "--actor"),
) -> None:
    """Record the police / NCA acknowledgement of a sent package."""
    from suraksha.reporting.service import record_acknowledgement

    try:
        r = record_acknowledgement(report_id, actor, reference=reference, fir_number=fir, at=_when(at))
    except SurakshaError as exc:
        _fail(exc)
    typer.echo(f"report {r.id}: {r.state}{' FIR ' + r.fir_number if r.fir_number else ''}")


@reports_app.command("supplemental")
def supplemental_cmd(
    report_id: int = typer.Argument(...),
    info: str = typer.Option(..., "--info"),
    actor: str = typer.Option("system:cli", "--actor"),
) -> None:
    """File a supplemental report linked to a finished one."""
    from suraksha.reporting.service import file_supplemental

    try:
        r = file_supplemental(report_id, actor, info)
    except SurakshaError as exc:
        _fail(exc)
    typer.echo(f"supplemental report {r.id} to {r.supplemental_to}: {r.state}")


def register(app: typer.Typer) -> None:
    app.add_typer(reports_app, name="reports")
