"""Cryptographic hashes of a file's exact bytes: ``sha256`` and ``md5``.

They find exact copies only (one changed byte is another file), which is what hash lists such as
NCMEC's are exchanged in. python-threatexchange has them as ``video_md5`` / ``video_sha256``; older
threatexchange tooling (and Suraksha's exports) call a picture's hash ``photo_md5``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from suraksha.signals.errors import InvalidSignal
from suraksha.signals.types.base import IndexKind, SignalCategory, SignalType

if TYPE_CHECKING:
    from suraksha.signals import MediaSignals

_HEX = frozenset("0123456789abcdef")


class _HexDigest(SignalType):
    """A fixed-length lowercase hex digest, matched by equality."""

    length: ClassVar[int]
    what: ClassVar[str]
    index_kind = IndexKind.EXACT
    category = SignalCategory.HASH

    def normalize(self, value: str) -> str:
        v = value.strip().lower() if isinstance(value, str) else ""
        if len(v) != self.length or not set(v) <= _HEX:
            raise InvalidSignal(f"{self.what} is {self.length} hexadecimal characters, got {str(value)[:80]!r}")
        return v


class Sha256Signal(_HexDigest):
    name = "sha256"
    te_name = "video_sha256"
    te_names_by_content: ClassVar[Mapping[str, str]] = {"photo": "photo_sha256", "video": "video_sha256"}
    te_aliases = ("sha256",)
    length = 64
    what = "a SHA-256 hash"
    description = "SHA-256 of the file's bytes (64 hex characters): exact copies"

    def examples(self) -> tuple[str, ...]:
        return ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "ab" * 32)

    def from_media(self, media: MediaSignals) -> list[tuple[str, str]]:
        return [("original", media.sha256)] if media.sha256 else []


class Md5Signal(_HexDigest):
    name = "md5"
    te_name = "video_md5"
    te_names_by_content: ClassVar[Mapping[str, str]] = {"photo": "photo_md5", "video": "video_md5"}
    te_aliases = ("md5",)
    length = 32
    what = "an MD5 hash"
    description = "MD5 of the file's bytes (32 hex characters): exact copies, as hash lists exchange them"

    def examples(self) -> tuple[str, ...]:
        return ("d41d8cd98f00b204e9800998ecf8427e", "cab08b36195edb1a1231d2d09fa450e0")

    def from_media(self, media: MediaSignals) -> list[tuple[str, str]]:
        return [("original", media.md5)] if media.md5 else []
