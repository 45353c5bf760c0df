"""Bank pages as a senior reviewer (create, settings, add a file and a hash, search, remove with a
reason, import and export) and as an analyst (read only); every change is in the audit log."""

from __future__ import annotations

import io
import re

from PIL import Image

from .conftest import csrf_of, sign_in

MD5 = "0123456789abcdef0123456789abcdef"


def _png() -> bytes:
    img = Image.new("RGB", (96, 96))
    for x in range(96):
        for y in range(96):
            img.putpixel((x, y), ((x * 7) % 256, (y * 5) % 256, ((x + y) * 3) % 256))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_senior_reviewer_curates_a_bank(app_client, seeded):
    from suraksha.audit.listing import AuditFilter, list_events
    from suraksha.matching.banks import get_bank

    c = app_client()
    sign_in(c, seeded["staff"]["senior_reviewer"])
    token = csrf_of(c)
    assert 'href="/banks"' in c.get("/review").text  # reachable from the navigation
    c.follow_redirects = False

    r = c.post("/banks", data={"csrf_token": token, "name": "ui-bank", "label": "csam", "pdq_threshold": "20"})
    assert r.status_code == 303 and r.headers["location"].startswith("/banks/ui-bank")
    dup = c.post("/banks", data={"csrf_token": token, "name": "ui-bank", "label": "csam"})
    assert dup.status_code == 409 and "already exists" in dup.text
    assert c.post("/banks", data={"name": "x", "label": "csam"}).status_code == 403  # no CSRF token

    r = c.post("/banks/ui-bank/entries", data={"csrf_token": token}, files={"file": ("p.png", _png(), "image/png")})
    assert r.status_code == 303 and "Added%20" in r.headers["location"]
    r = c.post("/banks/ui-bank/entries", data={"csrf_token": token, "signal_type": "md5", "signal": MD5.upper()})
    assert r.status_code == 303
    bad = c.post("/banks/ui-bank/entries", data={"csrf_token": token, "signal_type": "md5", "signal": "xyz"})
    assert bad.status_code == 400
    info = get_bank("ui-bank")
    assert info.entries >= 3 and info.pdq_threshold == 20

    page = c.get("/banks/ui-bank?q=0123456789")
    assert "1–1 of 1 entries" in page.text and MD5 in page.text  # stored lower-case, found by prefix
    entry_id = int(re.search(r'id="entry-(\d+)"', page.text).group(1))
    no_reason = c.post(f"/banks/ui-bank/entries/{entry_id}/remove", data={"csrf_token": token, "reason": " "})
    assert no_reason.status_code == 400 and "say why" in no_reason.text
    r = c.post(f"/banks/ui-bank/entries/{entry_id}/remove", data={"csrf_token": token, "reason": "false positive"})
    assert r.status_code == 303
    assert "No entry matches" in c.get("/banks/ui-bank?q=0123456789").text

    r = c.post("/banks/ui-bank/settings", data={"csrf_token": token, "pdq_threshold": "12", "match_transforms": "on"})
    assert r.status_code == 303 and "disabled" in r.headers["location"]
    assert get_bank("ui-bank").enabled is False and get_bank("ui-bank").pdq_threshold == 12
    assert c.post("/banks/ui-bank/settings", data={"csrf_token": token, "pdq_threshold": "99"}).status_code == 400

    good = f"signal_type,signal,label,metadata\nmd5,{'a' * 32},csam,\nmd5,{'b' * 32},csam,\n"
    r = c.post("/banks/ui-bank/import", data={"csrf_token": token, "format": "csv"}, files={"file": ("b.csv", good, "text/csv")})
    assert r.status_code == 303 and "Imported%202" in r.headers["location"]
    broken = "signal_type,signal,label,metadata\nmd5,cccc,csam,\n"
    r = c.post(
        "/banks/ui-bank/import", data={"csrf_token": token, "format": "csv"}, files={"file": ("b.csv", broken, "text/csv")}
    )
    assert r.status_code == 400 and "row 1" in r.text
    exported = c.get("/banks/ui-bank/export.csv")
    assert exported.status_code == 200 and "a" * 32 in exported.text and MD5 not in exported.text

    actions = [e.action for e in list_events(AuditFilter(target="bank:ui-bank"), limit=50).events]
    for expected in ("bank.create", "bank.entry.add", "bank.entry.remove", "bank.configure", "bank.import", "bank.export"):
        assert expected in actions, actions
    removal = list_events(AuditFilter(kind="bank.entry.remove"), limit=1).events[0]
    assert removal.details["reason"] == "false positive" and removal.details["signal"] == MD5


def test_analyst_reads_banks_but_cannot_change_them(app_client, seeded):
    c = app_client()
    sign_in(c, seeded["staff"]["analyst"])
    token = csrf_of(c)
    page = c.get("/banks")
    assert page.status_code == 200 and "review-demo-csam" in page.text and "New bank" not in page.text
    detail = c.get("/banks/review-demo-csam")
    assert detail.status_code == 200 and "Remove" not in detail.text
    assert c.post("/banks", data={"csrf_token": token, "name": "nope", "label": "csam"}).status_code == 403
    assert c.get("/banks/review-demo-csam/export.csv").status_code == 403
    assert c.get("/banks/no-such-bank").status_code == 404
