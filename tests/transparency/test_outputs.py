"""CSV, JSON and PDF renderings of the known history, and the ``suraksha report transparency`` command."""

from __future__ import annotations

import csv
import io
import json

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from .history import build_history, utc

NOW = utc(2026, 12, 1, 8)


@pytest.fixture
def history(db_url):
    return build_history()


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def pdf_images(data: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(io.BytesIO(data)).pages)


def test_figures_csv_has_a_row_per_period_and_the_total(history):
    from suraksha.transparency.service import render_report

    r = render_report("figures", "csv", "2022-01-01", "2025-12-31", by="year", now=NOW)
    assert r.media_type.startswith("text/csv") and r.filename == "suraksha-figures-2022-01-01-2025-12-31.csv"
    rows = list(csv.DictReader(io.StringIO(r.content.decode())))
    assert [row["label"] for row in rows] == ["2022", "2023", "2024", "2025", "total"]
    total = rows[-1]
    assert (total["identified"], total["proactive"], total["by_complaint"], total["retroactive"]) == ("6", "4", "2", "0")
    assert (
        total["by_signal.hash"],
        total["by_signal.classifier"],
        total["by_signal.link"],
        total["by_signal.text"],
        total["by_signal.human"],
    ) == ("2", "1", "1", "0", "2")
    assert (total["removed"], total["withheld"], total["items_reported"], total["accounts_suspended"]) == ("4", "2", "1", "2")
    assert (total["reports.ncmec.filed"], total["reports.ncmec.states.failed"], total["reports.uk_nca.states.queued"]) == (
        "1",
        "1",
        "1",
    )
    assert float(total["upload_to_removal.median_seconds"]) == 3 * 3600
    assert float(total["detection_to_report.median_seconds"]) == 13.5 * 3600
    assert float(total["automated_share"]) == pytest.approx(4 / 6)
    assert rows[2]["legal.by_type.data_request"] == "2" and rows[0]["legal.by_type.data_request"] == ""
    assert rows[1]["upload_to_removal.median_seconds"] == ""  # nothing removed in 2023


def test_json_keeps_the_structure(history):
    from suraksha.transparency.service import render_report

    body = json.loads(
        render_report("figures", "json", "2022-01-01", "2025-12-31", by="quarter", jurisdiction="in", now=NOW).content
    )
    assert body["kind"] == "figures" and body["jurisdiction"] == "in" and body["timezone"] == "Asia/Kolkata"
    assert len(body["periods"]) == 16 and body["periods"][0]["start"] == "2022-01-01T00:00:00+05:30"
    assert body["total"]["identified"] == 5 and body["total"]["reports"]["in_police"]["filed"] == 1
    summary = json.loads(render_report("summary", "json", "2022-01-01", "2025-12-31", now=NOW).content)
    assert summary["automated_tools_used"] is True and summary["total"]["identified"] == 3


def test_pdfs_are_real_pdfs_with_the_numbers(history):
    from suraksha.transparency.service import render_report

    figures_pdf = render_report("figures", "pdf", "2022-01-01", "2025-12-31", by="year", now=NOW).content
    assert pdf_images(figures_pdf) == 2  # the two trend charts
    text = pdf_text(figures_pdf)
    assert "Suraksha transparency figures" in text
    assert "Identified 6 (proactively 4, by complaint 2; found retroactively 0)" in " ".join(text.split())
    assert "Found by automated tools: 4 (66.7%)" in " ".join(text.split())
    summary_pdf = render_report("summary", "pdf", "2022-01-01", "2025-12-31", now=NOW).content
    assert pdf_images(summary_pdf) == 1
    summary = " ".join(pdf_text(summary_pdf).split())
    assert "3 posts depicting child sexual abuse or rape were identified, 3 were deleted and 1 were reported" in summary
    assert "Automated tools used: yes" in summary
    compliance = " ".join(pdf_text(render_report("compliance", "pdf", "2025-03-01", "2025-03-31", now=NOW).content).split())
    assert "Rule 4(1)(d)" in compliance and "Month 2025-03" in compliance and "Complaints received 1" in compliance


def test_compliance_csv_is_one_row_per_month_and_measure(history):
    from suraksha.transparency.service import render_report

    rows = list(
        csv.DictReader(io.StringIO(render_report("compliance", "csv", "2025-03-01", "2025-04-30", now=NOW).content.decode()))
    )
    assert {r["month"] for r in rows} == {"2025-03", "2025-04"}
    march = {r["measure"]: r["value"] for r in rows if r["month"] == "2025-03"}
    assert march["Complaints received"] == "1" and march["Items withheld in a country"] == "1"


def test_cli_writes_each_format_and_refuses_bad_input_with_one_line(history, tmp_path):
    from suraksha.cli import app

    runner = CliRunner()
    out = tmp_path / "summary.pdf"
    r = runner.invoke(
        app,
        [
            "report",
            "transparency",
            "--from",
            "2022-01-01",
            "--to",
            "2025-12-31",
            "--format",
            "pdf",
            "--kind",
            "summary",
            "--output",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "3 were deleted" in " ".join(pdf_text(out.read_bytes()).split())
    r = runner.invoke(
        app,
        [
            "report",
            "transparency",
            "--from",
            "2022-01-01",
            "--to",
            "2025-12-31",
            "--format",
            "json",
            "--by",
            "year",
            "--jurisdiction",
            "in",
        ],
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["total"]["identified"] == 5
    r = runner.invoke(
        app, ["report", "transparency", "--from", "2022-01-01", "--to", "2022-12-31", "--format", "csv", "--by", "quarter"]
    )
    assert r.exit_code == 0 and r.stdout.splitlines()[0].startswith("label,start,end,identified")
    target = tmp_path / "bad.csv"
    for args, reason in [
        (["--from", "2025-12-31", "--to", "2022-01-01"], "is before 'from'"),
        (["--from", "31/12/2022", "--to", "2023-01-01"], "is not a date"),
        (["--from", "2022-01-01", "--to", "2022-12-31", "--format", "docx"], "format must be one of"),
        (
            ["--from", "2022-01-01", "--to", "2022-12-31", "--kind", "compliance", "--jurisdiction", "uk"],
            "compliance report is India's",
        ),
    ]:
        r = runner.invoke(app, ["report", "transparency", *args, "--output", str(target)])
        assert r.exit_code == 1, (args, r.output)
        lines = [x for x in r.stderr.splitlines() if x.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: ") and reason in lines[0], r.stderr
        assert not target.exists()  # nothing written on bad input
    # The authority reports group is still there next to this one.
    assert runner.invoke(app, ["reports", "--help"]).exit_code == 0
