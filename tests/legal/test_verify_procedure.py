"""docs/verify-disclosure.md works: its fingerprint command and its verification block, run with
OpenSSL, base64, unzip and sha256sum only, accept a real package and refuse a changed one."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "verify-disclosure.md"
TOOLS = ("openssl", "unzip", "base64", "sha256sum", "sh")


def _blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", DOC.read_text(), re.S)


@pytest.fixture
def signed(tmp_path, monkeypatch):
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.skip(f"standard tools not installed: {', '.join(missing)}")
    from suraksha.legal import package, signing
    from suraksha.legal.settings import reset_legal_settings

    monkeypatch.setenv("SURAKSHA_DISCLOSURE_SIGNING_KEY", signing.new_private_key_b64())
    reset_legal_settings()
    files = {"data/ip_logs.csv": b"ip,port,at_utc,at_ist\n203.0.113.7,50123,x,y\n", "cover_letter.pdf": b"%PDF-1.4 letter"}
    data, _manifest, _pub = package.build_zip(files, {"reference": "LR-2026-000001"})
    (tmp_path / "platform.pem").write_bytes(signing.public_key_pem().encode())
    yield tmp_path, data
    reset_legal_settings()


def _run(folder: Path, script: str) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", "-c", script], cwd=folder, capture_output=True, text=True, timeout=60)


def _verify(folder: Path, data: bytes) -> subprocess.CompletedProcess:
    shutil.rmtree(folder / "package", ignore_errors=True)
    (folder / "package.zip").write_bytes(data)
    return _run(folder, _blocks()[1])


def test_the_documented_fingerprint_is_the_one_suraksha_prints(signed):
    from suraksha.legal import signing

    folder, _ = signed
    r = _run(folder, _blocks()[0])
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == signing.fingerprint(signing.public_key_raw(signing.signing_key()))


def test_the_documented_procedure_accepts_the_package_and_refuses_changes(signed):
    folder, data = signed
    ok = _verify(folder, data)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "Signature Verified Successfully" in ok.stdout and "package verified" in ok.stdout

    def changed(name: str, edit) -> bytes:
        src = zipfile.ZipFile(__import__("io").BytesIO(data))
        out = __import__("io").BytesIO()
        with zipfile.ZipFile(out, "w") as z:
            for n in src.namelist():
                z.writestr(n, edit(src.read(n)) if n == name else src.read(n))
        return out.getvalue()

    bad_file = _verify(folder, changed("data/ip_logs.csv", lambda b: b.replace(b"203.0.113.7", b"203.0.113.8")))
    assert bad_file.returncode != 0 and "FAILED" in bad_file.stdout + bad_file.stderr
    bad_manifest = _verify(folder, changed("manifest.json", lambda b: b.replace(b"LR-2026-000001", b"LR-2026-000002")))
    assert bad_manifest.returncode != 0 and "Signature Verification Failure" in bad_manifest.stdout + bad_manifest.stderr
