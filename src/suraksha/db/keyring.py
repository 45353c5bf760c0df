"""The key-encryption key (KEK) for data at rest, and sealed column values.

One master key protects everything Suraksha encrypts at rest: the evidence vault wraps each
object's data key with it (``suraksha.evidence``), and small secrets kept in table columns (the
TOTP seeds of staff users and portal officers) are sealed with it here. It lives in ``db`` because
``db`` is the one layer below every area that needs it (``auth`` and ``legal`` sit above
``evidence`` in the layer order and may not import it); ``suraksha.evidence.keys`` re-exports the
loading functions under their old names.

A master key is identified by a ``key_id`` derived from the key itself, so configuration is just a
list of keys: the current one seals new values, older ones stay readable while configured.

Where keys come from (``SURAKSHA_EVIDENCE_*``, the names predate the column use):
- ``KEY``: the current master key, base64 of 32 bytes;
- ``KEY_FILE``: a file with one base64 key per line, the first current (``#`` comments allowed);
- ``OLD_KEYS``: comma-separated base64 keys that remain readable;
- neither, in demo mode: ``$SURAKSHA_HOME/keys/evidence.key`` is created (0600) on first use;
  in production mode this is a startup error: nothing must be written under a key nobody chose or
  backed up.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from suraksha.config import get_settings
from suraksha.settings import EvidenceSettings

KEY_BYTES = 32
NONCE_BYTES = 12
# A sealed column value: "sealed:v1:<key id>:<urlsafe base64 of nonce || ciphertext+tag>".
SEALED_PREFIX = "sealed:v1:"


class EvidenceKeyError(RuntimeError):
    """No usable master key (missing, malformed, or the one a value needs is not configured)."""


class SealedValueError(ValueError):
    """A sealed column value that does not open: altered, moved to another row, or not sealed."""


def key_id(key: bytes) -> str:
    """A public identifier of a master key (a hash of it; reveals nothing usable)."""
    return hashlib.sha256(b"suraksha-evidence-kek-v1:" + key).hexdigest()[:16]


def decode_key(value: str, where: str) -> bytes:
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise EvidenceKeyError(f"{where}: not valid base64") from None
    if len(raw) != KEY_BYTES:
        raise EvidenceKeyError(f"{where}: a master key must be {KEY_BYTES} bytes (base64 of 32 random bytes), got {len(raw)}")
    return raw


def generate_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def encode_key(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


@dataclass
class KeyRing:
    current_id: str
    keys: dict[str, bytes] = field(repr=False)

    @property
    def current(self) -> bytes:
        return self.keys[self.current_id]

    def get(self, kid: str) -> bytes:
        try:
            return self.keys[kid]
        except KeyError:
            raise EvidenceKeyError(
                f"master key {kid} is not configured (add it to SURAKSHA_EVIDENCE_OLD_KEYS or the key file to read this object)"
            ) from None


def _read_key_file(path: Path) -> list[bytes]:
    try:
        lines = path.read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvidenceKeyError(f"cannot read evidence key file {path}: {exc.__class__.__name__}") from None
    keys = [
        decode_key(line, f"{path} line {n}")
        for n, line in enumerate(lines, 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not keys:
        raise EvidenceKeyError(f"evidence key file {path} holds no key")
    return keys


def demo_key_path() -> Path:
    return get_settings().home / "keys" / "evidence.key"


def _create_demo_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    body = (
        "# Suraksha evidence master key, generated for demo mode. Back it up: without it the\n"
        "# preserved evidence cannot be read. First key = current; later lines stay readable.\n"
        f"{encode_key(generate_key())}\n"
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process created it first; use theirs
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(body)
        fh.flush()
        os.fsync(fh.fileno())


def load_keyring() -> KeyRing:
    """The configured master keys; raises ``EvidenceKeyError`` when there is none to use."""
    cfg = EvidenceSettings()
    ordered: list[bytes] = []
    if cfg.key is not None and cfg.key.get_secret_value().strip():
        ordered.append(decode_key(cfg.key.get_secret_value(), "SURAKSHA_EVIDENCE_KEY"))
    if cfg.key_file is not None:
        ordered.extend(_read_key_file(cfg.key_file))
    if cfg.old_keys is not None:
        for n, part in enumerate(cfg.old_keys.get_secret_value().split(","), 1):
            if part.strip():
                ordered.append(decode_key(part, f"SURAKSHA_EVIDENCE_OLD_KEYS entry {n}"))
    if not ordered:
        if get_settings().mode == "production":
            raise EvidenceKeyError(
                "production mode needs an evidence master key: set SURAKSHA_EVIDENCE_KEY (base64 of 32 random "
                "bytes) or SURAKSHA_EVIDENCE_KEY_FILE"
            )
        path = demo_key_path()
        if not path.exists():
            _create_demo_key(path)
        ordered.extend(_read_key_file(path))
    keys: dict[str, bytes] = {}
    for key in ordered:
        keys.setdefault(key_id(key), key)
    return KeyRing(current_id=key_id(ordered[0]), keys=keys)


# ---------------------------------------------------------------------------- sealed column values
def _field_aad(binding: str) -> bytes:
    return f"suraksha/field/v1/{binding}".encode()


def is_sealed(stored: str | None) -> bool:
    """Whether a column value is in the sealed form (a plain legacy value is not)."""
    return isinstance(stored, str) and stored.startswith(SEALED_PREFIX)


def seal_field(plaintext: str, binding: str, *, keyring: KeyRing | None = None) -> str:
    """Encrypt a short secret for a text column with the current master key (AES-256-GCM).

    ``binding`` names where the value lives (e.g. ``staff_users.totp_secret/7``) and is bound as
    associated data: a sealed value copied onto another row or column does not open there, so
    someone who can write the table cannot hand their own seed to another account."""
    ring = keyring or load_keyring()
    nonce = os.urandom(NONCE_BYTES)
    body = nonce + AESGCM(ring.current).encrypt(nonce, plaintext.encode("utf-8"), _field_aad(binding))
    return f"{SEALED_PREFIX}{ring.current_id}:{base64.urlsafe_b64encode(body).decode('ascii')}"


def sealed_key_id(stored: str) -> str:
    """The key id a sealed value was sealed under (to find values to re-seal after a rotation)."""
    if not is_sealed(stored):
        raise SealedValueError("the value is not sealed")
    return stored[len(SEALED_PREFIX) :].split(":", 1)[0]


def open_field(stored: str, binding: str, *, keyring: KeyRing | None = None) -> str:
    """Inverse of ``seal_field``. Raises ``SealedValueError`` when the value was altered, moved
    to another row, or is not sealed, and ``EvidenceKeyError`` when its key is not configured."""
    if not is_sealed(stored):
        raise SealedValueError("the value is not sealed")
    kid, _, b64 = stored[len(SEALED_PREFIX) :].partition(":")
    ring = keyring or load_keyring()
    key = ring.get(kid)
    try:
        body = base64.urlsafe_b64decode(b64.encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise SealedValueError("the sealed value is damaged") from None
    if len(body) < NONCE_BYTES + 16:
        raise SealedValueError("the sealed value is damaged")
    try:
        return AESGCM(key).decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], _field_aad(binding)).decode("utf-8")
    except (InvalidTag, UnicodeDecodeError):
        raise SealedValueError("the sealed value does not open here (altered, or moved from another row)") from None
