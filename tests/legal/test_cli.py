"""CLI: staff entry, checks, gather, mark-unavailable, approve, package, disclosure verify / key;
one-line errors with exit 1."""

from __future__ import annotations

import io
import zipfile

from typer.testing import CliRunner

from suraksha.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_paper_request_to_verified_package(agencies, tmp_path):
    from suraksha.auth.service import create_user

    create_user("lena", "legal")
    create_user("ravi", "reviewer")
    a, _ = agencies
    pdf = tmp_path / "notice.pdf"
    from tests.legal.conftest import make_pdf

    pdf.write_bytes(make_pdf())
    r = run(
        "legal",
        "file",
        "--type",
        "data_request",
        "--issuer",
        "police",
        "--user",
        "lena",
        "--channel",
        "paper",
        "--agency",
        str(a.id),
        "--officer-name",
        "Insp. Patil",
        "--officer-rank",
        "inspector",
        "--case",
        "FIR 5/2026",
        "--basis",
        "BNSS s.94",
        "--received",
        "2026-11-30T23:50:00+05:30",
        "--target",
        "account:acct-c",
        "--data",
        "subscriber_data",
        "--data",
        "ip_logs",
        "--document",
        str(pdf),
    )
    assert r.exit_code == 0, r.output
    ref = r.output.split()[0]
    assert ref.startswith("LR-2026-") and "due: 2026-12-03 23:50 IST" in r.output

    assert run("legal", "gather", ref, "--user", "lena").exit_code == 0
    r = run("legal", "approve", ref, "--user", "lena")
    assert r.exit_code == 1 and r.output.startswith("error: ") and "subscriber_data" in r.output
    for key in ("subscriber_data", "ip_logs"):
        r = run("legal", "mark-unavailable", ref, key, "--reason", "account not found on the platform", "--user", "lena")
        assert r.exit_code == 0, r.output
    r = run("legal", "approve", ref, "--user", "ravi")
    assert r.exit_code == 1 and "needs the legal role" in r.output
    assert run("legal", "approve", ref, "--user", "lena").exit_code == 0
    out = tmp_path / "d.zip"
    r = run("legal", "package", ref, "--user", "lena", "--out", str(out))
    assert r.exit_code == 0, r.output

    key_file = tmp_path / "platform.pub"
    r = run("disclosure", "key")
    assert r.exit_code == 0
    key_file.write_text(r.stdout.splitlines()[0])
    r = run("disclosure", "verify", str(out), "--public-key", str(key_file))
    assert r.exit_code == 0 and r.output.startswith(f"ok: {ref}: signature valid"), r.output

    tampered = tmp_path / "t.zip"
    src = zipfile.ZipFile(out)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name in src.namelist():
            data = src.read(name)
            z.writestr(name, data + b" " if name == "cover_letter.pdf" else data)
    tampered.write_bytes(buf.getvalue())
    r = run("disclosure", "verify", str(tampered), "--public-key", str(key_file))
    assert r.exit_code == 1
    assert r.output.strip().splitlines() == [next(line for line in r.output.splitlines() if "cover_letter.pdf" in line)]
    assert r.output.startswith("error: cover_letter.pdf: SHA-256")

    r = run("legal", "dashboard")
    assert r.exit_code == 0 and "OVERDUE (0)" in r.output


def _damaged_packages(tmp_path) -> dict[str, object]:
    """ZIPs damaged the ways files get damaged: a flipped byte in a compressed member (bad CRC or a
    broken deflate stream), a truncated file, a manifest that is JSON but of the wrong shape."""
    import json

    good = io.BytesIO()
    with zipfile.ZipFile(good, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", json.dumps({"files": [{"path": "a.csv", "sha256": "0" * 64}], "public_key": "x"}))
        z.writestr("manifest.sig", "AAAA")
        z.writestr("a.csv", "when,what\n" * 200)
    data = good.getvalue()
    out = {}
    flipped = bytearray(data)
    start = data.index(b"a.csv") + 10  # inside the compressed bytes of the first member named a.csv
    for k in range(start, start + 20):
        flipped[k] ^= 0xFF
    out["flipped"] = bytes(flipped)
    out["truncated"] = data[: len(data) // 2]
    wrong = io.BytesIO()
    with zipfile.ZipFile(wrong, "w") as z:
        z.writestr("manifest.json", json.dumps({"files": ["a.csv"], "public_key": "x"}))
        z.writestr("manifest.sig", "AAAA")
    out["manifest-shape"] = wrong.getvalue()
    bad_key = io.BytesIO()
    with zipfile.ZipFile(bad_key, "w") as z:
        z.writestr("manifest.json", json.dumps({"files": [], "public_key": "not a key"}))
        z.writestr("manifest.sig", "AAAA")
    out["bad-key"] = bad_key.getvalue()
    paths = {}
    for name, content in out.items():
        path = tmp_path / f"{name}.zip"
        path.write_bytes(content)
        paths[name] = path
    return paths


def test_one_line_errors(db_url, tmp_path):
    r = run("legal", "show", "LR-2026-000404")
    assert r.exit_code == 1 and r.output == "error: legal request LR-2026-000404 not found\n"
    r = run("disclosure", "verify", str(tmp_path / "missing.zip"))
    assert r.exit_code == 1 and r.output.startswith("error: ") and len(r.output.splitlines()) == 1
    (tmp_path / "junk.zip").write_bytes(b"junk")
    r = run("disclosure", "verify", str(tmp_path / "junk.zip"))
    assert r.exit_code == 1 and "not a disclosure package" in r.output
    for name, damaged in _damaged_packages(tmp_path).items():
        r = run("disclosure", "verify", str(damaged))
        assert r.exit_code == 1, (name, r.output)
        assert len(r.output.splitlines()) == 1 and r.output.startswith("error: "), (name, r.output)
        assert "Traceback" not in r.output
    r = run("legal", "file", "--type", "data_request", "--issuer", "police", "--user", "nobody")
    assert r.exit_code == 1 and "no staff user named 'nobody'" in r.output
