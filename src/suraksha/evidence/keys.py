"""Master keys for the evidence vault (envelope encryption).

Each evidence object has its own random AES-256 data key; only that data key, wrapped (encrypted
with AES-256-GCM) by a master key, is stored. A master key is identified by a ``key_id`` derived
from the key itself, so configuration is just a list of keys: the current one wraps new objects,
older ones stay readable while configured, and ``rotate_keys`` rewraps data keys without touching
the (possibly large) blobs.

Where keys come from (``SURAKSHA_EVIDENCE_*``):
- ``KEY``: the current master key, base64 of 32 bytes;
- ``KEY_FILE``: a file with one base64 key per line, the first current (``#`` comments allowed);
- ``OLD_KEYS``: comma-separated base64 keys that remain readable;
- neither, in demo mode: ``$SURAKSHA_HOME/keys/evidence.key`` is created (0600) on first use;
  in production mode this is a startup error: evidence must never be written under a key nobody
  chose or backed up.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# The master key is loaded in ``suraksha.db.keyring`` (the one low layer that auth and legal may
# import too: TOTP seeds are sealed with the same key); re-exported here under the names the vault
# and its callers have always used.
from suraksha.db.keyring import (  # noqa: F401
    NONCE_BYTES,
    EvidenceKeyError,
    KeyRing,
    decode_key,
    demo_key_path,
    encode_key,
    generate_key,
    key_id,
    load_keyring,
)


def ensure_key_configured() -> str:
    """Call at startup (serve, worker): fails fast in production without a key. Returns the current key id."""
    return load_keyring().current_id


def _aad(evidence_id: str, part: str) -> bytes:
    return f"suraksha/evidence/v1/{evidence_id}/{part}".encode()


def seal(key: bytes, plaintext: bytes, evidence_id: str, part: str) -> bytes:
    """AES-256-GCM: nonce || ciphertext+tag, bound to the object id and part (no swapping between objects)."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, _aad(evidence_id, part))


def open_sealed(key: bytes, sealed: bytes, evidence_id: str, part: str) -> bytes:
    """Inverse of ``seal``; raises ``InvalidTag`` when anything was changed."""
    if len(sealed) < NONCE_BYTES + 16:
        raise InvalidTag()
    return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _aad(evidence_id, part))
