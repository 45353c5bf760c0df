"""Legal approval, the signed disclosure package, its audited download and verification."""

from __future__ import annotations

from pathlib import Path

from suraksha.legal.schemas import DisclosureView, DownloadedDisclosure, PackageVerification, RequestView


def approve(request_id: int, actor: str, role: str, note: str | None = None) -> RequestView:
    """Legal review: only role ``legal``; refused while a check fails or a data point is pending."""
    raise NotImplementedError


def build_package(request_id: int, actor: str, role: str) -> DisclosureView:
    """Build and store the signed ZIP (data CSV+JSON, media where lawful, cover letter PDF,
    manifest.json signed with Ed25519). Request must be approved."""
    raise NotImplementedError


def download_disclosure(disclosure_id: int, actor: str, agency_id: int | None) -> DownloadedDisclosure:
    """The ZIP bytes; audited. ``agency_id`` is the downloading officer's agency (None: staff):
    another agency's disclosure is refused (LegalForbidden)."""
    raise NotImplementedError


def list_disclosures(request_id: int, *, agency_id: int | None = None) -> list[DisclosureView]:
    raise NotImplementedError


def verify_package(zip_data: bytes | Path, public_key: bytes | str | None = None) -> PackageVerification:
    """Check the manifest signature and every file's SHA-256; ``public_key`` (raw or base64 or
    PEM) pins the expected key, else the key in the ZIP is used."""
    raise NotImplementedError


def public_key_b64() -> str:
    """The platform's disclosure signing public key (base64 raw Ed25519)."""
    raise NotImplementedError
