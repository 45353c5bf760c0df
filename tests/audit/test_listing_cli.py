"""``suraksha audit list|export``: filters, paging with a total, JSON output, CSV and JSON Lines
files; an export is itself audited; bad filters are one-line errors."""

from __future__ import annotations

import csv
import json

from typer.testing import CliRunner

runner = CliRunner()


def _events() -> None:
    from suraksha.audit import record
    from suraksha.db import session_scope

    with session_scope() as s:
        for i in range(30):
            record(s, "user:asha" if i % 3 else "system:purge", "item.view" if i % 2 else "case.open", "item", i + 1, {"n": i})


def test_list_filters_pages_and_json(db_url):
    from suraksha.cli import app

    _events()
    out = runner.invoke(app, ["audit", "list", "--actor", "asha", "--kind", "item.", "--limit", "5", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["total"] == 10 and len(data["events"]) == 5
    assert all(e["actor"] == "user:asha" and e["action"] == "item.view" for e in data["events"])
    page3 = runner.invoke(app, ["audit", "list", "--limit", "12", "--page", "3"])
    assert page3.exit_code == 0 and page3.stdout.startswith("30 event(s); showing 25-30")
    target = json.loads(runner.invoke(app, ["audit", "list", "--target", "item:7", "--json"]).stdout)
    assert [e["object_id"] for e in target["events"]] == ["7"]
    future = json.loads(runner.invoke(app, ["audit", "list", "--since", "2999-01-01", "--json"]).stdout)
    assert future["total"] == 0
    bad = runner.invoke(app, ["audit", "list", "--since", "last tuesday"])
    assert bad.exit_code == 1 and "not a date or time" in bad.output


def test_export_csv_and_jsonl_to_files_is_audited(db_url, tmp_path):
    from suraksha.audit.listing import AuditFilter, list_events
    from suraksha.cli import app

    _events()
    out = runner.invoke(app, ["audit", "export", "--format", "csv", "--kind", "case.open", "-o", str(tmp_path / "a.csv")])
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader((tmp_path / "a.csv").open(encoding="utf-8")))
    assert len(rows) == 15 and {r["action"] for r in rows} == {"case.open"}
    assert [int(r["seq"]) for r in rows] == sorted(int(r["seq"]) for r in rows)  # oldest first
    out = runner.invoke(app, ["audit", "export", "--as", "asha", "-o", str(tmp_path / "a.jsonl")])
    lines = (tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()
    assert out.exit_code == 0 and len(lines) == 32  # 30 events, the first export and this one
    exports = list_events(AuditFilter(kind="audit.export"), limit=5).events
    assert [e.who for e in exports][0] == "user:asha" and exports[-1].details["filters"] == {"kind": "case.open"}
    bad = runner.invoke(app, ["audit", "export", "--format", "xml"])
    assert bad.exit_code == 1 and "csv, jsonl" in bad.output
