"""The CLI commands of enforcement and reporting: what an operator types and sees."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from suraksha.cli import app

from .helpers import csam_bank, scan_all, submit

runner = CliRunner()


def test_dispatch_once_then_list_show_and_errors(env, reference_dir, home, monkeypatch):
    from suraksha.config import reset_settings
    from suraksha.enforcement.settings import reset_enforcement_settings

    monkeypatch.delenv("SURAKSHA_CONNECTOR_URL")  # demo mode: the recording connector
    monkeypatch.setenv("SURAKSHA_HOME", str(home))
    reset_settings()
    reset_enforcement_settings()
    submit("p1", "acct-1", [csam_bank(reference_dir)])
    scan_all()

    r = runner.invoke(app, ["dispatch", "--once"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output[r.output.index("{") :])["actions"] == {"acknowledged": 2}
    assert len((home / "connector-outbox.jsonl").read_text().splitlines()) == 2

    r = runner.invoke(app, ["actions", "list"])
    assert r.exit_code == 0 and "remove_item\tacknowledged\titem p1" in r.output and "suspend_account" in r.output
    r = runner.invoke(app, ["actions", "list", "--json"])
    first = json.loads(r.output)[0]
    r = runner.invoke(app, ["actions", "show", str(first["id"]), "--json"])
    assert json.loads(r.output)["deliveries"][0]["outcome"] == "acknowledged"
    r = runner.invoke(app, ["actions", "show", str(first["id"])])
    assert r.exit_code == 0 and "status: acknowledged" in r.output and "deliveries: 1" in r.output
    r = runner.invoke(app, ["reports", "list", "--destination", "ncmec"])
    assert r.exit_code == 0 and "draft" in r.output and "review" in r.output

    for args, message in (
        (["actions", "retry", "999"], "not found"),
        (["actions", "list", "--status", "sent"], "unknown status"),
        (["actions", "retry", str(first["id"])], "only dead or failed"),
        (["reports", "sent", "1", "--via", "fax"], "delivery method"),
        (["reports", "acknowledged", "1", "--at", "yesterday"], "ISO 8601"),
        (["actions", "suspend-network", "999", "--reason", "x"], "not found"),
    ):
        r = runner.invoke(app, args)
        assert r.exit_code == 1 and message in r.output, (args, r.output)


def test_dispatch_refuses_production_without_an_evidence_key(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "SURAKSHA_HOME": str(tmp_path), "SURAKSHA_MODE": "production"}
    env.pop("SURAKSHA_EVIDENCE_KEY", None)
    env.pop("SURAKSHA_EVIDENCE_KEY_FILE", None)
    subprocess.run(
        [sys.executable, "-m", "suraksha.cli", "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120
    )  # a migrated database: the start-up checks pass, the key check is what stops it
    res = subprocess.run(
        [sys.executable, "-m", "suraksha.cli", "dispatch", "--once"], env=env, capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 1
    assert res.stderr.startswith("error: production mode needs an evidence master key")
