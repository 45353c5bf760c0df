"""The disclosure ZIP: what is in it, how it is signed, and how anyone checks it offline.

Layout::

    cover_letter.pdf          who asked, under what law, what is given, what is not and why
    data/request.json         the request, every data point with its status / reason / rows, actions taken
    data/<point>.csv          one CSV per data point that has rows
    media/<item>_<pos>.<ext>  preserved media, when asked for and lawful (from the vault, audited export)
    public_key.txt            base64 raw Ed25519 public key of the platform
    manifest.json             SHA-256 and size of every file above
    manifest.sig              base64 Ed25519 signature over manifest.json's exact bytes

``verify_zip`` needs nothing but the ZIP (and optionally a pinned public key): it checks the
signature over manifest.json, then every listed file's hash, and that no file was added.
"""

from __future__ import annotations

import base64
import binascii
import csv
import datetime as dt
import hashlib
import io
import json
import re
import zipfile
import zlib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from suraksha.legal import signing
from suraksha.legal.schemas import LegalError, PackageVerification

FORMAT = "suraksha-disclosure/1"
MANIFEST, SIGNATURE, PUBLIC_KEY = "manifest.json", "manifest.sig", "public_key.txt"
CHECKSUMS = "SHA256SUMS"
MAX_TOTAL_BYTES = 4 * 1024**3  # refuse ZIPs that would expand beyond this (bombs)
_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
_FONT_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)$")


def _as_time(value: Any) -> dt.datetime | None:
    """A row value that is an aware time (a datetime, or an ISO 8601 string with its offset)."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else None
    if isinstance(value, str) and _ISO_TIME.match(value):
        try:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def rows_csv(rows: list[dict[str, Any]], zone: ZoneInfo | None = None) -> bytes:
    """Rows as CSV. Every time column is written in UTC (``2026-12-01T15:15:26+00:00``) and, with
    ``zone``, followed by the same time in that zone (column ``<name>_<zone abbreviation>``, e.g.
    ``first_seen_ist``: ``2026-12-01 20:45:26 IST``), so a reader needs no conversion."""
    columns: list[str] = []
    for r in rows:
        columns.extend(k for k in r if k not in columns)
    times = {k for k in columns if any(_as_time(r.get(k)) is not None for r in rows)}
    label = dt.datetime(2026, 1, 1, tzinfo=zone).tzname() if zone is not None else None
    suffix = f"_{label.lower()}" if label and label.isalpha() else "_local"
    out_columns: list[str] = []
    for k in columns:
        out_columns.append(k)
        if zone is not None and k in times:
            out_columns.append(k + suffix)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=out_columns, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        line: dict[str, Any] = {}
        for k, v in r.items():
            at = _as_time(v) if k in times else None
            if at is not None:
                line[k] = at.astimezone(dt.UTC).isoformat()
                if zone is not None:
                    local = at.astimezone(zone)
                    line[k + suffix] = local.strftime("%Y-%m-%d %H:%M:%S ") + (local.tzname() or "")
            else:
                line[k] = "" if v is None else json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v
        w.writerow(line)
    return buf.getvalue().encode("utf-8")


def cover_letter(info: dict[str, Any]) -> bytes:
    """A printable A4 letter; the JSON stays the authoritative, complete form."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_title(f"Disclosure {info['reference']}")
    pdf.set_creator("Suraksha")
    if _FONT.is_file() and _FONT_BOLD.is_file():
        pdf.add_font("body", "", str(_FONT))
        pdf.add_font("body", "B", str(_FONT_BOLD))
        family, clean = "body", (lambda s: s)
    else:  # core font: Latin-1 only
        family, clean = "helvetica", (lambda s: s.encode("latin-1", "replace").decode("latin-1"))
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def line(text: str, size: int = 10, bold: bool = False, gap: float = 6) -> None:
        pdf.set_font(family, "B" if bold else "", size)
        pdf.multi_cell(width, gap, clean(text), new_x="LMARGIN", new_y="NEXT")

    line(f"Reply to {info['type_title']} - {info['reference']}", 14, True, 8)
    line(f"To: {info.get('officer') or '-'}, {info.get('agency') or '-'}")
    line(f"Case / FIR: {info.get('case_number') or '-'}    Legal basis: {info.get('legal_basis') or '-'}")
    line(f"Received: {info['received_at']}    Due: {info['due_at']}    Answered: {info['answered_at']}")
    line(f"Approved by: {info['approved_by']} on {info['approved_at']}")
    pdf.ln(3)
    line("Data asked for and what is given", 12, True, 7)
    for p in info["data_points"]:
        status = {
            "found": f"given ({p['rows']} record(s), see data/{p['key']}.csv)",
            "withheld": "WITHHELD",
            "unavailable": "NOT AVAILABLE",
        }.get(p["status"], p["status"])
        line(f"- {p['key'].replace('_', ' ')}: {status}" + (f" - reason: {p['reason']}" if p.get("reason") else ""))
    if not info["data_points"]:
        line("- (no data points; see data/request.json for the answer)")
    if info.get("media_files"):
        line(f"- preserved media: {info['media_files']} file(s) under media/")
    pdf.ln(3)
    line("Completeness", 12, True, 7)
    line(info["completeness"])
    pdf.ln(3)
    line("Verifying this package", 12, True, 7)
    line(
        "manifest.json lists the SHA-256 of every file and is signed (manifest.sig, Ed25519) by the platform key "
        f"in public_key.txt, fingerprint {info['fingerprint']}. Check it with: suraksha disclosure verify <zip> "
        "--public-key <key>."
    )
    return bytes(pdf.output())


