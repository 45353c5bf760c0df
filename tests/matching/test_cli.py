"""The `suraksha hash / bank / scan` commands, run as a user would run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "suraksha.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


@pytest.fixture
def ref(reference_dir) -> Path:
    return reference_dir


def test_hash_json_lines(home, ref):
    img = ref / "pdq/misc-images/c.png"
    vid = ref / "video/chair-20-sd-bar.mp4"
    res = run("hash", str(img), str(vid), "--json")
    assert res.returncode == 0, res.stderr
    a, b = (json.loads(line) for line in res.stdout.splitlines())
    assert a["pdq"] == "e64cc9d91e623842f8d1f1d9a398e78c9f199a3bd87924f2b7e11e0bf061b064"
    assert a["pdq_quality"] == 100 and len(a["sha256"]) == 64 and len(a["md5"]) == 32
    assert b["vpdq"][0]["second"] == 0 and len(b["vpdq"]) >= 15


def test_hash_bad_file_is_one_line_error_and_nonzero(home, tmp_path, ref):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes((ref / "pdq/misc-images/wee.jpg").read_bytes()[:200])
    res = run("hash", str(bad), str(ref / "pdq/misc-images/c.png"), "--json")
    assert res.returncode == 1
    lines = [json.loads(x) for x in res.stdout.splitlines()]
    assert "error" in lines[0] and lines[1]["pdq"]
    assert res.stderr.strip().count("\n") == 0 and res.stderr.startswith("error:")
    missing = run("hash", str(tmp_path / "nope.jpg"))
    assert missing.returncode == 1 and "nope.jpg" in missing.stderr


def test_bank_workflow_and_scan(db_url, tmp_path, ref):
    orig = ref / "pdq/bridge-mods/aaa-orig.jpg"
    assert run("bank", "create", "demo", "--label", "csam").returncode == 0
    dup = run("bank", "create", "demo", "--label", "csam")
    assert dup.returncode == 1 and "already exists" in dup.stderr
    added = run("bank", "add", "demo", str(orig))
    assert added.returncode == 0 and "3 signals added" in added.stdout
    listing = run("bank", "list", "--json")
    assert json.loads(listing.stdout)["entries"] == 3

    scan = run("scan", str(ref / "pdq/bridge-mods/blur-a-lot.jpg"), str(ref / "pdq/misc-images/c.png"), "--json")
    assert scan.returncode == 0, scan.stderr
    hit, miss = (json.loads(x) for x in scan.stdout.splitlines())
    assert hit["matched"] and hit["matches"][0]["bank"] == "demo" and hit["matches"][0]["signal_type"] == "pdq"
    assert not miss["matched"] and miss["matches"] == []

    out = tmp_path / "demo.csv"
    assert run("bank", "export", "demo", "-o", str(out)).returncode == 0
    assert run("bank", "create", "copy", "--label", "csam").returncode == 0
    imp = run("bank", "import", "copy", str(out))
    assert imp.returncode == 0 and "imported 3" in imp.stdout
    te = run("bank", "export", "copy", "--format", "te")
    # a photo's exact hashes are a photo's (issue 14: they were written as video_md5 / video_sha256)
    assert sorted(line.split()[0] for line in te.stdout.splitlines()) == ["pdq", "photo_md5", "photo_sha256"]


def test_bank_import_bad_file_stores_nothing(db_url, tmp_path):
    run("bank", "create", "b", "--label", "csam")
    f = tmp_path / "bad.csv"
    f.write_text("signal_type,signal,label,metadata\npdq," + "f" * 64 + ",csam,\npdq,xyz,csam,\n")
    res = run("bank", "import", "b", str(f))
    assert res.returncode == 1 and "row 2" in res.stderr
    assert json.loads(run("bank", "list", "--json").stdout)["entries"] == 0
    bad_threshold = run("bank", "create", "c", "--label", "csam", "--threshold", "70")
    assert bad_threshold.returncode == 1 and "0 to 63" in bad_threshold.stderr
