"""suraksha network show | groups | refresh: what an analyst types and sees."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from suraksha.cli import app

from .helpers import RING_LINK_CANONICAL

runner = CliRunner()


def test_show_text_and_json_groups_and_errors(ring):
    r = runner.invoke(app, ["network", "show", "ring-03"])
    assert r.exit_code == 0, r.output
    assert r.output.startswith("23 account(s), active 2026-11-20 12:00:00 .. 2026-11-21 10:00:00")
    assert "linked by link: 1 (" + RING_LINK_CANONICAL + ")" in r.output
    assert "unrelated" not in r.output

    r = runner.invoke(app, ["network", "show", str(ring["ring"][3]), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["size"] == 23 and data["account_id"] == ring["ring"][3]

    r = runner.invoke(app, ["network", "groups", "--min-size", "5"])
    assert r.exit_code == 0, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("1. 23 accounts") and "linked by media 2, link 1" in lines[0]
    r = runner.invoke(app, ["network", "groups", "--min-size", "24"])
    assert r.exit_code == 0 and "no group of 24 or more accounts" in r.output
    r = runner.invoke(app, ["network", "groups", "--json"])
    assert [g["size"] for g in json.loads(r.output)] == [23]

    r = runner.invoke(app, ["network", "show", "nobody"])
    assert r.exit_code == 1 and r.output.strip() == "error: account nobody not found"
    r = runner.invoke(app, ["network", "groups", "--min-size", "1"])
    assert r.exit_code == 1 and "min_size must be at least 2" in r.output
    r = runner.invoke(app, ["network", "groups", "--offset", "1"])
    assert r.exit_code == 0 and r.output.strip() == "no groups after the first 1 of 2 or more accounts"
    r = runner.invoke(app, ["network", "groups", "--limit", "0"])
    assert r.exit_code == 1 and r.output.strip() == "error: limit must be between 1 and 500, got 0"
    r = runner.invoke(app, ["network", "show", "ring-03", "--window-hours", "0"])
    assert r.exit_code == 1 and "window_hours" in r.output

    r = runner.invoke(app, ["network", "refresh"])
    assert r.exit_code == 0 and r.output.strip() == "0 item(s) indexed"  # the views above indexed everything
