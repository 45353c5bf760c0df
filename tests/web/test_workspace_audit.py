"""The audit log page and its exports, as an auditor: filters, paging with a total, readable details,
the request's IP on events, CSV / JSON Lines downloads that are themselves audited; and
``suraksha audit list|export`` on the same events."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

from .conftest import sign_in


def _seed_events(n: int) -> None:
    from suraksha.audit import record
    from suraksha.db import session_scope

    with session_scope() as s:
        for i in range(n):
            record(s, "user:probe", "item.view", "item", 1000 + i, {"media_shown": False, "why": "=cmd|' /C calc'!A0"})


def test_auditor_filters_pages_and_exports(app_client, seeded):
    _seed_events(60)
    c = app_client()
    r = sign_in(c, seeded["staff"]["auditor"])
    assert r.status_code == 303
    page = c.get("/audit?actor=user:probe")
    assert page.status_code == 200
    assert "1–50 of 60 events" in page.text and "page 1 of 2" in page.text
    assert page.text.count('<td class="when">') == 50
    # Absolute times in the display zone, with the zone shown (IST by default).
    assert re.search(r"\d{1,2} \w{3} \d{4}, \d\d:\d\d:\d\d IST", page.text)
    second = c.get("/audit?actor=user%3Aprobe&page=2")
    assert "51–60 of 60 events" in second.text and 'rel="prev"' in second.text
    # Readable details: key and value, not one JSON blob.
    assert "<dt>media_shown</dt><dd>false</dd>" in page.text
    # A target of an item links to the item page.
    assert 'href="/items/1059"' in page.text
    # Kind filter by family; a filter nothing matches says what to do.
    assert "0 events" in c.get("/audit?kind=legal.&actor=probe").text
    assert "No event matches these filters" in c.get("/audit?kind=nothing.like.this").text
    # Bad input: a 400 page with the reason.
    bad = c.get("/audit?since=yesterday")
    assert bad.status_code == 400 and "not a date or time" in bad.text
    assert c.get("/audit?page=0").status_code == 400

    exported = c.get("/audit/export.csv?actor=user:probe")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 60 and rows[0]["action"] == "item.view"
    assert json.loads(rows[0]["details"].lstrip("'"))["media_shown"] is False
    lines = c.get("/audit/export.jsonl?kind=item.view&actor=probe").text.splitlines()
    assert len(lines) == 60 and json.loads(lines[-1])["object_id"] == "1059"
    # Each export is on record, with its filters, format and the exporter's address.
    exports = c.get("/audit?kind=audit.export")
    assert "2 events" in exports.text or "1–2 of 2 events" in exports.text
    assert "testclient" in exports.text  # the request's client address in the IP column
    assert c.get("/audit/export.xml").status_code == 404


def test_csv_export_neutralises_formulas():
    from suraksha.audit.listing import EventRow, format_lines

    row = EventRow(1, dt.datetime(2026, 12, 1, tzinfo=dt.UTC), "user", "asha", "=HYPERLINK(1)", None, None, {}, None, "0" * 64)
    cells = list(csv.reader(io.StringIO("".join(format_lines(iter([row]), "csv")))))[1]
    assert cells[3] == "'=HYPERLINK(1)" and cells[2] == "user:asha"


def test_roles_without_audit_read_are_refused(app_client, seeded):
    c = app_client()
    sign_in(c, seeded["staff"]["reviewer"])
    assert c.get("/audit").status_code == 403
    assert c.get("/audit/export.csv").status_code == 403
