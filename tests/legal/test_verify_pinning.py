"""`suraksha disclosure verify` proves who signed only against a pinned platform key: without one it
says loudly that only integrity was checked and exits 3, so a package changed and re-signed with
another key never passes as the platform's. Offline: no database is involved."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from suraksha.cli import app

runner = CliRunner()
REF = "LR-2026-000042"


def run(*args: str):
    return runner.invoke(app, list(args))


def _resign(original: bytes, change: dict[str, bytes]) -> bytes:
    """What a forger does: change files, rebuild the manifest naming their own key, sign it."""
    key = Ed25519PrivateKey.generate()
    from suraksha.legal.signing import public_key_raw

    pub = base64.b64encode(public_key_raw(key)).decode()
    src = zipfile.ZipFile(io.BytesIO(original))
    files = {n: src.read(n) for n in src.namelist() if n not in ("manifest.json", "manifest.sig")}
    files.update(change)
    files["public_key.txt"] = (pub + "\n").encode()
    manifest = json.loads(src.read("manifest.json"))
    manifest["public_key"] = pub
    manifest["files"] = [{"path": p, "sha256": hashlib.sha256(b).hexdigest(), "size": len(b)} for p, b in sorted(files.items())]
    manifest_bytes = json.dumps(manifest, sort_keys=True, indent=2).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for p, b in sorted(files.items()):
            z.writestr(p, b)
        z.writestr("manifest.json", manifest_bytes)
        z.writestr("manifest.sig", base64.b64encode(key.sign(manifest_bytes)) + b"\n")
    return out.getvalue()


@pytest.fixture
def packages(home, tmp_path, monkeypatch):
    """The platform's package, a forgery re-signed with another key, and the platform key pinned two ways."""
    monkeypatch.delenv("SURAKSHA_DISCLOSURE_SIGNING_KEY", raising=False)
    from suraksha.legal.package import build_zip

    data = json.dumps({"reference": REF, "subscriber": {"phone": "+91 90000 00001"}}).encode()
    original, _, _ = build_zip({"data/request.json": data}, {"reference": REF})
    forged = _resign(original, {"data/request.json": data.replace(b"00001", b"99999")})
    (tmp_path / "original.zip").write_bytes(original)
    (tmp_path / "forged.zip").write_bytes(forged)
    r = run("disclosure", "key")
    assert r.exit_code == 0, r.output
    (tmp_path / "platform.pub").write_text(r.stdout.splitlines()[0])
    fingerprint = r.stderr.strip().splitlines()[-1].removeprefix("fingerprint: ")
    assert len(fingerprint.replace(" ", "")) == 32
    return tmp_path, fingerprint


def test_resigned_package_passes_integrity_but_exits_3_without_a_pinned_key(packages):
    d, _ = packages
    r = run("disclosure", "verify", str(d / "forged.zip"))
    assert r.exit_code == 3, r.output
    assert r.stdout.startswith(f"integrity only: {REF}: signature valid for the key inside the package")
    assert "signer NOT checked" in r.stdout and not r.stdout.startswith("ok")
    assert "WARNING: no pinned key" in r.stderr and "--public-key" in r.stderr and "--fingerprint" in r.stderr
    # The platform's own package is no different without a pin: exit 3, never 0.
    assert run("disclosure", "verify", str(d / "original.zip")).exit_code == 3


def test_resigned_package_fails_against_the_pinned_platform_key(packages):
    d, fingerprint = packages
    r = run("disclosure", "verify", str(d / "forged.zip"), "--public-key", str(d / "platform.pub"))
    assert r.exit_code == 1 and "different public key" in r.stderr and "WARNING" not in r.output
    r = run("disclosure", "verify", str(d / "forged.zip"), "--fingerprint", fingerprint)
    assert r.exit_code == 1 and f"not the pinned {fingerprint}" in r.stderr

    r = run("disclosure", "verify", str(d / "original.zip"), "--public-key", str(d / "platform.pub"))
    assert r.exit_code == 0 and r.stdout.startswith(f"ok: {REF}: signature valid") and "pinned key" in r.stdout
    # The fingerprint as read out over the phone: spaces, colons and case do not matter.
    spoken = fingerprint.upper().replace(" ", ":")
    r = run("disclosure", "verify", str(d / "original.zip"), "--fingerprint", spoken)
    assert r.exit_code == 0 and fingerprint in r.stdout


def test_pinning_input_is_checked(packages):
    d, fingerprint = packages
    r = run("disclosure", "verify", str(d / "original.zip"), "--fingerprint", "abcd")
    assert r.exit_code == 1 and r.output.startswith("error: --fingerprint must be")
    r = run(
        "disclosure", "verify", str(d / "original.zip"), "--fingerprint", fingerprint, "--public-key", str(d / "platform.pub")
    )
    assert r.exit_code == 1 and "not both" in r.output
    r = run("disclosure", "verify", str(d / "original.zip"), "--public-key", str(d / "missing.pub"))
    assert r.exit_code == 1 and r.output.startswith("error: ")
