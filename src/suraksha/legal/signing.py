"""The platform's Ed25519 key that signs disclosure manifests.

Production: ``SURAKSHA_DISCLOSURE_SIGNING_KEY`` (base64 of the raw 32-byte private key) or no
signing at all: a package signed by a key nobody chose and backed up would prove nothing later.
Demo: a key is generated once under ``SURAKSHA_HOME/keys/disclosure-signing.key`` (mode 0600).
The public key is printable (``suraksha disclosure key``) so agencies can pin it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from suraksha.config import get_settings
from suraksha.legal.schemas import LegalError
from suraksha.legal.settings import get_legal_settings


def demo_key_path() -> Path:
    return get_settings().home / "keys" / "disclosure-signing.key"


def _from_b64(value: str, where: str) -> Ed25519PrivateKey:
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise LegalError(f"{where} is not valid base64") from None
    if len(raw) != 32:
        raise LegalError(f"{where} must be the base64 of a 32-byte Ed25519 private key (got {len(raw)} bytes)")
    return Ed25519PrivateKey.from_private_bytes(raw)


def new_private_key_b64() -> str:
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    return base64.b64encode(raw).decode()


def signing_key() -> Ed25519PrivateKey:
    """The configured key; in demo mode the generated one (created on first use)."""
    configured = get_legal_settings().disclosure_signing_key
    if configured is not None and configured.get_secret_value().strip():
        return _from_b64(configured.get_secret_value(), "SURAKSHA_DISCLOSURE_SIGNING_KEY")
    if get_settings().mode == "production":
        raise LegalError(
            "SURAKSHA_DISCLOSURE_SIGNING_KEY is not set: production mode refuses to sign disclosures "
            "with a generated key (create one with `suraksha disclosure key --new`)"
        )
    path = demo_key_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(new_private_key_b64() + "\n")
    return _from_b64(path.read_text(encoding="ascii"), str(path))


def public_key_raw(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_b64() -> str:
    """The platform's disclosure signing public key (base64 raw Ed25519)."""
    return base64.b64encode(public_key_raw(signing_key())).decode()


def public_key_pem() -> str:
    return (
        signing_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def fingerprint(public_raw: bytes) -> str:
    """Short SHA-256 fingerprint to read out over the phone (``ab12 cd34 ...``)."""
    h = hashlib.sha256(public_raw).hexdigest()[:32]
    return " ".join(h[i : i + 4] for i in range(0, 32, 4))


def parse_public_key(value: bytes | str) -> Ed25519PublicKey:
    """A public key given as PEM, base64 of the raw 32 bytes, or the raw bytes."""
    data = value.encode() if isinstance(value, str) else bytes(value)
    text = data.strip()
    if text.startswith(b"-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(text)
        except ValueError:
            raise LegalError("the public key PEM cannot be read") from None
        if not isinstance(key, Ed25519PublicKey):
            raise LegalError("the public key is not an Ed25519 key")
        return key
    if len(data) == 32:
        return Ed25519PublicKey.from_public_bytes(data)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise LegalError("the public key is neither PEM nor base64") from None
    if len(raw) != 32:
        raise LegalError("the public key must be 32 bytes (Ed25519)")
    return Ed25519PublicKey.from_public_bytes(raw)


def sign(data: bytes) -> bytes:
    return signing_key().sign(data)


def signature_valid(public: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        public.verify(signature, data)
        return True
    except InvalidSignature:
        return False
