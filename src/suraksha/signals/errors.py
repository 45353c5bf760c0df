"""Errors raised by signal computation. Each message is one clear line meant for the user."""

from __future__ import annotations

from suraksha.errors import InvalidInput, TooLarge, UnsupportedMediaType


class MediaError(InvalidInput):
    """Media that cannot be hashed. Subclasses say why."""

    code = "corrupt_media"


class UnsupportedMedia(MediaError, UnsupportedMediaType):
    """Not an image or video format Suraksha decodes."""

    code = "unsupported_media"


class CorruptMedia(MediaError):
    """A supported format whose bytes are truncated or damaged."""


class MediaTooLarge(MediaError, TooLarge):
    """Over a byte, pixel or duration limit (this is how decompression bombs are refused)."""

    code = "media_too_large"


class InvalidSignal(InvalidInput):
    """A signal string (hash, URL, domain...) that is malformed for its type."""


def reason(exc: BaseException) -> str:
    """A decoder's exception as a short, one-line reason for the user."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]
