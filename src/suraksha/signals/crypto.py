"""Cryptographic digests of exact bytes (exact-duplicate matching, evidence integrity)."""

from __future__ import annotations

import hashlib


def sha256_hex(data: bytes) -> str:
    """SHA-256 as lowercase hex: exact-copy matching and evidence integrity."""
    return hashlib.sha256(data).hexdigest()


def md5_hex(data: bytes) -> str:
    """MD5 as lowercase hex, because hash lists (NCMEC, HMA's video_md5) are still exchanged in it."""
    # MD5 is what NCMEC and most hash lists still exchange; it is not used for security here.
    return hashlib.md5(data, usedforsecurity=False).hexdigest()
