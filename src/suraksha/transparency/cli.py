"""CLI of transparency: ``suraksha report transparency --from 2022-01-01 --to 2025-12-31 --format pdf``.

(``suraksha reports ...``, plural, is the reporting area's: reports to authorities.)
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from suraksha.cli_support import CliError, one_line_errors

report_app = typer.Typer(no_args_is_help=True, help="Transparency and compliance reports computed from stored events.")


@report_app.command("transparency")
@one_line_errors
def transparency_cmd(
    start: str = typer.Option(..., "--from", help="First day, YYYY-MM-DD."),
    end: str = typer.Option(..., "--to", help="Last day (included), YYYY-MM-DD."),
    fmt: str = typer.Option("json", "--format", help="json | csv | pdf"),
    by: str = typer.Option("month", "--by", help="month | quarter | year (figures)"),
    jurisdiction: str = typer.Option(None, "--jurisdiction", help="in | us | uk | eu: items posted there, its time zone."),
    kind: str = typer.Option("figures", "--kind", help="figures | compliance (India Rule 4(1)(d)) | summary (commission)"),
    output: Path = typer.Option(None, "--output", "-o", help="Write to this file (PDF needs one unless stdout is a pipe)."),
) -> None:
    """Figures for a period, India's monthly compliance report, or the multi-year commission summary."""
    from suraksha.transparency.service import render_report

    if fmt == "pdf" and output is None and sys.stdout.isatty():
        raise CliError("a PDF needs --output FILE (or redirect stdout to a file)")
    rendered = render_report(kind, fmt, start, end, by=by, jurisdiction=jurisdiction)
    if output is not None:
        output.write_bytes(rendered.content)
        typer.echo(f"wrote {output} ({len(rendered.content)} bytes)", err=True)
        return
    sys.stdout.buffer.write(rendered.content)
    sys.stdout.buffer.flush()


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