def build_zip(files: dict[str, bytes], meta: dict[str, Any]) -> tuple[bytes, dict[str, Any], str]:
    """Assemble and sign; returns (zip bytes, manifest, base64 public key)."""
    key = signing.signing_key()
    pub = base64.b64encode(signing.public_key_raw(key)).decode()
    files = {**files, PUBLIC_KEY: (pub + "\n").encode()}
    # For ``sha256sum -c SHA256SUMS`` (docs/verify-disclosure.md): the manifest lists its hash too.
    files[CHECKSUMS] = "".join(f"{hashlib.sha256(b).hexdigest()}  {p}\n" for p, b in sorted(files.items())).encode()
    manifest = {
        "format": FORMAT,
        **meta,
        "public_key": pub,
        "files": [{"path": p, "sha256": hashlib.sha256(b).hexdigest(), "size": len(b)} for p, b in sorted(files.items())],
    }
    manifest_bytes = json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False).encode("utf-8")
    sig = base64.b64encode(key.sign(manifest_bytes)) + b"\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in sorted(files.items()):
            z.writestr(path, data)
        z.writestr(MANIFEST, manifest_bytes)
        z.writestr(SIGNATURE, sig)
    return buf.getvalue(), manifest, pub


def verify_zip(zip_data: bytes | Path, public_key: bytes | str | None = None) -> PackageVerification:
    """Check the manifest signature and every file's SHA-256; ``public_key`` (raw, base64 or PEM)
    pins the expected key, else the key named in the manifest is used (then only integrity, not
    origin, is proven: say so to whoever relies on it)."""
    try:
        raw = zip_data.read_bytes() if isinstance(zip_data, Path) else bytes(zip_data)
        z = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, OSError) as exc:
        raise LegalError(f"not a disclosure package: {exc}") from None
    try:
        with z:
            return _verify_open(z, public_key)
    except LegalError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
        # A damaged member (bad CRC, truncated stream, unknown compression, encrypted entry).
        raise LegalError(f"the package is damaged: {str(exc)[:200]}") from None
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        raise LegalError(f"the package is not a well-formed disclosure package: {str(exc)[:200]}") from None


def _verify_open(z: zipfile.ZipFile, public_key: bytes | str | None) -> PackageVerification:
    errors: list[str] = []
    infos = {i.filename: i for i in z.infolist()}
    if sum(i.file_size for i in infos.values()) > MAX_TOTAL_BYTES:
        raise LegalError("the ZIP would expand beyond 4 GiB; refused")
    for needed in (MANIFEST, SIGNATURE):
        if needed not in infos:
            return PackageVerification(False, [f"{needed} is missing"], 0, None, None)
    manifest_bytes = z.read(MANIFEST)
    try:
        manifest = json.loads(manifest_bytes)
        files = manifest["files"]
        named_key = manifest["public_key"]
    except (ValueError, KeyError, TypeError):
        return PackageVerification(False, ["manifest.json is not a disclosure manifest"], 0, None, None)
    try:
        sig = base64.b64decode(z.read(SIGNATURE).strip(), validate=True)
    except (binascii.Error, ValueError):
        return PackageVerification(False, ["manifest.sig is not base64"], 0, named_key, manifest.get("reference"))
    expected = signing.parse_public_key(public_key) if public_key is not None else signing.parse_public_key(named_key)
    if public_key is not None and signing.public_key_raw(expected) != signing.public_key_raw(signing.parse_public_key(named_key)):
        errors.append("the manifest names a different public key than the one given")
    if not signing.signature_valid(expected, sig, manifest_bytes):
        errors.append("manifest.sig does not match manifest.json (the manifest was changed or signed by another key)")
    listed = set()
    for entry in files:
        path = entry.get("path")
        listed.add(path)
        if path not in infos:
            errors.append(f"{path}: listed in the manifest but missing")
            continue
        digest = hashlib.sha256(z.read(path)).hexdigest()
        if digest != entry.get("sha256"):
            errors.append(f"{path}: SHA-256 {digest[:16]}... does not match the manifest")
    for path in sorted(set(infos) - listed - {MANIFEST, SIGNATURE}):
        errors.append(f"{path}: not listed in the manifest (added after signing)")
    return PackageVerification(
        not errors, errors, len(files), base64.b64encode(signing.public_key_raw(expected)).decode(), manifest.get("reference")
    )
