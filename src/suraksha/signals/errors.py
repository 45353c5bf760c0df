"""Errors raised by signal computation. Each message is one clear line meant for the user."""

from __future__ import annotations


class MediaError(ValueError):
    """Media that cannot be hashed. Subclasses say why."""


class UnsupportedMedia(MediaError):
    """Not an image or video format Suraksha decodes."""


class CorruptMedia(MediaError):
    """A supported format whose bytes are truncated or damaged."""


class MediaTooLarge(MediaError):
    """Over a byte, pixel or duration limit (this is how decompression bombs are refused)."""


class InvalidSignal(ValueError):
    """A signal string (hash, URL, domain...) that is malformed for its type."""


def reason(exc: BaseException) -> str:
    """A decoder's exception as a short, one-line reason for the user."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]
