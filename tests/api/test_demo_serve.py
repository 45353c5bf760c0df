"""`suraksha demo seed` (idempotent) and `make run`'s sequence: db upgrade, demo seed, serve."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from tests.api.conftest import needs_signals

from suraksha.errors import Forbidden

SURAKSHA = Path(sys.executable).with_name("suraksha")


def test_seed_demo_is_idempotent(db_url, reference_dir):
    needs_signals()
    from suraksha.api.keys import list_keys, verify_key
    from suraksha.demo import seed_demo
    from suraksha.matching.banks import list_banks

    first = seed_demo()
    assert first.changed and first.api_key and verify_key(first.api_key).name == "demo"
    banks = {b.name: b for b in list_banks()}
    assert {b.label for b in banks.values()} >= {"csam", "ncii", "csam_url"}
    assert any(b.negative for b in banks.values())
    assert banks["demo-csam"].entries >= 2 and banks["demo-csam-urls"].entries == 2
    assert any(line.startswith("legal demo:") for line in first.lines)  # agency, officer, requests (tests/legal/test_demo.py)
    second = seed_demo()
    assert not second.changed and second.api_key is None
    assert {b.name: b.entries for b in list_banks()} == {b.name: b.entries for b in banks.values()}
    assert len(list_keys()) == 1


def test_seed_demo_refused_in_production(db_url, monkeypatch):
    from suraksha.config import reset_settings
    from suraksha.demo import seed_demo

    monkeypatch.setenv("SURAKSHA_MODE", "production")
    reset_settings()
    with pytest.raises(Forbidden, match="production"):
        seed_demo()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_make_run_sequence(tmp_path, reference_dir):
    """What `make run` does, on a fresh home folder: the server comes up and answers."""
    needs_signals()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURAKSHA_")}
    env["SURAKSHA_HOME"] = str(tmp_path / "home")
    env["SURAKSHA_REFERENCE_DIR"] = str(reference_dir)  # the demo seeds its bank from the reference photo

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(SURAKSHA), *args], env=env, capture_output=True, text=True, timeout=120)

    up = cli("db", "upgrade")
    assert up.returncode == 0, up.stderr
    first = cli("demo", "seed")
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip().splitlines()[-1]
    assert key.startswith("srk_")
    second = cli("demo", "seed")
    assert second.returncode == 0, second.stderr
    assert "nothing changed" in second.stdout and "srk_" not in second.stdout

    port = _free_port()
    proc = subprocess.Popen(
        [str(SURAKSHA), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline:
            try:
                status = httpx.get(f"{base}/status", timeout=2)
                if status.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stdout.read()
            time.sleep(0.2)
        assert status is not None and status.status_code == 200, status and status.text
        assert status.json()["index"]["pdq"] >= 1
        home = httpx.get(f"{base}/", timeout=5)
        # The anonymous home page names no bank (issue 14.4); the banks are behind a key.
        assert home.status_code == 200 and "/login" in home.text and "demo-csam" not in home.text
        assert httpx.get(f"{base}/docs", timeout=5).status_code == 200
        banks = httpx.get(f"{base}/v1/banks", headers={"Authorization": f"Bearer {key}"}, timeout=5)
        assert banks.status_code == 200
        assert {b["name"] for b in banks.json()["banks"]} == {
            "demo-csam",
            "demo-ncii",
            "demo-csam-urls",
            "demo-false-positives",  # scanning demo
            "review-demo-csam",
            "review-demo-false-positives",  # review workspace demo
        }
        # The in-process dispatcher acts: a known-material match reaches the (demo, recording)
        # platform connector without a separate `suraksha dispatch`.
        photo = (reference_dir / "pdq" / "bridge-mods" / "aaa-orig.jpg").read_bytes()
        body = {
            "platform_id": "serve-1",
            "account": {"id": "u-serve"},
            "media": [{"data_base64": base64.b64encode(photo).decode(), "mime": "image/jpeg"}],
        }
        res = httpx.post(f"{base}/v1/items?wait=true", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        assert res.status_code in (200, 202), res.text
        assert res.json()["verdict"] == "remove"
        outbox = tmp_path / "home" / "connector-outbox.jsonl"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (outbox.exists() and "remove_item" in outbox.read_text()):
            time.sleep(0.3)
        assert outbox.exists() and "remove_item" in outbox.read_text()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert (tmp_path / "home" / "index" / "state.json").exists()


def test_serve_refuses_production_without_an_evidence_key(tmp_path):
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
        [sys.executable, "-m", "suraksha.cli", "serve", "--port", "1"], env=env, capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 1
    assert res.stderr.startswith("error: production mode needs an evidence master key")
